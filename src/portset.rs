//! Sets of TCP/UDP ports (1–65535) and the port-spec syntax.
//!
//! A port spec is what admins write: `443`, `1024-65535`, `80,443`, `9132-9133, 445`.
//! [`PortSet`] keeps ports as merged disjoint ranges (range-set-blaze), so two openings that
//! touch or overlap always print as one range: `["445", "9132-9133"]`.

use std::fmt;
use std::ops::RangeInclusive;

use range_set_blaze::RangeSetBlaze;
use serde::{Serialize, Serializer};

/// A set of ports in 1..=65535.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PortSet(RangeSetBlaze<u16>);

/// Why a port spec was rejected. Offsets are byte offsets into the spec string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSpecError {
    /// Nothing where a port was expected.
    #[error("expected a port number at offset {0}")]
    Empty(usize),
    /// Not a number.
    #[error("`{text}` is not a port number")]
    NotANumber {
        /// The offending text.
        text: String,
        /// Where it starts.
        at: usize,
    },
    /// Outside 1..=65535.
    #[error("port {value} is outside 1-65535")]
    OutOfRange {
        /// The number as written.
        value: String,
        /// Where it starts.
        at: usize,
    },
    /// `B < A` in `A-B`.
    #[error("range {lo}-{hi} is backwards")]
    Backwards {
        /// Start.
        lo: u16,
        /// End.
        hi: u16,
        /// Where it starts.
        at: usize,
    },
}

impl PortSpecError {
    /// Byte offset of the problem in the spec.
    pub fn offset(&self) -> usize {
        match self {
            PortSpecError::Empty(at) => *at,
            PortSpecError::NotANumber { at, .. }
            | PortSpecError::OutOfRange { at, .. }
            | PortSpecError::Backwards { at, .. } => *at,
        }
    }
}

/// Validate one port number.
pub fn check_port(n: u64) -> Option<u16> {
    u16::try_from(n).ok().filter(|p| *p >= 1)
}

impl PortSet {
    /// The empty set.
    pub fn new() -> PortSet {
        PortSet(RangeSetBlaze::new())
    }

    /// A set holding one port.
    pub fn single(port: u16) -> PortSet {
        PortSet::range(port, port)
    }

    /// A set holding `lo..=hi`. Port 0 is never included.
    pub fn range(lo: u16, hi: u16) -> PortSet {
        let lo = lo.max(1);
        if lo > hi {
            return PortSet::new();
        }
        PortSet(RangeSetBlaze::from_iter([lo..=hi]))
    }

    /// Every port, 1-65535.
    pub fn all() -> PortSet {
        PortSet::range(1, 65535)
    }

    /// Parse a spec such as `80`, `1024-65535` or `80, 443, 8000-8100`.
    pub fn parse(spec: &str) -> Result<PortSet, PortSpecError> {
        let mut set = PortSet::new();
        let mut offset = 0;
        for part in spec.split(',') {
            let lead = part.len() - part.trim_start().len();
            let item = part.trim();
            let at = offset + lead;
            if item.is_empty() {
                return Err(PortSpecError::Empty(at));
            }
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => {
                    let b_at = at + a.len() + 1 + (b.len() - b.trim_start().len());
                    (parse_one(a.trim_end(), at)?, parse_one(b.trim(), b_at)?)
                }
                None => {
                    let p = parse_one(item, at)?;
                    (p, p)
                }
            };
            if hi < lo {
                return Err(PortSpecError::Backwards { lo, hi, at });
            }
            set.insert_range(lo, hi);
            offset += part.len() + 1;
        }
        Ok(set)
    }

    /// Add `lo..=hi`.
    pub fn insert_range(&mut self, lo: u16, hi: u16) {
        let lo = lo.max(1);
        if lo <= hi {
            self.0.ranges_insert(lo..=hi);
        }
    }

    /// Add every port of `other`.
    pub fn extend(&mut self, other: &PortSet) {
        self.0 |= &other.0;
    }

    /// Union.
    pub fn union(&self, other: &PortSet) -> PortSet {
        PortSet(&self.0 | &other.0)
    }

    /// Intersection.
    pub fn intersection(&self, other: &PortSet) -> PortSet {
        PortSet(&self.0 & &other.0)
    }

    /// Difference.
    pub fn difference(&self, other: &PortSet) -> PortSet {
        PortSet(&self.0 - &other.0)
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.0.contains(port)
    }

    /// Whether every port of `other` is in `self`.
    pub fn is_superset(&self, other: &PortSet) -> bool {
        other.0.is_subset(&self.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of ports.
    pub fn len(&self) -> u32 {
        // At most 65535, fits.
        self.0.len()
    }

    /// The disjoint, sorted, non-touching ranges.
    pub fn ranges(&self) -> impl Iterator<Item = RangeInclusive<u16>> + '_ {
        self.0.ranges()
    }

    /// Ranges as strings: `"N"` or `"A-B"`, sorted and merged (SPEC §6.1).
    pub fn to_strings(&self) -> Vec<String> {
        self.ranges().map(|r| range_string(&r)).collect()
    }
}

/// `"N"` or `"A-B"`.
pub fn range_string(r: &RangeInclusive<u16>) -> String {
    if r.start() == r.end() {
        r.start().to_string()
    } else {
        format!("{}-{}", r.start(), r.end())
    }
}

fn parse_one(text: &str, at: usize) -> Result<u16, PortSpecError> {
    if text.is_empty() {
        return Err(PortSpecError::Empty(at));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortSpecError::NotANumber {
            text: text.to_string(),
            at,
        });
    }
    text.parse::<u64>()
        .ok()
        .and_then(check_port)
        .ok_or_else(|| PortSpecError::OutOfRange {
            value: text.to_string(),
            at,
        })
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(","))
    }
}

impl fmt::Debug for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortSet({self})")
    }
}

impl std::hash::Hash for PortSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for r in self.ranges() {
            r.hash(state);
        }
    }
}

impl Serialize for PortSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_strings().serialize(s)
    }
}

impl FromIterator<u16> for PortSet {
    fn from_iter<I: IntoIterator<Item = u16>>(iter: I) -> Self {
        let mut s = PortSet::new();
        for p in iter {
            s.insert_range(p, p);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_merges() {
        let s = PortSet::parse("9133, 445,9132").unwrap();
        assert_eq!(s.to_strings(), ["445", "9132-9133"]);
        assert_eq!(PortSet::parse("1024-65535").unwrap().len(), 64512);
        assert_eq!(
            PortSet::parse("80,81-90,85").unwrap().to_strings(),
            ["80-90"]
        );
    }

    #[test]
    fn rejects_bad_specs_with_offsets() {
        assert_eq!(
            PortSet::parse("0"),
            Err(PortSpecError::OutOfRange {
                value: "0".into(),
                at: 0
            })
        );
        assert_eq!(
            PortSet::parse("80, 65536"),
            Err(PortSpecError::OutOfRange {
                value: "65536".into(),
                at: 4
            })
        );
        assert!(matches!(
            PortSet::parse("90-80"),
            Err(PortSpecError::Backwards { .. })
        ));
        assert_eq!(PortSet::parse("80,,81"), Err(PortSpecError::Empty(3)));
        assert!(matches!(
            PortSet::parse("http"),
            Err(PortSpecError::NotANumber { .. })
        ));
        assert!(matches!(PortSet::parse("-5"), Err(PortSpecError::Empty(0))));
        assert!(matches!(
            PortSet::parse("+5"),
            Err(PortSpecError::NotANumber { .. })
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = PortSet::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_port_like_text(s in "[0-9, \\-]{0,30}") {
            if let Err(e) = PortSet::parse(&s) {
                prop_assert!(e.offset() <= s.len());
            }
        }

        #[test]
        fn display_round_trips_and_matches_naive_set(
            items in proptest::collection::vec((1u16..=65535, 0u16..200), 0..20)
        ) {
            let mut naive = std::collections::BTreeSet::new();
            let mut set = PortSet::new();
            for (lo, w) in &items {
                let hi = lo.saturating_add(*w);
                set.insert_range(*lo, hi);
                for p in *lo..=hi { naive.insert(p); }
            }
            prop_assert_eq!(set.len() as usize, naive.len());
            for p in naive.iter().take(500) { prop_assert!(set.contains(*p)); }
            if !set.is_empty() {
                let again = PortSet::parse(&set.to_string()).unwrap();
                prop_assert_eq!(&again, &set);
            }
            // Ranges are disjoint and do not touch.
            let rs: Vec<_> = set.ranges().collect();
            for w in rs.windows(2) {
                prop_assert!(u32::from(*w[0].end()) + 1 < u32::from(*w[1].start()));
            }
        }
    }
}
