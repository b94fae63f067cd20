//! Sample packets that tell whether rendered rules permit exactly an enforcement point's plan.
//!
//! Per point: addresses at the edges of every opening's address ranges and just outside them,
//! the edges of every zone, a few public and unclaimed private addresses; ports at the edges of
//! every opening's ranges and just outside, plus a few that no plan opens; TCP and UDP. Each
//! packet carries the plan's verdict (some opening of its direction permits it) and, on a
//! network firewall, the sides it comes from and goes to (an address in no zone is routed by
//! the internet side, as a default route would). Host firewalls: inbound packets go to a
//! member, outbound packets come from one.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use portplan::addr::AddrSet;
use portplan::catalog::{Catalogs, Protocol};
use portplan::plan::{Direction, Plan, PointPlan, plan};
use portplan::site::{EnforcementPoint, INTERNET, PointKind, Site, load_path};

/// One sample packet and what the plan says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub dir: Direction,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Protocol,
    pub port: u16,
    /// Network firewall: the side index the packet comes from and goes to.
    pub sides: Option<(usize, usize)>,
    /// The plan permits it.
    pub want: bool,
}

/// A site and its plan.
pub fn load(site: &str) -> (Site, Plan) {
    let cats = Catalogs::builtin();
    let s = load_path(std::path::Path::new(site), &cats).unwrap();
    let p = plan(&s, &cats);
    (s, p)
}

fn ip4(x: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(x))
}

fn ip6(x: u128) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(x))
}

/// Edges of at most `max` ranges of `set` (first, last, and spread between), and just outside.
fn edges(set: &AddrSet, max: usize, out: &mut BTreeSet<IpAddr>) {
    let r4: Vec<(u32, u32)> = set.v4.ranges().map(|r| (*r.start(), *r.end())).collect();
    let r6: Vec<(u128, u128)> = set.v6.ranges().map(|r| (*r.start(), *r.end())).collect();
    let pick = |n: usize| -> Vec<usize> {
        if n <= max {
            (0..n).collect()
        } else {
            (0..max).map(|k| k * (n - 1) / (max - 1)).collect()
        }
    };
    for i in pick(r4.len()) {
        let (a, b) = r4[i];
        out.extend([ip4(a), ip4(b), ip4(a + (b - a) / 2)]);
        if a > 0 {
            out.insert(ip4(a - 1));
        }
        if b < u32::MAX {
            out.insert(ip4(b + 1));
        }
    }
    for i in pick(r6.len()) {
        let (a, b) = r6[i];
        out.extend([ip6(a), ip6(b), ip6(a + (b - a) / 2)]);
        if a > 0 {
            out.insert(ip6(a - 1));
        }
        if b < u128::MAX {
            out.insert(ip6(b + 1));
        }
    }
}

const FIXED: [&str; 10] = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "203.0.113.7",
    "2606:4700::1111",
    "fd00::1",
    "2a00:1450::1",
];

/// The side of `ip` at a network point (an address in no zone goes by the internet side).
pub fn side_of(site: &Site, sides: &[Vec<String>], ip: IpAddr) -> Option<usize> {
    let zone = site.zone_of_ip(ip).map_or(INTERNET, |z| z.id.as_str());
    sides.iter().position(|s| s.iter().any(|z| z == zone))
}

/// The sample packets of one point.
pub fn packets(site: &Site, pt: &EnforcementPoint, pp: &PointPlan) -> Vec<Packet> {
    let mut addrs = BTreeSet::new();
    for o in &pp.openings {
        edges(&o.from, 4, &mut addrs);
        edges(&o.to, 4, &mut addrs);
    }
    for z in site.zones.iter().filter(|z| z.id != INTERNET) {
        edges(&z.set, 3, &mut addrs);
    }
    addrs.extend(FIXED.iter().map(|a| a.parse::<IpAddr>().unwrap()));
    // Addresses the kernel or the lab treat specially are not samples.
    let addrs: Vec<IpAddr> = addrs
        .into_iter()
        .filter(|a| match a {
            IpAddr::V4(v) => {
                let o = v.octets();
                !(o[0] == 0 || o[0] == 127 || o[0] >= 224 || (o[0] == 169 && o[1] == 254))
                    && o[..3] != [198, 18, 255]
            }
            IpAddr::V6(v) => {
                let s = v.segments();
                !(v.is_unspecified()
                    || v.is_loopback()
                    || s[0] & 0xff00 == 0xff00
                    || s[0] & 0xffc0 == 0xfe80
                    || s[..3] == [0xfdff, 0x7070, 0x7070]
                    || (s[..6] == [0, 0, 0, 0, 0, 0xffff]))
            }
        })
        .collect();
    // Per pair: the edges of the ports of every opening one of its ends is in, and a few more.
    let ports_for = |dir: Direction, s: IpAddr, d: IpAddr| -> BTreeSet<u16> {
        let mut ports: BTreeSet<u16> = [22, 135, 3389, 5353].into_iter().collect();
        for o in pp
            .openings
            .iter()
            .filter(|o| o.direction == dir && (o.from.contains(s) || o.to.contains(d)))
        {
            for r in o.ports.ranges() {
                ports.extend([*r.start(), *r.end()]);
                ports.insert(r.start().saturating_sub(1).max(1));
                ports.insert(r.end().saturating_add(1));
            }
        }
        ports
    };
    let permitted = |dir: Direction, s: IpAddr, d: IpAddr, proto: Protocol, port: u16| {
        pp.openings
            .iter()
            .any(|o| o.direction == dir && o.permits(s, d, proto, port))
    };
    let mut out = Vec::new();
    let mut emit = |dir: Direction, s: IpAddr, d: IpAddr, sides: Option<(usize, usize)>| {
        let ports = ports_for(dir, s, d);
        for proto in [Protocol::Tcp, Protocol::Udp] {
            for &port in &ports {
                out.push(Packet {
                    dir,
                    src: s,
                    dst: d,
                    proto,
                    port,
                    sides,
                    want: permitted(dir, s, d, proto, port),
                });
            }
        }
    };
    match &pt.kind {
        PointKind::Network { sides, .. } => {
            for &s in &addrs {
                for &d in &addrs {
                    if s.is_ipv4() != d.is_ipv4() {
                        continue;
                    }
                    let (Some(a), Some(b)) = (side_of(site, sides, s), side_of(site, sides, d))
                    else {
                        continue;
                    };
                    if a != b {
                        emit(Direction::Forward, s, d, Some((a, b)));
                    }
                }
            }
        }
        PointKind::Host { members, .. } => {
            let mut local = BTreeSet::new();
            edges(members, 6, &mut local);
            local.extend(addrs.iter().copied());
            let local: Vec<IpAddr> = local.into_iter().filter(|a| members.contains(*a)).collect();
            for &m in &local {
                for &r in &addrs {
                    if m.is_ipv4() != r.is_ipv4() || m == r || members.contains(r) {
                        continue;
                    }
                    emit(Direction::In, r, m, None);
                    emit(Direction::Out, m, r, None);
                }
            }
        }
    }
    out
}

/// Every point of a site with its plan and sample packets.
pub fn points(site: &Site, plan: &Plan) -> Vec<(EnforcementPoint, PointPlan, Vec<Packet>)> {
    site.points
        .iter()
        .map(|pt| {
            let pp = plan.point(&pt.id).unwrap().clone();
            let pk = packets(site, pt, &pp);
            (pt.clone(), pp, pk)
        })
        .collect()
}

/// The sites the exactness tests cover: both examples and the dense synthetic site.
pub const SITES: [&str; 3] = [
    "examples/hq.yaml",
    "examples/minimal.yaml",
    "tests/fixtures/dense.yaml",
];
