//! Render: from a plan's openings at one enforcement point to real firewall configuration.
//!
//! [`lower`] turns a [`PointPlan`] into a [`RuleSet`] — the typed rule IR every renderer
//! consumes: one [`Rule`] per opening, address family and (on a network firewall) pair of
//! sides, with
//! - each side as [`Addrs`]: `Any`, `Nets` (an object [`Group`] of the rule set, shared by every
//!   rule with the same networks) or `Except` (every address but a group's: the internet is
//!   "not the site's zones", group `site`, one negated match instead of its complement);
//! - on a host firewall, the local side always restricted to the opening's members (a rule for
//!   one member names it; a rule for all of them names them all, so a host's other addresses,
//!   a second interface or a container bridge, are not opened either);
//! - on a network firewall with `interfaces`, the interfaces each side faces (`iif`, `oif`);
//! - merged port ranges and the requirement ids for the comment.
//!
//! Renderers never look at the plan and never build rules from strings. [`render`] takes
//! [`Options`] (mode replace or merge, where to merge, or the removal of what a mode added);
//! each target declares its [`Capabilities`], and anything the IR holds that the target cannot
//! express is returned as an *unexpressed* [`Note`] (the CLI then refuses to write the file
//! unless `--allow-partial`), never silently dropped. FQDN endpoints are the usual case: packet
//! filters match addresses, not names.

pub mod cisco;
pub mod firewalld;
pub mod ident;
pub mod iptables;
pub mod nftables;
pub mod windows;

use std::collections::{BTreeSet, HashMap};

use ipnet::IpNet;
use serde::Serialize;

use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::i18n::{Lang, Text};
use crate::plan::{Direction, Opening, PointPlan};
use crate::site::{EnforcementPoint, INTERNET, PointKind, Site, Target};
use crate::tr;

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// Both, IPv4 first.
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];

    fn part(self, set: &AddrSet) -> AddrSet {
        match self {
            Family::V4 => set.only_v4(),
            Family::V6 => set.only_v6(),
        }
    }

    fn universe(self) -> AddrSet {
        self.part(&AddrSet::everything())
    }

    /// The family's `/0`.
    pub fn all(self) -> IpNet {
        match self {
            Family::V4 => "0.0.0.0/0".parse().expect("valid"),
            Family::V6 => "::/0".parse().expect("valid"),
        }
    }
}

/// One side of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Addrs {
    /// Every address of the family.
    Any,
    /// These networks (optimal cover, sorted).
    Nets(Vec<IpNet>),
    /// Every address of the family except these (a negated match).
    Except(Vec<IpNet>),
}

impl Addrs {
    /// The networks it matches, written out (`Except` as its complement; `Any` as `/0`).
    pub fn nets(&self, family: Family) -> Vec<IpNet> {
        match self {
            Addrs::Any => vec![family.all()],
            Addrs::Nets(n) => n.clone(),
            Addrs::Except(n) => {
                let mut s = AddrSet::new();
                for x in n {
                    s.insert_net(*x);
                }
                family.universe().difference(&s).nets()
            }
        }
    }

    /// Whether `ip` matches.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        match self {
            Addrs::Any => true,
            Addrs::Nets(n) => n.iter().any(|x| x.contains(&ip)),
            Addrs::Except(n) => !n.iter().any(|x| x.contains(&ip)),
        }
    }
}

/// A named set of networks of one family, shared by the rules that match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Its name in the rule set (`site`, `clients`, `devicelock.console`, `site-v6`): any
    /// script; each target turns it into a valid identifier ([`ident`]).
    pub name: String,
    /// Family.
    pub family: Family,
    /// Networks (optimal cover, sorted).
    pub nets: Vec<IpNet>,
    /// What it is, for a comment.
    pub what: Text,
}

/// One permit rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Number within the rule set, from 1 (`r1`), stable for a given plan.
    pub n: usize,
    /// Direction at the enforcement point.
    pub direction: Direction,
    /// Address family.
    pub family: Family,
    /// Protocol.
    pub protocol: Protocol,
    /// Sources (on a host firewall's outbound rule: the local side).
    pub src: Addrs,
    /// Destinations (on a host firewall's inbound rule: the local side).
    pub dst: Addrs,
    /// The group `src` names (`Nets` or `Except`).
    pub src_group: Option<String>,
    /// The group `dst` names.
    pub dst_group: Option<String>,
    /// Network firewall: the side the sources are on (index into [`RuleSet::sides`]).
    pub from_side: Option<usize>,
    /// Network firewall: the side the destinations are on.
    pub to_side: Option<usize>,
    /// Interfaces the packets come in by (empty: the site does not say).
    pub iif: Vec<String>,
    /// Interfaces the packets leave by.
    pub oif: Vec<String>,
    /// Destination port ranges, sorted, disjoint, not touching.
    pub ports: Vec<(u16, u16)>,
    /// `product/requirement` ids.
    pub requirements: Vec<String>,
    /// `doc#row` of each requirement.
    pub sources: Vec<String>,
    /// `product.role` of sources and destinations, for descriptions.
    pub roles: (Vec<String>, Vec<String>),
    /// Service names the catalogs give for the requirements, for the comment line; filled by
    /// [`name_services`], empty when no catalog names one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Text>,
    /// What the requirements are for (the catalogs' purposes), for the comment line; filled
    /// by [`name_services`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<Text>,
    /// The vendor documents behind the rule, one per document, by title and row
    /// (`「title」表 5, 6 行目 <url>`), for the comment lines; filled by [`cite_sources`],
    /// empty when the catalogs were not at hand (then the lines give `doc#row`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Text>,
}

/// Fill each rule's [`Rule::citations`] from the catalogs: the vendor rows of `sources`
/// grouped per document, named by the document's title (and URL) instead of its file name,
/// so an admin reading the firewall file can follow them. A reference no catalog of the
/// rule's products knows is kept as it is.
pub fn cite_sources(rules: &mut RuleSet, cats: &crate::catalog::Catalogs) {
    for r in &mut rules.rules {
        let products: Vec<&str> = r
            .requirements
            .iter()
            .map(|q| q.split_once('/').map_or(q.as_str(), |(p, _)| p))
            .collect();
        // (document, rows) in first-use order.
        let mut docs: Vec<(String, Vec<String>)> = Vec::new();
        for src in &r.sources {
            let (doc, row) = src.rsplit_once('#').unwrap_or((src.as_str(), ""));
            match docs.iter_mut().find(|(d, _)| d == doc) {
                Some((_, rows)) => {
                    if !row.is_empty() && !rows.iter().any(|x| x == row) {
                        rows.push(row.to_string());
                    }
                }
                None => docs.push((
                    doc.to_string(),
                    [row]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .map(|x| x.to_string())
                        .collect(),
                )),
            }
        }
        r.citations = docs
            .into_iter()
            .map(|(doc, rows)| {
                let found = products.iter().find_map(|p| cats.source_doc(p, &doc));
                let Some(d) = found else {
                    let refs: Vec<String> = if rows.is_empty() {
                        vec![doc.clone()]
                    } else {
                        rows.iter().map(|x| format!("{doc}#{x}")).collect()
                    };
                    let refs = refs.join(", ");
                    return Text::new(refs.clone(), refs);
                };
                let url = d
                    .url
                    .as_ref()
                    .map(|u| format!(" <{u}>"))
                    .unwrap_or_default();
                let list = rows.join(", ");
                let (en_rows, ja_rows) = match rows.len() {
                    0 => (String::new(), String::new()),
                    1 => (format!(" row {list}"), format!("表 {list} 行目")),
                    _ => (format!(" rows {list}"), format!("表 {list} 行目")),
                };
                Text::new(
                    one_line(&format!("\"{}\"{en_rows}{url}", d.title.en)),
                    one_line(&format!("「{}」{ja_rows}{url}", d.title.ja)),
                )
            })
            .collect();
    }
}

/// Fill each rule's service names and purposes from the plan's flows (the catalogs'
/// `service:` and `purpose:`).
pub fn name_services(rules: &mut RuleSet, flows: &[crate::plan::SiteFlow]) {
    for r in &mut rules.rules {
        for id in &r.requirements {
            if let Some(s) = flows
                .iter()
                .find(|f| f.service.is_some() && &f.qualified() == id)
                .and_then(|f| f.service.as_ref())
                && !r.services.contains(s)
            {
                r.services.push(s.clone());
            }
            if let Some(f) = flows.iter().find(|f| &f.qualified() == id)
                && !f.purpose.en.is_empty()
                && !r.purposes.contains(&f.purpose)
            {
                r.purposes.push(f.purpose.clone());
            }
        }
    }
}

impl Rule {
    /// The comment every target writes: `portplan r3: devicelock/smb devicelock/service-port`.
    pub fn comment(&self) -> String {
        one_line(&format!(
            "portplan r{}: {}",
            self.n,
            self.requirements.join(" ")
        ))
    }

    /// The vendor rows behind the rule, for a comment line: `doc#5, doc#6`, then the services
    /// the catalogs name (`doc#1 [VMware heartbeat]`), in `lang`.
    pub fn sources_text(&self, lang: Lang) -> String {
        if self.services.is_empty() {
            one_line(&self.sources.join(", "))
        } else {
            let services: Vec<&str> = self.services.iter().map(|s| s.get(lang)).collect();
            one_line(&format!(
                "{} [{}]",
                self.sources.join(", "),
                services.join(", ")
            ))
        }
    }

    /// The vendor documents by title ([`Rule::citations`]) joined by `; `, or
    /// [`Rule::sources_text`] when they are not named.
    pub fn citations_text(&self, lang: Lang) -> String {
        if self.citations.is_empty() {
            return self.sources_text(lang);
        }
        let c: Vec<&str> = self.citations.iter().map(|c| c.get(lang)).collect();
        one_line(&c.join("; "))
    }

    /// The lines that describe the rule above it in a file (without comment markers), in
    /// `lang`: `r3: ` and what it is for (one line per purpose the catalogs give), then the
    /// vendor rows. Comment lines have no length limit, so nothing is cut: the rule's own
    /// comment, which the firewall stores and limits, stays the ASCII [`Rule::comment`].
    pub fn note_lines(&self, lang: Lang) -> Vec<String> {
        if !self.citations.is_empty() {
            return self.cited_note_lines(lang);
        }
        let rows = lang.pick("vendor rows", "出典 (ベンダー資料の行)");
        let sources = self.sources_text(lang);
        let mut v = Vec::new();
        for (i, p) in self.purposes.iter().enumerate() {
            let head = if i == 0 {
                format!("r{}: ", self.n)
            } else {
                " ".repeat(format!("r{}: ", self.n).len())
            };
            v.push(one_line(&format!("{head}{}", p.get(lang).trim())));
        }
        if v.is_empty() {
            v.push(format!("r{}: {rows}: {sources}", self.n));
        } else {
            let pad = " ".repeat(format!("r{}: ", self.n).len());
            v.push(format!("{pad}{rows}: {sources}"));
        }
        v
    }

    /// [`Rule::note_lines`] when the vendor documents are named ([`cite_sources`]): the
    /// purposes, then `出典: 「title」表 5, 6 行目` with one line per document, then the
    /// services the catalogs name.
    fn cited_note_lines(&self, lang: Lang) -> Vec<String> {
        let head = format!("r{}: ", self.n);
        let pad = " ".repeat(head.len());
        let mut v: Vec<String> = self
            .purposes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let h = if i == 0 { &head } else { &pad };
                one_line(&format!("{h}{}", p.get(lang).trim()))
            })
            .collect();
        let label = lang.pick("source: ", "出典: ");
        for c in &self.citations {
            let h = if v.is_empty() { &head } else { &pad };
            v.push(format!("{h}{label}{}", c.get(lang)));
        }
        if !self.services.is_empty() {
            let services: Vec<&str> = self.services.iter().map(|s| s.get(lang)).collect();
            let label = lang.pick("services: ", "サービス: ");
            v.push(one_line(&format!("{pad}{label}{}", services.join(", "))));
        }
        v
    }

    /// The comment cut to `max` bytes on a character boundary (nft allows 128).
    pub fn comment_max(&self, max: usize) -> String {
        cut_bytes(&self.comment(), max)
    }

    /// Ports as `445,9132-9133`.
    pub fn ports_text(&self, range_sep: &str) -> String {
        self.ports
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}{range_sep}{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The local side of a host firewall's rule (`dst` inbound, `src` outbound).
    pub fn local(&self) -> &Addrs {
        if self.direction == Direction::Out {
            &self.src
        } else {
            &self.dst
        }
    }

    /// The remote side of a host firewall's rule.
    pub fn remote(&self) -> &Addrs {
        if self.direction == Direction::Out {
            &self.dst
        } else {
            &self.src
        }
    }

    /// Whether the rule permits this packet (addresses, protocol, destination port; the
    /// interfaces are the site's, so they hold for the packets the plan describes).
    pub fn permits(
        &self,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
        protocol: Protocol,
        port: u16,
    ) -> bool {
        self.protocol == protocol
            && (src.is_ipv4() == (self.family == Family::V4))
            && self.src.contains(src)
            && self.dst.contains(dst)
            && self.ports.iter().any(|(a, b)| (*a..=*b).contains(&port))
    }
}

/// Something in the plan the target cannot express, or should be told.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// Rule or opening it concerns (`r3`), if any.
    pub rule: Option<String>,
    /// What.
    pub message: Text,
    /// Part of the plan is not in the output: the CLI refuses to write it unless the user
    /// accepts a partial rendering.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unexpressed: bool,
}

impl Note {
    /// Something the admin should know.
    pub fn info(message: Text) -> Note {
        Note {
            rule: None,
            message,
            unexpressed: false,
        }
    }

    /// Something of the plan the output does not do.
    pub fn lost(message: Text) -> Note {
        Note {
            rule: None,
            message,
            unexpressed: true,
        }
    }
}

/// The rules of one enforcement point.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSet {
    /// Site name.
    pub site: String,
    /// Enforcement point id.
    pub point: String,
    /// `network` or `host`.
    pub kind: &'static str,
    /// For a network firewall: each side's zones, networks and interfaces.
    pub sides: Vec<Side>,
    /// The named address groups the rules refer to, in first-use order.
    pub groups: Vec<Group>,
    /// Permit rules, in plan order.
    pub rules: Vec<Rule>,
    /// What could not be lowered (FQDN endpoints); these are unexpressed on every target.
    pub notes: Vec<Note>,
}

impl RuleSet {
    /// The group named `name` (linear: for many lookups, [`RuleSet::group_index`]).
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The groups by name.
    pub fn group_index(&self) -> HashMap<&str, &Group> {
        self.groups.iter().map(|g| (g.name.as_str(), g)).collect()
    }
}

/// A side of a network firewall.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Zone ids.
    pub zones: Vec<String>,
    /// IPv4 networks of those zones.
    pub v4: Vec<IpNet>,
    /// The interfaces facing these zones (empty when the site does not say).
    pub interfaces: Vec<String>,
}

/// What a target can express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// IPv6 rules.
    pub ipv6: bool,
    /// Port ranges in one rule.
    pub port_ranges: bool,
    /// Several addresses in one rule (sets, groups, lists).
    pub address_groups: bool,
    /// Stateful return traffic (connection tracking).
    pub stateful: bool,
    /// Host firewalls (input/output).
    pub host: bool,
    /// Network (forwarding) firewalls.
    pub network: bool,
    /// Outbound filtering on hosts.
    pub outbound: bool,
}

/// How a file meets the firewall it is loaded into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The file owns what it writes (a table, the filter table, whole ACLs) and replaces it.
    Replace,
    /// The file adds portplan's rules next to whatever exists, plus the one hook-up that sends
    /// traffic to them.
    Merge,
}

impl Mode {
    /// The default for a point: merge for network firewalls, replace for host firewalls.
    pub fn default_for(kind: &PointKind) -> Mode {
        match kind {
            PointKind::Network { .. } => Mode::Merge,
            PointKind::Host { .. } => Mode::Replace,
        }
    }

    /// `replace` / `merge`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Replace => "replace",
            Mode::Merge => "merge",
        }
    }
}

/// Where a merge goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Into {
    /// nftables: an existing table and its base chain(s) (forward; or input then output).
    Nft {
        /// `inet`, `ip` or `ip6`.
        family: String,
        /// Table name.
        table: String,
        /// Base chains.
        chains: Vec<String>,
    },
    /// iptables: the chain(s) that jump to portplan's (FORWARD; or INPUT then OUTPUT).
    Chains(Vec<String>),
    /// firewalld: the zone.
    Zone(String),
}

/// One ACL a Cisco merge adds entries to: for the side holding zone `side` (or every side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// A zone or interface of the side; `None`: every side.
    pub side: Option<String>,
    /// The ACL's name on the router.
    pub name: String,
}

/// How to render.
#[derive(Debug, Clone)]
pub struct Options {
    /// Replace or merge.
    pub mode: Mode,
    /// Write what takes the mode's rules out again, instead of the rules.
    pub remove: bool,
    /// Merge: where (`None`: the target's usual place, e.g. `inet filter forward`).
    pub into: Option<Into>,
    /// Cisco merge: the existing ACLs.
    pub acls: Vec<Acl>,
    /// Cisco merge: the first sequence number.
    pub seq: u32,
    /// The language of the comments in the files (configuration itself is the target's).
    pub lang: Lang,
}

impl Options {
    /// Options for a mode, everything else default.
    pub fn mode(mode: Mode) -> Options {
        Options {
            mode,
            remove: false,
            into: None,
            acls: vec![],
            seq: 1,
            lang: Lang::En,
        }
    }
}

/// A rendered configuration.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Files: (suffix appended to `-o FILE`, empty for the main file; content).
    pub files: Vec<(String, String)>,
    /// What the admin must know; those `unexpressed` are parts of the plan the files lack.
    pub notes: Vec<Note>,
}

impl Rendered {
    /// The notes on what the output does not do.
    pub fn unexpressed(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(|n| n.unexpressed)
    }
}

/// Hands out group names: a readable base, made unique.
#[derive(Default)]
struct Groups {
    list: Vec<Group>,
    by_content: HashMap<(Family, Vec<IpNet>), usize>,
    names: std::collections::HashSet<String>,
}

impl Groups {
    fn known(&self, family: Family, nets: &[IpNet]) -> Option<String> {
        self.by_content
            .get(&(family, nets.to_vec()))
            .map(|&i| self.list[i].name.clone())
    }

    fn name(&mut self, family: Family, nets: Vec<IpNet>, base: &str, what: Text) -> String {
        if let Some(&i) = self.by_content.get(&(family, nets.clone())) {
            return self.list[i].name.clone();
        }
        let base = match family {
            Family::V4 => base.to_string(),
            Family::V6 => format!("{base}-v6"),
        };
        let mut name = base.clone();
        let mut k = 2;
        while self.names.contains(&name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        self.by_content
            .insert((family, nets.clone()), self.list.len());
        self.list.push(Group {
            name: name.clone(),
            family,
            nets,
            what,
        });
        name
    }
}

/// Lowering context: the site's internet per family, each zone's part per family.
struct Lower {
    internet: [AddrSet; 2],
    zones: Vec<(String, [AddrSet; 2])>,
    groups: Groups,
}

impl Lower {
    /// The rule side for `set` (one family, not empty); `roles` name the group.
    fn addrs(
        &mut self,
        family: Family,
        set: &AddrSet,
        roles: &BTreeSet<String>,
    ) -> (Addrs, Option<String>) {
        let fi = family as usize;
        if *set == family.universe() {
            return (Addrs::Any, None);
        }
        let inet = &self.internet[fi];
        if inet.has_addresses() && set.is_superset(inet) {
            let rest = family.universe().difference(set);
            let nets = rest.nets();
            if let Some(name) = self.groups.known(family, &nets) {
                return (Addrs::Except(nets), Some(name));
            }
            let site_group = family.universe().difference(inet);
            let (base, what) = if rest == site_group {
                (
                    "site".to_string(),
                    Text::new(
                        "the site's zones and the special-purpose ranges no zone claims: every address that is not the internet",
                        "サイトのゾーンと、どのゾーンにも属さない特殊用途アドレス: インターネット以外のすべてのアドレス",
                    ),
                )
            } else {
                (
                    format!("not-{}", self.label(family, &rest, roles)),
                    Text::new("every address but these", "これら以外のすべてのアドレス"),
                )
            };
            let name = self.groups.name(family, nets.clone(), &base, what);
            return (Addrs::Except(nets), Some(name));
        }
        let nets = set.nets();
        if let Some(name) = self.groups.known(family, &nets) {
            return (Addrs::Nets(nets), Some(name));
        }
        let base = self.label(family, set, roles);
        let what = if roles.is_empty() {
            Text::new(base.clone(), base.clone())
        } else {
            let r = roles.iter().cloned().collect::<Vec<_>>().join(", ");
            Text::new(r.clone(), r)
        };
        let name = self.groups.name(family, nets.clone(), &base, what);
        (Addrs::Nets(nets), Some(name))
    }

    /// A readable base name: the zone the set is exactly, else its roles.
    fn label(&self, family: Family, set: &AddrSet, roles: &BTreeSet<String>) -> String {
        if let Some((id, _)) = self
            .zones
            .iter()
            .find(|(_, parts)| parts[family as usize] == *set)
        {
            return id.clone();
        }
        if roles.is_empty() {
            "addresses".into()
        } else {
            roles.iter().cloned().collect::<Vec<_>>().join("-")
        }
    }
}

/// Lower one point's openings into the rule IR.
pub fn lower(site: &Site, point: &EnforcementPoint, plan: &PointPlan) -> RuleSet {
    let inet = site
        .zone(INTERNET)
        .map(|z| z.set.clone())
        .unwrap_or_default();
    let mut cx = Lower {
        internet: [inet.only_v4(), inet.only_v6()],
        zones: site
            .zones
            .iter()
            .filter(|z| z.id != INTERNET)
            .map(|z| (z.id.clone(), [z.set.only_v4(), z.set.only_v6()]))
            .collect(),
        groups: Groups::default(),
    };
    let mut rules = Vec::new();
    let mut notes = Vec::new();
    let (side_sets, faces): (Vec<AddrSet>, Vec<(String, Vec<String>)>) = match &point.kind {
        PointKind::Network { sides, interfaces } => (
            sides.iter().map(|s| site.zones_set(s)).collect(),
            interfaces.clone(),
        ),
        PointKind::Host { .. } => (vec![], vec![]),
    };
    // The interfaces facing the zones `set` touches.
    let ifaces = |set: &AddrSet| -> Vec<String> {
        let zones = site.zones_of(set);
        let mut v: Vec<String> = faces
            .iter()
            .filter(|(_, zs)| zs.iter().any(|z| zones.contains(z)))
            .map(|(i, _)| i.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    for o in &plan.openings {
        let requirements = o.requirements();
        let mut sources: Vec<String> = o.provenance.iter().map(|p| p.source.clone()).collect();
        sources.dedup();
        let roles: (Vec<String>, Vec<String>) = (
            o.from_roles.iter().cloned().collect(),
            o.to_roles.iter().cloned().collect(),
        );
        let mut push = |cx: &mut Lower,
                        family: Family,
                        src: &AddrSet,
                        dst: &AddrSet,
                        sides: Option<(usize, usize)>| {
            let (src_a, src_group) = cx.addrs(family, src, &o.from_roles);
            let (dst_a, dst_group) = cx.addrs(family, dst, &o.to_roles);
            let (iif, oif) = if sides.is_some() {
                (ifaces(src), ifaces(dst))
            } else {
                (vec![], vec![])
            };
            rules.push(Rule {
                n: rules.len() + 1,
                direction: o.direction,
                family,
                protocol: o.protocol,
                src: src_a,
                dst: dst_a,
                src_group,
                dst_group,
                from_side: sides.map(|s| s.0),
                to_side: sides.map(|s| s.1),
                iif,
                oif,
                ports: o.ports.ranges().map(|r| (*r.start(), *r.end())).collect(),
                requirements: requirements.clone(),
                sources: sources.clone(),
                roles: roles.clone(),
                services: Vec::new(),
                purposes: Vec::new(),
                citations: Vec::new(),
            });
        };
        for family in Family::BOTH {
            let (from, to) = (family.part(&o.from), family.part(&o.to));
            if from.is_empty() || to.is_empty() {
                continue;
            }
            match &point.kind {
                PointKind::Network { .. } => {
                    // One rule per pair of sides, so each knows its interfaces (and ACL).
                    for (i, si) in side_sets.iter().enumerate() {
                        let src = from.intersection(si);
                        if src.is_empty() {
                            continue;
                        }
                        for (j, sj) in side_sets.iter().enumerate() {
                            let dst = to.intersection(sj);
                            if i == j || dst.is_empty() {
                                continue;
                            }
                            push(&mut cx, family, &src, &dst, Some((i, j)));
                        }
                    }
                }
                // The plan cut the local side to the members already.
                PointKind::Host { .. } => push(&mut cx, family, &from, &to, None),
            }
        }
        if let Some(n) = fqdn_note(o, &requirements) {
            notes.push(n);
        }
    }
    let sides = match &point.kind {
        PointKind::Network { sides, interfaces } => sides
            .iter()
            .map(|zs| Side {
                zones: zs.clone(),
                v4: site.zones_set(zs).only_v4().nets(),
                interfaces: interfaces
                    .iter()
                    .filter(|(_, z)| z.iter().any(|z| zs.contains(z)))
                    .map(|(i, _)| i.clone())
                    .collect(),
            })
            .collect(),
        PointKind::Host { .. } => vec![],
    };
    RuleSet {
        site: site.name.clone(),
        point: point.id.clone(),
        kind: point.kind_name(),
        sides,
        groups: cx.groups.list,
        rules,
        notes,
    }
}

fn fqdn_note(o: &Opening, requirements: &[String]) -> Option<Note> {
    let names: BTreeSet<&String> = o.from.fqdns.iter().chain(&o.to.fqdns).collect();
    if names.is_empty() {
        return None;
    }
    let names = names.into_iter().cloned().collect::<Vec<_>>().join(", ");
    let (proto, ports, reqs) = (o.protocol, o.ports.to_string(), requirements.join(" "));
    Some(Note::lost(tr!(
        "not rendered: {proto}/{ports} to or from {names} ({reqs}) — packet filters match addresses, not names; map the role to the addresses the name resolves to, or allow it on a proxy",
        "未出力: {names} との {proto}/{ports} ({reqs}) — パケットフィルタは名前ではなくアドレスで照合します。名前が解決されるアドレスをロールに割り当てるか、プロキシで許可してください"
    )))
}

/// Render a rule set for `target`.
pub fn render(rs: &RuleSet, target: Target, opts: &Options) -> Rendered {
    let caps = capabilities(target);
    let mut notes = if opts.remove {
        vec![]
    } else {
        rs.notes.clone()
    };
    let fits = if rs.kind == "network" {
        caps.network
    } else {
        caps.host
    };
    if !fits && !opts.remove {
        let (t, k) = (target.as_str(), rs.kind);
        notes.push(Note::lost(tr!(
            "target {t} cannot express a {k} firewall; what it writes is a best effort",
            "出力先 {t} は {k} ファイアウォールを表現できません。出力は参考程度です"
        )));
    }
    let rs = &RuleSet {
        notes: notes.clone(),
        ..rs.clone()
    };
    let mut out = match target {
        Target::Nftables => nftables::render(rs, opts),
        Target::Iptables => iptables::render(rs, opts),
        Target::Windows => windows::render(rs, opts),
        Target::CiscoIos => cisco::render(rs, opts),
        Target::Firewalld => firewalld::render(rs, opts),
    };
    notes.append(&mut out.notes);
    out.notes = notes;
    out
}

/// What `target` supports.
pub fn capabilities(target: Target) -> Capabilities {
    match target {
        Target::Nftables | Target::Iptables => Capabilities {
            ipv6: true,
            port_ranges: true,
            address_groups: true,
            stateful: true,
            host: true,
            network: true,
            outbound: true,
        },
        Target::Windows => Capabilities {
            ipv6: true,
            port_ranges: true,
            address_groups: true,
            stateful: true,
            host: true,
            network: false,
            outbound: true,
        },
        Target::CiscoIos => Capabilities {
            ipv6: false,
            port_ranges: true,
            address_groups: true,
            stateful: false,
            host: false,
            network: true,
            outbound: false,
        },
        Target::Firewalld => Capabilities {
            ipv6: true,
            port_ranges: true,
            address_groups: true,
            stateful: true,
            host: true,
            network: false,
            outbound: true,
        },
    }
}

/// The header every output starts with (without comment markers): what generated it, what
/// loading it does to an existing firewall (`effect`, in plain words), the rule set's notes and
/// the target's own (`more`).
pub fn header_lines(
    rs: &RuleSet,
    target: Target,
    opts: &Options,
    effect: &[String],
    more: &[Note],
) -> Vec<String> {
    let lang = opts.lang;
    let (version, site, point, kind, t, mode) = (
        env!("CARGO_PKG_VERSION"),
        one_line(&rs.site),
        one_line(&rs.point),
        rs.kind,
        target.as_str(),
        opts.mode.as_str(),
    );
    let mut v = vec![match (lang, opts.remove) {
        (Lang::En, false) => format!(
            "generated by portplan {version} for site {site}, enforcement point {point} ({kind}, {t}), mode {mode}"
        ),
        (Lang::En, true) => format!(
            "generated by portplan {version} for site {site}, enforcement point {point} ({kind}, {t}), removal of what --mode {mode} added"
        ),
        (Lang::Ja, false) => format!(
            "portplan {version} が生成: サイト {site}、適用ポイント {point} ({}, {t})、モード {mode}",
            kind_ja(kind)
        ),
        (Lang::Ja, true) => format!(
            "portplan {version} が生成: サイト {site}、適用ポイント {point} ({}, {t})、--mode {mode} で追加したものの削除",
            kind_ja(kind)
        ),
    }];
    v.push(String::new());
    v.push(
        lang.pick(
            "WHAT THIS FILE DOES TO THE FIREWALL:",
            "このファイルがファイアウォールに行うこと:",
        )
        .into(),
    );
    v.extend(effect.iter().map(|l| format!("  {l}")));
    if !opts.remove {
        v.push(String::new());
        v.push(lang.pick(
            "Every rule's comment names the requirements behind it: `portplan explain SITE REQUIREMENT`.",
            "各ルールのコメントは根拠となる要件を示します (詳細は `portplan explain SITE REQUIREMENT`)。",
        ).into());
    }
    for n in rs.notes.iter().chain(more) {
        let tag = match (n.unexpressed, lang) {
            (true, Lang::En) => "INCOMPLETE",
            (false, Lang::En) => "NOTE",
            (true, Lang::Ja) => "未出力あり",
            (false, Lang::Ja) => "注意",
        };
        v.push(format!("{tag}: {}", n.message.get(lang)));
    }
    v.into_iter().map(|l| one_line(&l)).collect()
}

/// `network` / `host` in Japanese, for comments.
pub fn kind_ja(kind: &str) -> &'static str {
    if kind == "network" {
        "ネットワーク FW"
    } else {
        "ホスト FW"
    }
}

/// `s` cut to at most `max` bytes, on a character boundary, with `...` when cut: for the
/// comments a firewall stores (nft 128 bytes, iptables 256), where Japanese takes 3 bytes a
/// character and a cut inside one would leave invalid UTF-8 the tools reject.
pub fn cut_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// `s` on one line: control characters (a newline in an id would start a new line of
/// configuration) become `?`.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
