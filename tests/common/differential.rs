//! Model against kernel: the audit's packet-set model of a ruleset, compared packet by packet
//! with what the kernel oracle ([`super::oracle`]) observes on the same ruleset.
//!
//! * [`Model`] evaluates a ruleset read from the kernel's own dump on the forward, input and
//!   output paths and says per probe: certainly accepted, certainly dropped, or uncertain
//!   (rules the model bounds both ways).
//! * [`Sampler`] draws probes the ruleset cares about: addresses at and around every prefix
//!   the rules mention, ports at and around every range, the protocols, ICMP types and TCP
//!   flag combinations they test, the interfaces they name, plus random ones. Deterministic
//!   for a seed.
//! * [`kernel_state`] is conntrack's verdict on a lone first packet, so the model's packet
//!   carries the state the kernel's rules will see.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use portplan::audit::eval::{PathKind, eval_path, eval_path_in, path_universe};
use portplan::audit::model::{Match, Prim, Ruleset};
use portplan::audit::slice::{Leaf, leaves, rule_items};
use portplan::packet::{CtState, PORT_PROTOS, Packet, Set, Space};

use super::oracle::{ACK, FIN, Fate, PSH, Path, Probe, RST, SYN, URG, routable};

/// The model's answer for one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// Accepted whatever the unknowns do.
    Accept,
    /// Dropped whatever the unknowns do.
    Drop,
    /// Depends on parts the model bounds both ways.
    Unknown,
    /// Not a packet of the path's universe (a modelling gap: reported as a failure).
    Outside,
}

/// conntrack's state for a lone first packet (kernel 6.x, `nf_conntrack_tcp_loose=1`).
pub fn kernel_state(p: &Probe) -> CtState {
    let v6 = p.src.is_ipv6();
    match p.proto {
        6 => {
            let f = p.tcp_flags & (FIN | SYN | RST | ACK | URG);
            // tcp_valid_flags, then tcp_new for the valid ones.
            match f {
                x if x == SYN || x == SYN | URG || x == ACK || x == ACK | URG => CtState::New,
                _ => CtState::Invalid,
            }
        }
        1 if !v6 => match p.icmp_type {
            8 | 13 | 15 | 17 => CtState::New,
            _ => CtState::Invalid,
        },
        58 if v6 => match p.icmp_type {
            128 | 139 => CtState::New,
            130..=136 | 143 => CtState::Untracked,
            _ => CtState::Invalid,
        },
        1 | 58 => CtState::Invalid,
        _ => CtState::New,
    }
}

/// The model's packet for a probe on a path.
pub fn packet(p: &Probe, path: Path) -> Packet {
    let v6 = p.src.is_ipv6();
    let icmp = (p.proto == 1 && !v6) || (p.proto == 58 && v6);
    // ICMP numbers in the other family: the oracle writes `sport` where type and code sit.
    let cross = (p.proto == 1 && v6) || (p.proto == 58 && !v6);
    let ports = PORT_PROTOS.contains(&p.proto);
    Packet {
        src: p.src,
        dst: p.dst,
        proto: p.proto,
        sport: if ports { p.sport } else { 0 },
        dport: if ports {
            p.dport
        } else if icmp {
            u16::from(p.icmp_type) << 8 | u16::from(p.icmp_code)
        } else if cross {
            p.sport
        } else {
            0
        },
        tcp_flags: if p.proto == 6 { p.tcp_flags } else { 0 },
        state: kernel_state(p),
        iif: if path == Path::Output {
            None
        } else {
            p.iif.clone()
        },
        oif: if path == Path::Input {
            None
        } else {
            p.oif.clone()
        },
    }
}

/// A probe for a model packet (a witness), on interfaces of the router.
pub fn probe_of(w: &Packet, iif: Option<&str>, oif: Option<&str>) -> Probe {
    let icmp = w.proto == 1 || w.proto == 58;
    Probe {
        src: w.src,
        dst: w.dst,
        proto: w.proto,
        sport: if icmp { 1 } else { w.sport },
        dport: if icmp { 1 } else { w.dport },
        tcp_flags: w.tcp_flags,
        icmp_type: if icmp { (w.dport >> 8) as u8 } else { 0 },
        icmp_code: if icmp { (w.dport & 0xff) as u8 } else { 0 },
        iif: iif.map(String::from),
        oif: oif.map(String::from),
    }
}

/// A ruleset evaluated on every path.
pub struct Model {
    pub space: Space,
    pub rs: Ruleset,
    paths: HashMap<Path, (Set, Set, Set)>,
}

fn kind(p: Path) -> PathKind {
    match p {
        Path::Forward => PathKind::Forward,
        Path::Input => PathKind::Input,
        Path::Output => PathKind::Output,
    }
}

/// The audit's leaves for a ruleset's rules, at most `size` items each where a cut allows.
pub fn leaves_of(rs: &Ruleset, size: usize) -> Vec<Leaf> {
    let items = rule_items(rs);
    leaves(&items, size)
}

impl Model {
    /// Evaluate `rs` on these paths.
    pub fn new(rs: Ruleset, paths: &[Path], extra_ifaces: &[String]) -> Model {
        let mut layout = rs.layout();
        for n in extra_ifaces {
            if !layout.names.contains(n) {
                layout.names.push(n.clone());
            }
        }
        let space = Space::new(&layout).expect("space");
        let mut out = HashMap::new();
        for p in paths {
            let u = path_universe(&space, &rs, kind(*p)).expect("universe");
            // The sliced evaluation the audit uses, leaf by leaf (small leaves: many cuts),
            // put together; it must be the whole evaluation, set for set.
            let s = &space;
            let (mut acc, mut drop, mut taint) = (s.none(), s.none(), s.none());
            for l in &leaves_of(&rs, 16) {
                let lu = s.and(&u, &l.set(s).expect("box")).expect("and");
                let r = eval_path_in(s, &rs, kind(*p), &lu, Some(l)).expect("evaluation");
                acc = s.or(&acc, &r.accepted).unwrap();
                drop = s.or(&drop, &r.dropped).unwrap();
                taint = s.or(&taint, &r.tainted).unwrap();
            }
            let whole = eval_path(s, &rs, kind(*p), &u).expect("evaluation");
            assert!(
                acc == whole.accepted && drop == whole.dropped && taint == whole.tainted,
                "the sliced evaluation differs from the whole one on {p:?}"
            );
            let taint = s.back_to_entry(&taint).unwrap();
            let acc = s.or(&s.back_to_entry(&acc).unwrap(), &taint).unwrap();
            let drop = s.or(&s.back_to_entry(&drop).unwrap(), &taint).unwrap();
            out.insert(*p, (u, acc, drop));
        }
        Model {
            space,
            rs,
            paths: out,
        }
    }

    /// The model's answer for a probe.
    pub fn verdict(&self, path: Path, probe: &Probe) -> Tri {
        let (u, acc, drop) = &self.paths[&path];
        let p = packet(probe, path);
        let s = &self.space;
        if !s.contains(u, &p).unwrap() {
            return Tri::Outside;
        }
        match (s.contains(acc, &p).unwrap(), s.contains(drop, &p).unwrap()) {
            (true, false) => Tri::Accept,
            (false, true) => Tri::Drop,
            _ => Tri::Unknown,
        }
    }
}

/// Compare model and kernel on probes: (disagreements as text, number of uncertain probes).
/// A probe the kernel sent out of another interface than asked (it routes multicast itself)
/// is judged on the interface it left by.
pub fn compare(
    model: &Model,
    path: Path,
    probes: &[Probe],
    fates: &[Fate],
) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut unknown = 0;
    for (p, f) in probes.iter().zip(fates) {
        let k = f.passed();
        let p = match f {
            Fate::Passed { seen }
                if path != Path::Input && seen.oif.is_some() && seen.oif != p.oif =>
            {
                Probe {
                    oif: seen.oif.clone(),
                    ..p.clone()
                }
            }
            _ => p.clone(),
        };
        let m = model.verdict(path, &p);
        let bad = match m {
            Tri::Accept => !k,
            Tri::Drop => k,
            Tri::Unknown => {
                unknown += 1;
                false
            }
            Tri::Outside => true,
        };
        if bad {
            wrong.push(format!(
                "{path:?} {} (state {:?}): kernel {}, model {m:?}",
                describe(&p),
                kernel_state(&p),
                if k { "passed" } else { "dropped" }
            ));
        }
    }
    (wrong, unknown)
}

pub fn describe(p: &Probe) -> String {
    let mut s = format!("{} -> {} proto {}", p.src, p.dst, p.proto);
    if PORT_PROTOS.contains(&p.proto) {
        s += &format!(" {}->{}", p.sport, p.dport);
    }
    if p.proto == 6 {
        s += &format!(" flags {:#04x}", p.tcp_flags);
    }
    if p.proto == 1 || p.proto == 58 {
        s += &format!(" type {} code {}", p.icmp_type, p.icmp_code);
    }
    if let Some(i) = &p.iif {
        s += &format!(" iif {i}");
    }
    if let Some(o) = &p.oif {
        s += &format!(" oif {o}");
    }
    s
}

/// splitmix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Values a ruleset cares about, to draw probes from.
pub struct Sampler {
    pub rng: Rng,
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
    ports: Vec<u16>,
    protos: Vec<u8>,
    icmp4: Vec<(u8, Option<u8>)>,
    icmp6: Vec<(u8, Option<u8>)>,
    flags: Vec<u8>,
    /// Router interfaces probes may use.
    pub ifaces: Vec<String>,
    offset: usize,
}

impl Sampler {
    /// Gather the ruleset's values; `ifaces` are the router's interfaces.
    pub fn new(rs: &Ruleset, ifaces: &[String], seed: u64) -> Sampler {
        let mut v4: BTreeSet<Ipv4Addr> = BTreeSet::new();
        let mut v6: BTreeSet<Ipv6Addr> = BTreeSet::new();
        let mut ports: BTreeSet<u16> = [0, 1, 22, 53, 80, 123, 443, 1023, 1024, 8080, 40000, 65535]
            .into_iter()
            .collect();
        let mut protos: BTreeSet<u8> = [6, 17, 1, 58, 47, 50, 132].into_iter().collect();
        let mut icmp4: BTreeSet<(u8, Option<u8>)> =
            [(8, None), (0, None), (3, Some(3)), (11, None), (13, None)]
                .into_iter()
                .collect();
        let mut icmp6: BTreeSet<(u8, Option<u8>)> = [
            (128, None),
            (129, None),
            (1, Some(4)),
            (135, None),
            (134, None),
        ]
        .into_iter()
        .collect();
        for c in &rs.chains {
            for r in &c.rules {
                collect(&r.matches, &mut |p| match p {
                    Prim::Src { nets } | Prim::Dst { nets } => {
                        for n in nets {
                            match n {
                                ipnet::IpNet::V4(n) => {
                                    let a = u32::from(n.network());
                                    let b = u32::from(n.broadcast());
                                    for x in [
                                        a,
                                        a.wrapping_add(1),
                                        b,
                                        b.wrapping_add(1),
                                        a.wrapping_sub(1),
                                        a + (b - a) / 2,
                                    ] {
                                        v4.insert(Ipv4Addr::from(x));
                                    }
                                }
                                ipnet::IpNet::V6(n) => {
                                    let a = u128::from(n.network());
                                    let b = u128::from(n.broadcast());
                                    for x in [
                                        a,
                                        a.wrapping_add(1),
                                        b,
                                        b.wrapping_add(1),
                                        a.wrapping_sub(1),
                                        a + (b - a) / 2,
                                    ] {
                                        v6.insert(Ipv6Addr::from(x));
                                    }
                                }
                            }
                        }
                    }
                    Prim::SPort { ranges } | Prim::DPort { ranges } => {
                        for (a, b) in ranges {
                            for x in [*a, *b, a.saturating_sub(1), b.saturating_add(1)] {
                                ports.insert(x);
                            }
                        }
                    }
                    Prim::Proto { ranges } => {
                        for (a, b) in ranges {
                            protos.insert(*a);
                            protos.insert(*b);
                        }
                    }
                    Prim::Icmp { v6, ranges } => {
                        for (a, b) in ranges {
                            let set = if *v6 { &mut icmp6 } else { &mut icmp4 };
                            for x in [*a, *b] {
                                let code = if a & 0xff == 0 && b & 0xff == 0xff {
                                    None
                                } else {
                                    Some((x & 0xff) as u8)
                                };
                                set.insert(((x >> 8) as u8, code));
                            }
                        }
                    }
                    _ => {}
                });
            }
        }
        for x in [
            "192.0.2.10",
            "198.51.100.20",
            "203.0.113.30",
            "10.0.0.5",
            "172.16.5.5",
            "192.168.1.10",
            "8.8.8.8",
            "100.64.0.1",
        ] {
            v4.insert(x.parse().unwrap());
        }
        for x in ["2001:db8::10", "2001:db8:1::20", "fd00::1", "2a00:1450::1"] {
            v6.insert(x.parse().unwrap());
        }
        // IPv6 extension headers are not crafted by the oracle.
        protos.retain(|p| ![0, 43, 44, 51, 59, 60].contains(p));
        Sampler {
            rng: Rng(seed),
            v4: v4.into_iter().collect(),
            v6: v6.into_iter().collect(),
            ports: ports.into_iter().collect(),
            protos: protos.into_iter().collect(),
            icmp4: icmp4.into_iter().collect(),
            icmp6: icmp6.into_iter().collect(),
            flags: vec![
                SYN,
                SYN,
                SYN,
                SYN | PSH | 0x40 | 0x80,
                ACK,
                SYN | ACK,
                RST,
                FIN | ACK,
                SYN | URG,
                ACK | PSH,
                0,
                FIN | SYN,
            ],
            ifaces: ifaces.to_vec(),
            offset: (seed % ifaces.len().max(1) as u64) as usize,
        }
    }

    fn addr(&mut self, v6: bool) -> IpAddr {
        if v6 {
            if self.rng.chance(15) {
                return IpAddr::V6(Ipv6Addr::from(
                    0x2001_0db8_u128 << 96 | u128::from(self.rng.next() as u32),
                ));
            }
            IpAddr::V6(*self.rng.pick(&self.v6))
        } else {
            if self.rng.chance(15) {
                return IpAddr::V4(Ipv4Addr::from(self.rng.next() as u32));
            }
            IpAddr::V4(*self.rng.pick(&self.v4))
        }
    }

    /// One probe for `path` of family `v6` that the oracle can send.
    pub fn probe(&mut self, path: Path, v6: bool) -> Probe {
        for _ in 0..200 {
            let src = self.addr(v6);
            let dst = self.addr(v6);
            let roll = self.rng.below(100);
            let proto = match roll {
                0..=44 => 6,
                45..=69 => 17,
                70..=81 => {
                    if v6 {
                        58
                    } else {
                        1
                    }
                }
                _ => *self.rng.pick(&self.protos),
            };
            let mut p = Probe {
                src,
                dst,
                proto,
                sport: *self.rng.pick(&self.ports),
                dport: *self.rng.pick(&self.ports),
                tcp_flags: 0,
                icmp_type: 0,
                icmp_code: 0,
                iif: None,
                oif: None,
            };
            if self.rng.chance(40) {
                p.sport = 1024 + (self.rng.next() % 60000) as u16;
            }
            if proto == 6 {
                p.tcp_flags = if self.rng.chance(70) {
                    SYN
                } else {
                    *self.rng.pick(&self.flags)
                };
            }
            if (proto == 1 && !v6) || (proto == 58 && v6) {
                let (t, c) = *self.rng.pick(if v6 { &self.icmp6 } else { &self.icmp4 });
                p.icmp_type = t;
                p.icmp_code = c.unwrap_or(0);
                p.sport = 1;
                p.dport = 1;
            }
            // A few interface pairs only: the oracle sends one batch per pair.
            // Which two pairs depends on the seed, so runs cover every interface.
            let n = self.ifaces.len();
            let k = (self.offset + self.rng.below(2)) % n;
            let i = self.ifaces[k].clone();
            let o = self.ifaces[(k + 1) % n].clone();
            p = match path {
                Path::Forward => p.via(&i, &o),
                Path::Input => p.arriving(&i),
                Path::Output => p.leaving(&o),
            };
            // The kernel's multicast route, not the probe's oif, picks where output multicast
            // leaves: a drop there could not be told apart.
            let multicast = match p.dst {
                IpAddr::V4(d) => d.is_multicast() || d.is_broadcast(),
                IpAddr::V6(d) => d.is_multicast(),
            };
            if routable(path, &p).is_ok() && !(path == Path::Output && multicast) {
                return p;
            }
        }
        panic!("no routable probe after 200 draws");
    }
}

fn collect<'a>(m: &'a Match, f: &mut impl FnMut(&'a Prim)) {
    m.prims(f);
}
