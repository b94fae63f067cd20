//! nftables: a complete `nft -f` file with its own `inet` table.
//!
//! The file creates (or replaces) table `inet portplan_<point>`: the table is declared, deleted
//! and declared again, so loading it twice gives the same ruleset. Network firewalls own the
//! `forward` hook, host firewalls `input` and `output`; each owned chain has policy drop, accepts
//! established/related traffic first and drops invalid. Address groups are named interval sets
//! (`r3_saddr`), ports anonymous sets; every rule carries a comment naming its requirements.

use std::fmt::Write as _;

use crate::plan::Direction;
use crate::render::{Addrs, Family, Rendered, Rule, RuleSet, comment_text, header_lines};
use crate::site::Target;

/// nft identifiers: letters, digits, `_`.
pub fn ident(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The table name for a point.
pub fn table_name(point: &str) -> String {
    format!("portplan_{}", ident(point))
}

fn quote(s: &str) -> String {
    s.replace('"', "'")
}

/// Named sets, shared between rules with the same elements (the internet complement, a role's
/// hosts): (name, family, elements).
#[derive(Default)]
struct Sets(Vec<(String, Family, Vec<String>)>);

impl Sets {
    fn name_for(&mut self, rule: &Rule, dir: &str, elems: Vec<String>) -> String {
        if let Some((name, _, _)) = self
            .0
            .iter()
            .find(|(_, f, e)| *f == rule.family && *e == elems)
        {
            return name.clone();
        }
        let name = format!("r{}_{dir}", rule.n);
        self.0.push((name.clone(), rule.family, elems));
        name
    }

    fn declare(&self) -> String {
        let mut out = String::new();
        for (name, family, elems) in &self.0 {
            let ty = match family {
                Family::V4 => "ipv4_addr",
                Family::V6 => "ipv6_addr",
            };
            let _ = writeln!(
                out,
                "\tset {name} {{\n\t\ttype {ty}\n\t\tflags interval\n\t\telements = {{ {} }}\n\t}}\n",
                elems.join(", ")
            );
        }
        out
    }
}

fn side(rule: &Rule, addrs: &Addrs, dir: &str, sets: &mut Sets) -> String {
    let fam = match rule.family {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    };
    match addrs {
        Addrs::Any => String::new(),
        Addrs::Nets(nets) if nets.len() == 1 => format!("{fam} {dir} {} ", nets[0]),
        Addrs::Nets(nets) => {
            let name = sets.name_for(rule, dir, nets.iter().map(|n| n.to_string()).collect());
            format!("{fam} {dir} @{name} ")
        }
    }
}

fn rule_line(rule: &Rule, sets: &mut Sets) -> String {
    let mut line = String::new();
    let src = side(rule, &rule.src, "saddr", sets);
    let dst = side(rule, &rule.dst, "daddr", sets);
    if matches!((&rule.src, &rule.dst), (Addrs::Any, Addrs::Any)) {
        line.push_str(match rule.family {
            Family::V4 => "meta nfproto ipv4 ",
            Family::V6 => "meta nfproto ipv6 ",
        });
    }
    line.push_str(&src);
    line.push_str(&dst);
    let ports = rule.ports_text("-");
    let ports = if rule.ports.len() == 1 {
        ports
    } else {
        format!("{{ {} }}", ports.replace(',', ", "))
    };
    let _ = write!(
        line,
        "{} dport {ports} accept comment \"{}\"",
        rule.protocol,
        quote(&rule.comment_max(128))
    );
    line
}

/// Render the rule set.
pub fn render(rs: &RuleSet) -> Rendered {
    let table = table_name(&rs.point);
    let mut sets = Sets::default();
    let mut chains: Vec<(&str, &str, Vec<String>)> = if rs.kind == "network" {
        vec![("forward", "forward", vec![])]
    } else {
        vec![("input", "input", vec![]), ("output", "output", vec![])]
    };
    for rule in &rs.rules {
        let chain = match rule.direction {
            Direction::Forward => "forward",
            Direction::In => "input",
            Direction::Out => "output",
        };
        let line = rule_line(rule, &mut sets);
        if let Some(c) = chains.iter_mut().find(|c| c.0 == chain) {
            c.2.push(format!("# r{}: {}", rule.n, rule.sources.join(", ")));
            c.2.push(line);
        }
    }
    let mut out = String::from("#!/usr/sbin/nft -f\n");
    for l in header_lines(rs, Target::Nftables) {
        let _ = writeln!(out, "# {l}");
    }
    for n in &rs.notes {
        let _ = writeln!(out, "# NOTE: {}", comment_text(&n.message.en));
    }
    let _ = writeln!(
        out,
        "\n# Replace the table if it exists.\ntable inet {table}\ndelete table inet {table}\n\ntable inet {table} {{"
    );
    out.push_str(&sets.declare());
    for (name, hook, lines) in &chains {
        let _ = writeln!(
            out,
            "\tchain {name} {{\n\t\ttype filter hook {hook} priority filter; policy drop;"
        );
        if *hook != "forward" {
            let lo = if *hook == "input" { "iif" } else { "oif" };
            let _ = writeln!(out, "\t\t{lo} \"lo\" accept");
        }
        out.push_str("\t\tct state established,related accept\n\t\tct state invalid drop\n");
        if *hook != "forward" {
            out.push_str("\t\t# IPv6 neighbour discovery keeps the host reachable at all.\n");
            out.push_str("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept\n");
        }
        for l in lines {
            let _ = writeln!(out, "\t\t{l}");
        }
        out.push_str("\t}\n");
    }
    out.push_str("}\n");
    Rendered {
        files: vec![(String::new(), out)],
        notes: vec![],
    }
}
