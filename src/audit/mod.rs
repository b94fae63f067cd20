//! Audit: does an existing ruleset let through what the plan needs at one enforcement point,
//! and nothing more?
//!
//! The ruleset is read ([`iptables`], [`nft`]) into a typed [`model`], evaluated exactly over
//! packet sets ([`eval`], [`crate::packet`]) for the hooks of the point (forward for a network
//! firewall; input and output for a host firewall), and compared with the plan for NEW packets:
//! *missing* = required but not accepted (per opening, with a witness packet), *excess* =
//! accepted but required by nothing (per accepting rule or chain policy, with a witness and a
//! readable summary), *shadowed* = rules no packet ever reaches, *redundant* = rules whose removal
//! changes nothing. Rules with parts the model
//! cannot express are evaluated both as matching and as not matching; a finding that holds
//! either way is *certain*, one that depends on them is *possible*. On a host firewall,
//! loopback traffic and IPv6 neighbour discovery are infrastructure, not excess.

pub mod eval;
pub mod iptables;
pub mod model;
pub mod nft;

use serde::Serialize;

use crate::catalog::Protocol;
use crate::i18n::Text;
use crate::packet::{CtState, Exhausted, Field, Packet, R, Set, Space};
use crate::plan::{Direction, Opening, PointPlan};
use crate::tr;
use eval::{Mode, eval_hook};
use model::{Families, Hook, Ruleset};

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `nft -j list ruleset`.
    NftJson,
    /// `iptables-save`.
    IptablesSave,
    /// `ip6tables-save`.
    Ip6tablesSave,
}

/// Read a ruleset; `kind` `None` guesses (JSON starts with `{`).
pub fn read(text: &str, kind: Option<Kind>) -> Result<Ruleset, Text> {
    let kind = kind.unwrap_or(if text.trim_start().starts_with('{') {
        Kind::NftJson
    } else {
        Kind::IptablesSave
    });
    match kind {
        Kind::NftJson => nft::parse(text),
        Kind::IptablesSave => Ok(iptables::parse(text, None)),
        Kind::Ip6tablesSave => Ok(iptables::parse(text, Some(true))),
    }
}

/// A rule, as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRef {
    /// Chain.
    pub chain: String,
    /// `line 12` / `handle 7`.
    pub origin: String,
    /// The rule's text.
    pub text: String,
}

/// A required opening the ruleset does not (fully) permit.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    /// Hook.
    pub hook: Hook,
    /// Requirements behind the opening.
    pub requirements: Vec<String>,
    /// The opening.
    pub from: Vec<String>,
    /// The opening.
    pub to: Vec<String>,
    /// The opening.
    pub protocol: Protocol,
    /// The opening.
    pub ports: Vec<String>,
    /// A packet it needs that the ruleset drops.
    pub witness: Packet,
    /// False when it depends on rules the model cannot fully read.
    pub certain: bool,
}

/// Traffic the ruleset permits that no requirement needs.
#[derive(Debug, Clone, Serialize)]
pub struct Excess {
    /// Hook.
    pub hook: Hook,
    /// The rule that accepts it (or `None` for a chain policy).
    pub rule: Option<RuleRef>,
    /// The chain whose accept policy lets it through.
    pub policy: Option<String>,
    /// Sources (prefixes; `…` when there are more).
    pub src: Vec<String>,
    /// Destinations.
    pub dst: Vec<String>,
    /// Protocol numbers.
    pub protocols: Vec<String>,
    /// Destination ports (for ICMP: types).
    pub dports: Vec<String>,
    /// One such packet.
    pub witness: Packet,
    /// False when it depends on rules the model cannot fully read.
    pub certain: bool,
}

/// The audit of one enforcement point.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Enforcement point.
    pub point: String,
    /// Required openings not permitted.
    pub missing: Vec<Missing>,
    /// Permitted traffic without a requirement.
    pub excess: Vec<Excess>,
    /// Rules no packet reaches.
    pub shadowed: Vec<RuleRef>,
    /// Rules whose removal changes nothing (the rest of the chain decides the same).
    pub redundant: Vec<RuleRef>,
    /// What was not analysed, by location.
    pub not_analysed: Vec<(String, String)>,
}

impl AuditReport {
    /// Whether the ruleset matches the plan (with `allow_excess`, only missing counts).
    pub fn ok(&self, allow_excess: bool) -> bool {
        self.missing.is_empty() && (allow_excess || self.excess.is_empty())
    }
}

fn opening_set(space: &Space, o: &Opening) -> R<Set> {
    let nets = |a: &crate::addr::AddrSet, f: Field| -> R<Set> {
        let mut s = space.none();
        for n in a.nets() {
            s = space.or(&s, &space.prefix(f, &n)?)?;
        }
        Ok(s)
    };
    let proto = match o.protocol {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
    };
    let mut ports = space.none();
    for r in o.ports.ranges() {
        ports = space.or(
            &ports,
            &space.range(Field::DPort, u32::from(*r.start()), u32::from(*r.end()))?,
        )?;
    }
    let s = space.and(&nets(&o.from, Field::Src)?, &nets(&o.to, Field::Dst)?)?;
    let s = space.and(&s, &space.range(Field::Proto, proto, proto)?)?;
    space.and(&s, &ports)
}

fn fmt_ranges(r: &[(u16, u16)]) -> Vec<String> {
    r.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect()
}

/// Sources, destinations, protocols and destination ports of a set, as text.
type Summary = (Vec<String>, Vec<String>, Vec<String>, Vec<String>);

fn summary(space: &Space, set: &Set) -> R<Summary> {
    let nets = |f| -> R<Vec<String>> {
        let (n, more) = space.prefixes(set, f, 6)?;
        let mut v: Vec<String> = n.iter().map(|x| x.to_string()).collect();
        if more {
            v.push("…".into());
        }
        Ok(v)
    };
    Ok((
        nets(Field::Src)?,
        nets(Field::Dst)?,
        fmt_ranges(&space.port_ranges(set, Field::Proto)?),
        fmt_ranges(&space.port_ranges(set, Field::DPort)?),
    ))
}

/// Audit `rs` against the plan of one point. `host` says whether the point is a host firewall.
pub fn audit(rs: &Ruleset, plan: &PointPlan, host: bool) -> Result<AuditReport, Exhausted> {
    let space = Space::new(rs.interfaces())?;
    let mut report = AuditReport {
        point: plan.id.clone(),
        missing: vec![],
        excess: vec![],
        shadowed: vec![],
        redundant: vec![],
        not_analysed: rs.not_analysed.clone(),
    };
    // Only an unreadable rule with a verdict can change a packet's fate: `-m limit -j LOG` and
    // the like match nothing or everything, and decide nothing either way.
    let uncertain = rs.chains.iter().any(|c| {
        c.rules
            .iter()
            .any(|r| !r.unsupported.is_empty() && r.verdict != model::Verdict::Continue)
    });
    for c in &rs.chains {
        for r in c.rules.iter().filter(|r| !r.unsupported.is_empty()) {
            report.not_analysed.push((
                r.origin.clone(),
                format!(
                    "{}: {} (treated both ways)",
                    c.name,
                    r.unsupported.join(" ")
                ),
            ));
        }
    }
    // The families the ruleset speaks for.
    let v4 = rs.chains.iter().any(|c| c.families != Families::V6);
    let v6 = rs.chains.iter().any(|c| c.families != Families::V4);
    let mut universe = space.none();
    if v4 {
        universe = space.or(&universe, &space.family(false)?)?;
    }
    if v6 {
        universe = space.or(&universe, &space.family(true)?)?;
    }
    let new = space.and(&universe, &space.states(&[CtState::New])?)?;
    let hooks: Vec<(Hook, Direction)> = if host {
        vec![(Hook::Input, Direction::In), (Hook::Output, Direction::Out)]
    } else {
        vec![(Hook::Forward, Direction::Forward)]
    };
    for (hook, dir) in hooks {
        let mut required = space.none();
        let mut per_opening = Vec::new();
        for o in plan.openings.iter().filter(|o| o.direction == dir) {
            if !o.from.fqdns.is_empty() || !o.to.fqdns.is_empty() {
                report.not_analysed.push((
                    "plan".into(),
                    format!(
                        "opening {} -> {}: names cannot be checked against addresses",
                        o.from.cidrs().join(" "),
                        o.to.cidrs().join(" ")
                    ),
                ));
            }
            let set = space.and(&opening_set(&space, o)?, &new)?;
            required = space.or(&required, &set)?;
            per_opening.push((o, set));
        }
        let baseline = if host {
            let lo = space.iface(hook == Hook::Output, "lo")?;
            let nd = space.and(
                &space.range(Field::Proto, 58, 58)?,
                &space.range(Field::DPort, 133, 136)?,
            )?;
            space.and(&space.or(&lo, &nd)?, &new)?
        } else {
            space.none()
        };
        // Only the excess part of each accepting rule is kept.
        let interesting = space.diff(&new, &space.or(&required, &baseline)?)?;
        let (most, notes) =
            eval_hook(&space, rs, &hook, &universe, Mode::Most, Some(&interesting))?;
        report.not_analysed.extend(notes);
        let least = if uncertain {
            eval_hook(
                &space,
                rs,
                &hook,
                &universe,
                Mode::Least,
                Some(&interesting),
            )?
            .0
            .accepted
        } else {
            most.accepted.clone()
        };
        let acc_hi = space.and(&most.accepted, &new)?;
        let acc_lo = space.and(&least, &new)?;
        for (o, set) in per_opening {
            let certain = space.diff(&set, &acc_hi)?;
            let possible = space.diff(&set, &acc_lo)?;
            if space.is_empty(&possible) {
                continue;
            }
            let is_certain = !space.is_empty(&certain);
            let w = space
                .witness(if is_certain { &certain } else { &possible })
                .ok_or(Exhausted)?;
            report.missing.push(Missing {
                hook: hook.clone(),
                requirements: o.requirements(),
                from: o.from.cidrs(),
                to: o.to.cidrs(),
                protocol: o.protocol,
                ports: o.ports.to_strings(),
                witness: w,
                certain: is_certain,
            });
        }
        let not_needed = space.or(&required, &baseline)?;
        let excess_lo = space.diff(&acc_lo, &not_needed)?;
        let mut parts: Vec<(Option<RuleRef>, Option<String>, Set)> = Vec::new();
        for ((ci, ri), set) in &most.accepts_by_rule {
            let c = &rs.chains[*ci];
            let r = &c.rules[*ri];
            parts.push((
                Some(RuleRef {
                    chain: c.name.clone(),
                    origin: r.origin.clone(),
                    text: r.text.clone(),
                }),
                None,
                set.clone(),
            ));
        }
        for (ci, set) in &most.accepts_by_policy {
            parts.push((None, Some(rs.chains[*ci].name.clone()), set.clone()));
        }
        for (rule, policy, set) in parts {
            let ex = space.diff(&space.and(&set, &new)?, &not_needed)?;
            if space.is_empty(&ex) {
                continue;
            }
            let certain_part = space.and(&ex, &excess_lo)?;
            let certain = !space.is_empty(&certain_part);
            let shown = if certain { certain_part } else { ex };
            let witness = space.witness(&shown).ok_or(Exhausted)?;
            let (src, dst, protocols, dports) = summary(&space, &shown)?;
            report.excess.push(Excess {
                hook: hook.clone(),
                rule,
                policy,
                src,
                dst,
                protocols,
                dports,
                witness,
                certain,
            });
        }
        for (list, found) in [
            (&mut report.shadowed, most.shadowed),
            (&mut report.redundant, most.redundant),
        ] {
            for (ci, ri) in found {
                let c = &rs.chains[ci];
                let r = &c.rules[ri];
                let rr = RuleRef {
                    chain: c.name.clone(),
                    origin: r.origin.clone(),
                    text: r.text.clone(),
                };
                if !list
                    .iter()
                    .any(|x| x.origin == rr.origin && x.chain == rr.chain)
                {
                    list.push(rr);
                }
            }
        }
    }
    Ok(report)
}

/// A message for an exhausted packet space.
pub fn exhausted_text() -> Text {
    tr!(
        "the ruleset is too large to analyse exactly within the packet-space engine's memory",
        "ルールセットが大きすぎて、パケット空間エンジンのメモリ内で厳密に解析できません"
    )
}
