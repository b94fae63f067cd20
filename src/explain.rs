//! `portplan explain`: why is this open, and why is that not open.
//!
//! A query is a port (`tcp/139`), a packet (`10.20.1.5 -> 10.10.0.4 tcp/445`) or a
//! requirement (`devicelock/smb`, or `smb` when unambiguous). The answer lists the openings
//! that permit it with their provenance, and for every requirement of the site's products that
//! could use that port but does not, the reason: the condition that is false (with the option
//! values that make it so), the roles the site does not map, an option value that selects
//! another port, no enforcement point on the path, or — for a packet — an address outside the
//! requirement's roles.

use std::net::IpAddr;

use serde::Serialize;

use crate::catalog::{Catalogs, PortRef, Protocol, ProtocolRef, Requirement};
use crate::diag::{Error, Result};
use crate::flows::{Deployment, Inactive};
use crate::i18n::Text;
use crate::options::{OptionValues, Value};
use crate::plan::{Direction, Plan, Provenance};
use crate::site::{PointKind, Site};
use crate::tr;

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Query {
    /// A port: `tcp/139`.
    Port {
        /// Protocol.
        protocol: Protocol,
        /// Port.
        port: u16,
    },
    /// A packet: `10.20.1.5 -> 10.10.0.4 tcp/445`.
    Packet {
        /// Source address.
        from: IpAddr,
        /// Destination address.
        to: IpAddr,
        /// Protocol.
        protocol: Protocol,
        /// Destination port.
        port: u16,
    },
    /// A requirement: `devicelock/smb` or `smb`.
    Requirement {
        /// Product id, when given.
        product: Option<String>,
        /// Requirement id.
        id: String,
    },
}

fn parse_proto_port(s: &str) -> Option<(Protocol, u16)> {
    let (a, b) = s.split_once('/')?;
    let port = |x: &str| x.parse::<u64>().ok().and_then(crate::portset::check_port);
    match (Protocol::parse(a), port(b)) {
        (Some(p), Some(n)) => Some((p, n)),
        _ => match (port(a), Protocol::parse(b)) {
            (Some(n), Some(p)) => Some((p, n)),
            _ => None,
        },
    }
}

impl Query {
    /// Parse a query.
    pub fn parse(s: &str) -> Result<Query> {
        let s = s.trim();
        let bad = || {
            Error::usage(
                tr!(
                    "cannot read the query `{s}`",
                    "問い合わせ `{s}` を解釈できません"
                ),
                Some(tr!(
                    "ask about a port (tcp/139), a packet (10.20.1.5 -> 10.10.0.4 tcp/445) or a requirement (devicelock/smb)",
                    "ポート (tcp/139)、パケット (10.20.1.5 -> 10.10.0.4 tcp/445)、要件 (devicelock/smb) のいずれかを指定してください"
                )),
            )
        };
        let arrow = s.split_once("->").or_else(|| s.split_once(" to "));
        if let Some((src, rest)) = arrow {
            let mut parts = rest.split_whitespace();
            let (Some(dst), Some(pp), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad());
            };
            let (Ok(from), Ok(to), Some((protocol, port))) =
                (src.trim().parse(), dst.parse(), parse_proto_port(pp))
            else {
                return Err(bad());
            };
            return Ok(Query::Packet {
                from,
                to,
                protocol,
                port,
            });
        }
        if let Some((protocol, port)) = parse_proto_port(s) {
            return Ok(Query::Port { protocol, port });
        }
        if s.split('/').any(|part| Protocol::parse(part).is_some()) {
            return Err(bad());
        }
        let valid = |x: &str| {
            !x.is_empty()
                && x.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        match s.split_once('/') {
            Some((p, id)) if valid(p) && valid(id) => Ok(Query::Requirement {
                product: Some(p.into()),
                id: id.into(),
            }),
            None if valid(s) => Ok(Query::Requirement {
                product: None,
                id: s.into(),
            }),
            _ => Err(bad()),
        }
    }
}

/// An opening that answers the query.
#[derive(Debug, Clone, Serialize)]
pub struct OpenAt {
    /// Enforcement point.
    pub point: String,
    /// Direction at the point.
    pub direction: Direction,
    /// Sources (CIDRs).
    pub from: Vec<String>,
    /// Destinations (CIDRs).
    pub to: Vec<String>,
    /// Protocol.
    pub protocol: Protocol,
    /// Ports of the opening.
    pub ports: Vec<String>,
    /// Why it exists.
    pub provenance: Vec<Provenance>,
}

/// Why a requirement does not open what was asked.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Its condition is false.
    Condition {
        /// The condition.
        when: String,
        /// Current values of the options it reads (typed as in the catalog).
        values: Vec<(String, Value)>,
    },
    /// The port belongs to a part of the requirement that an option turns off.
    PortCondition {
        /// The group's condition.
        when: String,
        /// Current values (typed as in the catalog).
        values: Vec<(String, Value)>,
    },
    /// An option selects another port or protocol.
    OptionValue {
        /// The option.
        option: String,
        /// Its value (typed as in the catalog); `None` when the options select no port at all.
        value: Option<Value>,
    },
    /// Roles the site maps to nothing.
    RolesNotMapped {
        /// Role ids.
        roles: Vec<String>,
    },
    /// Required, but no enforcement point lies between its endpoints.
    NoEnforcementPoint,
    /// (Packet) the source or destination is not one of the requirement's endpoints.
    NotAnEndpoint {
        /// `from` or `to`.
        side: String,
        /// The address.
        address: String,
        /// The roles that side allows.
        roles: Vec<String>,
    },
}

/// A requirement that could, but does not, open what was asked.
#[derive(Debug, Clone, Serialize)]
pub struct NotOpen {
    /// `product/requirement`.
    pub requirement: String,
    /// `doc#row`.
    pub source: String,
    /// Why not.
    pub reason: Reason,
}

/// A packet's verdict at one enforcement point it crosses.
#[derive(Debug, Clone, Serialize)]
pub struct Crossing {
    /// Enforcement point.
    pub point: String,
    /// Direction there.
    pub direction: Direction,
    /// Whether the plan permits it there.
    pub permitted: bool,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The query.
    pub query: Query,
    /// Openings that permit it.
    pub open: Vec<OpenAt>,
    /// Requirements that could but do not.
    pub not_open: Vec<NotOpen>,
    /// For a packet: the enforcement points on its path and the verdict at each.
    pub crossings: Vec<Crossing>,
    /// For a packet that nothing opens: no requirement of the site's products targets its
    /// destination on its port (or comes close: its source to another known host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_requirement: Option<NoRequirement>,
}

/// No requirement needs a packet.
#[derive(Debug, Clone, Serialize)]
pub struct NoRequirement {
    /// The ends that are in no role of any product of the site.
    pub unknown: Vec<Unknown>,
}

/// An end of a packet that no role of the site contains.
#[derive(Debug, Clone, Serialize)]
pub struct Unknown {
    /// `from` or `to`.
    pub side: String,
    /// The address.
    pub address: String,
    /// The zone it is in, if any.
    pub zone: Option<String>,
}

fn values_of(when: &crate::condition::Expr, vals: &OptionValues) -> Vec<(String, Value)> {
    when.options()
        .into_iter()
        .filter_map(|o| vals.get(o).map(|v| (o.to_string(), v.clone())))
        .collect()
}

/// Whether a requirement could ever use `protocol`/`port` (under any option values), and if it
/// does not under the current ones, why.
fn port_status(
    req: &Requirement,
    vals: &OptionValues,
    protocol: Protocol,
    port: u16,
) -> Option<Option<Reason>> {
    let proto_ok = match &req.protocol {
        ProtocolRef::Fixed(ps) => ps.contains(&protocol),
        ProtocolRef::Option(o) => {
            let now = vals.get(o);
            if now.map(|v| v.to_string()).as_deref() != Some(protocol.as_str()) {
                return could_use_port(&req.ports, vals, port).then(|| {
                    Some(Reason::OptionValue {
                        option: o.clone(),
                        value: now.cloned(),
                    })
                });
            }
            true
        }
    };
    if !proto_ok {
        return None;
    }
    fn walk(items: &[PortRef], vals: &OptionValues, port: u16) -> Option<Option<Reason>> {
        let mut found: Option<Option<Reason>> = None;
        for item in items {
            let r = match item {
                PortRef::Fixed(_) | PortRef::Option(_) | PortRef::Choice(..) => item
                    .leaf_ports(vals)
                    .is_some_and(|s| s.contains(port))
                    .then_some(None),
                PortRef::When(cond, inner) => match walk(inner, vals, port) {
                    Some(None) if !cond.eval(vals) => Some(Some(Reason::PortCondition {
                        when: cond.to_string(),
                        values: values_of(cond, vals),
                    })),
                    other => other,
                },
            };
            match (&found, r) {
                (_, Some(None)) => return Some(None),
                (None, Some(x)) => found = Some(x),
                _ => {}
            }
        }
        found
    }
    walk(&req.ports, vals, port)
}

fn could_use_port(items: &[PortRef], vals: &OptionValues, port: u16) -> bool {
    items.iter().any(|i| match i {
        PortRef::Fixed(_) | PortRef::Option(_) => {
            i.leaf_ports(vals).is_some_and(|s| s.contains(port))
        }
        // Another value of the choice might open it.
        PortRef::Choice(_, map) => map.iter().any(|(_, s)| s.contains(port)),
        PortRef::When(_, inner) => could_use_port(inner, vals, port),
    })
}

fn inactive_reason(i: Inactive, req: &Requirement) -> Reason {
    match i {
        Inactive::Condition { when, values } => Reason::Condition { when, values },
        Inactive::NoPorts => Reason::OptionValue {
            option: String::new(),
            value: None,
        },
        Inactive::RolesNotDeployed(roles) => Reason::RolesNotMapped {
            roles: if roles.is_empty() {
                req.from.iter().chain(&req.to).cloned().collect()
            } else {
                roles
            },
        },
    }
}

/// Every requirement that some of `open` is there for.
fn requirements_in(open: &[OpenAt]) -> std::collections::HashSet<String> {
    open.iter()
        .flat_map(|o| o.provenance.iter().map(|p| p.requirement.clone()))
        .collect()
}

/// Answer a query about a site's plan.
pub fn explain(
    site: &Site,
    catalogs: &Catalogs,
    plan: &Plan,
    query: &Query,
) -> Result<Explanation> {
    let deps = site.deployments(catalogs);
    let mut ex = Explanation {
        query: query.clone(),
        open: vec![],
        not_open: vec![],
        crossings: vec![],
        no_requirement: None,
    };
    // Openings matching `pred`, with only the provenance that `keep` accepts.
    let open_at = |pred: &dyn Fn(&crate::plan::Opening) -> bool,
                   keep: &dyn Fn(&Provenance) -> bool|
     -> Vec<OpenAt> {
        plan.enforcement_points
            .iter()
            .flat_map(|pt| {
                pt.openings.iter().filter(|o| pred(o)).map(|o| OpenAt {
                    point: pt.id.clone(),
                    direction: o.direction,
                    from: o.from.cidrs(),
                    to: o.to.cidrs(),
                    protocol: o.protocol,
                    ports: o.ports.to_strings(),
                    provenance: o.provenance.iter().filter(|p| keep(p)).cloned().collect(),
                })
            })
            .collect()
    };
    match query {
        Query::Requirement { product, id } => {
            let found: Vec<(&Deployment<'_>, &Requirement)> = deps
                .iter()
                .filter(|d| product.as_ref().is_none_or(|p| *p == d.catalog.id))
                .filter_map(|d| d.catalog.requirement(id).map(|r| (d, r)))
                .collect();
            let q = product.as_ref().map_or(id.clone(), |p| format!("{p}/{id}"));
            match found.as_slice() {
                [] => {
                    let mut ids: Vec<String> = deps
                        .iter()
                        .flat_map(|d| {
                            d.catalog
                                .requirements
                                .iter()
                                .map(move |r| format!("{}/{}", d.catalog.id, r.id))
                        })
                        .collect();
                    ids.sort();
                    let list = ids.join(", ");
                    return Err(Error::usage(
                        tr!(
                            "no deployed product has a requirement `{q}`",
                            "配置された製品に要件 `{q}` はありません"
                        ),
                        Some(tr!("requirements: {list}", "要件: {list}")),
                    ));
                }
                [(d, r)] => {
                    let qid = format!("{}/{}", d.catalog.id, r.id);
                    ex.open = open_at(
                        &|o| o.provenance.iter().any(|p| p.requirement == qid),
                        &|_| true,
                    );
                    if let Some(i) = d.why_inactive(r) {
                        ex.not_open.push(NotOpen {
                            requirement: qid,
                            source: r.source.to_string(),
                            reason: inactive_reason(i, r),
                        });
                    } else if ex.open.is_empty() {
                        ex.not_open.push(NotOpen {
                            requirement: qid,
                            source: r.source.to_string(),
                            reason: Reason::NoEnforcementPoint,
                        });
                    }
                }
                many => {
                    let names: Vec<String> = many
                        .iter()
                        .map(|(d, r)| format!("{}/{}", d.catalog.id, r.id))
                        .collect();
                    let list = names.join(", ");
                    return Err(Error::usage(
                        tr!("`{q}` is ambiguous", "`{q}` は複数の製品にあります"),
                        Some(tr!("qualify it: {list}", "製品名を付けてください: {list}")),
                    ));
                }
            }
        }
        Query::Port { protocol, port } => {
            ex.open = open_at(
                &|o| o.protocol == *protocol && o.ports.contains(*port),
                &|p| p.ports.contains(*port),
            );
            let opened = requirements_in(&ex.open);
            for d in &deps {
                for r in &d.catalog.requirements {
                    let Some(status) = port_status(r, &d.options, *protocol, *port) else {
                        continue;
                    };
                    let qid = format!("{}/{}", d.catalog.id, r.id);
                    let reason = if let Some(i) = d.why_inactive(r) {
                        Some(inactive_reason(i, r))
                    } else if status.is_some() {
                        status
                    } else if !opened.contains(&qid) {
                        Some(Reason::NoEnforcementPoint)
                    } else {
                        None
                    };
                    if let Some(reason) = reason {
                        ex.not_open.push(NotOpen {
                            requirement: qid,
                            source: r.source.to_string(),
                            reason,
                        });
                    }
                }
            }
        }
        Query::Packet {
            from,
            to,
            protocol,
            port,
        } => {
            for pt in &site.points {
                let (src_zone, dst_zone) = (site.zone_of_ip(*from), site.zone_of_ip(*to));
                let dirs: Vec<Direction> = match &pt.kind {
                    PointKind::Network { sides, .. } => {
                        let side = |z: Option<&crate::site::Zone>| {
                            z.and_then(|z| sides.iter().position(|s| s.contains(&z.id)))
                        };
                        match (side(src_zone), side(dst_zone)) {
                            (Some(a), Some(b)) if a != b => vec![Direction::Forward],
                            _ => vec![],
                        }
                    }
                    PointKind::Host { members, .. } => {
                        let mut v = vec![];
                        if members.contains(*to) {
                            v.push(Direction::In);
                        }
                        if members.contains(*from) {
                            v.push(Direction::Out);
                        }
                        v
                    }
                };
                let pp = plan.point(&pt.id);
                for dir in dirs {
                    let permitted = pp.is_some_and(|p| {
                        p.openings
                            .iter()
                            .any(|o| o.direction == dir && o.permits(*from, *to, *protocol, *port))
                    });
                    ex.crossings.push(Crossing {
                        point: pt.id.clone(),
                        direction: dir,
                        permitted,
                    });
                }
            }
            // Exact: a requirement explains the packet only if one of its flows carries it.
            // (Flows indexed by requirement: an opening may have 20,000 of them.)
            let mut flows_of: std::collections::HashMap<String, Vec<&crate::plan::SiteFlow>> =
                std::collections::HashMap::new();
            for f in &plan.flows {
                flows_of.entry(f.qualified()).or_default().push(f);
            }
            let carries = |p: &Provenance| {
                flows_of.get(&p.requirement).into_iter().flatten().any(|f| {
                    f.protocol == *protocol
                        && f.ports.contains(*port)
                        && f.from.contains(*from)
                        && f.to.contains(*to)
                })
            };
            ex.open = open_at(&|o| o.permits(*from, *to, *protocol, *port), &carries);
            let opened = requirements_in(&ex.open);
            // An address in some role of some product of the site.
            let known = |ip: IpAddr| {
                site.products
                    .iter()
                    .any(|p| p.roles.values().any(|s| s.contains(ip)))
            };
            for d in &deps {
                let Some(sp) = site.products.iter().find(|p| p.product == d.catalog.id) else {
                    continue;
                };
                for r in &d.catalog.requirements {
                    let Some(status) = port_status(r, &d.options, *protocol, *port) else {
                        continue;
                    };
                    let qid = format!("{}/{}", d.catalog.id, r.id);
                    if opened.contains(&qid) {
                        continue;
                    }
                    // Whether the packet's ends are the requirement's endpoints comes first: a
                    // requirement between other hosts is no reason at all, whatever its state.
                    let pairs = r.pairs();
                    let in_role =
                        |ip: IpAddr, role: &str| sp.roles.get(role).is_some_and(|s| s.contains(ip));
                    let from_ok = pairs.iter().any(|(a, _)| in_role(*from, a));
                    let to_ok = pairs.iter().any(|(_, b)| in_role(*to, b));
                    let pair_ok = pairs
                        .iter()
                        .any(|(a, b)| in_role(*from, a) && in_role(*to, b));
                    // Listed when the packet goes to one of its destinations, or comes from one
                    // of its sources to a host the site knows (a likely mix-up of two hosts).
                    // A requirement that only shares the source with a packet to a host the
                    // site does not know (the internet) is not about that packet.
                    if !(to_ok || (from_ok && known(*to))) {
                        continue;
                    }
                    let inactive = d.why_inactive(r);
                    let reason =
                        if pair_ok || matches!(inactive, Some(Inactive::RolesNotDeployed(_))) {
                            match (inactive, status) {
                                (Some(i), _) => inactive_reason(i, r),
                                (None, Some(s)) => s,
                                (None, None) => Reason::NoEnforcementPoint,
                            }
                        } else if !from_ok {
                            let mut roles: Vec<String> =
                                pairs.iter().map(|(a, _)| a.to_string()).collect();
                            roles.dedup();
                            Reason::NotAnEndpoint {
                                side: "from".into(),
                                address: from.to_string(),
                                roles,
                            }
                        } else {
                            let mut roles: Vec<String> = pairs
                                .iter()
                                .filter(|(a, _)| in_role(*from, a))
                                .map(|(_, b)| b.to_string())
                                .collect();
                            roles.dedup();
                            Reason::NotAnEndpoint {
                                side: "to".into(),
                                address: to.to_string(),
                                roles,
                            }
                        };
                    ex.not_open.push(NotOpen {
                        requirement: qid,
                        source: r.source.to_string(),
                        reason,
                    });
                }
            }
            if ex.open.is_empty() && ex.not_open.is_empty() {
                // Nothing of the site's products needs this packet: say so, and which end the
                // site knows nothing about.
                let end = |side: &str, ip: IpAddr| Unknown {
                    side: side.to_string(),
                    address: ip.to_string(),
                    zone: site.zone_of_ip(ip).map(|z| z.id.clone()),
                };
                let unknown = [("from", *from), ("to", *to)]
                    .into_iter()
                    .filter(|(_, ip)| !known(*ip))
                    .map(|(side, ip)| end(side, ip))
                    .collect();
                ex.no_requirement = Some(NoRequirement { unknown });
            }
        }
    }
    Ok(ex)
}

/// The reason in words.
pub fn reason_text(r: &Reason) -> Text {
    let vals = |v: &[(String, Value)]| {
        v.iter()
            .map(|(k, x)| format!("{k}={x}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match r {
        Reason::Condition { when, values } => {
            let v = vals(values);
            tr!(
                "its condition `{when}` is false ({v})",
                "条件 `{when}` が成り立ちません ({v})"
            )
        }
        Reason::PortCondition { when, values } => {
            let v = vals(values);
            tr!(
                "this port is used only when `{when}`, which is false ({v})",
                "このポートは `{when}` の場合だけ使われ、現在は成り立ちません ({v})"
            )
        }
        Reason::OptionValue { option, value } if option.is_empty() => {
            let _ = value;
            tr!(
                "the options select no port for it",
                "オプションの設定によりポートがありません"
            )
        }
        Reason::OptionValue { option, value } => {
            let value = value.as_ref().map(|v| v.to_string()).unwrap_or_default();
            tr!(
                "option {option}={value} selects another port or protocol",
                "オプション {option}={value} により別のポート/プロトコルが使われます"
            )
        }
        Reason::RolesNotMapped { roles } => {
            let r = roles.join(", ");
            tr!(
                "the site maps no endpoints to role(s) {r}",
                "サイトでロール {r} に接続先が割り当てられていません"
            )
        }
        Reason::NoEnforcementPoint => tr!(
            "required, but no enforcement point lies between its endpoints",
            "必要ですが、接続元と接続先の間に適用ポイント (ファイアウォール) がありません"
        ),
        Reason::NotAnEndpoint {
            side,
            address,
            roles,
        } => {
            let r = roles.join(", ");
            if side == "from" {
                tr!(
                    "{address} is not a source of it (sources: {r})",
                    "{address} はこの要件の送信元ではありません (送信元: {r})"
                )
            } else {
                tr!(
                    "{address} is not a destination of it (destinations: {r})",
                    "{address} はこの要件の宛先ではありません (宛先: {r})"
                )
            }
        }
    }
}
