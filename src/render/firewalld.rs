//! firewalld: a shell script that installs one service XML per rule (named after the product,
//! role and rule) and binds each to its sources with rich rules in a zone.
//!
//! Idempotent: it removes the rich rules and services of an earlier run (everything named
//! `portplan-*`) before adding the new ones, then reloads. firewalld zones filter inbound
//! traffic only, so outbound rules are reported, not rendered.

use std::fmt::Write as _;

use crate::i18n::Text;
use crate::plan::Direction;
use crate::render::{Family, Note, Rendered, RuleSet, comment_text, header_lines};
use crate::site::Target;

fn service_name(rs: &RuleSet, r: &crate::render::Rule) -> String {
    let role = r
        .roles
        .1
        .first()
        .map_or("site".to_string(), |x| x.replace('.', "-"));
    format!("portplan-{}-{}-r{}", rs.point, role, r.n)
        .to_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Render the rule set.
pub fn render(rs: &RuleSet) -> Rendered {
    let mut out = String::from("#!/bin/sh\n");
    let mut notes = Vec::new();
    for l in header_lines(rs, Target::Firewalld) {
        let _ = writeln!(out, "# {l}");
    }
    for n in &rs.notes {
        let _ = writeln!(out, "# NOTE: {}", comment_text(&n.message.en));
    }
    out.push_str("set -eu\nZONE=\"${PORTPLAN_ZONE:-public}\"\nDIR=/etc/firewalld/services\n\n");
    out.push_str("# Remove what an earlier run created.\n");
    out.push_str("firewall-cmd --permanent --zone=\"$ZONE\" --list-rich-rules | grep 'service name=\"portplan-' | while IFS= read -r r; do\n  firewall-cmd --permanent --zone=\"$ZONE\" --remove-rich-rule=\"$r\" >/dev/null\ndone\n");
    out.push_str("for s in $(firewall-cmd --permanent --get-services); do\n  case \"$s\" in portplan-*) firewall-cmd --permanent --delete-service=\"$s\" >/dev/null ;; esac\ndone\n\n");
    let out_rules = rs
        .rules
        .iter()
        .filter(|r| r.direction == Direction::Out)
        .count();
    let fwd_rules = rs
        .rules
        .iter()
        .filter(|r| r.direction == Direction::Forward)
        .count();
    for r in rs.rules.iter().filter(|r| r.direction == Direction::In) {
        let name = service_name(rs, r);
        let _ = writeln!(
            out,
            "# r{}: {} ({})",
            r.n,
            r.requirements.join(" "),
            comment_text(&r.sources.join(", "))
        );
        let _ = writeln!(
            out,
            "cat > \"$DIR/{name}.xml\" <<'XML'\n<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service>\n  <short>{name}</short>\n  <description>{}</description>",
            xml(&r.comment())
        );
        for (a, b) in &r.ports {
            let port = if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            };
            let _ = writeln!(out, "  <port protocol=\"{}\" port=\"{port}\"/>", r.protocol);
        }
        let _ = writeln!(out, "</service>\nXML\nfirewall-cmd --reload >/dev/null");
        let family = match r.family {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        };
        for s in r.src.nets(r.family) {
            let source = if s.prefix_len() == 0 {
                String::new()
            } else {
                format!(" source address=\"{s}\"")
            };
            let _ = writeln!(
                out,
                "firewall-cmd --permanent --zone=\"$ZONE\" --add-rich-rule='rule family=\"{family}\"{source} service name=\"{name}\" accept' >/dev/null"
            );
        }
        out.push('\n');
    }
    out.push_str("firewall-cmd --reload\n");
    if out_rules > 0 {
        notes.push(Note {
            rule: None,
            message: Text::new(
                format!("{out_rules} outbound rule(s) not rendered: firewalld zones filter inbound traffic only (use policies or nftables for egress)"),
                format!("送信ルール {out_rules} 件は出力していません: firewalld のゾーンは受信のみを制御します (送信はポリシーか nftables で)"),
            ),
        });
    }
    if fwd_rules > 0 {
        notes.push(Note {
            rule: None,
            message: Text::new(
                format!("{fwd_rules} forwarding rule(s) not rendered: firewalld zones filter traffic to this host; render network firewalls for nftables or iptables"),
                format!("転送ルール {fwd_rules} 件は出力していません: firewalld のゾーンはこのホスト宛ての通信を制御します。ネットワーク FW は nftables か iptables で出力してください"),
            ),
        });
    }
    for r in rs.rules.iter().filter(|r| r.direction != Direction::In) {
        let _ = writeln!(
            out,
            "# r{} not rendered ({}): {}",
            r.n,
            if r.direction == Direction::Out {
                "outbound"
            } else {
                "forwarding"
            },
            r.comment()
        );
    }
    Rendered {
        files: vec![(String::new(), out)],
        notes,
    }
}
