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

/// A role (or the anonymous rest of a zone) inside one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `zone/product.role`, unique.
    pub key: String,
    /// Zone id.
    pub zone: String,
    /// Display name.
    pub label: String,
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
}

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
        let mut edges: Vec<Edge> = Vec::new();
        for row in report.rows() {
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
            let froms = nodes_of(report, &mut zones, &row.from_roles, &row.from_zones);
            let tos = nodes_of(report, &mut zones, &row.to_roles, &row.to_zones);
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
                }
            }
        }
        Diagram {
            title: report.title(),
            zones,
            edges,
        }
    }

    /// The node `key`.
    pub fn node(&self, key: &str) -> Option<&Node> {
        self.zones
            .iter()
            .flat_map(|z| z.nodes.iter())
            .find(|n| n.key == key)
    }
}

/// The nodes of one side of a row, added to their zones on first sight.
fn nodes_of(
    report: &Report,
    zones: &mut [ZoneBox],
    roles: &[String],
    side_zones: &[String],
) -> Vec<String> {
    let lang = report.lang;
    let mut keys = Vec::new();
    let mut add = |zone: &str, id: &str, label: String, keys: &mut Vec<String>| {
        let Some(z) = zones.iter_mut().find(|z| z.id == zone) else {
            return;
        };
        let key = format!("{zone}/{id}");
        if !z.nodes.iter().any(|n| n.key == key) {
            z.nodes.push(Node {
                key: key.clone(),
                zone: zone.to_string(),
                label,
            });
        }
        if !keys.contains(&key) {
            keys.push(key);
        }
    };
    if roles.is_empty() {
        for z in side_zones {
            add(
                z,
                "*",
                lang.pick("(addresses)", "(アドレス)").to_string(),
                &mut keys,
            );
        }
        return keys;
    }
    for r in roles {
        let info = report.roles.get(r);
        let label = info.map_or_else(|| r.clone(), |i| i.name.clone());
        let in_side: Vec<&String> = match info {
            Some(i) => side_zones.iter().filter(|z| i.zones.contains(z)).collect(),
            None => Vec::new(),
        };
        let chosen: Vec<&String> = if in_side.is_empty() {
            side_zones.iter().collect()
        } else {
            in_side
        };
        for z in chosen {
            add(z, r, label.clone(), &mut keys);
        }
    }
    keys
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
        let e = d
            .edges
            .iter()
            .find(|e| {
                e.from == "servers/devicelock.console" && e.to == "clients/devicelock.service"
            })
            .unwrap();
        assert_eq!(
            e.lines.len(),
            1,
            "fw-core and dl-agents show the same line once"
        );
        assert_eq!(e.lines[0].text, "tcp 445,9132-9133");
        assert!(e.requests.contains(&"FW-fw-core-001".to_string()));
        assert!(e.requests.contains(&"FW-dl-agents-001".to_string()));
        let ntp = d.node("internet/tmws.ntp").unwrap();
        assert_eq!(ntp.label, "NTP server");
    }
}
