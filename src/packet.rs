//! Exact sets of packets as binary decision diagrams (oxidd BCDDs).
//!
//! A packet is the header a netfilter rule can look at, plus the per-packet state the kernel
//! keeps while the packet crosses the hooks:
//!
//! | field | bits | meaning |
//! |---|---|---|
//! | `Fam` | 1 | 0 = IPv4, 1 = IPv6 |
//! | `State` | 3 | conntrack state as conntrack assigned it: NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED |
//! | `NoTrack` | 1 | a `notrack` rule ran before conntrack: the state reads UNTRACKED from then on |
//! | `CtDnat`, `CtSnat` | 1 each | the connection has a DNAT / SNAT binding (`ct status dnat`) |
//! | `RwDst`, `RwSrc` | 1 each | this packet's destination / source was rewritten on this path |
//! | `Iif`, `Oif` | k each | interface code: 0 none (no such interface at this hook), 1 any name the ruleset does not mention, then the names and wildcard families it does |
//! | `Proto` | 8 | IP protocol (IPv6: the upper-layer protocol) |
//! | `Flags` | 8 | TCP flags (FIN SYN RST PSH ACK URG ECE CWR); 0 for other protocols |
//! | `Mark`, `CtMark` | m each | the packet mark and the connection mark, only the bits the ruleset uses |
//! | `Src`, `Dst` | 128 each | addresses; IPv4 uses the first 32 variables, the other 96 are never constrained |
//! | `SPort`, `DPort` | 16 each | ports; for ICMP and ICMPv6 `DPort` is `type << 8 | code` and `SPort` is 0 |
//!
//! Every set lies in the *valid* universe: combinations the kernel can produce (a state in
//! range; TCP flags only on TCP; ports only on port protocols; the conntrack facts that a
//! lone ICMP error is never NEW, that only echo/timestamp/info/mask requests start an ICMP
//! connection, that a NEW TCP packet is a SYN or, with loose pick-up, an ACK; that IPv6
//! neighbour discovery and MLD are untracked). [`Space::entry`] further fixes what a packet
//! carries when it enters the first hook (mark 0, nothing rewritten, no NAT binding for a new
//! connection), so a set of packets *after* rules changed marks or NAT flags can be mapped back
//! to the packets that entered, exactly, by quantifying those fields away.
//!
//! Why BDDs: first-match semantics is `hit_i = match_i ∧ ¬(match_1 ∨ … ∨ match_{i-1})`, and
//! BDDs keep those unions compact and canonical (equality and emptiness are O(1)). oxidd was
//! measured ~100× faster than biodivine-lib-bdd on first-match ACLs. Operations return
//! [`Exhausted`] instead of panicking when the node table is full.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use oxidd::bcdd::{BCDDFunction, BCDDManagerRef};
use oxidd::util::OptBool;
use oxidd::{BooleanFunction, BooleanFunctionQuant, Manager, ManagerRef};

/// The decision diagram ran out of nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the packet-space engine ran out of memory (ruleset too large to analyse exactly)")]
pub struct Exhausted;

/// Result of a packet-space operation.
pub type R<T> = Result<T, Exhausted>;

/// Connection-tracking states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CtState {
    /// First packet of a connection.
    New = 0,
    /// Part of a known connection.
    Established = 1,
    /// Related to a known connection (ICMP errors, FTP data).
    Related = 2,
    /// Not valid for any connection.
    Invalid = 3,
    /// Not tracked (`notrack`, IPv6 neighbour discovery).
    Untracked = 4,
}

impl CtState {
    fn from_code(c: u128) -> CtState {
        match c {
            0 => CtState::New,
            1 => CtState::Established,
            2 => CtState::Related,
            3 => CtState::Invalid,
            _ => CtState::Untracked,
        }
    }
}

/// TCP flag bits as on the wire.
pub mod tcp {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;
}

/// A packet field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// IPv4 (0) or IPv6 (1).
    Fam,
    /// Conntrack state.
    State,
    /// `notrack` ran.
    NoTrack,
    /// The connection has a DNAT binding.
    CtDnat,
    /// The connection has an SNAT binding.
    CtSnat,
    /// The destination was rewritten on this path.
    RwDst,
    /// The source was rewritten on this path.
    RwSrc,
    /// Input interface code.
    Iif,
    /// Output interface code.
    Oif,
    /// IP protocol.
    Proto,
    /// TCP flags.
    Flags,
    /// Packet mark (modelled bits only).
    Mark,
    /// Connection mark (modelled bits only).
    CtMark,
    /// Source address.
    Src,
    /// Destination address.
    Dst,
    /// Source port.
    SPort,
    /// Destination port, or ICMP type/code.
    DPort,
}

/// Fields a rule can change while a packet crosses the hooks (and that [`Space::entry`] fixes).
pub const MUTABLE: [Field; 7] = [
    Field::NoTrack,
    Field::CtDnat,
    Field::CtSnat,
    Field::RwDst,
    Field::RwSrc,
    Field::Mark,
    Field::CtMark,
];

/// Variable order, top to bottom, chosen by measurement (bench/README.md, "Variable order"):
/// * the fields a NAT or `notrack` rule changes (rewritten flags, NAT bindings, `notrack`) on
///   top: a rule's "unknown for rewritten packets" then splits the packets once at the root, and
///   mapping sets back to entering packets quantifies only the top levels;
/// * then family, state, interfaces, protocol, TCP flags and marks: few values, and
///   quantifying the interfaces away (done for every finding) stays cheap above the addresses;
/// * then destination, source, destination port, source port, where rules differ most.
const ORDER: [Field; 17] = [
    Field::RwDst,
    Field::RwSrc,
    Field::CtDnat,
    Field::CtSnat,
    Field::NoTrack,
    Field::Fam,
    Field::State,
    Field::Iif,
    Field::Oif,
    Field::Proto,
    Field::Flags,
    Field::Mark,
    Field::CtMark,
    Field::Dst,
    Field::Src,
    Field::DPort,
    Field::SPort,
];

/// The variable order: [`ORDER`], or `PORTPLAN_ORDER` (comma-separated field names, for
/// measuring other orders; every field exactly once).
fn order() -> Vec<Field> {
    let Ok(v) = std::env::var("PORTPLAN_ORDER") else {
        return ORDER.to_vec();
    };
    let names: Vec<(&str, Field)> = ORDER.iter().map(|f| (field_name(*f), *f)).collect();
    let mut out = Vec::new();
    for n in v.split(',') {
        if let Some((_, f)) = names.iter().find(|(x, _)| *x == n.trim())
            && !out.contains(f)
        {
            out.push(*f);
        }
    }
    for f in ORDER {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// Node table sizes (log2) tried in turn: each is only used when the one before is exhausted.
/// The table is collected at 90 % full, so a table of 2^n nodes ends up resident (about 40 bytes
/// a node): 2^24 ≈ 0.7 GB, 2^26 ≈ 2.6 GB, 2^28 ≈ 10 GB.
pub const NODE_TABLE_STEPS: [u32; 3] = [24, 26, 28];

/// Bytes of memory a node table of 2^`log` nodes may end up using.
pub fn table_bytes(log: u32) -> u64 {
    40u64 << log
}

/// Apply cache size: `PORTPLAN_BDD_CACHE` (log2) for measuring, else 2^20.
fn cache_capacity() -> usize {
    let log = std::env::var("PORTPLAN_BDD_CACHE")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|v| (10..=28).contains(v))
        .unwrap_or(20);
    1 << log
}

/// The fewest nodes at which [`Space::tidy`] collects: `PORTPLAN_GC` (log2) for measuring.
fn gc_floor() -> usize {
    let log = std::env::var("PORTPLAN_GC")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|v| (10..=30).contains(v))
        .unwrap_or(23);
    1 << log
}

fn field_name(f: Field) -> &'static str {
    match f {
        Field::Fam => "fam",
        Field::State => "state",
        Field::NoTrack => "notrack",
        Field::CtDnat => "ctdnat",
        Field::CtSnat => "ctsnat",
        Field::RwDst => "rwdst",
        Field::RwSrc => "rwsrc",
        Field::Iif => "iif",
        Field::Oif => "oif",
        Field::Proto => "proto",
        Field::Flags => "flags",
        Field::Mark => "mark",
        Field::CtMark => "ctmark",
        Field::Src => "src",
        Field::Dst => "dst",
        Field::SPort => "sport",
        Field::DPort => "dport",
    }
}

/// Protocols with 16-bit source and destination ports right after their header start.
pub const PORT_PROTOS: [u8; 5] = [6, 17, 33, 132, 136];

/// Interface code for "no interface at this hook" (input has no output interface).
pub const IF_NONE: u32 = 0;
/// Interface code for "a name the ruleset does not mention".
pub const IF_OTHER: u32 = 1;

/// How a witness names an interface the ruleset does not mention.
pub const OTHER_IFACE: &str = "(any other)";

/// A concrete packet (a witness, or a probe in the kernel differential).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Packet {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Source port (0 for protocols without ports).
    pub sport: u16,
    /// Destination port; for ICMP/ICMPv6 `type << 8 | code`.
    pub dport: u16,
    /// TCP flags (0 for other protocols).
    pub tcp_flags: u8,
    /// Connection state.
    pub state: CtState,
    /// Input interface (`None`: none at this hook, or a name the ruleset does not mention).
    pub iif: Option<String>,
    /// Output interface.
    pub oif: Option<String>,
}

impl Packet {
    /// Whether the protocol is ICMP or ICMPv6 (then `dport` is type and code).
    pub fn is_icmp(&self) -> bool {
        self.proto == 1 || self.proto == 58
    }
}

/// A protocol's name, or its number.
pub fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        2 => "igmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        41 => "ipv6".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        58 => "icmpv6".into(),
        132 => "sctp".into(),
        136 => "udplite".into(),
        n => format!("proto {n}"),
    }
}

impl std::fmt::Display for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {} {}", self.src, self.dst, proto_name(self.proto))?;
        if PORT_PROTOS.contains(&self.proto) {
            write!(f, "/{} (sport {})", self.dport, self.sport)?;
        } else if self.is_icmp() {
            write!(f, " type {} code {}", self.dport >> 8, self.dport & 0xff)?;
        }
        if self.proto == 6 && self.tcp_flags != tcp::SYN {
            write!(f, " flags {:#04x}", self.tcp_flags)?;
        }
        if self.state != CtState::New {
            write!(f, " [{:?}]", self.state)?;
        }
        Ok(())
    }
}

/// A node of `m` on `level` with these children (then, else), not yet in the unique table.
fn inner_node<M: Manager>(
    _m: &M,
    level: oxidd::LevelNo,
    children: [oxidd_core::util::Own<M::Edge>; 2],
) -> M::InnerNode {
    use oxidd::InnerNode as _;
    M::InnerNode::new(level, children)
}

/// One step of [`Space::ladder`]: how a variable `v` combines with the function `g` built below.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// `v ∧ g`.
    And,
    /// `¬v ∧ g`.
    AndNot,
    /// `v ∨ g`.
    Or,
    /// `¬v ∨ g`.
    OrNot,
}

/// A set of packets.
#[derive(Clone, PartialEq, Eq)]
pub struct Set(BCDDFunction);

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.satisfiable() {
            "Set(non-empty)"
        } else {
            "Set(empty)"
        })
    }
}

/// What the universe needs to know about a ruleset: interface names and wildcard prefixes it
/// matches, and the mark bits it reads.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Exact interface names.
    pub names: Vec<String>,
    /// Wildcard prefixes (`eth` for `eth+` / `eth*`).
    pub prefixes: Vec<String>,
    /// Mark bits the ruleset tests, in the packet mark or the connection mark.
    pub mark_mask: u32,
}

/// The universe and its variables.
pub struct Space {
    mgr: BCDDManagerRef,
    /// Interface codes from 2: exact names, then one "other name with this prefix" per prefix.
    if_codes: Vec<IfCode>,
    mark_mask: u32,
    offsets: Vec<(Field, u32, u32)>,
    total: u32,
    valid: Set,
    entry: Set,
    /// Collect dead nodes once the table holds this many (see [`Space::tidy`]).
    gc_at: std::cell::Cell<usize>,
    tidy_calls: std::cell::Cell<u32>,
}

#[derive(Debug, Clone)]
struct IfCode {
    /// The name a packet with this code has (for a prefix family: the prefix plus a marker).
    name: String,
    /// Shown in witnesses.
    label: String,
}

impl Space {
    /// A universe for a ruleset with this layout, with the first node table size.
    pub fn new(layout: &Layout) -> R<Space> {
        Space::with_table(layout, NODE_TABLE_STEPS[0])
    }

    /// A universe whose node table holds 2^`table_log` nodes.
    pub fn with_table(layout: &Layout, table_log: u32) -> R<Space> {
        let mut if_codes: Vec<IfCode> = Vec::new();
        for n in &layout.names {
            if !if_codes.iter().any(|c| &c.name == n) {
                if_codes.push(IfCode {
                    name: n.clone(),
                    label: n.clone(),
                });
            }
        }
        for p in &layout.prefixes {
            let name = format!("{p}\u{1}");
            if !if_codes.iter().any(|c| c.name == name) {
                if_codes.push(IfCode {
                    name,
                    label: format!("{p}…"),
                });
            }
        }
        let codes = if_codes.len() as u32 + 2;
        let iface_bits = (u32::BITS - (codes - 1).leading_zeros()).max(1);
        let width = |f: Field| match f {
            Field::Fam | Field::NoTrack | Field::CtDnat | Field::CtSnat => 1,
            Field::RwDst | Field::RwSrc => 1,
            Field::State => 3,
            Field::Iif | Field::Oif => iface_bits,
            Field::Proto | Field::Flags => 8,
            Field::Mark | Field::CtMark => layout.mark_mask.count_ones(),
            Field::Src | Field::Dst => 128,
            Field::SPort | Field::DPort => 16,
        };
        let mut offsets = Vec::new();
        let mut total = 0;
        for f in order() {
            offsets.push((f, total, width(f)));
            total += width(f);
        }
        let mgr = oxidd::bcdd::new_manager(1 << table_log, cache_capacity(), 1);
        mgr.with_manager_exclusive(|m| {
            m.add_vars(total);
        });
        let t = Set(mgr.with_manager_shared(|m| BCDDFunction::t(m)));
        let mut s = Space {
            mgr,
            if_codes,
            mark_mask: layout.mark_mask,
            offsets,
            total,
            valid: t.clone(),
            entry: t,
            gc_at: std::cell::Cell::new(gc_floor()),
            tidy_calls: std::cell::Cell::new(0),
        };
        s.valid = s.build_valid()?;
        s.entry = s.build_entry()?;
        Ok(s)
    }

    /// Collect dead nodes when the table has grown to three times what was alive after the last
    /// collection (at least [`gc_floor`] nodes); looked at every 128th call (counting the nodes
    /// walks every level). Without it dead nodes stay until the table is 95 % full, so memory
    /// follows the table's size instead of what is alive (bench/README.md, "Variable order").
    pub fn tidy(&self) {
        let calls = self.tidy_calls.get().wrapping_add(1);
        self.tidy_calls.set(calls);
        if !calls.is_multiple_of(128) {
            return;
        }
        let n = self.mgr.with_manager_shared(|m| m.num_inner_nodes());
        if n < self.gc_at.get() {
            return;
        }
        let alive = self.mgr.with_manager_shared(|m| {
            m.gc();
            m.num_inner_nodes()
        });
        self.gc_at.set((3 * alive).max(gc_floor()));
    }

    fn build_valid(&self) -> R<Set> {
        let eq = |f, v| self.eq(f, v);
        let v4 = eq(Field::Fam, 0)?;
        let v6 = eq(Field::Fam, 1)?;
        let state = |st: CtState| eq(Field::State, st as u128);
        let mut ok = self.range(Field::State, 0, 4)?;
        // Interface codes in range.
        let top = self.if_codes.len() as u32 + 1;
        ok = self.and(&ok, &self.range(Field::Iif, 0, top)?)?;
        ok = self.and(&ok, &self.range(Field::Oif, 0, top)?)?;
        // Header structure by protocol.
        let tcp = eq(Field::Proto, 6)?;
        let mut ports = self.none();
        for p in PORT_PROTOS {
            ports = self.or(&ports, &eq(Field::Proto, u128::from(p))?)?;
        }
        let icmp = self.or(&eq(Field::Proto, 1)?, &eq(Field::Proto, 58)?)?;
        let no_flags = eq(Field::Flags, 0)?;
        let no_sport = eq(Field::SPort, 0)?;
        let no_dport = eq(Field::DPort, 0)?;
        let structure = self.or(
            &self.or(&tcp, &self.and(&self.diff(&ports, &tcp)?, &no_flags)?)?,
            &self.or(
                &self.and(&self.and(&icmp, &no_flags)?, &no_sport)?,
                &self.and(
                    &self.and(&self.not_raw(&self.or(&ports, &icmp)?)?, &no_flags)?,
                    &self.and(&no_sport, &no_dport)?,
                )?,
            )?,
        );
        ok = self.and(&ok, &structure?)?;
        // Conntrack: what can be NEW, RELATED, UNTRACKED.
        let new = state(CtState::New)?;
        let rel = state(CtState::Related)?;
        let untracked = state(CtState::Untracked)?;
        let flags_of = |v: u8| -> R<Set> {
            // (flags & (FIN|SYN|RST|ACK|URG)) == v; PSH, ECE and CWR are free.
            self.masked(
                Field::Flags,
                u32::from(tcp::FIN | tcp::SYN | tcp::RST | tcp::ACK | tcp::URG),
                u32::from(v),
            )
        };
        let mut tcp_new = self.none();
        for v in [
            tcp::SYN,
            tcp::SYN | tcp::URG,
            tcp::ACK, // loose pick-up (nf_conntrack_tcp_loose=1, the default)
            tcp::ACK | tcp::URG,
        ] {
            tcp_new = self.or(&tcp_new, &flags_of(v)?)?;
        }
        let icmp4 = self.and(&v4, &eq(Field::Proto, 1)?)?;
        let icmp6 = self.and(&v6, &eq(Field::Proto, 58)?)?;
        let types = |ts: &[u16]| -> R<Set> {
            let mut a = self.none();
            for t in ts {
                a = self.or(
                    &a,
                    &self.range(
                        Field::DPort,
                        u32::from(*t) << 8,
                        (u32::from(*t) << 8) | 0xff,
                    )?,
                )?;
            }
            Ok(a)
        };
        let icmp4_new = types(&[8, 13, 15, 17])?;
        let icmp4_err = types(&[3, 4, 5, 11, 12])?;
        let icmp6_new = types(&[128, 139])?;
        let icmp6_err = types(&[1, 2, 3, 4])?;
        let icmp6_untracked = types(&[130, 131, 132, 133, 134, 135, 136, 143])?;
        // NEW ⇒ …
        let new_ok = self.and(
            &self.and(&self.imp(&tcp, &tcp_new)?, &self.imp(&icmp4, &icmp4_new)?)?,
            &self.imp(&icmp6, &icmp6_new)?,
        )?;
        ok = self.and(&ok, &self.imp(&new, &new_ok)?)?;
        // RELATED ICMP is an error about a known connection.
        let rel_ok = self.and(
            &self.imp(&icmp4, &icmp4_err)?,
            &self.imp(&icmp6, &icmp6_err)?,
        )?;
        ok = self.and(&ok, &self.imp(&rel, &rel_ok)?)?;
        // ICMPv6 over IPv4 and ICMP over IPv6: conntrack's ICMP trackers refuse the other
        // family, so such a packet never has a connection.
        let cross = self.or(
            &self.and(&v4, &eq(Field::Proto, 58)?)?,
            &self.and(&v6, &eq(Field::Proto, 1)?)?,
        )?;
        ok = self.and(&ok, &self.imp(&cross, &state(CtState::Invalid)?)?)?;
        // Neighbour discovery and MLD are untracked, and only they are untracked on entry.
        let nd = self.and(&icmp6, &icmp6_untracked)?;
        ok = self.and(&ok, &self.iff(&nd, &untracked)?)?;
        Ok(ok)
    }

    fn build_entry(&self) -> R<Set> {
        let z = |f| self.eq(f, 0);
        let mut e = self.valid.clone();
        for f in [Field::NoTrack, Field::RwDst, Field::RwSrc, Field::Mark] {
            e = self.and(&e, &z(f)?)?;
        }
        let new = self.eq(Field::State, CtState::New as u128)?;
        let fresh = self.and(
            &self.and(&z(Field::CtDnat)?, &z(Field::CtSnat)?)?,
            &z(Field::CtMark)?,
        )?;
        self.and(&e, &self.imp(&new, &fresh)?)
    }

    fn raw_true(&self) -> Set {
        Set(self.mgr.with_manager_shared(|m| BCDDFunction::t(m)))
    }

    fn not_raw(&self, a: &Set) -> R<Set> {
        a.0.not().map(Set).map_err(|_| Exhausted)
    }

    fn imp(&self, a: &Set, b: &Set) -> R<Set> {
        a.0.imp(&b.0).map(Set).map_err(|_| Exhausted)
    }

    fn iff(&self, a: &Set, b: &Set) -> R<Set> {
        a.0.equiv(&b.0).map(Set).map_err(|_| Exhausted)
    }

    fn offset(&self, f: Field) -> (u32, u32) {
        self.offsets
            .iter()
            .find(|(g, _, _)| *g == f)
            .map(|(_, o, w)| (*o, *w))
            .unwrap_or((0, 0))
    }

    fn var(&self, v: u32) -> R<Set> {
        self.mgr
            .with_manager_shared(|m| BCDDFunction::var(m, v))
            .map(Set)
            .map_err(|_| Exhausted)
    }

    /// Every valid packet (any value of the fields rules can change).
    pub fn all(&self) -> Set {
        self.valid.clone()
    }

    /// Every packet as it can enter the first hook.
    pub fn entry(&self) -> Set {
        self.entry.clone()
    }

    /// Every combination of variables (for match expressions, always intersected with a
    /// set of valid packets before use).
    pub fn top(&self) -> Set {
        self.raw_true()
    }

    /// The complement among all combinations of variables (see [`Space::top`]).
    pub fn complement(&self, a: &Set) -> R<Set> {
        self.not_raw(a)
    }

    /// No packet.
    pub fn none(&self) -> Set {
        Set(self.mgr.with_manager_shared(|m| BCDDFunction::f(m)))
    }

    /// `a ∧ b`.
    pub fn and(&self, a: &Set, b: &Set) -> R<Set> {
        a.0.and(&b.0).map(Set).map_err(|_| Exhausted)
    }

    /// `a ∨ b`.
    pub fn or(&self, a: &Set, b: &Set) -> R<Set> {
        a.0.or(&b.0).map(Set).map_err(|_| Exhausted)
    }

    /// `a ∧ ¬b`.
    pub fn diff(&self, a: &Set, b: &Set) -> R<Set> {
        // imp_strict(x, y) is ¬x ∧ y.
        b.0.imp_strict(&a.0).map(Set).map_err(|_| Exhausted)
    }

    /// `(c ∧ t) ∨ (¬c ∧ e)`: `t` where `c` holds, `e` elsewhere.
    pub fn ite(&self, c: &Set, t: &Set, e: &Set) -> R<Set> {
        c.0.ite(&t.0, &e.0).map(Set).map_err(|_| Exhausted)
    }

    /// Valid packets not in `a`.
    pub fn not(&self, a: &Set) -> R<Set> {
        self.diff(&self.valid, a)
    }

    /// Whether `a` is empty.
    pub fn is_empty(&self, a: &Set) -> bool {
        !a.0.satisfiable()
    }

    /// Whether `a ⊆ b`.
    pub fn subset(&self, a: &Set, b: &Set) -> R<bool> {
        Ok(self.is_empty(&self.diff(a, b)?))
    }

    /// `field == value` (raw: not intersected with the universe).
    pub fn eq(&self, f: Field, value: u128) -> R<Set> {
        let (off, width) = self.offset(f);
        self.bits(off, width, value, width)
    }

    /// The top `len` bits of the `width`-bit field at `off` equal those of `value`; built
    /// bottom-up so each literal adds one node.
    fn bits(&self, off: u32, width: u32, value: u128, len: u32) -> R<Set> {
        let steps: Vec<(u32, Step)> = (0..len)
            .map(|i| {
                let bit = (value >> (width - 1 - i)) & 1 == 1;
                (off + i, if bit { Step::And } else { Step::AndNot })
            })
            .collect();
        self.ladder(&steps)
    }

    /// The function built bottom-up from `steps` (variables in increasing order, i.e. top
    /// first): starting from true at the bottom, each step makes one node on its variable from
    /// the function below it (see [`Step`]). The same functions as conjunctions and disjunctions
    /// of literals, but one node insertion per variable instead of one operation of the decision
    /// diagram library (each of which costs a few hundred nanoseconds of bookkeeping even for
    /// a one-node result, measured: bench/README.md "Variable order").
    fn ladder(&self, steps: &[(u32, Step)]) -> R<Set> {
        use oxidd::Function as _;
        use oxidd_core::LevelView as _;
        debug_assert!(steps.windows(2).all(|w| w[0].0 < w[1].0));
        self.mgr.with_manager_shared(|m| {
            let t_edge = BCDDFunction::t_edge(m);
            let f_edge = BCDDFunction::f_edge(m);
            let (plain, compl) = (t_edge.tag(), f_edge.tag());
            m.drop_edge(t_edge);
            m.drop_edge(f_edge);
            let mut acc = BCDDFunction::t_edge(m);
            for (var, step) in steps.iter().rev() {
                let (hi, lo) = match step {
                    Step::And => (acc, BCDDFunction::f_edge(m)),
                    Step::AndNot => (BCDDFunction::f_edge(m), acc),
                    Step::Or => (BCDDFunction::t_edge(m), acc),
                    Step::OrNot => (acc, BCDDFunction::t_edge(m)),
                };
                if hi == lo {
                    m.drop_edge(lo);
                    acc = hi;
                    continue;
                }
                // Complement-edge form: a node's then-edge is never complemented.
                let (hi, lo, tag) = if hi.tag() == compl {
                    let flipped = if lo.tag() == compl { plain } else { compl };
                    (hi.with_tag(plain), lo.with_tag(flipped), compl)
                } else {
                    (hi, lo, plain)
                };
                let level = m.var_to_level(*var);
                let node = inner_node(m, level, [hi, lo]);
                match m.level(level).get_or_insert(node) {
                    Ok(e) => acc = e.with_tag(tag),
                    // The node (and with it `acc`) was released by the table.
                    Err(_) => return Err(Exhausted),
                }
            }
            Ok(Set(BCDDFunction::from_edge(m, acc)))
        })
    }

    /// Packets whose numeric field lies in `lo..=hi` (ports, protocol, state, interface code).
    pub fn range(&self, f: Field, lo: u32, hi: u32) -> R<Set> {
        let (off, width) = self.offset(f);
        if lo > hi || (width < 32 && lo >= (1 << width)) {
            return Ok(self.none());
        }
        let hi = if width < 32 {
            hi.min((1 << width) - 1)
        } else {
            hi
        };
        let ge = self.cmp(off, width, lo, true)?;
        let le = self.cmp(off, width, hi, false)?;
        self.and(&ge, &le)
    }

    /// `field >= k` (ge) or `field <= k`, built from the LSB up.
    fn cmp(&self, off: u32, width: u32, k: u32, ge: bool) -> R<Set> {
        // Equality so far counts as satisfied (true at the bottom).
        let steps: Vec<(u32, Step)> = (0..width)
            .map(|i| {
                let bit = (k >> (width - 1 - i)) & 1 == 1;
                let step = match (ge, bit) {
                    (true, true) => Step::And,
                    (true, false) => Step::Or,
                    (false, true) => Step::OrNot,
                    (false, false) => Step::AndNot,
                };
                (off + i, step)
            })
            .collect();
        self.ladder(&steps)
    }

    /// `(field & mask) == value` for `Flags`, `Mark` and `CtMark` (mark bits outside the modelled
    /// mask are taken as 0: the ruleset never tests them).
    pub fn masked(&self, f: Field, mask: u32, value: u32) -> R<Set> {
        let mut acc = self.raw_true();
        for bit in (0..32).rev() {
            if mask >> bit & 1 == 0 {
                continue;
            }
            let want = value >> bit & 1 == 1;
            match self.bit_var(f, bit)? {
                Some(v) => {
                    let lit = if want { v } else { self.not_raw(&v)? };
                    acc = self.and(&lit, &acc)?;
                }
                // An unmodelled mark bit is always 0.
                None if want => return Ok(self.none()),
                None => {}
            }
        }
        Ok(acc)
    }

    /// The variable holding bit `bit` (0 = least significant) of a flags or mark field.
    fn bit_var(&self, f: Field, bit: u32) -> R<Option<Set>> {
        let (off, width) = self.offset(f);
        match f {
            Field::Flags => {
                if bit >= 8 {
                    return Ok(None);
                }
                self.var(off + (width - 1 - bit)).map(Some)
            }
            Field::Mark | Field::CtMark => {
                if self.mark_mask >> bit & 1 == 0 {
                    return Ok(None);
                }
                // Variables hold the modelled bits, most significant first.
                let above = (self.mark_mask >> bit >> 1).count_ones();
                self.var(off + above).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Packets whose address field (`Src`/`Dst`) is in `net` (of the net's family).
    pub fn net(&self, f: Field, net: &IpNet) -> R<Set> {
        let (off, _) = self.offset(f);
        let (fam, value, len) = match net {
            IpNet::V4(n) => (
                0,
                u128::from(u32::from(n.network())) << 96,
                u32::from(n.prefix_len()),
            ),
            IpNet::V6(n) => (1, u128::from(n.network()), u32::from(n.prefix_len())),
        };
        let cube = self.bits(off, 128, value, len)?;
        self.and(&self.eq(Field::Fam, fam)?, &cube)
    }

    /// IPv4 packets, or IPv6 packets.
    pub fn family(&self, v6: bool) -> R<Set> {
        self.eq(Field::Fam, u128::from(v6))
    }

    /// Packets whose state field is one of these (the raw field, see [`Field::State`]).
    pub fn states(&self, states: &[CtState]) -> R<Set> {
        let mut acc = self.none();
        for s in states {
            acc = self.or(&acc, &self.eq(Field::State, *s as u128)?)?;
        }
        Ok(acc)
    }

    /// Packets whose input (or output) interface matches `pattern`: an exact name, or a
    /// prefix ending in `*` / `+`. The empty wildcard matches every interface and none.
    pub fn iface(&self, output: bool, pattern: &str) -> R<Set> {
        let f = if output { Field::Oif } else { Field::Iif };
        let mut acc = self.none();
        match pattern.strip_suffix(['*', '+']) {
            Some("") => return self.range(f, 0, self.if_codes.len() as u32 + 1),
            Some(prefix) => {
                for (i, c) in self.if_codes.iter().enumerate() {
                    if c.name.starts_with(prefix) {
                        acc = self.or(&acc, &self.eq(f, i as u128 + 2)?)?;
                    }
                }
            }
            None if pattern.is_empty() => acc = self.eq(f, u128::from(IF_NONE))?,
            None => {
                if let Some(i) = self.if_codes.iter().position(|c| c.name == pattern) {
                    acc = self.eq(f, i as u128 + 2)?;
                }
            }
        }
        Ok(acc)
    }

    /// Packets whose interface field is this code.
    pub fn iface_code(&self, output: bool, code: u32) -> R<Set> {
        self.eq(
            if output { Field::Oif } else { Field::Iif },
            u128::from(code),
        )
    }

    /// The code of an exact interface name (`IF_OTHER` when the ruleset never mentions it).
    pub fn iface_code_of(&self, name: &str) -> u32 {
        self.if_codes
            .iter()
            .position(|c| c.name == name || c.label == name)
            .map_or(IF_OTHER, |i| i as u32 + 2)
    }

    /// The cube of all variables of these fields (for quantification).
    fn cube(&self, fields: &[Field]) -> R<Set> {
        let mut acc = self.raw_true();
        for f in fields {
            let (off, width) = self.offset(*f);
            for v in (off..off + width).rev() {
                acc = self.and(&self.var(v)?, &acc)?;
            }
        }
        Ok(acc)
    }

    /// `∃ fields. a`: the packets that are in `a` with some value of these fields.
    pub fn exists(&self, a: &Set, fields: &[Field]) -> R<Set> {
        let c = self.cube(fields)?;
        a.0.exists(&c.0).map(Set).map_err(|_| Exhausted)
    }

    /// `∀ fields. a`.
    pub fn forall(&self, a: &Set, fields: &[Field]) -> R<Set> {
        let c = self.cube(fields)?;
        a.0.forall(&c.0).map(Set).map_err(|_| Exhausted)
    }

    /// The packets of `a` with `field` set to `value` (an assignment's image).
    pub fn assign(&self, a: &Set, f: Field, value: u128) -> R<Set> {
        self.and(&self.exists(a, &[f])?, &self.eq(f, value)?)
    }

    /// The packets of `a` after `mark = (mark & !clear) ^ xor` on `Mark` or `CtMark`; `clear`
    /// bits that are not modelled are ignored (no rule reads them).
    pub fn set_bits(&self, a: &Set, f: Field, clear: u32, xor: u32) -> R<Set> {
        let mut out = a.clone();
        for bit in 0..32 {
            let Some(v) = self.bit_var(f, bit)? else {
                continue;
            };
            let cleared = clear >> bit & 1 == 1;
            let flip = xor >> bit & 1 == 1;
            if cleared {
                let q = out.0.exists(&v.0).map(Set).map_err(|_| Exhausted)?;
                let lit = if flip { v } else { self.not_raw(&v)? };
                out = self.and(&q, &lit)?;
            } else if flip {
                // x ↦ ¬x: both cofactors swapped.
                let hi = self.and(&out, &v)?;
                let lo = self.diff(&out, &v)?;
                let hi_q = hi.0.exists(&v.0).map(Set).map_err(|_| Exhausted)?;
                let lo_q = lo.0.exists(&v.0).map(Set).map_err(|_| Exhausted)?;
                out = self.or(&self.and(&hi_q, &self.not_raw(&v)?)?, &self.and(&lo_q, &v)?)?;
            }
        }
        Ok(out)
    }

    /// The packets of `a` with the `mask` bits of `to` copied from `from` (`Mark` ↔ `CtMark`).
    pub fn copy_bits(&self, a: &Set, from: Field, to: Field, mask: u32) -> R<Set> {
        let mut out = a.clone();
        for bit in 0..32 {
            if mask >> bit & 1 == 0 {
                continue;
            }
            let (Some(t), Some(s)) = (self.bit_var(to, bit)?, self.bit_var(from, bit)?) else {
                continue;
            };
            let q = out.0.exists(&t.0).map(Set).map_err(|_| Exhausted)?;
            out = self.and(&q, &self.iff(&t, &s)?)?;
        }
        Ok(out)
    }

    /// The packets of `a` with the `mask` bits of a mark field set to any value.
    pub fn forget_bits(&self, a: &Set, f: Field, mask: u32) -> R<Set> {
        let mut out = a.clone();
        for bit in 0..32 {
            if mask >> bit & 1 == 0 {
                continue;
            }
            if let Some(v) = self.bit_var(f, bit)? {
                out = out.0.exists(&v.0).map(Set).map_err(|_| Exhausted)?;
            }
        }
        Ok(out)
    }

    /// Map packets as they are after some hooks back to the packets that entered: forget what
    /// rules can change, then keep the entry values.
    pub fn back_to_entry(&self, a: &Set) -> R<Set> {
        self.and(&self.exists(a, &MUTABLE)?, &self.entry)
    }

    /// The values of a numeric field (ports, protocol) in `a`, as ranges: a walk over bit
    /// prefixes that stops wherever the projected set is empty or full under the prefix (BDD
    /// equality is canonical), so it costs in proportion to the number of ranges.
    pub fn ranges(&self, a: &Set, f: Field) -> R<Vec<(u32, u32)>> {
        let p = self.project(a, &[f])?;
        let (off, width) = self.offset(f);
        let mut out: Vec<(u32, u32)> = Vec::new();
        self.walk(&p, off, width, 0, 0, &self.raw_true(), &mut out)?;
        Ok(out)
    }

    /// Keep only these fields: every other variable quantified away.
    fn project(&self, a: &Set, keep: &[Field]) -> R<Set> {
        let others: Vec<Field> = ORDER.into_iter().filter(|f| !keep.contains(f)).collect();
        self.exists(a, &others)
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        p: &Set,
        off: u32,
        width: u32,
        depth: u32,
        prefix: u32,
        cube: &Set,
        out: &mut Vec<(u32, u32)>,
    ) -> R<()> {
        let sub = self.and(p, cube)?;
        if self.is_empty(&sub) {
            return Ok(());
        }
        let rest = width - depth;
        if sub == *cube || rest == 0 {
            let lo = prefix << rest;
            let hi = ((prefix + 1) << rest) - 1;
            match out.last_mut() {
                Some((_, h)) if *h + 1 == lo => *h = hi,
                _ => out.push((lo, hi)),
            }
            return Ok(());
        }
        let v = self.var(off + depth)?;
        let zero = self.and(cube, &self.not_raw(&v)?)?;
        self.walk(p, off, width, depth + 1, prefix << 1, &zero, out)?;
        let one = self.and(cube, &v)?;
        self.walk(p, off, width, depth + 1, (prefix << 1) | 1, &one, out)
    }

    /// Up to `max` prefixes (IPv4 first, then IPv6) covering the addresses of field `f` in `a`;
    /// exact when all are listed; the bool says whether more were left out.
    pub fn prefixes(&self, a: &Set, f: Field, max: usize) -> R<(Vec<IpNet>, bool)> {
        let mut out = Vec::new();
        let (off, _) = self.offset(f);
        for v6 in [false, true] {
            let mut rest = self.project(&self.and(a, &self.family(v6)?)?, &[Field::Fam, f])?;
            let bits = if v6 { 128 } else { 32 };
            while rest.0.satisfiable() {
                if out.len() >= max {
                    return Ok((out, true));
                }
                let cube = rest.0.pick_cube(|_, _, _| false).ok_or(Exhausted)?;
                // The longest fixed prefix of the cube; later fixed bits are taken as the cube
                // has them, which stays inside the set.
                let vals: Vec<OptBool> = (0..bits)
                    .map(|i| {
                        cube.get((off + i) as usize)
                            .copied()
                            .unwrap_or(OptBool::None)
                    })
                    .collect();
                let len = vals
                    .iter()
                    .rposition(|b| *b != OptBool::None)
                    .map_or(0, |p| p + 1);
                let mut value: u128 = 0;
                for (i, b) in vals.iter().enumerate().take(len) {
                    if *b == OptBool::True {
                        value |= 1 << (bits as usize - 1 - i);
                    }
                }
                let net: IpNet = if v6 {
                    IpNet::V6(
                        Ipv6Net::new(Ipv6Addr::from(value), len as u8).map_err(|_| Exhausted)?,
                    )
                } else {
                    IpNet::V4(
                        Ipv4Net::new(Ipv4Addr::from(value as u32), len as u8)
                            .map_err(|_| Exhausted)?,
                    )
                };
                let cube_set = self.net(f, &net)?;
                rest = self.diff(&rest, &cube_set)?;
                out.push(net);
            }
        }
        Ok((out, false))
    }

    /// Addresses a witness should avoid when it can: unspecified, loopback, multicast,
    /// broadcast and reserved ranges.
    fn unusual(&self, f: Field) -> R<Set> {
        let mut acc = self.none();
        for n in [
            "0.0.0.0/8",
            "127.0.0.0/8",
            "224.0.0.0/3",
            "169.254.0.0/16",
            "::/127",
            "ff00::/8",
            "fe80::/10",
            "::ffff:0:0/96",
        ] {
            let net: IpNet = n.parse().expect("valid");
            acc = self.or(&acc, &self.net(f, &net)?)?;
        }
        Ok(acc)
    }

    /// A concrete packet in `a`, readable: usable unicast host addresses when the set allows
    /// (not the network, broadcast, unspecified or loopback address), source ≠ destination,
    /// ports of 1 or more, state NEW and a plain SYN where possible.
    pub fn witness(&self, a: &Set) -> Option<Packet> {
        let mut s = a.clone();
        // Narrow step by step, never to nothing.
        let mut narrow = |t: R<Set>| {
            if let Ok(t) = t
                && let Ok(n) = self.and(&s, &t)
                && !self.is_empty(&n)
            {
                s = n;
            }
        };
        narrow(self.eq(Field::State, CtState::New as u128));
        narrow(self.eq(Field::Flags, u128::from(tcp::SYN)).and_then(|syn| {
            let tcp = self.eq(Field::Proto, 6)?;
            self.or(&self.diff(&self.raw_true(), &tcp)?, &syn)
        }));
        for f in [Field::Src, Field::Dst] {
            narrow(
                self.unusual(f)
                    .and_then(|u| self.diff(&self.raw_true(), &u)),
            );
        }
        narrow(self.range(Field::SPort, 1024, 65535).and_then(|p| {
            let zero = self.eq(Field::SPort, 0)?;
            self.or(&p, &zero)
        }));
        let cube = s.0.pick_cube(|_, _, _| false)?;
        let mut p = self.decode(&cube);
        // Free low address bits: pick ...01 rather than the network address.
        for (f, dst) in [(Field::Src, false), (Field::Dst, true)] {
            let (off, _) = self.offset(f);
            let bits = if p.src.is_ipv4() { 32 } else { 128 };
            let free: Vec<u32> = (0..bits)
                .filter(|i| cube.get((off + i) as usize) == Some(&OptBool::None))
                .collect();
            if free.len() >= 2 {
                let mut value = addr_bits(if dst { &p.dst } else { &p.src });
                // The lowest free bit 1, the second lowest stays 0: not all-zero, not all-one.
                let low = free[free.len() - 1];
                value |= 1 << (bits - 1 - low);
                // A different host than the other end.
                let other = addr_bits(if dst { &p.src } else { &p.dst });
                if value == other && free.len() >= 3 {
                    value |= 1 << (bits - 1 - free[free.len() - 2]);
                }
                let ip = bits_addr(value, bits == 128);
                if dst {
                    p.dst = ip;
                } else {
                    p.src = ip;
                }
            }
        }
        // Ports: a free low bit set rather than port 0.
        for f in [Field::SPort, Field::DPort] {
            let (off, width) = self.offset(f);
            let v = if f == Field::SPort { p.sport } else { p.dport };
            if v == 0 && cube.get((off + width - 1) as usize) == Some(&OptBool::None) {
                if f == Field::SPort {
                    p.sport = 1;
                } else {
                    p.dport = 1;
                }
            }
        }
        if PORT_PROTOS.contains(&p.proto) && p.sport < 1024 {
            // Keep a client-like source port when the set allows it.
            let mut q = p.clone();
            q.sport = 40000;
            if self.contains(&s, &q).unwrap_or(false) {
                p = q;
            }
        }
        if self.contains(a, &p).unwrap_or(false) {
            Some(p)
        } else {
            // The adjustments left the set: fall back to the plain cube.
            let cube = a.0.pick_cube(|_, _, _| false)?;
            Some(self.decode(&cube))
        }
    }

    fn decode(&self, cube: &[OptBool]) -> Packet {
        let get = |f: Field| -> u128 {
            let (off, width) = self.offset(f);
            let mut v: u128 = 0;
            for i in 0..width {
                if cube.get((off + i) as usize) == Some(&OptBool::True) {
                    v |= 1 << (width - 1 - i);
                }
            }
            v
        };
        let v6 = get(Field::Fam) == 1;
        let addr = |f: Field| {
            let raw = get(f);
            if v6 {
                IpAddr::V6(Ipv6Addr::from(raw))
            } else {
                IpAddr::V4(Ipv4Addr::from((raw >> 96) as u32))
            }
        };
        let iface = |code: u128| match code as u32 {
            IF_NONE => None,
            IF_OTHER => Some(OTHER_IFACE.to_string()),
            c => self.if_codes.get(c as usize - 2).map(|c| c.label.clone()),
        };
        Packet {
            src: addr(Field::Src),
            dst: addr(Field::Dst),
            proto: get(Field::Proto) as u8,
            sport: get(Field::SPort) as u16,
            dport: get(Field::DPort) as u16,
            tcp_flags: get(Field::Flags) as u8,
            state: CtState::from_code(get(Field::State)),
            iif: iface(get(Field::Iif)),
            oif: iface(get(Field::Oif)),
        }
    }

    /// The set holding exactly `p` as it enters (mark 0, nothing rewritten), with interfaces
    /// given by name (`None`: no interface at this hook).
    pub fn packet(&self, p: &Packet) -> R<Set> {
        let host = |ip: IpAddr| IpNet::from(ip);
        let mut s = self.and(
            &self.net(Field::Src, &host(p.src))?,
            &self.net(Field::Dst, &host(p.dst))?,
        )?;
        for (f, v) in [
            (Field::Proto, u128::from(p.proto)),
            (Field::SPort, u128::from(p.sport)),
            (Field::DPort, u128::from(p.dport)),
            (Field::Flags, u128::from(p.tcp_flags)),
            (Field::State, p.state as u128),
        ] {
            s = self.and(&s, &self.eq(f, v)?)?;
        }
        let code = |n: &Option<String>| n.as_deref().map_or(IF_NONE, |n| self.iface_code_of(n));
        s = self.and(&s, &self.iface_code(false, code(&p.iif))?)?;
        s = self.and(&s, &self.iface_code(true, code(&p.oif))?)?;
        self.and(&s, &self.entry)
    }

    /// Whether packet `p` (as it enters) is in `a`.
    pub fn contains(&self, a: &Set, p: &Packet) -> R<bool> {
        Ok(!self.is_empty(&self.and(a, &self.packet(p)?)?))
    }

    /// Number of variables (for diagnostics and benchmarks).
    pub fn vars(&self) -> u32 {
        self.total
    }
}

fn addr_bits(a: &IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(*v)),
        IpAddr::V6(v) => u128::from(*v),
    }
}

fn bits_addr(v: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(v))
    } else {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> Space {
        Space::new(&Layout {
            names: vec!["eth0".into(), "eth1".into()],
            prefixes: vec!["eth".into()],
            mark_mask: 0x4001,
        })
        .unwrap()
    }

    /// The literal-by-literal constructions `ladder` replaces, as the reference.
    fn cmp_by_operations(s: &Space, off: u32, width: u32, k: u32, ge: bool) -> Set {
        let mut acc = s.raw_true();
        for i in (0..width).rev() {
            let bit = (k >> (width - 1 - i)) & 1 == 1;
            let v = s.var(off + i).unwrap();
            acc = match (ge, bit) {
                (true, true) => s.and(&v, &acc),
                (true, false) => s.or(&v, &acc),
                (false, true) => s.or(&s.not_raw(&v).unwrap(), &acc),
                (false, false) => s.and(&s.not_raw(&v).unwrap(), &acc),
            }
            .unwrap();
        }
        acc
    }

    fn bits_by_operations(s: &Space, off: u32, width: u32, value: u128, len: u32) -> Set {
        let mut acc = s.raw_true();
        for i in (0..len).rev() {
            let v = s.var(off + i).unwrap();
            let lit = if (value >> (width - 1 - i)) & 1 == 1 {
                v
            } else {
                s.not_raw(&v).unwrap()
            };
            acc = s.and(&lit, &acc).unwrap();
        }
        acc
    }

    #[test]
    fn ladders_equal_the_constructions_by_operations() {
        let s = space();
        // Every bound of an 8-bit field both ways, and a spread of 16-bit ones: canonical
        // diagrams, so equal functions are equal handles.
        let (off, w) = s.offset(Field::Proto);
        for k in 0..256 {
            for ge in [true, false] {
                assert_eq!(
                    s.cmp(off, w, k, ge).unwrap(),
                    cmp_by_operations(&s, off, w, k, ge)
                );
            }
        }
        let (off, w) = s.offset(Field::DPort);
        let mut k: u32 = 1;
        for _ in 0..500 {
            k = (k.wrapping_mul(1_103_515_245).wrapping_add(12_345)) & 0xffff;
            for ge in [true, false] {
                assert_eq!(
                    s.cmp(off, w, k, ge).unwrap(),
                    cmp_by_operations(&s, off, w, k, ge)
                );
            }
        }
        let (off, w) = s.offset(Field::Src);
        let mut v: u128 = 7;
        for len in 0..=128 {
            v = v
                .wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)
                .wrapping_add(1);
            assert_eq!(
                s.bits(off, w, v, len).unwrap(),
                bits_by_operations(&s, off, w, v, len)
            );
        }
    }

    fn pkt(src: &str, dst: &str, proto: u8, dport: u16) -> Packet {
        Packet {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto,
            sport: if PORT_PROTOS.contains(&proto) {
                40000
            } else {
                0
            },
            dport,
            tcp_flags: if proto == 6 { tcp::SYN } else { 0 },
            state: CtState::New,
            iif: None,
            oif: None,
        }
    }

    #[test]
    fn prefixes_ranges_and_families() {
        let s = space();
        let a = s.net(Field::Src, &"10.0.0.0/8".parse().unwrap()).unwrap();
        let p = s.range(Field::DPort, 9132, 9133).unwrap();
        let tcp = s.eq(Field::Proto, 6).unwrap();
        let set = s
            .and(&s.and(&s.and(&a, &p).unwrap(), &tcp).unwrap(), &s.entry())
            .unwrap();
        assert!(
            s.contains(&set, &pkt("10.1.2.3", "192.0.2.1", 6, 9133))
                .unwrap()
        );
        assert!(
            !s.contains(&set, &pkt("10.1.2.3", "192.0.2.1", 6, 9134))
                .unwrap()
        );
        assert!(
            !s.contains(&set, &pkt("11.1.2.3", "192.0.2.1", 6, 9132))
                .unwrap()
        );
        assert!(
            !s.contains(&set, &pkt("10.1.2.3", "192.0.2.1", 17, 9132))
                .unwrap()
        );
        assert_eq!(s.ranges(&set, Field::DPort).unwrap(), [(9132, 9133)]);
        let (nets, more) = s.prefixes(&set, Field::Src, 10).unwrap();
        assert_eq!(nets, ["10.0.0.0/8".parse::<IpNet>().unwrap()]);
        assert!(!more);
        let w = s.witness(&set).unwrap();
        assert!(s.contains(&set, &w).unwrap());
        assert_ne!(
            w.src,
            "10.0.0.0".parse::<IpAddr>().unwrap(),
            "not the network address"
        );
        assert_ne!(w.src, w.dst);
        assert_eq!(w.tcp_flags, tcp::SYN);
        // Families never mix.
        let six = s
            .net(Field::Dst, &"2001:db8::/32".parse().unwrap())
            .unwrap();
        assert!(s.is_empty(&s.and(&a, &six).unwrap()));
        let (nets, _) = s
            .prefixes(&s.and(&s.entry(), &six).unwrap(), Field::Dst, 4)
            .unwrap();
        assert_eq!(nets, ["2001:db8::/32".parse::<IpNet>().unwrap()]);
    }

    #[test]
    fn the_universe_knows_conntrack() {
        let s = space();
        let e = s.entry();
        let mut p = pkt("192.0.2.1", "198.51.100.7", 1, 3 << 8 | 4);
        // A lone ICMP error is never NEW; it can be RELATED.
        assert!(!s.contains(&e, &p).unwrap());
        p.state = CtState::Related;
        assert!(s.contains(&e, &p).unwrap());
        // Echo request can be NEW; echo reply cannot.
        let echo = pkt("192.0.2.1", "198.51.100.7", 1, 8 << 8);
        assert!(s.contains(&e, &echo).unwrap());
        assert!(
            !s.contains(&e, &pkt("192.0.2.1", "198.51.100.7", 1, 0))
                .unwrap()
        );
        // ICMPv6 echo request is type 128; neighbour solicitation is untracked only.
        assert!(
            s.contains(&e, &pkt("2001:db8::1", "2001:db8::2", 58, 128 << 8))
                .unwrap()
        );
        let mut ns = pkt("2001:db8::1", "2001:db8::2", 58, 135 << 8);
        assert!(!s.contains(&e, &ns).unwrap());
        ns.state = CtState::Untracked;
        assert!(s.contains(&e, &ns).unwrap());
        // TCP: SYN-ACK is never NEW.
        let mut t = pkt("192.0.2.1", "198.51.100.7", 6, 22);
        t.tcp_flags = tcp::SYN | tcp::ACK;
        assert!(!s.contains(&e, &t).unwrap());
        t.state = CtState::Established;
        assert!(s.contains(&e, &t).unwrap());
    }

    #[test]
    fn complement_and_difference_are_exact() {
        let s = space();
        let all_tcp = s.and(&s.eq(Field::Proto, 6).unwrap(), &s.entry()).unwrap();
        let some = s
            .and(&all_tcp, &s.range(Field::DPort, 1, 1023).unwrap())
            .unwrap();
        let rest = s.diff(&all_tcp, &some).unwrap();
        assert_eq!(
            s.ranges(&rest, Field::DPort).unwrap(),
            [(0, 0), (1024, 65535)]
        );
        assert!(s.is_empty(&s.and(&rest, &some).unwrap()));
        assert!(s.subset(&some, &all_tcp).unwrap());
    }

    #[test]
    fn marks_are_assigned_and_mapped_back() {
        let s = space();
        let e = s.entry();
        let marked = s.set_bits(&e, Field::Mark, 0x4000, 0x4000).unwrap();
        let m = s.masked(Field::Mark, 0x4000, 0x4000).unwrap();
        assert!(s.subset(&marked, &m).unwrap());
        assert_eq!(s.back_to_entry(&marked).unwrap(), e);
        // Unmodelled bits read 0.
        assert!(s.is_empty(&s.masked(Field::Mark, 0x2, 0x2).unwrap()));
        let flipped = s.set_bits(&marked, Field::Mark, 0, 0x4001).unwrap();
        let want = s.masked(Field::Mark, 0x4001, 0x0001).unwrap();
        assert!(s.subset(&flipped, &want).unwrap());
        let copied = s
            .copy_bits(&flipped, Field::Mark, Field::CtMark, 0x4001)
            .unwrap();
        assert!(
            s.subset(&copied, &s.masked(Field::CtMark, 0x4001, 1).unwrap())
                .unwrap()
        );
    }

    #[test]
    fn interfaces_and_wildcards() {
        let s = space();
        let eth = s.iface(false, "eth+").unwrap();
        let eth0 = s.iface(false, "eth0").unwrap();
        assert!(s.subset(&eth0, &eth).unwrap());
        let other = s.iface_code(false, IF_OTHER).unwrap();
        assert!(s.is_empty(&s.and(&eth, &other).unwrap()));
        // `eth7` is not mentioned, but `eth+` covers it: the prefix family has its own code.
        assert!(
            !s.is_empty(
                &s.diff(
                    &eth,
                    &s.or(&eth0, &s.iface(false, "eth1").unwrap()).unwrap()
                )
                .unwrap()
            )
        );
        let none = s.iface_code(false, IF_NONE).unwrap();
        assert!(s.is_empty(&s.and(&eth, &none).unwrap()));
    }
}
