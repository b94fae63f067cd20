//! Render: from a plan's openings at one enforcement point to real firewall configuration.
//!
//! [`lower`] turns a [`PointPlan`] into a [`RuleSet`] — the typed rule IR every renderer
//! consumes: one [`Rule`] per opening and address family, with CIDR lists (or `Any` when a
//! side is a whole family), merged port ranges, direction, and the requirement ids for the
//! comment. Renderers never look at the plan and never build rules from strings; each declares
//! its [`Capabilities`], and anything the IR holds that the target cannot express is returned as
//! a [`Note`] next to the output (and written into it as a comment) — never silently dropped.
//! FQDN endpoints are the usual case: packet filters match addresses, not names.

pub mod cisco;
pub mod firewalld;
pub mod iptables;
pub mod nftables;
pub mod windows;

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde::Serialize;

use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::i18n::Text;
use crate::plan::{Direction, PointPlan};
use crate::site::{EnforcementPoint, PointKind, Site, Target};
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

/// One side of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Addrs {
    /// Every address of the family.
    Any,
    /// These networks (optimal cover, sorted).
    Nets(Vec<IpNet>),
}

impl Addrs {
    fn of(set: &AddrSet, family: Family) -> Addrs {
        let part = match family {
            Family::V4 => set.only_v4(),
            Family::V6 => set.only_v6(),
        };
        let nets = part.nets();
        if nets.len() == 1 && nets[0].prefix_len() == 0 {
            Addrs::Any
        } else {
            Addrs::Nets(nets)
        }
    }

    /// The networks, or the family's `/0` for `Any`.
    pub fn nets(&self, family: Family) -> Vec<IpNet> {
        match self {
            Addrs::Any => vec![match family {
                Family::V4 => "0.0.0.0/0".parse().expect("valid"),
                Family::V6 => "::/0".parse().expect("valid"),
            }],
            Addrs::Nets(n) => n.clone(),
        }
    }
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
    /// Sources.
    pub src: Addrs,
    /// Destinations.
    pub dst: Addrs,
    /// Destination port ranges, sorted, disjoint, not touching.
    pub ports: Vec<(u16, u16)>,
    /// `product/requirement` ids.
    pub requirements: Vec<String>,
    /// `doc#row` of each requirement.
    pub sources: Vec<String>,
    /// `product.role` of sources and destinations, for descriptions.
    pub roles: (Vec<String>, Vec<String>),
}

impl Rule {
    /// The comment every target writes: `portplan r3: devicelock/smb devicelock/service-port`.
    pub fn comment(&self) -> String {
        format!("portplan r{}: {}", self.n, self.requirements.join(" "))
    }

    /// The comment cut to `max` bytes on a character boundary (nft allows 128).
    pub fn comment_max(&self, max: usize) -> String {
        let c = self.comment();
        if c.len() <= max {
            return c;
        }
        let mut end = max.saturating_sub(3);
        while !c.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &c[..end])
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
}

/// Something in the plan the target cannot express, or should be told.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// Rule or opening it concerns (`r3`), if any.
    pub rule: Option<String>,
    /// What.
    pub message: Text,
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
    /// For a network firewall: each side's zones and their networks (for interface ACLs).
    pub sides: Vec<Side>,
    /// Permit rules, in plan order.
    pub rules: Vec<Rule>,
    /// What could not be lowered (FQDN endpoints).
    pub notes: Vec<Note>,
}

/// A side of a network firewall.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Zone ids.
    pub zones: Vec<String>,
    /// IPv4 networks of those zones (`Any`-like for the internet is the complement).
    pub v4: Vec<IpNet>,
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
    /// Host firewalls (input/output); network firewalls (forward).
    pub host: bool,
    /// Network (forwarding) firewalls.
    pub network: bool,
    /// Outbound filtering on hosts.
    pub outbound: bool,
}

/// A rendered configuration.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Files: (suffix appended to `-o FILE`, empty for the main file; content).
    pub files: Vec<(String, String)>,
    /// What the admin must know (unsupported parts, manual steps).
    pub notes: Vec<Note>,
}

/// Lower one point's openings into the rule IR.
pub fn lower(site: &Site, point: &EnforcementPoint, plan: &PointPlan) -> RuleSet {
    let mut rules = Vec::new();
    let mut notes = Vec::new();
    for o in &plan.openings {
        let requirements = o.requirements();
        let mut sources: Vec<String> = o.provenance.iter().map(|p| p.source.clone()).collect();
        sources.dedup();
        let roles: (Vec<String>, Vec<String>) = (
            o.from_roles.iter().cloned().collect(),
            o.to_roles.iter().cloned().collect(),
        );
        for family in [Family::V4, Family::V6] {
            let (has_src, has_dst) = match family {
                Family::V4 => (!o.from.v4.is_empty(), !o.to.v4.is_empty()),
                Family::V6 => (!o.from.v6.is_empty(), !o.to.v6.is_empty()),
            };
            if !(has_src && has_dst) {
                continue;
            }
            rules.push(Rule {
                n: rules.len() + 1,
                direction: o.direction,
                family,
                protocol: o.protocol,
                src: Addrs::of(&o.from, family),
                dst: Addrs::of(&o.to, family),
                ports: o.ports.ranges().map(|r| (*r.start(), *r.end())).collect(),
                requirements: requirements.clone(),
                sources: sources.clone(),
                roles: (roles.0.clone(), roles.1.clone()),
            });
        }
        let names: BTreeSet<&String> = o.from.fqdns.iter().chain(&o.to.fqdns).collect();
        if !names.is_empty() {
            let names = names.into_iter().cloned().collect::<Vec<_>>().join(", ");
            let (proto, ports, reqs) = (o.protocol, o.ports.to_string(), requirements.join(" "));
            notes.push(Note {
                rule: None,
                message: tr!(
                    "not rendered: {proto}/{ports} to or from {names} ({reqs}) — packet filters match addresses, not names; map the role to the addresses the name resolves to, or allow it on a proxy",
                    "未出力: {names} との {proto}/{ports} ({reqs}) — パケットフィルタは名前ではなくアドレスで照合します。名前が解決されるアドレスをロールに割り当てるか、プロキシで許可してください"
                ),
            });
        }
    }
    let sides = match &point.kind {
        PointKind::Network { sides } => sides
            .iter()
            .map(|zs| Side {
                zones: zs.clone(),
                v4: site.zones_set(zs).only_v4().nets(),
            })
            .collect(),
        PointKind::Host { .. } => vec![],
    };
    RuleSet {
        site: site.name.clone(),
        point: point.id.clone(),
        kind: point.kind_name(),
        sides,
        rules,
        notes,
    }
}

/// Render a rule set for `target`.
pub fn render(rs: &RuleSet, target: Target) -> Rendered {
    let caps = capabilities(target);
    let mut notes = rs.notes.clone();
    let fits = if rs.kind == "network" {
        caps.network
    } else {
        caps.host
    };
    if !fits {
        let (t, k) = (target.as_str(), rs.kind);
        notes.push(Note {
            rule: None,
            message: tr!(
                "target {t} is not meant for a {k} firewall; the output is a best effort",
                "出力先 {t} は {k} ファイアウォール向けではありません。出力は参考程度です"
            ),
        });
    }
    let mut out = match target {
        Target::Nftables => nftables::render(rs),
        Target::Iptables => iptables::render(rs),
        Target::Windows => windows::render(rs),
        Target::CiscoIos => cisco::render(rs),
        Target::Firewalld => firewalld::render(rs),
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
            address_groups: false,
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
            outbound: false,
        },
    }
}

/// Text for a comment line of a configuration: a line break in a site name or a document id
/// would end the comment and start a command, so every control character is escaped
/// ([`crate::escape::escape_line`]).
pub fn comment_text(s: &str) -> std::borrow::Cow<'_, str> {
    crate::escape::escape_line(s)
}

/// The header comment lines every output starts with (without comment markers).
pub fn header_lines(rs: &RuleSet, target: Target) -> Vec<String> {
    vec![
        format!("generated by portplan {} for site {}, enforcement point {} ({}, {})", env!("CARGO_PKG_VERSION"), comment_text(&rs.site), comment_text(&rs.point), rs.kind, target.as_str()),
        "every rule's comment names the requirements behind it: `portplan explain SITE REQUIREMENT`".into(),
    ]
}
