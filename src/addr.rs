//! Sets of addresses: IPv4 and IPv6 as exact range sets, plus FQDNs as opaque names.
//!
//! [`AddrSet`] is what plan openings carry on each side. Address ranges are kept exactly
//! (range-set-blaze over `u32`/`u128`), so unions, intersections and differences are exact, and
//! [`AddrSet::cidrs`] prints the *optimal* CIDR cover — the fewest prefixes that denote exactly
//! the set — which is what rule counts are measured against.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use range_set_blaze::RangeSetBlaze;
use serde::{Serialize, Serializer};

/// A set of IPv4 and IPv6 addresses and FQDNs.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AddrSet {
    /// IPv4 addresses.
    pub v4: RangeSetBlaze<u32>,
    /// IPv6 addresses.
    pub v6: RangeSetBlaze<u128>,
    /// Names resolved by the firewall or the admin (`pool.ntp.org`).
    pub fqdns: BTreeSet<String>,
}

impl AddrSet {
    /// The empty set.
    pub fn new() -> AddrSet {
        AddrSet::default()
    }

    /// Every address of both families (no FQDNs).
    pub fn everything() -> AddrSet {
        let mut s = AddrSet::new();
        s.v4.ranges_insert(0..=u32::MAX);
        s.v6.ranges_insert(0..=u128::MAX);
        s
    }

    /// The set of one network.
    pub fn net(net: IpNet) -> AddrSet {
        let mut s = AddrSet::new();
        s.insert_net(net);
        s
    }

    /// A set holding one FQDN.
    pub fn fqdn(name: &str) -> AddrSet {
        let mut s = AddrSet::new();
        s.fqdns.insert(name.to_ascii_lowercase());
        s
    }

    /// Add a network.
    pub fn insert_net(&mut self, net: IpNet) {
        match net.trunc() {
            IpNet::V4(n) => {
                self.v4
                    .ranges_insert(u32::from(n.network())..=u32::from(n.broadcast()));
            }
            IpNet::V6(n) => {
                self.v6
                    .ranges_insert(u128::from(n.network())..=u128::from(n.broadcast()));
            }
        }
    }

    /// Add an address.
    pub fn insert_ip(&mut self, ip: IpAddr) {
        self.insert_net(IpNet::from(ip));
    }

    /// Whether nothing is in it.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty() && self.fqdns.is_empty()
    }

    /// Whether it holds addresses (not only names).
    pub fn has_addresses(&self) -> bool {
        !self.v4.is_empty() || !self.v6.is_empty()
    }

    /// Union.
    pub fn union(&self, o: &AddrSet) -> AddrSet {
        AddrSet {
            v4: &self.v4 | &o.v4,
            v6: &self.v6 | &o.v6,
            fqdns: self.fqdns.union(&o.fqdns).cloned().collect(),
        }
    }

    /// Add everything of `o`.
    pub fn extend(&mut self, o: &AddrSet) {
        self.v4 |= &o.v4;
        self.v6 |= &o.v6;
        self.fqdns.extend(o.fqdns.iter().cloned());
    }

    /// Intersection.
    pub fn intersection(&self, o: &AddrSet) -> AddrSet {
        AddrSet {
            v4: &self.v4 & &o.v4,
            v6: &self.v6 & &o.v6,
            fqdns: self.fqdns.intersection(&o.fqdns).cloned().collect(),
        }
    }

    /// Difference.
    pub fn difference(&self, o: &AddrSet) -> AddrSet {
        AddrSet {
            v4: &self.v4 - &o.v4,
            v6: &self.v6 - &o.v6,
            fqdns: self.fqdns.difference(&o.fqdns).cloned().collect(),
        }
    }

    /// Whether every member of `o` is in `self`.
    pub fn is_superset(&self, o: &AddrSet) -> bool {
        o.v4.is_subset(&self.v4) && o.v6.is_subset(&self.v6) && o.fqdns.is_subset(&self.fqdns)
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    /// Only the IPv4 part.
    pub fn only_v4(&self) -> AddrSet {
        AddrSet {
            v4: self.v4.clone(),
            ..AddrSet::new()
        }
    }

    /// Only the IPv6 part.
    pub fn only_v6(&self) -> AddrSet {
        AddrSet {
            v6: self.v6.clone(),
            ..AddrSet::new()
        }
    }

    /// Only the names.
    pub fn only_fqdns(&self) -> AddrSet {
        AddrSet {
            fqdns: self.fqdns.clone(),
            ..AddrSet::new()
        }
    }

    /// The optimal CIDR cover of the addresses, IPv4 first, each family in address order.
    pub fn nets(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for r in self.v4.ranges() {
            out.extend(
                Ipv4Net::aggregate(&v4_cover(*r.start(), *r.end()))
                    .into_iter()
                    .map(IpNet::V4),
            );
        }
        for r in self.v6.ranges() {
            out.extend(v6_cover(*r.start(), *r.end()).into_iter().map(IpNet::V6));
        }
        out
    }

    /// CIDR strings (`10.0.0.0/8`, a host as `10.0.0.1/32`) followed by FQDNs.
    pub fn cidrs(&self) -> Vec<String> {
        let mut out: Vec<String> = self.nets().iter().map(|n| n.to_string()).collect();
        out.extend(self.fqdns.iter().cloned());
        out
    }

    /// How many prefixes + names it takes to write the set.
    pub fn cidr_count(&self) -> usize {
        self.v4
            .ranges()
            .map(|r| v4_cover(*r.start(), *r.end()).len())
            .sum::<usize>()
            + self
                .v6
                .ranges()
                .map(|r| v6_cover(*r.start(), *r.end()).len())
                .sum::<usize>()
            + self.fqdns.len()
    }

    /// A representative address (the lowest), for witnesses and examples.
    pub fn first_ip(&self) -> Option<IpAddr> {
        self.v4
            .first()
            .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
            .or_else(|| self.v6.first().map(|a| IpAddr::V6(Ipv6Addr::from(a))))
    }
}

/// The fewest prefixes covering exactly `lo..=hi` (IPv4).
fn v4_cover(lo: u32, hi: u32) -> Vec<Ipv4Net> {
    cover(u128::from(lo), u128::from(hi), 32)
        .into_iter()
        .filter_map(|(a, len)| Ipv4Net::new(Ipv4Addr::from(a as u32), len).ok())
        .collect()
}

/// The fewest prefixes covering exactly `lo..=hi` (IPv6).
fn v6_cover(lo: u128, hi: u128) -> Vec<Ipv6Net> {
    cover(lo, hi, 128)
        .into_iter()
        .filter_map(|(a, len)| Ipv6Net::new(Ipv6Addr::from(a), len).ok())
        .collect()
}

/// Greedy largest-aligned-block decomposition: optimal for a single range.
fn cover(lo: u128, hi: u128, bits: u8) -> Vec<(u128, u8)> {
    let mut out = Vec::new();
    let mut cur = lo;
    loop {
        // Largest block size 2^k with cur aligned to it and cur + 2^k - 1 <= hi.
        let align = if cur == 0 {
            u32::from(bits)
        } else {
            cur.trailing_zeros().min(u32::from(bits))
        };
        let mut k = align;
        while k > 0 {
            let size_minus_1 = if k >= 128 {
                u128::MAX
            } else {
                (1u128 << k) - 1
            };
            if cur.checked_add(size_minus_1).is_some_and(|end| end <= hi) {
                break;
            }
            k -= 1;
        }
        out.push((cur, bits - k as u8));
        let size_minus_1 = if k >= 128 {
            u128::MAX
        } else {
            (1u128 << k) - 1
        };
        let end = cur + size_minus_1;
        if end >= hi {
            break;
        }
        cur = end + 1;
    }
    out
}

impl fmt::Debug for AddrSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddrSet{:?}", self.cidrs())
    }
}

impl Serialize for AddrSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.cidrs().serialize(s)
    }
}

/// A fingerprint, not the whole set: sizes and extreme ranges. Equal sets hash equally, and
/// `Eq` stays exact, so hash maps keyed by address sets are correct while hashing a
/// 10,000-range set costs the same as hashing one.
impl std::hash::Hash for AddrSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.v4.ranges_len().hash(state);
        self.v4.first().hash(state);
        self.v4.last().hash(state);
        self.v6.ranges_len().hash(state);
        self.v6.first().hash(state);
        self.v6.last().hash(state);
        self.fqdns.len().hash(state);
        self.fqdns.first().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(items: &[&str]) -> AddrSet {
        let mut s = AddrSet::new();
        for i in items {
            s.insert_net(i.parse().unwrap());
        }
        s
    }

    #[test]
    fn adjacent_networks_aggregate() {
        assert_eq!(
            set(&["10.0.0.0/25", "10.0.0.128/25"]).cidrs(),
            ["10.0.0.0/24"]
        );
        assert_eq!(
            set(&["10.0.0.1/32", "10.0.0.2/32"]).cidrs(),
            ["10.0.0.1/32", "10.0.0.2/32"]
        );
        assert_eq!(set(&["10.0.0.5/24"]).cidrs(), ["10.0.0.0/24"]);
        assert_eq!(set(&["0.0.0.0/0"]).cidrs(), ["0.0.0.0/0"]);
        assert_eq!(set(&["::/0"]).cidrs(), ["::/0"]);
        assert_eq!(
            set(&["2001:db8::/33", "2001:db8:8000::/33"]).cidrs(),
            ["2001:db8::/32"]
        );
    }

    #[test]
    fn internet_is_the_complement() {
        let internal = set(&["10.20.0.0/16", "10.10.0.0/24"]);
        let inet = AddrSet::everything().difference(&internal);
        assert!(!inet.contains("10.20.1.1".parse().unwrap()));
        assert!(inet.contains("8.8.8.8".parse().unwrap()));
        assert!(inet.contains("10.10.1.1".parse().unwrap()));
        assert_eq!(inet.cidrs().iter().filter(|c| c.contains(':')).count(), 1);
    }

    proptest! {
        #[test]
        fn cover_is_exact_and_no_larger_than_naive(lo: u32, w in 0u32..5000) {
            let hi = lo.saturating_add(w);
            let nets = v4_cover(lo, hi);
            let mut back = RangeSetBlaze::<u32>::new();
            for n in &nets {
                back.ranges_insert(u32::from(n.network())..=u32::from(n.broadcast()));
            }
            prop_assert_eq!(back, RangeSetBlaze::from_iter([lo..=hi]));
            // Optimal: no two prefixes could merge into one.
            prop_assert_eq!(Ipv4Net::aggregate(&nets).len(), nets.len());
        }
    }
}
