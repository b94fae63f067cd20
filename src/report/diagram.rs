//! The diagram model shared by the SVG and DOT renderers: zones as boxes, the roles of the
//! reported openings as nodes inside their zones (a role spanning several zones has a node in
//! each), and one edge per (source node, destination node) with the protocol/ports of every
//! opening between them merged into one multi-line label.

use super::{Change, Report};

/// How an edge (or one line of its label) is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// Nothing to point out.
    Normal,
    /// More than [`super::WIDE_PORTS`] ports.
    Wide,
    /// Inbound from the internet zone.
    FromInternet,
}

impl EdgeKind {
    /// Stroke colour.
    pub fn color(self) -> &'static str {
        match self {
            EdgeKind::Normal => "#37474f",
            EdgeKind::Wide => "#e65100",
            EdgeKind::FromInternet => "#c62828",
        }
    }

    /// CSS class / marker suffix.
    pub fn class(self) -> &'static str {
        match self {
            EdgeKind::Normal => "normal",
            EdgeKind::Wide => "wide",
            EdgeKind::FromInternet => "internet",
        }
    }

    /// Legend text.
    pub fn legend(self, lang: crate::i18n::Lang) -> String {
        match self {
            EdgeKind::Normal => lang.pick("Opening", "開放").to_string(),
            EdgeKind::Wide => lang
                .pick(
                    &format!("Wide port range (more than {} ports)", super::WIDE_PORTS),
                    &format!("広いポート範囲 ({} ポート超)", super::WIDE_PORTS),
                )
                .to_string(),
            EdgeKind::FromInternet => lang
                .pick("Inbound from the internet", "インターネットからの受信")
                .to_string(),
        }
    }
}

/// A host (or address set) inside one zone, with every role mapped to exactly its addresses
/// there: the AD server that DeviceLock and TMWS both name is one node listing both roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `zone/product.role[+product.role…]`, unique.
    pub key: String,
    /// Zone id.
    pub zone: String,
    /// The role names, each once, in order of first appearance.
    pub roles: Vec<String>,
    /// Its addresses in the zone (CIDRs, names), empty when unknown.
    pub addrs: Vec<String>,
}

impl Node {
    /// Role names and addresses on separate lines (for DOT).
    pub fn label(&self) -> String {
        let mut lines = self.roles.clone();
        lines.extend(self.addrs.iter().cloned());
        lines.join("\n")
    }
}

/// A zone box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneBox {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// CIDRs shown under the name (at most a few).
    pub detail: Vec<String>,
    /// Its nodes, in order of first appearance.
    pub nodes: Vec<Node>,
}

/// One line of an edge label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeLine {
    /// `tcp 445,9132-9133` (with `+ ` / `- ` in change reports).
    pub text: String,
    /// Its colour.
    pub kind: EdgeKind,
}

/// All openings from one node to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Source node key.
    pub from: String,
    /// Destination node key.
    pub to: String,
    /// Label lines, unique.
    pub lines: Vec<EdgeLine>,
    /// The most severe line's kind.
    pub kind: EdgeKind,
    /// Request numbers of the openings it shows.
    pub requests: Vec<String>,
    /// The enforcement points its openings are requested on (対象FW), in report order:
    /// the firewalls the path crosses.
    pub firewalls: Vec<String>,
}

/// An enforcement point, for the legend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewall {
    /// Id.
    pub id: String,
    /// "network firewall" / "host firewall".
    pub kind_text: String,
    /// Render target.
    pub target: String,
}

/// The diagram of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagram {
    /// Title.
    pub title: String,
    /// Zones, in site order (`internet` last).
    pub zones: Vec<ZoneBox>,
    /// Edges, in order of first appearance.
    pub edges: Vec<Edge>,
    /// The reported enforcement points.
    pub firewalls: Vec<Firewall>,
}

/// One side's end of a row: zone and role (`None`: the row names addresses, no role).
type End = (String, Option<String>);

impl Diagram {
    /// The diagram of every row of `report`.
    pub fn build(report: &Report) -> Diagram {
        let lang = report.lang;
        let mut zones: Vec<ZoneBox> = report
            .zones
            .iter()
            .map(|z| {
                let mut detail: Vec<String> = z.cidrs.iter().take(3).cloned().collect();
                if z.cidrs.len() > 3 {
                    let more = z.cidrs.len() - 3;
                    detail.push(
                        lang.pick(&format!("… and {more} more"), &format!("… ほか {more} 件"))
                            .to_string(),
                    );
                }
                ZoneBox {
                    id: z.id.clone(),
                    name: z.name.clone(),
                    detail,
                    nodes: Vec::new(),
                }
            })
            .collect();
        // Pass 1: every (zone, role) end, in order of first appearance.
        let mut ends: Vec<End> = Vec::new();
        let mut row_ends = Vec::new();
        for row in report.rows() {
            let froms = ends_of(report, &row.from_roles, &row.from_zones);
            let tos = ends_of(report, &row.to_roles, &row.to_zones);
            for e in froms.iter().chain(&tos) {
                if !ends.contains(e) {
                    ends.push(e.clone());
                }
            }
            row_ends.push((froms, tos));
        }
        // Pass 2: ends with the same addresses in a zone share a node.
        let mut groups: Vec<(String, Vec<String>, Vec<End>)> = Vec::new();
        for e in &ends {
            let (zone, role) = e;
            let addrs = role
                .as_ref()
                .and_then(|r| report.roles.get(r))
                .and_then(|i| i.addrs.get(zone))
                .cloned()
                .unwrap_or_default();
            let same = groups
                .iter_mut()
                .find(|(z, a, _)| z == zone && !a.is_empty() && *a == addrs && role.is_some());
            match same {
                Some(g) => g.2.push(e.clone()),
                None => groups.push((zone.clone(), addrs, vec![e.clone()])),
            }
        }
        let mut key_of: Vec<(End, String)> = Vec::new();
        for (zone, addrs, members) in groups {
            let Some(z) = zones.iter_mut().find(|z| z.id == zone) else {
                continue;
            };
            let ids: Vec<&str> = members
                .iter()
                .map(|(_, r)| r.as_deref().unwrap_or("*"))
                .collect();
            let key = format!("{zone}/{}", ids.join("+"));
            let mut roles: Vec<String> = Vec::new();
            for (_, r) in &members {
                let name = match r {
                    None => lang.pick("(addresses)", "(アドレス)").to_string(),
                    Some(r) => report
                        .roles
                        .get(r)
                        .map_or_else(|| r.clone(), |i| i.name.clone()),
                };
                if !roles.contains(&name) {
                    roles.push(name);
                }
            }
            for m in members {
                key_of.push((m, key.clone()));
            }
            z.nodes.push(Node {
                key,
                zone,
                roles,
                addrs,
            });
        }
        let key = |e: &End| {
            key_of
                .iter()
                .find(|(k, _)| k == e)
                .map(|(_, key)| key.clone())
        };
        let mut edges: Vec<Edge> = Vec::new();
        for (row, (froms, tos)) in report.rows().zip(&row_ends) {
            let kind = if row.from_internet {
                EdgeKind::FromInternet
            } else if row.wide {
                EdgeKind::Wide
            } else {
                EdgeKind::Normal
            };
            let prefix = match row.change {
                None => "",
                Some(Change::Add) => "+ ",
                Some(Change::Remove) => "- ",
            };
            let text = format!("{prefix}{}", row.proto_ports());
            let froms: Vec<String> = unique(froms.iter().filter_map(key));
            let tos: Vec<String> = unique(tos.iter().filter_map(key));
            for f in &froms {
                for t in &tos {
                    let i = match edges.iter().position(|e| &e.from == f && &e.to == t) {
                        Some(i) => i,
                        None => {
                            edges.push(Edge {
                                from: f.clone(),
                                to: t.clone(),
                                lines: Vec::new(),
                                kind,
                                requests: Vec::new(),
                                firewalls: Vec::new(),
                            });
                            edges.len() - 1
                        }
                    };
                    let e = &mut edges[i];
                    if !e.lines.iter().any(|l| l.text == text) {
                        e.lines.push(EdgeLine {
                            text: text.clone(),
                            kind,
                        });
                    }
                    e.kind = e.kind.max(kind);
                    if !e.requests.contains(&row.request_no) {
                        e.requests.push(row.request_no.clone());
                    }
                    if !e.firewalls.contains(&row.point) {
                        e.firewalls.push(row.point.clone());
                    }
                }
            }
        }
        let order = |id: &String| report.points.iter().position(|p| &p.id == id);
        for e in &mut edges {
            e.firewalls.sort_by_key(order);
        }
        Diagram {
            title: report.title(),
            zones,
            edges,
            firewalls: report
                .points
                .iter()
                .map(|p| Firewall {
                    id: p.id.clone(),
                    kind_text: p.kind_text.clone(),
                    target: p.target.clone(),
                })
                .collect(),
        }
    }

    /// The node `key`.
    pub fn node(&self, key: &str) -> Option<&Node> {
        self.zones
            .iter()
            .flat_map(|z| z.nodes.iter())
            .find(|n| n.key == key)
    }

    /// The node holding role `role` (`product.role`) in `zone`.
    pub fn node_of(&self, zone: &str, role: &str) -> Option<&Node> {
        self.zones
            .iter()
            .filter(|z| z.id == zone)
            .flat_map(|z| z.nodes.iter())
            .find(|n| {
                n.key
                    .split_once('/')
                    .is_some_and(|(_, ids)| ids.split('+').any(|r| r == role))
            })
    }
}

fn unique<'a>(it: impl Iterator<Item = String> + 'a) -> Vec<String> {
    let mut out = Vec::new();
    for s in it {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The (zone, role) ends of one side of a row.
fn ends_of(report: &Report, roles: &[String], side_zones: &[String]) -> Vec<End> {
    let known = |z: &String| report.zones.iter().any(|i| &i.id == z);
    if roles.is_empty() {
        return side_zones
            .iter()
            .filter(|z| known(z))
            .map(|z| (z.clone(), None))
            .collect();
    }
    let mut out = Vec::new();
    for r in roles {
        let info = report.roles.get(r);
        let in_side: Vec<&String> = match info {
            Some(i) => side_zones.iter().filter(|z| i.zones.contains(z)).collect(),
            None => Vec::new(),
        };
        let chosen: Vec<&String> = if in_side.is_empty() {
            side_zones.iter().collect()
        } else {
            in_side
        };
        for z in chosen.into_iter().filter(|z| known(z)) {
            let e = (z.clone(), Some(r.clone()));
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn hq_diagram_has_every_zone_and_merges_labels() {
        let r = super::super::tests::hq(Lang::En);
        let d = Diagram::build(&r);
        let ids: Vec<&str> = d.zones.iter().map(|z| z.id.as_str()).collect();
        assert_eq!(ids, ["clients", "servers", "internet"]);
        let console = d.node_of("servers", "devicelock.console").unwrap();
        let agent = d.node_of("clients", "devicelock.service").unwrap();
        assert_eq!(console.addrs, ["10.10.0.10"]);
        let e = d
            .edges
            .iter()
            .find(|e| e.from == console.key && e.to == agent.key)
            .unwrap();
        assert_eq!(
            e.lines.len(),
            1,
            "fw-core and dl-agents show the same line once"
        );
        assert_eq!(e.lines[0].text, "tcp 445,9132-9133");
        assert!(e.requests.contains(&"FW-fw-core-001".to_string()));
        assert!(e.requests.contains(&"FW-dl-agents-001".to_string()));
        assert_eq!(
            e.firewalls,
            ["fw-core", "dl-agents"],
            "the paths cross both"
        );
        let ntp = d.node_of("internet", "tmws.ntp").unwrap();
        assert_eq!(ntp.roles, ["NTP server"]);
        assert_eq!(ntp.addrs, ["pool.ntp.org"]);
        let ad = d.node_of("servers", "devicelock.ad").unwrap();
        assert_eq!(ad.addrs, ["10.10.0.4"]);
        // The agents and the TMWS clients are the whole client LAN: one node.
        let lan = d.node_of("clients", "tmws.client").unwrap();
        assert_eq!(lan.key, agent.key);
        assert_eq!(lan.addrs, ["10.20.0.0/16"]);
    }

    #[test]
    fn a_host_of_two_products_is_one_node() {
        // The TMWS sync agent moved to the client LAN reaches the AD server through fw-core,
        // as the DeviceLock agents do: the AD server both products name is drawn once.
        let r = super::super::tests::hq_edited(
            |t| t.replace("sync_agent: 10.10.0.21", "sync_agent: 10.20.0.21"),
            Lang::Ja,
        );
        let d = Diagram::build(&r);
        let ad = d.node_of("servers", "devicelock.ad").unwrap();
        assert_eq!(ad.key, d.node_of("servers", "tmws.ad").unwrap().key);
        assert_eq!(ad.roles, ["Active Directory サーバー"]);
        assert_eq!(ad.addrs, ["10.10.0.4"]);
        let with_addr = d
            .zones
            .iter()
            .flat_map(|z| &z.nodes)
            .filter(|n| n.addrs == ["10.10.0.4"])
            .count();
        assert_eq!(with_addr, 1);
    }
}
