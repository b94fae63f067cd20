//! The ruleset model both readers produce: tables' chains with hooks, types, priorities and
//! policies, and rules as a match expression, effects and a verdict.
//!
//! A match is a small boolean expression over primitives the packet space models exactly
//! ([`Prim`]); whatever a reader cannot express becomes [`Match::Unknown`] with its text, so
//! evaluation can bound it both ways and the report can name it: nothing is silently ignored.
//! Effects are what a rule changes on the packet before its verdict (marks, `notrack`, NAT).

use ipnet::IpNet;
use serde::Serialize;

use crate::packet::CtState;

/// Netfilter hooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    /// Before routing.
    Prerouting,
    /// Traffic to this host.
    Input,
    /// Traffic through this host.
    Forward,
    /// Traffic from this host.
    Output,
    /// After routing, on the way out.
    Postrouting,
    /// Device ingress (netdev family, or inet with a device): before prerouting.
    Ingress,
    /// Device egress: after postrouting.
    Egress,
}

impl Hook {
    /// Its name as nft spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
            Hook::Ingress => "ingress",
            Hook::Egress => "egress",
        }
    }
}

/// Which address families a chain sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Families {
    /// IPv4 only (`ip` table, iptables).
    V4,
    /// IPv6 only (`ip6` table, ip6tables).
    V6,
    /// Both (`inet` and `netdev` tables).
    Both,
}

/// A base chain's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainType {
    /// Filter (iptables filter, raw, mangle, security).
    Filter,
    /// NAT: only the first packet of a connection traverses it.
    Nat,
    /// Route (output mangle): like filter; a changed mark re-routes.
    Route,
}

/// What a rule does with a packet it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Accept: ends this base chain; later base chains and hooks still see the packet.
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
    /// No verdict (counter, log, mark, …): continue with the next rule.
    Continue,
    /// A verdict the model cannot follow (queue to user space, an unknown target): the packet
    /// may be accepted, dropped, or go on.
    Unknown(String),
}

/// What a rule changes on a packet it matches, before its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// `mark = (mark & !clear) ^ xor`.
    Mark {
        /// Bits cleared.
        clear: u32,
        /// Bits then flipped.
        xor: u32,
    },
    /// The same on the connection mark.
    CtMark {
        /// Bits cleared.
        clear: u32,
        /// Bits then flipped.
        xor: u32,
    },
    /// These packet-mark bits get a value the model does not know.
    MarkUnknown {
        /// Bits.
        mask: u32,
    },
    /// These connection-mark bits get a value the model does not know.
    CtMarkUnknown {
        /// Bits.
        mask: u32,
    },
    /// `CONNMARK --restore-mark`: packet-mark bits from the connection mark.
    MarkFromCtMark {
        /// Bits.
        mask: u32,
    },
    /// `CONNMARK --save-mark`: connection-mark bits from the packet mark.
    CtMarkFromMark {
        /// Bits.
        mask: u32,
    },
    /// `notrack` / `-j CT --notrack` (effective only before conntrack).
    NoTrack,
    /// Destination NAT (DNAT, REDIRECT, NETMAP, TPROXY): the destination changes.
    Dnat,
    /// Source NAT (SNAT, MASQUERADE).
    Snat,
}

/// A primitive the packet space models exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prim {
    /// Only IPv4 (`false`) or only IPv6 (`true`) packets.
    Family {
        /// IPv6.
        v6: bool,
    },
    /// Source address in any of these networks.
    Src {
        /// Networks.
        nets: Vec<IpNet>,
    },
    /// Destination address.
    Dst {
        /// Networks.
        nets: Vec<IpNet>,
    },
    /// IP protocol numbers (ranges).
    Proto {
        /// Ranges.
        ranges: Vec<(u8, u8)>,
    },
    /// Source port (the protocol is a separate condition).
    SPort {
        /// Ranges.
        ranges: Vec<(u16, u16)>,
    },
    /// Destination port.
    DPort {
        /// Ranges.
        ranges: Vec<(u16, u16)>,
    },
    /// ICMP (`v6`: ICMPv6) with `type << 8 | code` in these ranges; implies the protocol.
    Icmp {
        /// ICMPv6.
        v6: bool,
        /// Type/code ranges.
        ranges: Vec<(u16, u16)>,
    },
    /// `(tcp flags & mask) == value`; implies TCP.
    TcpFlags {
        /// Mask.
        mask: u8,
        /// Value.
        value: u8,
    },
    /// Connection state as rules see it (UNTRACKED after `notrack`; INVALID before conntrack).
    State {
        /// States.
        states: Vec<CtState>,
    },
    /// `ct status dnat` (`dnat`) or `ct status snat`, negated when `neg`. Like every `ct`
    /// match it fails either way for a packet without a connection (before conntrack,
    /// untracked, invalid).
    CtStatus {
        /// DNAT (else SNAT).
        dnat: bool,
        /// Negated.
        neg: bool,
    },
    /// Input interface names (a trailing `*` or `+` is a wildcard).
    Iif {
        /// Names.
        names: Vec<String>,
    },
    /// Output interface names.
    Oif {
        /// Names.
        names: Vec<String>,
    },
    /// `(mark & mask) == value`.
    Mark {
        /// Mask.
        mask: u32,
        /// Value.
        value: u32,
    },
    /// `(ct mark & mask) == value`, negated when `neg`; fails either way without a connection.
    CtMark {
        /// Mask.
        mask: u32,
        /// Value.
        value: u32,
        /// Negated.
        neg: bool,
    },
}

/// A rule's match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Match {
    /// Every packet.
    True,
    /// No packet.
    False,
    /// A part the model cannot express: it may or may not hold for any packet.
    Unknown {
        /// Its text.
        text: String,
    },
    /// A primitive.
    Prim {
        /// It.
        prim: Prim,
    },
    /// Negation.
    Not {
        /// Operand.
        of: Box<Match>,
    },
    /// Conjunction.
    All {
        /// Operands.
        of: Vec<Match>,
    },
    /// Disjunction.
    Any {
        /// Operands.
        of: Vec<Match>,
    },
}

impl Match {
    /// A primitive, as a match.
    pub fn prim(p: Prim) -> Match {
        Match::Prim { prim: p }
    }

    /// Its negation.
    pub fn negate(self) -> Match {
        match self {
            Match::True => Match::False,
            Match::False => Match::True,
            Match::Not { of } => *of,
            m => Match::Not { of: Box::new(m) },
        }
    }

    /// `self` negated when `neg`.
    pub fn negated_if(self, neg: bool) -> Match {
        if neg { self.negate() } else { self }
    }

    /// An unknown part.
    pub fn unknown(text: impl Into<String>) -> Match {
        Match::Unknown { text: text.into() }
    }

    /// Conjunction of parts (flattened; `True` dropped).
    pub fn all(parts: Vec<Match>) -> Match {
        let mut of = Vec::new();
        for p in parts {
            match p {
                Match::True => {}
                Match::All { of: inner } => of.extend(inner),
                p => of.push(p),
            }
        }
        match of.len() {
            0 => Match::True,
            1 => of.pop().unwrap_or(Match::True),
            _ => Match::All { of },
        }
    }

    /// Disjunction of parts.
    pub fn any(parts: Vec<Match>) -> Match {
        let mut of = Vec::new();
        for p in parts {
            match p {
                Match::False => {}
                Match::Any { of: inner } => of.extend(inner),
                p => of.push(p),
            }
        }
        match of.len() {
            0 => Match::False,
            1 => of.pop().unwrap_or(Match::False),
            _ => Match::Any { of },
        }
    }

    /// The texts of its unknown parts.
    pub fn unknowns(&self, out: &mut Vec<String>) {
        match self {
            Match::Unknown { text } if !out.contains(text) => out.push(text.clone()),
            Match::Not { of } => of.unknowns(out),
            Match::All { of } | Match::Any { of } => of.iter().for_each(|m| m.unknowns(out)),
            _ => {}
        }
    }

    /// Walk its primitives.
    pub fn prims<'a>(&'a self, f: &mut impl FnMut(&'a Prim)) {
        match self {
            Match::Prim { prim } => f(prim),
            Match::Not { of } => of.prims(f),
            Match::All { of } | Match::Any { of } => of.iter().for_each(|m| m.prims(f)),
            _ => {}
        }
    }
}

/// A rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Where it came from: `line 12` or `handle 7` (a verdict-map element adds `element N`).
    pub origin: String,
    /// Its text, for the report.
    pub text: String,
    /// What it matches.
    pub matches: Match,
    /// What it changes on the packets it matches, in order.
    pub effects: Vec<Effect>,
    /// Verdict.
    pub verdict: Verdict,
}

impl Rule {
    /// Parts the model cannot express exactly (in the match or the verdict).
    pub fn unsupported(&self) -> Vec<String> {
        let mut v = Vec::new();
        self.matches.unknowns(&mut v);
        if let Verdict::Unknown(t) = &self.verdict {
            v.push(t.clone());
        }
        v
    }
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
    /// The device of an ingress/egress base chain.
    pub device: Option<String>,
    /// Base chain type.
    pub ty: ChainType,
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
    /// Things the reader skipped, by location (unknown lines, other families).
    pub not_analysed: Vec<(String, String)>,
    /// Whether the dump speaks for IPv4 traffic (an nft dump speaks for both families: an
    /// empty one lets everything through; an `iptables-save` dump only for IPv4).
    pub covers_v4: bool,
    /// Whether it speaks for IPv6 traffic.
    pub covers_v6: bool,
}

impl Ruleset {
    /// The interface names and wildcard prefixes the rules mention, and the mark bits they test.
    pub fn layout(&self) -> crate::packet::Layout {
        let mut l = crate::packet::Layout::default();
        let add = |n: &str, l: &mut crate::packet::Layout| match n.strip_suffix(['+', '*']) {
            Some(p) => {
                if !p.is_empty() && !l.prefixes.iter().any(|x| x == p) {
                    l.prefixes.push(p.to_string());
                }
            }
            None => {
                if !l.names.iter().any(|x| x == n) {
                    l.names.push(n.to_string());
                }
            }
        };
        for c in &self.chains {
            if let Some(d) = &c.device {
                add(d, &mut l);
            }
            for r in &c.rules {
                let mut mask = 0u32;
                r.matches.prims(&mut |p| match p {
                    Prim::Iif { names } | Prim::Oif { names } => {
                        for n in names {
                            add(n, &mut l);
                        }
                    }
                    Prim::Mark { mask: m, .. } | Prim::CtMark { mask: m, .. } => mask |= m,
                    _ => {}
                });
                l.mark_mask |= mask;
            }
        }
        add("lo", &mut l);
        l
    }

    /// Index of the chain `name` in the table of `from` (same family first).
    pub fn find(&self, from: &Chain, name: &str) -> Option<usize> {
        self.chains
            .iter()
            .position(|c| c.table == from.table && c.name == name && c.families == from.families)
            .or_else(|| {
                self.chains
                    .iter()
                    .position(|c| c.table == from.table && c.name == name)
            })
    }
}

/// IP protocol number from a name (`tcp`, `udp`, `icmp`, `ipv6-icmp`, …) or a number.
pub fn proto_number(s: &str) -> Option<u8> {
    match s.to_ascii_lowercase().as_str() {
        "ip" | "hopopt" => Some(0),
        "icmp" => Some(1),
        "igmp" => Some(2),
        "ipencap" | "ipip" | "ip-encap" => Some(4),
        "tcp" => Some(6),
        "egp" => Some(8),
        "udp" => Some(17),
        "dccp" => Some(33),
        "ipv6" => Some(41),
        "ipv6-route" => Some(43),
        "ipv6-frag" => Some(44),
        "rsvp" => Some(46),
        "gre" => Some(47),
        "esp" | "ipv6-crypt" => Some(50),
        "ah" | "ipv6-auth" => Some(51),
        "icmpv6" | "ipv6-icmp" | "icmp6" => Some(58),
        "ipv6-nonxt" => Some(59),
        "ipv6-opts" => Some(60),
        "ospf" | "ospfigp" => Some(89),
        "pim" => Some(103),
        "vrrp" => Some(112),
        "l2tp" => Some(115),
        "sctp" => Some(132),
        "mh" | "ipv6-mh" | "mobility-header" => Some(135),
        "udplite" => Some(136),
        n => n.parse().ok(),
    }
}
