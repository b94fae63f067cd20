//! Slicing the packet space so that each part meets only the rules that can match in it.
//!
//! Evaluating a ruleset over the whole packet space carries one set of undecided packets from
//! rule to rule; after thousands of rules that set is a large diagram, and every rule pays a
//! conjunction and a difference against it (bench/README.md, "Audit at scale"). But the
//! evaluation is *pointwise*: what happens to a packet depends on that packet alone. So the
//! space can be cut into disjoint boxes and each box evaluated on its own, with the same
//! engine, meeting only the rules whose match can hold inside it; the results of the boxes
//! are the results of the whole, restricted to each box. No box misses a packet (the boxes
//! partition the space) and no rule that could match in a box is skipped (a rule is skipped only
//! when a conservative bounding box of what it can match misses the box).
//!
//! The boxes are the leaves of a k-d tree over the four header fields no rule ever changes —
//! family, source and destination address and destination port (ICMP type/code) — split where
//! the rules' and openings' bounds divide them best (as packet classifiers like HiCuts cut the
//! header space). A rule's bounds come from its match expression ([`hull`]): exact where the
//! match is a conjunction of prefixes and ranges, the whole field otherwise (negations, unknown
//! parts). Destination NAT makes later destination matches unknown for the rewritten packets
//! (and source NAT later source matches); bounds that assume no rewritten packet ([`Rw`]) are
//! used only until the evaluation of a box has rewritten one.
//!
//! Hand-written: no crate builds such a partition over our rule model (packet-classification
//! crates classify packets, they do not partition a space for set evaluation).

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};

use crate::addr::AddrSet;
use crate::audit::model::{Families, Match, Prim, Ruleset};
use crate::packet::{Field, R, Set, Space};
use crate::portset::PortSet;

/// A closed interval of a field's values.
pub type Iv = (u128, u128);

/// Field dimensions of a box.
const DIMS: usize = 3;
const SRC: usize = 0;
const DST: usize = 1;
const DPORT: usize = 2;

/// A box within one address family: source, destination, destination port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bx(pub [Iv; DIMS]);

fn addr_max(v6: bool) -> u128 {
    if v6 { u128::MAX } else { u128::from(u32::MAX) }
}

impl Bx {
    /// Every packet of the family.
    pub fn full(v6: bool) -> Bx {
        let a = (0, addr_max(v6));
        Bx([a, a, (0, 0xffff)])
    }

    fn meet(&self, o: &Bx) -> Option<Bx> {
        let mut out = *self;
        for d in 0..DIMS {
            let lo = self.0[d].0.max(o.0[d].0);
            let hi = self.0[d].1.min(o.0[d].1);
            if lo > hi {
                return None;
            }
            out.0[d] = (lo, hi);
        }
        Some(out)
    }

    fn hull(&self, o: &Bx) -> Bx {
        let mut out = *self;
        for d in 0..DIMS {
            out.0[d] = (self.0[d].0.min(o.0[d].0), self.0[d].1.max(o.0[d].1));
        }
        out
    }

    /// Whether the two boxes share a point.
    pub fn overlaps(&self, o: &Bx) -> bool {
        (0..DIMS).all(|d| self.0[d].0 <= o.0[d].1 && o.0[d].0 <= self.0[d].1)
    }
}

/// Bounds of a match per family (`None`: it matches no packet of that family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hull {
    /// IPv4.
    pub v4: Option<Bx>,
    /// IPv6.
    pub v6: Option<Bx>,
}

impl Hull {
    fn full() -> Hull {
        Hull {
            v4: Some(Bx::full(false)),
            v6: Some(Bx::full(true)),
        }
    }

    fn empty() -> Hull {
        Hull { v4: None, v6: None }
    }

    fn map(self, f: impl Fn(bool, Bx) -> Option<Bx>) -> Hull {
        Hull {
            v4: self.v4.and_then(|b| f(false, b)),
            v6: self.v6.and_then(|b| f(true, b)),
        }
    }

    fn meet(self, o: Hull) -> Hull {
        let m = |a: Option<Bx>, b: Option<Bx>| a.zip(b).and_then(|(a, b)| a.meet(&b));
        Hull {
            v4: m(self.v4, o.v4),
            v6: m(self.v6, o.v6),
        }
    }

    fn join(self, o: Hull) -> Hull {
        let j = |a: Option<Bx>, b: Option<Bx>| match (a, b) {
            (Some(a), Some(b)) => Some(a.hull(&b)),
            (a, b) => a.or(b),
        };
        Hull {
            v4: j(self.v4, o.v4),
            v6: j(self.v6, o.v6),
        }
    }

    /// Its bounds in one family.
    pub fn of(&self, v6: bool) -> Option<Bx> {
        if v6 { self.v6 } else { self.v4 }
    }
}

/// Which addresses may have been rewritten by NAT in the packets being evaluated: matches on
/// them (and on the ports NAT rewrites with them) are unknown for such packets, so they bound
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rw {
    /// Source NAT happened.
    pub src: bool,
    /// Destination NAT happened.
    pub dst: bool,
}

fn nets_iv(nets: &[IpNet], v6: bool) -> Option<Iv> {
    let mut out: Option<Iv> = None;
    for n in nets {
        let iv = match (n, v6) {
            (IpNet::V4(n), false) => (
                u128::from(u32::from(n.network())),
                u128::from(u32::from(n.broadcast())),
            ),
            (IpNet::V6(n), true) => (u128::from(n.network()), u128::from(n.broadcast())),
            _ => continue,
        };
        out = Some(match out {
            Some((a, b)) => (a.min(iv.0), b.max(iv.1)),
            None => iv,
        });
    }
    out
}

fn ranges_iv(ranges: &[(u16, u16)]) -> Option<Iv> {
    let lo = ranges.iter().map(|r| r.0.min(r.1)).min()?;
    let hi = ranges.iter().map(|r| r.0.max(r.1)).max()?;
    Some((u128::from(lo), u128::from(hi)))
}

/// Bounds of the packets `m` possibly matches (its `may` set, see
/// [`crate::audit::eval::compile`]), for packets whose fields `rw` says may be rewritten.
pub fn hull(m: &Match, rw: Rw) -> Hull {
    match m {
        Match::True | Match::Unknown { .. } | Match::Not { .. } => Hull::full(),
        Match::False => Hull::empty(),
        Match::All { of } => of.iter().fold(Hull::full(), |h, p| h.meet(hull(p, rw))),
        Match::Any { of } => of.iter().fold(Hull::empty(), |h, p| h.join(hull(p, rw))),
        Match::Prim { prim } => prim_hull(prim, rw),
    }
}

fn restrict(dim: usize, iv: impl Fn(bool) -> Option<Iv>) -> Hull {
    Hull::full().map(|v6, b| {
        let i = iv(v6)?;
        let mut out = b;
        out.0[dim] = (b.0[dim].0.max(i.0), b.0[dim].1.min(i.1));
        (out.0[dim].0 <= out.0[dim].1).then_some(out)
    })
}

fn prim_hull(p: &Prim, rw: Rw) -> Hull {
    match p {
        Prim::Family { v6 } => Hull::full().map(|f, b| (f == *v6).then_some(b)),
        Prim::Src { nets } if !rw.src => restrict(SRC, |v6| nets_iv(nets, v6)),
        Prim::Dst { nets } if !rw.dst => restrict(DST, |v6| nets_iv(nets, v6)),
        Prim::DPort { ranges } if !rw.dst => restrict(DPORT, |_| ranges_iv(ranges)),
        Prim::Icmp { v6, ranges } => {
            let only = *v6;
            restrict(DPORT, |f| if f == only { ranges_iv(ranges) } else { None })
        }
        _ => Hull::full(),
    }
}

/// The family bounds of a chain.
pub fn family_hull(f: Families) -> Hull {
    let full = Hull::full();
    match f {
        Families::Both => full,
        Families::V4 => Hull {
            v4: full.v4,
            v6: None,
        },
        Families::V6 => Hull {
            v4: None,
            v6: full.v6,
        },
    }
}

/// The bounds of rule `ri` of chain `ci`.
pub fn rule_hull(rs: &Ruleset, ci: usize, ri: usize, rw: Rw) -> Hull {
    let c = &rs.chains[ci];
    hull(&c.rules[ri].matches, rw).meet(family_hull(c.families))
}

/// Every rule of the ruleset placed by its bounds (before NAT), once per family it can match.
pub fn rule_items(rs: &Ruleset) -> Vec<(Bx, bool, Tag)> {
    let mut items = Vec::new();
    for (ci, c) in rs.chains.iter().enumerate() {
        for ri in 0..c.rules.len() {
            let h = rule_hull(rs, ci, ri, Rw::default());
            for v6 in [false, true] {
                if let Some(b) = h.of(v6) {
                    items.push((b, v6, Tag::Rule(ci, ri)));
                }
            }
        }
    }
    items
}

/// The boxes of traffic from `from` to `to` on destination ports `ports` (any port when
/// `None`), per family both sides have.
pub fn flow_boxes(from: &AddrSet, to: &AddrSet, ports: Option<&PortSet>) -> Vec<(Bx, bool)> {
    let ports = ports.and_then(|p| {
        p.ranges()
            .map(|r| (u128::from(*r.start()), u128::from(*r.end())))
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    });
    [false, true]
        .into_iter()
        .filter_map(|v6| {
            let (f, t) = (addr_iv(from, v6)?, addr_iv(to, v6)?);
            Some((bx(v6, Some(f), Some(t), ports), v6))
        })
        .collect()
}

/// What a leaf's packets can meet.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// IPv6 (else IPv4).
    pub v6: bool,
    /// Its box.
    pub bx: Bx,
    /// Rules whose bounds meet the box, as (chain, rule), sorted.
    pub rules: Vec<(usize, usize)>,
    /// Items other than rules (openings, checks) whose bounds meet the box, sorted.
    pub items: Vec<usize>,
}

impl Leaf {
    /// The candidate rules of chain `ci` from rule `start` on.
    pub fn rules_of(&self, ci: usize, start: usize) -> impl Iterator<Item = usize> + '_ {
        let from = self.rules.partition_point(|r| *r < (ci, start));
        self.rules[from..]
            .iter()
            .take_while(move |r| r.0 == ci)
            .map(|r| r.1)
    }

    /// The box as a set of packets.
    pub fn set(&self, s: &Space) -> R<Set> {
        let fam = s.family(self.v6)?;
        let src = addr_range(s, Field::Src, self.v6, self.bx.0[SRC])?;
        let dst = addr_range(s, Field::Dst, self.v6, self.bx.0[DST])?;
        let (lo, hi) = self.bx.0[DPORT];
        let port = s.range(Field::DPort, lo as u32, hi as u32)?;
        s.and(&s.and(&fam, &port)?, &s.and(&src, &dst)?)
    }
}

/// Packets of family `v6` whose address field `f` is in `iv`.
fn addr_range(s: &Space, f: Field, v6: bool, iv: Iv) -> R<Set> {
    if iv == (0, addr_max(v6)) {
        return Ok(s.top());
    }
    let mut out = s.none();
    if v6 {
        for n in Ipv6Subnets::new(Ipv6Addr::from(iv.0), Ipv6Addr::from(iv.1), 0) {
            out = s.or(&out, &s.net(f, &IpNet::V6(n))?)?;
        }
    } else {
        for n in Ipv4Subnets::new(Ipv4Addr::from(iv.0 as u32), Ipv4Addr::from(iv.1 as u32), 0) {
            out = s.or(&out, &s.net(f, &IpNet::V4(n))?)?;
        }
    }
    Ok(out)
}

/// Bounds of a set of addresses in one family (`None` when it has none of that family).
pub fn addr_iv(a: &AddrSet, v6: bool) -> Option<Iv> {
    if v6 {
        Some((a.v6.first()?, a.v6.last()?))
    } else {
        Some((u128::from(a.v4.first()?), u128::from(a.v4.last()?)))
    }
}

/// A box from optional bounds per dimension (`None`: the whole field).
pub fn bx(v6: bool, src: Option<Iv>, dst: Option<Iv>, dport: Option<Iv>) -> Bx {
    let f = Bx::full(v6);
    Bx([
        src.unwrap_or(f.0[SRC]),
        dst.unwrap_or(f.0[DST]),
        dport.unwrap_or(f.0[DPORT]),
    ])
}

/// Something to place in the leaves: a rule, or another item by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tag {
    /// Rule (chain, rule).
    Rule(usize, usize),
    /// Another item.
    Item(usize),
}

/// At most this many items in a leaf, unless no cut separates them.
pub const LEAF_ITEMS: usize = 48;
const MAX_DEPTH: usize = 64;

/// The leaves of a k-d tree over the items' bounds, both families. Every packet lies in
/// exactly one leaf; every item whose bounds contain a packet is in that packet's leaf.
pub fn leaves(items: &[(Bx, bool, Tag)], leaf_items: usize) -> Vec<Leaf> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let idx: Vec<usize> = (0..items.len()).filter(|i| items[*i].1 == v6).collect();
        let mut stack = vec![(Bx::full(v6), idx, 0usize)];
        while let Some((bx, idx, depth)) = stack.pop() {
            let cut = if idx.len() > leaf_items && depth < MAX_DEPTH {
                best_cut(items, &bx, &idx)
            } else {
                None
            };
            match cut {
                Some((d, p)) => {
                    let (mut lo, mut hi) = (bx, bx);
                    lo.0[d].1 = p - 1;
                    hi.0[d].0 = p;
                    let l: Vec<usize> = idx
                        .iter()
                        .copied()
                        .filter(|i| items[*i].0.0[d].0 < p)
                        .collect();
                    let h: Vec<usize> = idx
                        .into_iter()
                        .filter(|i| items[*i].0.0[d].1 >= p)
                        .collect();
                    // Low half on top: leaves come out in address order.
                    stack.push((hi, h, depth + 1));
                    stack.push((lo, l, depth + 1));
                }
                None => {
                    let mut rules = Vec::new();
                    let mut other = Vec::new();
                    for i in idx {
                        match items[i].2 {
                            Tag::Rule(c, r) => rules.push((c, r)),
                            Tag::Item(k) => other.push(k),
                        }
                    }
                    rules.sort_unstable();
                    rules.dedup();
                    other.sort_unstable();
                    other.dedup();
                    out.push(Leaf {
                        v6,
                        bx,
                        rules,
                        items: other,
                    });
                }
            }
        }
    }
    out
}

/// The dimension and point (the high part starts there) that best divide the items, if a cut
/// divides them well enough to pay for the items it copies to both sides.
fn best_cut(items: &[(Bx, bool, Tag)], bx: &Bx, idx: &[usize]) -> Option<(usize, u128)> {
    let n = idx.len();
    let mut best: Option<(usize, usize, usize, u128)> = None;
    for d in 0..DIMS {
        let (blo, bhi) = bx.0[d];
        let mut points: Vec<u128> = Vec::with_capacity(2 * n);
        for i in idx {
            let (lo, hi) = items[*i].0.0[d];
            if lo > blo {
                points.push(lo);
            }
            if hi < bhi {
                points.push(hi + 1);
            }
        }
        if points.is_empty() {
            continue;
        }
        let mid = points.len() / 2;
        let (_, p, _) = points.select_nth_unstable(mid);
        let p = *p;
        let (mut l, mut h) = (0, 0);
        for i in idx {
            let (lo, hi) = items[*i].0.0[d];
            l += usize::from(lo < p);
            h += usize::from(hi >= p);
        }
        // A cut must pay for the items it copies to both sides: each side at most three
        // quarters of the items, both together at most one and a half times as many.
        let worst = l.max(h);
        if 4 * worst > 3 * n || 2 * (l + h) > 3 * n {
            continue;
        }
        let better = match best {
            None => true,
            Some((w, t, _, _)) => (worst, l + h) < (w, t),
        };
        if better {
            best = Some((worst, l + h, d, p));
        }
    }
    best.map(|(_, _, d, p)| (d, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> u128 {
        u128::from(u32::from(Ipv4Addr::from(a)))
    }

    #[test]
    fn a_conjunction_is_bounded_by_each_part_and_a_negation_by_nothing() {
        let m = Match::all(vec![
            Match::prim(Prim::Dst {
                nets: vec!["10.1.2.0/24".parse().expect("net")],
            }),
            Match::prim(Prim::DPort {
                ranges: vec![(443, 443), (80, 80)],
            }),
        ]);
        let h = hull(&m, Rw::default());
        let b = h.v4.expect("v4");
        assert_eq!(b.0[DST], (v4([10, 1, 2, 0]), v4([10, 1, 2, 255])));
        assert_eq!(b.0[DPORT], (80, 443));
        assert_eq!(b.0[SRC], (0, u128::from(u32::MAX)));
        assert!(h.v6.is_none(), "an IPv4 prefix matches no IPv6 packet");
        // After destination NAT the destination bounds nothing.
        let r = hull(
            &m,
            Rw {
                src: false,
                dst: true,
            },
        );
        assert_eq!(r, Hull::full());
        assert_eq!(hull(&m.clone().negate(), Rw::default()), Hull::full());
    }

    #[test]
    fn the_leaves_partition_the_space_and_hold_every_item_that_meets_them() {
        let mut items = Vec::new();
        for i in 0..500u32 {
            let d = v4([10, (i / 200) as u8, (i % 200) as u8, 1]);
            let port = u128::from(1000 + (i % 37));
            items.push((
                bx(false, None, Some((d, d)), Some((port, port))),
                false,
                Tag::Rule(0, i as usize),
            ));
        }
        items.push((Bx::full(false), false, Tag::Rule(1, 0)));
        let ls = leaves(&items, 16);
        assert!(ls.len() > 10, "{} leaves", ls.len());
        // Every item is in exactly the leaves it overlaps.
        for (b, _, t) in &items {
            for l in &ls {
                let Tag::Rule(c, r) = t else { continue };
                assert_eq!(!l.v6 && l.bx.overlaps(b), l.rules.contains(&(*c, *r)));
            }
        }
        // The v4 leaves tile the space: their sizes add up.
        let total: f64 = ls
            .iter()
            .filter(|l| !l.v6)
            .map(|l| {
                l.bx.0
                    .iter()
                    .map(|(a, b)| (b - a + 1) as f64)
                    .product::<f64>()
            })
            .sum();
        let full = Bx::full(false);
        let want: f64 = full.0.iter().map(|(a, b)| (b - a + 1) as f64).product();
        assert!((total - want).abs() / want < 1e-9);
        for (i, a) in ls.iter().enumerate() {
            for b in &ls[i + 1..] {
                assert!(a.v6 != b.v6 || !a.bx.overlaps(&b.bx), "leaves overlap");
            }
        }
    }
}
