//! The plan: the minimal concrete openings of a site, per enforcement point, each traced to the
//! requirements, conditions and vendor rows that need it.
//!
//! Built in three steps:
//! 1. **Address-level flows** ([`SiteFlow`]): every role-level flow of every deployed product
//!    ([`crate::flows`]) with its roles replaced by the site's endpoints.
//! 2. **Openings per enforcement point**: a network firewall gets the part of each flow whose
//!    source lies on one side and destination on another (per address family); a host firewall
//!    gets the part whose destination is a member (`in`) and whose source is a member (`out`).
//! 3. **Minimisation** ([`minimise`]): merge port sets of equal (from, to), merge sources of equal
//!    (to, ports), merge destinations of equal (from, ports), until nothing changes; then fold
//!    any opening covered by another into it. Every step is an exact set identity, so the
//!    plan permits exactly the union of the flows' packets at each point — no more, no less —
//!    and every opening keeps the provenance of everything folded into it.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use serde::Serialize;

use crate::addr::AddrSet;
use crate::catalog::{Catalogs, Protocol};
use crate::flows::{self, ActiveFinding, ProductOptions};
use crate::i18n::Text;
use crate::portset::PortSet;
use crate::site::{PointKind, Site, Target};

/// One role-level flow with its roles resolved to the site's addresses.
#[derive(Debug, Clone, Serialize)]
pub struct SiteFlow {
    /// Product id.
    pub product: String,
    /// Requirement id (unqualified).
    pub requirement: String,
    /// Initiating role.
    pub from_role: String,
    /// Accepting role.
    pub to_role: String,
    /// Source addresses.
    pub from: AddrSet,
    /// Destination addresses.
    pub to: AddrSet,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination ports.
    pub ports: PortSet,
    /// Conditions that held.
    pub because: Vec<String>,
    /// `doc#row`.
    pub source: String,
    /// What for.
    pub purpose: Text,
    /// The service's name, when the catalog gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Text>,
}

impl SiteFlow {
    /// `product/requirement`.
    pub fn qualified(&self) -> String {
        format!("{}/{}", self.product, self.requirement)
    }
}

/// Ports a catalog says must stay closed, on the site's addresses.
#[derive(Debug, Clone, Serialize)]
pub struct SiteClosed {
    /// Product id.
    pub product: String,
    /// Id of the catalog's closed entry (unqualified).
    pub requirement: String,
    /// Source role; `None`: every source.
    pub from_role: Option<String>,
    /// The role whose ports must stay closed.
    pub to_role: String,
    /// Source addresses (every address when from anywhere).
    pub from: AddrSet,
    /// Destination addresses.
    pub to: AddrSet,
    /// Protocol.
    pub protocol: Protocol,
    /// The ports.
    pub ports: PortSet,
    /// Conditions that held.
    pub because: Vec<String>,
    /// `doc#row`.
    pub source: String,
    /// What the port is for.
    pub purpose: Text,
}

impl SiteClosed {
    /// `product/id`.
    pub fn qualified(&self) -> String {
        format!("{}/{}", self.product, self.requirement)
    }
}

/// Packets one enforcement point must not accept because a catalog says the port stays closed
/// (the vendor: "internal only, do not open"). Required openings take precedence: a packet that
/// an opening of the same point permits is required, whatever this says.
#[derive(Debug, Clone, Serialize)]
pub struct MustStayClosed {
    /// `forward`, `in` or `out`.
    pub direction: Direction,
    /// Source addresses.
    pub from: AddrSet,
    /// Destination addresses.
    pub to: AddrSet,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination ports.
    pub ports: PortSet,
    /// `product.role` of the sources (empty: from anywhere).
    pub from_roles: BTreeSet<String>,
    /// `product.role` of the destinations.
    pub to_roles: BTreeSet<String>,
    /// `product/id` of the catalog's closed entry.
    pub requirement: String,
    /// Conditions that held.
    pub because: Vec<String>,
    /// `doc#row`.
    pub source: String,
    /// What the port is for: the reason to give when a ruleset accepts it.
    pub purpose: Text,
}

/// Which way an opening faces at its enforcement point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Through a network firewall.
    Forward,
    /// Into a host (host firewall).
    In,
    /// Out of a host (host firewall).
    Out,
}

/// Why an opening exists: one requirement, the conditions that held, the vendor row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// `product/requirement`.
    pub requirement: String,
    /// Conditions that held.
    pub because: Vec<String>,
    /// `doc#row`.
    pub source: String,
    /// The ports this requirement contributes to the opening.
    pub ports: PortSet,
}

/// A concrete opening at one enforcement point.
#[derive(Debug, Clone, Serialize)]
pub struct Opening {
    /// `forward`, `in` or `out`.
    pub direction: Direction,
    /// Source addresses.
    pub from: AddrSet,
    /// Destination addresses.
    pub to: AddrSet,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination ports.
    pub ports: PortSet,
    /// `product.role` of the sources.
    pub from_roles: BTreeSet<String>,
    /// `product.role` of the destinations.
    pub to_roles: BTreeSet<String>,
    /// Everything that needs it.
    pub provenance: Vec<Provenance>,
}

impl Opening {
    /// `product/requirement` ids, sorted.
    pub fn requirements(&self) -> Vec<String> {
        let s: BTreeSet<&str> = self
            .provenance
            .iter()
            .map(|p| p.requirement.as_str())
            .collect();
        s.into_iter().map(String::from).collect()
    }

    /// Whether the opening permits this packet.
    pub fn permits(
        &self,
        from: std::net::IpAddr,
        to: std::net::IpAddr,
        protocol: Protocol,
        port: u16,
    ) -> bool {
        self.protocol == protocol
            && self.ports.contains(port)
            && self.from.contains(from)
            && self.to.contains(to)
    }

    /// Ports in both this opening and `ports`.
    pub fn ports_intersection(&self, ports: &PortSet) -> PortSet {
        self.ports.intersection(ports)
    }

    /// Take in the roles and provenance of `others` (one entry per requirement, source and
    /// conditions), in one pass with an index: an opening of 20,000 requirements must not be
    /// quadratic.
    fn absorb_all(&mut self, others: Vec<Opening>) {
        if others.is_empty() {
            return;
        }
        type Key = (String, String, Vec<String>);
        let key = |p: &Provenance| -> Key {
            (p.requirement.clone(), p.source.clone(), p.because.clone())
        };
        let mut index: HashMap<Key, usize> = self
            .provenance
            .iter()
            .enumerate()
            .map(|(i, p)| (key(p), i))
            .collect();
        for other in others {
            self.from_roles.extend(other.from_roles);
            self.to_roles.extend(other.to_roles);
            for p in other.provenance {
                let k = key(&p);
                match index.get(&k) {
                    Some(&i) => self.provenance[i].ports.extend(&p.ports),
                    None => {
                        index.insert(k, self.provenance.len());
                        self.provenance.push(p);
                    }
                }
            }
        }
    }

    /// Record that `p` needs (part of) this opening; one entry per requirement, source and
    /// conditions: ports of one requirement that depend on different conditions keep separate
    /// entries, so each port's provenance names only its own conditions.
    pub fn add_provenance(&mut self, p: Provenance) {
        match self.provenance.iter_mut().find(|x| {
            x.requirement == p.requirement && x.source == p.source && x.because == p.because
        }) {
            Some(x) => x.ports.extend(&p.ports),
            None => self.provenance.push(p),
        }
    }

    /// Keep only the provenance that explains some of this opening's ports.
    pub fn trim_provenance(&mut self) {
        let ports = self.ports.clone();
        self.provenance.retain_mut(|p| {
            p.ports = p.ports.intersection(&ports);
            !p.ports.is_empty()
        });
    }
}

/// The openings of one enforcement point.
#[derive(Debug, Clone, Serialize)]
pub struct PointPlan {
    /// Id.
    pub id: String,
    /// `network` or `host`.
    pub kind: &'static str,
    /// Render target.
    pub target: Target,
    /// Openings, minimal.
    pub openings: Vec<Opening>,
    /// What the catalogs say must stay closed here (absent from JSON when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub must_stay_closed: Vec<MustStayClosed>,
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Site name.
    pub site: String,
    /// Products and their options.
    pub products: Vec<ProductOptions>,
    /// Address-level flows (what `probe` tests and `explain` reads).
    pub flows: Vec<SiteFlow>,
    /// Per enforcement point.
    pub enforcement_points: Vec<PointPlan>,
    /// Risk advice of the active requirements.
    pub findings: Vec<ActiveFinding>,
    /// Site warnings.
    pub warnings: Vec<Text>,
    /// Address-level ports the catalogs say must stay closed (`listen`/`probe` check them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<SiteClosed>,
}

impl Plan {
    /// The plan of enforcement point `id`.
    pub fn point(&self, id: &str) -> Option<&PointPlan> {
        self.enforcement_points.iter().find(|p| p.id == id)
    }
}

/// Compute the plan of a site.
pub fn plan(site: &Site, catalogs: &Catalogs) -> Plan {
    let deps = site.deployments(catalogs);
    let report = flows::ports_report(&deps);
    let mut site_flows = Vec::new();
    for f in &report.flows {
        let Some(p) = site.products.iter().find(|p| p.product == f.product) else {
            continue;
        };
        let (Some(from), Some(to)) = (p.roles.get(&f.from), p.roles.get(&f.to)) else {
            continue;
        };
        site_flows.push(SiteFlow {
            product: f.product.clone(),
            requirement: f.requirement.clone(),
            from_role: f.from.clone(),
            to_role: f.to.clone(),
            from: from.clone(),
            to: to.clone(),
            protocol: f.protocol,
            ports: f.ports.clone(),
            because: f.because.clone(),
            source: f.source.clone(),
            purpose: f.purpose.clone(),
            service: f.service.clone(),
        });
    }
    let mut site_closed = Vec::new();
    for c in &report.closed {
        let Some(p) = site.products.iter().find(|p| p.product == c.product) else {
            continue;
        };
        let Some(to) = p.roles.get(&c.to) else {
            continue;
        };
        let from = match &c.from {
            None => AddrSet::everything(),
            Some(r) => match p.roles.get(r) {
                Some(set) => set.clone(),
                None => continue,
            },
        };
        site_closed.push(SiteClosed {
            product: c.product.clone(),
            requirement: c.requirement.clone(),
            from_role: c.from.clone(),
            to_role: c.to.clone(),
            from,
            to: to.clone(),
            protocol: c.protocol,
            ports: c.ports.clone(),
            because: c.because.clone(),
            source: c.source.clone(),
            purpose: c.purpose.clone(),
        });
    }
    let points = site
        .points
        .iter()
        .map(|pt| {
            let mut cut = Cut::new(site, &pt.kind);
            let mut raw = Vec::new();
            for f in &site_flows {
                raw.extend(openings_at(&mut cut, f));
            }
            let openings = minimise(raw);
            let mut closed: Vec<MustStayClosed> = Vec::new();
            for c in &site_closed {
                closed.extend(closed_at(&mut cut, c, &openings));
            }
            PointPlan {
                id: pt.id.clone(),
                kind: pt.kind_name(),
                target: pt.target,
                openings,
                must_stay_closed: closed,
            }
        })
        .collect();
    Plan {
        site: site.name.clone(),
        products: report.products,
        flows: site_flows,
        enforcement_points: points,
        findings: report.findings,
        warnings: site.warnings.clone(),
        closed: site_closed,
    }
}

/// The part of a closed entry that crosses one enforcement point, cut as a flow would be,
/// minus what the point's `openings` permit (a required opening wins over a closed entry).
fn closed_at(cut: &mut Cut<'_>, c: &SiteClosed, openings: &[Opening]) -> Vec<MustStayClosed> {
    // The cut of a flow with the same sides; "every source" is a role of its own for the memo.
    let as_flow = SiteFlow {
        product: c.product.clone(),
        requirement: c.requirement.clone(),
        from_role: c.from_role.clone().unwrap_or_else(|| "*".into()),
        to_role: c.to_role.clone(),
        from: c.from.clone(),
        to: c.to.clone(),
        protocol: c.protocol,
        ports: c.ports.clone(),
        because: c.because.clone(),
        source: c.source.clone(),
        purpose: c.purpose.clone(),
        service: None,
    };
    openings_at(cut, &as_flow)
        .into_iter()
        .flat_map(|o| crate::diff::subtract(&[o], openings))
        .map(|o| MustStayClosed {
            direction: o.direction,
            from: o.from,
            to: o.to,
            protocol: o.protocol,
            ports: o.ports,
            from_roles: match &c.from_role {
                Some(_) => o.from_roles,
                None => BTreeSet::new(),
            },
            to_roles: o.to_roles,
            requirement: c.qualified(),
            because: c.because.clone(),
            source: c.source.clone(),
            purpose: c.purpose.clone(),
        })
        .collect()
}

/// One check that an enforcement point keeps a port closed: a catalog's `closed:` entry cut
/// at the point, minus what the point's openings permit. What `audit` tests a ruleset
/// against: if the ruleset accepts any packet of `from` × `to` × `protocol` × `ports` in
/// `direction`, it is in excess for the reason `purpose`, citing `requirement` and `source`.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedCheck {
    /// The enforcement point.
    pub point: String,
    /// `forward`, `in` or `out`.
    pub direction: Direction,
    /// Source addresses.
    pub from: AddrSet,
    /// Destination addresses.
    pub to: AddrSet,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination ports that must be refused.
    pub ports: PortSet,
    /// `product/id` of the catalog's closed entry.
    pub requirement: String,
    /// `doc#row` of the vendor's statement.
    pub source: String,
    /// What the port is for.
    pub purpose: Text,
}

impl Plan {
    /// Every packet set the catalogs say must stay closed, per enforcement point in plan order
    /// (then in catalog order): the library API for `audit`'s must-be-closed checks. Already
    /// disjoint from the point's openings, so a ruleset that implements the plan exactly
    /// refuses all of them.
    pub fn closed_checks(&self) -> Vec<ClosedCheck> {
        self.enforcement_points
            .iter()
            .flat_map(|p| {
                p.must_stay_closed.iter().map(move |c| ClosedCheck {
                    point: p.id.clone(),
                    direction: c.direction,
                    from: c.from.clone(),
                    to: c.to.clone(),
                    protocol: c.protocol,
                    ports: c.ports.clone(),
                    requirement: c.requirement.clone(),
                    source: c.source.clone(),
                    purpose: c.purpose.clone(),
                })
            })
            .collect()
    }
}

/// Pairs of (source part, destination part) that can talk: same address family, or a name on
/// either side.
fn family_pairs(from: &AddrSet, to: &AddrSet) -> Vec<(AddrSet, AddrSet)> {
    let mut out = Vec::new();
    if !from.v4.is_empty() && !to.v4.is_empty() {
        out.push((from.only_v4(), to.only_v4()));
    }
    if !from.v6.is_empty() && !to.v6.is_empty() {
        out.push((from.only_v6(), to.only_v6()));
    }
    let from_addrs = from.only_v4().union(&from.only_v6());
    let to_addrs = to.only_v4().union(&to.only_v6());
    if !to.fqdns.is_empty() && !from.is_empty() {
        out.push((from_addrs.union(&from.only_fqdns()), to.only_fqdns()));
    }
    if !from.fqdns.is_empty() && to.has_addresses() {
        out.push((from.only_fqdns(), to_addrs));
    }
    out
}

/// One enforcement point's sides (or members), with the parts of each role's addresses on
/// each side computed once: many flows share a role, and its address set may be large.
struct Cut<'k> {
    kind: &'k PointKind,
    sides: Vec<AddrSet>,
    memo: HashMap<(String, String, usize), AddrSet>,
}

impl<'k> Cut<'k> {
    fn new(site: &Site, kind: &'k PointKind) -> Cut<'k> {
        let sides = match kind {
            PointKind::Network { sides, .. } => sides.iter().map(|s| site.zones_set(s)).collect(),
            PointKind::Host { members, .. } => vec![members.clone()],
        };
        Cut {
            kind,
            sides,
            memo: HashMap::new(),
        }
    }

    /// `set` (the addresses of `product.role`) ∩ side `i`.
    fn part(&mut self, product: &str, role: &str, set: &AddrSet, i: usize) -> AddrSet {
        let key = (product.to_string(), role.to_string(), i);
        if let Some(p) = self.memo.get(&key) {
            return p.clone();
        }
        let p = set.intersection(&self.sides[i]);
        self.memo.insert(key, p.clone());
        p
    }
}

fn openings_at(cut: &mut Cut<'_>, f: &SiteFlow) -> Vec<Opening> {
    let make = |direction, from: AddrSet, to: AddrSet| Opening {
        direction,
        from,
        to,
        protocol: f.protocol,
        ports: f.ports.clone(),
        from_roles: BTreeSet::from([format!("{}.{}", f.product, f.from_role)]),
        to_roles: BTreeSet::from([format!("{}.{}", f.product, f.to_role)]),
        provenance: vec![Provenance {
            requirement: f.qualified(),
            because: f.because.clone(),
            source: f.source.clone(),
            ports: f.ports.clone(),
        }],
    };
    let mut out = Vec::new();
    match cut.kind {
        PointKind::Network { .. } => {
            let n = cut.sides.len();
            for i in 0..n {
                let src = cut.part(&f.product, &f.from_role, &f.from, i);
                if src.is_empty() {
                    continue;
                }
                for j in (0..n).filter(|j| *j != i) {
                    let dst = cut.part(&f.product, &f.to_role, &f.to, j);
                    for (s, d) in family_pairs(&src, &dst) {
                        out.push(make(Direction::Forward, s, d));
                    }
                }
            }
        }
        PointKind::Host { .. } => {
            let to_members = cut.part(&f.product, &f.to_role, &f.to, 0);
            for (s, d) in family_pairs(&f.from, &to_members) {
                out.push(make(Direction::In, s, d));
            }
            let from_members = cut.part(&f.product, &f.from_role, &f.from, 0);
            for (s, d) in family_pairs(&from_members, &f.to) {
                out.push(make(Direction::Out, s, d));
            }
        }
    }
    out
}

/// Group openings by `key`, combining each group into its first member with `combine`;
/// first-appearance order is kept.
fn group<K: Hash + Eq>(
    v: Vec<Opening>,
    key: impl Fn(&Opening) -> K,
    combine: impl Fn(&mut Opening, &Opening),
) -> Vec<Opening> {
    let mut out: Vec<Opening> = Vec::with_capacity(v.len());
    let mut absorbed: Vec<Vec<Opening>> = Vec::with_capacity(v.len());
    let mut index: HashMap<K, usize> = HashMap::new();
    for o in v {
        let k = key(&o);
        match index.get(&k) {
            Some(&i) => {
                combine(&mut out[i], &o);
                absorbed[i].push(o);
            }
            None => {
                index.insert(k, out.len());
                out.push(o);
                absorbed.push(Vec::new());
            }
        }
    }
    for (o, more) in out.iter_mut().zip(absorbed) {
        o.absorb_all(more);
    }
    out
}

/// Merge and fold openings into the minimal equivalent list (see the module docs).
pub fn minimise(v: Vec<Opening>) -> Vec<Opening> {
    let mut v = v;
    loop {
        let n = v.len();
        v = group(
            v,
            |o| (o.direction, o.protocol, o.from.clone(), o.to.clone()),
            |a, o| a.ports.extend(&o.ports),
        );
        v = group(
            v,
            |o| (o.direction, o.protocol, o.to.clone(), o.ports.clone()),
            |a, o| a.from.extend(&o.from),
        );
        v = group(
            v,
            |o| (o.direction, o.protocol, o.from.clone(), o.ports.clone()),
            |a, o| a.to.extend(&o.to),
        );
        if v.len() == n {
            break;
        }
    }
    fold_covered(v)
}

/// Cheap necessary conditions for one opening to cover another: per dimension the lowest and
/// highest value and the size, per protocol/direction group. Only pairs that pass them are
/// compared exactly, so the fold stays near-linear on real plans.
#[derive(Clone, Copy)]
struct Bounds {
    ports: (u16, u16, u32),
    from4: Option<(u32, u32, u64)>,
    from6: Option<(u128, u128, u128)>,
    to4: Option<(u32, u32, u64)>,
    to6: Option<(u128, u128, u128)>,
    names: (usize, usize),
}

fn bounds(o: &Opening) -> Bounds {
    let ports = (
        o.ports.ranges().next().map_or(0, |r| *r.start()),
        o.ports.ranges().last().map_or(0, |r| *r.end()),
        o.ports.len(),
    );
    let b4 = |s: &AddrSet| Some((s.v4.first()?, s.v4.last()?, s.v4.len()));
    let b6 = |s: &AddrSet| {
        // All of IPv6 has 2^128 addresses: saturate (this is only a necessary condition).
        let n = match s.v6.len() {
            range_set_blaze::UIntPlusOne::UInt(n) => n,
            _ => u128::MAX,
        };
        Some((s.v6.first()?, s.v6.last()?, n))
    };
    Bounds {
        ports,
        from4: b4(&o.from),
        from6: b6(&o.from),
        to4: b4(&o.to),
        to6: b6(&o.to),
        names: (o.from.fqdns.len(), o.to.fqdns.len()),
    }
}

fn within<T: PartialOrd, N: PartialOrd>(
    outer: Option<(T, T, N)>,
    inner: Option<(T, T, N)>,
) -> bool {
    match (outer, inner) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((ol, oh, on)), Some((il, ih, inn))) => ol <= il && oh >= ih && on >= inn,
    }
}

fn may_cover(b: &Bounds, a: &Bounds) -> bool {
    b.ports.0 <= a.ports.0
        && b.ports.1 >= a.ports.1
        && b.ports.2 >= a.ports.2
        && b.names.0 >= a.names.0
        && b.names.1 >= a.names.1
        && within(b.from4, a.from4)
        && within(b.from6, a.from6)
        && within(b.to4, a.to4)
        && within(b.to6, a.to6)
}

fn covers(b: &Opening, a: &Opening) -> bool {
    b.direction == a.direction
        && b.protocol == a.protocol
        && b.ports.is_superset(&a.ports)
        && b.from.is_superset(&a.from)
        && b.to.is_superset(&a.to)
}

/// Fold every opening covered by another into it (of two equal ones the first stays), keeping
/// the folded provenance on a kept opening that covers it.
fn fold_covered(v: Vec<Opening>) -> Vec<Opening> {
    let b: Vec<Bounds> = v.iter().map(bounds).collect();
    // Candidates per (direction, protocol), sorted by lowest port: a coverer starts no later.
    let mut groups: HashMap<(Direction, Protocol), Vec<usize>> = HashMap::new();
    for (i, o) in v.iter().enumerate() {
        groups.entry((o.direction, o.protocol)).or_default().push(i);
    }
    for g in groups.values_mut() {
        g.sort_by_key(|i| b[*i].ports.0);
    }
    let mut folded = vec![false; v.len()];
    for (i, o) in v.iter().enumerate() {
        let g = &groups[&(o.direction, o.protocol)];
        let upto = g.partition_point(|j| b[*j].ports.0 <= b[i].ports.0);
        for &j in &g[..upto] {
            if i == j || !may_cover(&b[j], &b[i]) || !covers(&v[j], o) {
                continue;
            }
            let equal = o.ports == v[j].ports && o.from == v[j].from && o.to == v[j].to;
            if !equal || j < i {
                folded[i] = true;
                break;
            }
        }
    }
    if !folded.iter().any(|f| *f) {
        return v;
    }
    let mut keep: Vec<Opening> = Vec::with_capacity(v.len());
    let mut gone: Vec<Opening> = Vec::new();
    for (o, f) in v.into_iter().zip(&folded) {
        if *f { gone.push(o) } else { keep.push(o) }
    }
    let mut absorbed: Vec<Vec<Opening>> = vec![Vec::new(); keep.len()];
    for f in gone {
        if let Some(i) = keep.iter().position(|k| covers(k, &f)) {
            absorbed[i].push(f);
        }
    }
    for (k, more) in keep.iter_mut().zip(absorbed) {
        k.absorb_all(more);
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portset::PortSet;

    fn op(from: &str, to: &str, ports: &str, req: &str) -> Opening {
        let set = |s: &str| {
            let mut a = AddrSet::new();
            for n in s.split(',') {
                a.insert_net(n.parse().unwrap());
            }
            a
        };
        Opening {
            direction: Direction::Forward,
            from: set(from),
            to: set(to),
            protocol: Protocol::Tcp,
            ports: PortSet::parse(ports).unwrap(),
            from_roles: BTreeSet::new(),
            to_roles: BTreeSet::new(),
            provenance: vec![Provenance {
                requirement: req.into(),
                because: vec![],
                source: String::new(),
                ports: PortSet::parse(ports).unwrap(),
            }],
        }
    }

    #[test]
    fn merges_ports_then_sources_then_folds() {
        let v = vec![
            op("10.0.0.1/32", "10.1.0.1/32", "445", "a"),
            op("10.0.0.1/32", "10.1.0.1/32", "9132", "b"),
            op("10.0.0.2/32", "10.1.0.1/32", "445,9132", "c"),
            op("10.0.0.2/32", "10.1.0.1/32", "9132", "d"),
        ];
        let m = minimise(v);
        assert_eq!(m.len(), 1, "{m:#?}");
        assert_eq!(m[0].from.cidrs(), ["10.0.0.1/32", "10.0.0.2/32"]);
        assert_eq!(m[0].ports.to_strings(), ["445", "9132"]);
        assert_eq!(m[0].requirements(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn covered_opening_is_folded_with_its_provenance() {
        let v = vec![
            op("10.0.0.0/24", "10.1.0.0/24", "1024-65535", "wide"),
            op("10.0.0.5/32", "10.1.0.7/32", "9132", "narrow"),
        ];
        let m = minimise(v);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].requirements(), ["narrow", "wide"]);
    }

    #[test]
    fn different_ports_and_sources_stay_apart() {
        let v = vec![
            op("10.0.0.1/32", "10.1.0.1/32", "445", "a"),
            op("10.0.0.2/32", "10.1.0.1/32", "9132", "b"),
        ];
        assert_eq!(minimise(v).len(), 2);
    }

    use proptest::prelude::*;

    fn small(from: u8, fw: u8, to: u8, tw: u8, plo: u16, pw: u16, udp: bool) -> Opening {
        let set = |a: u8, w: u8| {
            let mut s = AddrSet::new();
            s.v4.ranges_insert(u32::from(a)..=u32::from(a) + u32::from(w));
            s
        };
        let mut o = op("10.0.0.1/32", "10.0.0.2/32", "1", "r");
        o.from = set(from, fw);
        o.to = set(to, tw);
        o.ports = PortSet::range(plo, plo + pw);
        o.protocol = if udp { Protocol::Udp } else { Protocol::Tcp };
        o.provenance[0].requirement = format!("r{from}-{to}-{plo}");
        o
    }

    proptest! {
        #[test]
        fn minimise_keeps_exactly_the_same_packets(
            ops in proptest::collection::vec((0u8..12, 0u8..4, 0u8..12, 0u8..4, 1u16..12, 0u16..4, any::<bool>()), 1..24),
        ) {
            let before: Vec<Opening> = ops.iter().map(|&(a, b, c, d, e, f, g)| small(a, b, c, d, e, f, g)).collect();
            let after = minimise(before.clone());
            prop_assert!(after.len() <= before.len());
            for src in 0u32..17 {
                for dst in 0u32..17 {
                    for port in 1u16..17 {
                        for proto in [Protocol::Tcp, Protocol::Udp] {
                            let (s, d) = (std::net::IpAddr::V4(src.into()), std::net::IpAddr::V4(dst.into()));
                            let a = before.iter().any(|o| o.permits(s, d, proto, port));
                            let b = after.iter().any(|o| o.permits(s, d, proto, port));
                            prop_assert_eq!(a, b, "{} -> {} {}/{}", s, d, proto, port);
                        }
                    }
                }
            }
            // Nothing left is covered by something else, and every requirement is still named.
            for (i, x) in after.iter().enumerate() {
                for (j, y) in after.iter().enumerate() {
                    prop_assert!(i == j || !covers(y, x));
                }
            }
            let names_before: std::collections::BTreeSet<String> = before.iter().flat_map(|o| o.requirements()).collect();
            let names_after: std::collections::BTreeSet<String> = after.iter().flat_map(|o| o.requirements()).collect();
            prop_assert_eq!(names_before, names_after);
        }
    }
}
