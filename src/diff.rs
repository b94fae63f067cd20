//! `portplan diff`: what to add and what to remove at each enforcement point when a site
//! changes (options, endpoints, firewalls).
//!
//! The difference is exact at the packet level: `added = new − old` per (direction, protocol),
//! computed by box subtraction over (sources × destinations × ports) and then minimised like a
//! plan. So an opening that was merely regrouped (same packets, different shape) is no change,
//! and an opening that grew shows only its growth.

use serde::Serialize;

use crate::plan::{Opening, Plan, SiteFlow, minimise};
use crate::site::Target;

/// The changes at one enforcement point.
#[derive(Debug, Clone, Serialize)]
pub struct PointChanges {
    /// Id.
    pub id: String,
    /// Render target (of the new site, or the old one when the point was removed).
    pub target: Target,
    /// Openings to add.
    pub add: Vec<Opening>,
    /// Openings to remove.
    pub remove: Vec<Opening>,
}

/// `a − b` for two openings of the same direction and protocol, as disjoint boxes.
fn subtract_one(a: &Opening, b: &Opening) -> Vec<Opening> {
    if a.direction != b.direction || a.protocol != b.protocol {
        return vec![a.clone()];
    }
    let from_in = a.from.intersection(&b.from);
    let to_in = a.to.intersection(&b.to);
    let ports_in = a.ports_intersection(&b.ports);
    if from_in.is_empty() || to_in.is_empty() || ports_in.is_empty() {
        return vec![a.clone()];
    }
    let mut out = Vec::new();
    let mut piece = |from, to, ports| {
        let mut o = a.clone();
        o.from = from;
        o.to = to;
        o.ports = ports;
        if !o.from.is_empty() && !o.to.is_empty() && !o.ports.is_empty() {
            o.trim_provenance();
            out.push(o);
        }
    };
    piece(a.from.difference(&b.from), a.to.clone(), a.ports.clone());
    piece(from_in.clone(), a.to.difference(&b.to), a.ports.clone());
    piece(from_in, to_in, a.ports.difference(&b.ports));
    out
}

/// Everything `a` permits that no opening of `b` permits.
pub fn subtract(a: &[Opening], b: &[Opening]) -> Vec<Opening> {
    let mut rest: Vec<Opening> = a.to_vec();
    for o in b {
        rest = rest.iter().flat_map(|r| subtract_one(r, o)).collect();
        if rest.is_empty() {
            break;
        }
    }
    minimise(rest)
}

/// Keep only the provenance whose requirement has a flow that carries some packet of `o`.
fn exact_provenance(mut o: Opening, flows: &[SiteFlow]) -> Opening {
    o.provenance.retain(|p| {
        flows.iter().any(|f| {
            f.qualified() == p.requirement
                && f.protocol == o.protocol
                && !f.ports.intersection(&o.ports).is_empty()
                && !f.from.intersection(&o.from).is_empty()
                && !f.to.intersection(&o.to).is_empty()
        })
    });
    o
}

/// Changes from `old` to `new`, per enforcement point (points of either plan), skipping
/// points without changes.
pub fn diff(old: &Plan, new: &Plan) -> Vec<PointChanges> {
    let mut ids: Vec<&str> = new
        .enforcement_points
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    for p in &old.enforcement_points {
        if !ids.contains(&p.id.as_str()) {
            ids.push(&p.id);
        }
    }
    let mut out = Vec::new();
    for id in ids {
        let (o, n) = (old.point(id), new.point(id));
        let empty = Vec::new();
        let old_ops = o.map_or(&empty, |p| &p.openings);
        let new_ops = n.map_or(&empty, |p| &p.openings);
        let add: Vec<Opening> = subtract(new_ops, old_ops)
            .into_iter()
            .map(|o| exact_provenance(o, &new.flows))
            .collect();
        let remove: Vec<Opening> = subtract(old_ops, new_ops)
            .into_iter()
            .map(|o| exact_provenance(o, &old.flows))
            .collect();
        if add.is_empty() && remove.is_empty() {
            continue;
        }
        let target = n.or(o).map(|p| p.target).unwrap_or(Target::Nftables);
        out.push(PointChanges {
            id: id.to_string(),
            target,
            add,
            remove,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::addr::AddrSet;
    use crate::catalog::Protocol;
    use crate::plan::{Direction, Provenance};
    use crate::portset::PortSet;

    fn op(from: &str, to: &str, ports: &str) -> Opening {
        let set = |s: &str| AddrSet::net(s.parse().unwrap());
        Opening {
            direction: Direction::Forward,
            from: set(from),
            to: set(to),
            protocol: Protocol::Tcp,
            ports: PortSet::parse(ports).unwrap(),
            from_roles: BTreeSet::new(),
            to_roles: BTreeSet::new(),
            provenance: vec![Provenance {
                requirement: "r".into(),
                because: vec![],
                source: String::new(),
                ports: PortSet::parse(ports).unwrap(),
            }],
        }
    }

    #[test]
    fn growth_shows_only_the_growth() {
        let old = [op("10.0.0.0/24", "10.1.0.1/32", "445")];
        let new = [op("10.0.0.0/23", "10.1.0.1/32", "445,9132")];
        let add = subtract(&new, &old);
        let text: Vec<_> = add
            .iter()
            .map(|o| format!("{:?} {}", o.from.cidrs(), o.ports))
            .collect();
        assert_eq!(
            text,
            ["[\"10.0.1.0/24\"] 445,9132", "[\"10.0.0.0/24\"] 9132"]
        );
        assert!(subtract(&old, &new).is_empty());
    }

    #[test]
    fn regrouping_is_no_change() {
        let old = [
            op("10.0.0.0/32", "10.1.0.1/32", "445"),
            op("10.0.0.1/32", "10.1.0.1/32", "445"),
        ];
        let new = [op("10.0.0.0/31", "10.1.0.1/32", "445")];
        assert!(subtract(&new, &old).is_empty());
        assert!(subtract(&old, &new).is_empty());
        let shifted = [
            op("10.0.0.1/32", "10.1.0.1/32", "445"),
            op("10.0.0.2/32", "10.1.0.1/32", "445"),
        ];
        let add = subtract(&new, &shifted);
        assert_eq!(add.len(), 1);
        assert_eq!(add[0].from.cidrs(), ["10.0.0.0/32"]);
        let rem = subtract(&shifted, &new);
        assert_eq!(rem[0].from.cidrs(), ["10.0.0.2/32"]);
    }
}
