//! The ruleset model both readers produce: tables' chains with hooks, priorities and policies,
//! and rules as conjunctions of typed conditions with a verdict. Anything a reader cannot map
//! onto this model is kept on the rule as `unsupported` (with the text), so evaluation can treat
//! it conservatively and the report can name it — nothing is silently ignored.

use ipnet::IpNet;
use serde::Serialize;

use crate::packet::CtState;

/// Netfilter hooks the audit evaluates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    /// Traffic to this host.
    Input,
    /// Traffic through this host.
    Forward,
    /// Traffic from this host.
    Output,
    /// Any other hook (prerouting, …): listed, not evaluated.
    Other(String),
}

/// Which address families a chain sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Families {
    /// IPv4 only (`ip` table, iptables).
    V4,
    /// IPv6 only (`ip6` table, ip6tables).
    V6,
    /// Both (`inet` table).
    Both,
}

/// What a rule does with a packet it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Accept (ends this base chain; later base chains of the hook still see the packet).
    Accept,
    /// Drop (final).
    Drop,
    /// Reject (final, like drop for reachability).
    Reject,
    /// Evaluate a chain, then continue here unless it decided.
    Jump(String),
    /// Evaluate a chain and do not come back.
    Goto(String),
    /// Leave this chain.
    Return,
    /// No verdict (counter, log, …): continue with the next rule.
    Continue,
}

/// One condition of a rule; `neg` inverts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cond {
    /// Source address in any of these networks.
    Src {
        /// Negated.
        neg: bool,
        /// Networks.
        nets: Vec<IpNet>,
    },
    /// Destination address.
    Dst {
        /// Negated.
        neg: bool,
        /// Networks.
        nets: Vec<IpNet>,
    },
    /// IP protocol numbers (ranges).
    Proto {
        /// Negated.
        neg: bool,
        /// Ranges of protocol numbers.
        ranges: Vec<(u8, u8)>,
    },
    /// Source port.
    SPort {
        /// Negated.
        neg: bool,
        /// Port ranges.
        ranges: Vec<(u16, u16)>,
    },
    /// Destination port (for ICMP: the type).
    DPort {
        /// Negated.
        neg: bool,
        /// Port ranges.
        ranges: Vec<(u16, u16)>,
    },
    /// Connection state.
    State {
        /// Negated.
        neg: bool,
        /// States.
        states: Vec<CtState>,
    },
    /// Input interface (a trailing `+`/`*` is a wildcard).
    Iif {
        /// Negated.
        neg: bool,
        /// Names.
        names: Vec<String>,
    },
    /// Output interface.
    Oif {
        /// Negated.
        neg: bool,
        /// Names.
        names: Vec<String>,
    },
    /// Only IPv4 (`false`) or only IPv6 (`true`) packets.
    Family {
        /// IPv6.
        v6: bool,
    },
}

/// A rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Where it came from: `line 12` or `handle 7`.
    pub origin: String,
    /// Its text, for the report.
    pub text: String,
    /// Conditions, all of which must hold.
    pub conds: Vec<Cond>,
    /// Verdict.
    pub verdict: Verdict,
    /// Parts the model cannot express (each makes the rule's match uncertain).
    pub unsupported: Vec<String>,
}

/// A chain.
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    /// Table (`filter`, `inet portplan_fw_core`).
    pub table: String,
    /// Name.
    pub name: String,
    /// Families it sees.
    pub families: Families,
    /// Hook, for base chains.
    pub hook: Option<Hook>,
    /// Priority among base chains of the hook (lower first).
    pub priority: i64,
    /// Policy of a base chain (accept when unset).
    pub policy: Verdict,
    /// Rules in order.
    pub rules: Vec<Rule>,
}

/// A whole ruleset.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ruleset {
    /// Chains.
    pub chains: Vec<Chain>,
    /// Things the reader skipped, by location (other tables, unknown statements).
    pub not_analysed: Vec<(String, String)>,
}

impl Ruleset {
    /// Interface names the rules mention (for the packet space).
    pub fn interfaces(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in &self.chains {
            for r in &c.rules {
                for cond in &r.conds {
                    if let Cond::Iif { names, .. } | Cond::Oif { names, .. } = cond {
                        for n in names {
                            let n = n.trim_end_matches(['+', '*']).to_string();
                            if !v.contains(&n) {
                                v.push(n);
                            }
                        }
                    }
                }
            }
        }
        if !v.contains(&"lo".to_string()) {
            v.push("lo".into());
        }
        v
    }
}

/// IP protocol number from a name (`tcp`, `udp`, `icmp`, `ipv6-icmp`, …) or a number.
pub fn proto_number(s: &str) -> Option<u8> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmpv6" | "ipv6-icmp" | "icmp6" => Some(58),
        "sctp" => Some(132),
        "esp" => Some(50),
        "ah" => Some(51),
        "gre" => Some(47),
        "udplite" => Some(136),
        n => n.parse().ok(),
    }
}
