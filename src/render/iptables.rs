//! iptables: `iptables-restore` input, plus `ip6tables-restore` input when there are IPv6 rules.
//!
//! The file is a whole `filter` table, as `iptables-save` writes it: loading it replaces the
//! table. Network firewalls set FORWARD to DROP (INPUT/OUTPUT stay ACCEPT: the router's own
//! traffic is not this plan's business); host firewalls set INPUT and OUTPUT to DROP. Each owned
//! chain accepts ESTABLISHED,RELATED first and drops INVALID. Several sources or destinations
//! become one rule per pair; more than 15 ports are split over `multiport` rules; every rule
//! has `-m comment` naming its requirements.

use std::fmt::Write as _;

use crate::plan::Direction;
use crate::render::{Family, Rendered, Rule, RuleSet, comment_text, header_lines};
use crate::site::Target;

fn port_chunks(rule: &Rule) -> Vec<String> {
    // multiport takes at most 15 ports, a range counting as two.
    let mut chunks = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut weight = 0;
    for (a, b) in &rule.ports {
        let (text, w) = if a == b {
            (a.to_string(), 1)
        } else {
            (format!("{a}:{b}"), 2)
        };
        if weight + w > 15 {
            chunks.push(cur.join(","));
            cur.clear();
            weight = 0;
        }
        cur.push(text);
        weight += w;
    }
    if !cur.is_empty() {
        chunks.push(cur.join(","));
    }
    chunks
}

fn table(rs: &RuleSet, family: Family) -> String {
    let host = rs.kind != "network";
    let mut out = String::new();
    for l in header_lines(rs, Target::Iptables) {
        let _ = writeln!(out, "# {l}");
    }
    for n in &rs.notes {
        let _ = writeln!(out, "# NOTE: {}", comment_text(&n.message.en));
    }
    let (input, forward, output) = if host {
        ("DROP", "ACCEPT", "DROP")
    } else {
        ("ACCEPT", "DROP", "ACCEPT")
    };
    let _ = writeln!(
        out,
        "*filter\n:INPUT {input} [0:0]\n:FORWARD {forward} [0:0]\n:OUTPUT {output} [0:0]"
    );
    let owned: &[&str] = if host {
        &["INPUT", "OUTPUT"]
    } else {
        &["FORWARD"]
    };
    for chain in owned {
        if *chain == "INPUT" {
            out.push_str("-A INPUT -i lo -j ACCEPT\n");
        }
        if *chain == "OUTPUT" {
            out.push_str("-A OUTPUT -o lo -j ACCEPT\n");
        }
        let _ = writeln!(
            out,
            "-A {chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
        );
        let _ = writeln!(out, "-A {chain} -m conntrack --ctstate INVALID -j DROP");
        if host && family == Family::V6 {
            for t in [
                "neighbour-solicitation",
                "neighbour-advertisement",
                "router-solicitation",
                "router-advertisement",
            ] {
                let _ = writeln!(out, "-A {chain} -p ipv6-icmp --icmpv6-type {t} -j ACCEPT");
            }
        }
        for rule in rs.rules.iter().filter(|r| r.family == family) {
            let rc = match rule.direction {
                Direction::Forward => "FORWARD",
                Direction::In => "INPUT",
                Direction::Out => "OUTPUT",
            };
            if rc != *chain {
                continue;
            }
            let comment = rule.comment_max(250).replace('"', "'");
            for s in rule.src.nets(family) {
                for d in rule.dst.nets(family) {
                    for ports in port_chunks(rule) {
                        let mut line = format!("-A {chain}");
                        if s.prefix_len() > 0 {
                            let _ = write!(line, " -s {s}");
                        }
                        if d.prefix_len() > 0 {
                            let _ = write!(line, " -d {d}");
                        }
                        let _ = write!(line, " -p {}", rule.protocol);
                        if ports.contains(',') || ports.contains(':') {
                            let _ = write!(line, " -m multiport --dports {ports}");
                        } else {
                            let _ = write!(line, " --dport {ports}");
                        }
                        let _ = write!(line, " -m comment --comment \"{comment}\" -j ACCEPT");
                        let _ = writeln!(out, "{line}");
                    }
                }
            }
        }
    }
    out.push_str("COMMIT\n");
    out
}

/// Render the rule set: the IPv4 file, and `.v6` when there are IPv6 rules.
pub fn render(rs: &RuleSet) -> Rendered {
    let mut files = vec![(String::new(), table(rs, Family::V4))];
    if rs.rules.iter().any(|r| r.family == Family::V6) {
        files.push((".v6".to_string(), table(rs, Family::V6)));
    }
    Rendered {
        files,
        notes: vec![],
    }
}
