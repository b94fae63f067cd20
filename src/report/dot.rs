//! The diagram as Graphviz DOT: one cluster per zone, one node per host (its roles and
//! addresses) in it, one edge per node pair labelled with the firewalls it crosses and the
//! merged protocol/ports, coloured like the SVG.

use std::fmt::Write as _;

use super::Report;
use super::diagram::{Diagram, EdgeKind};

/// Quote a DOT string: `"`, `\` escaped, newlines as `\n`, carriage returns dropped, other
/// control characters made visible ([`crate::escape::escape_controls`]).
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    let without_cr = s.replace('\r', "");
    for c in crate::escape::escape_controls(&without_cr).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The report's diagram as DOT.
pub fn render(report: &Report) -> String {
    let d = Diagram::build(report);
    let lang = report.lang;
    let font = quote("Noto Sans CJK JP,Meiryo,sans-serif");
    let mut out = String::new();
    let _ = writeln!(out, "digraph portplan {{");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, compound=true, fontname={font}, labelloc=t, label={}];",
        quote(&d.title)
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname={font}];"
    );
    let _ = writeln!(out, "  edge [fontname={font}, fontsize=10];");
    for (i, z) in d.zones.iter().enumerate() {
        let fill = if z.id == crate::site::INTERNET {
            "#fff8e1"
        } else {
            "#e3f2fd"
        };
        let mut label = z.name.clone();
        for c in &z.detail {
            label.push('\n');
            label.push_str(c);
        }
        let _ = writeln!(
            out,
            "  subgraph {} {{",
            quote(&format!("cluster_{i}_{}", z.id))
        );
        let _ = writeln!(
            out,
            "    label={}; style=\"rounded,filled\"; fillcolor=\"{fill}\"; color=\"#607d8b\";",
            quote(&label)
        );
        if z.nodes.is_empty() {
            // An empty cluster is not drawn; keep the zone visible.
            let _ = writeln!(
                out,
                "    {} [label={}, shape=plaintext, style=\"\"];",
                quote(&format!("{}/", z.id)),
                quote(lang.pick("(no openings)", "(開放なし)"))
            );
        }
        for n in &z.nodes {
            let _ = writeln!(out, "    {} [label={}];", quote(&n.key), quote(&n.label()));
        }
        let _ = writeln!(out, "  }}");
    }
    for e in &d.edges {
        // The firewalls the path crosses, then the ports.
        let fws = format!("[{}]", e.firewalls.join(" › "));
        let label: Vec<&str> = std::iter::once(fws.as_str())
            .chain(e.lines.iter().map(|l| l.text.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, color={}, fontcolor={}, tooltip={}{}];",
            quote(&e.from),
            quote(&e.to),
            quote(&label.join("\n")),
            quote(e.kind.color()),
            quote(e.kind.color()),
            quote(&e.requests.join(" ")),
            if e.kind == EdgeKind::Normal {
                ""
            } else {
                ", penwidth=2"
            }
        );
    }
    // Legend.
    let _ = writeln!(out, "  subgraph cluster_legend {{");
    let _ = writeln!(
        out,
        "    label={}; style=\"dashed\"; color=\"#90a4ae\";",
        quote(lang.pick("Legend", "凡例"))
    );
    for (i, k) in [EdgeKind::Normal, EdgeKind::FromInternet, EdgeKind::Wide]
        .iter()
        .enumerate()
    {
        let _ = writeln!(
            out,
            "    \"legend_{i}a\" [label=\"\", shape=point, width=0.05]; \"legend_{i}b\" [label={}, shape=plaintext, style=\"\"]; \"legend_{i}a\" -> \"legend_{i}b\" [color={}];",
            quote(&k.legend(lang)),
            quote(k.color())
        );
    }
    let _ = writeln!(out, "  }}");
    let _ = writeln!(out, "}}");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(super::quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }

    #[test]
    fn quoting_shows_control_characters() {
        assert_eq!(super::quote("a\x1b[2J\tb"), "\"a\\\\x1b[2J\\\\tb\"");
    }
}
