//! Windows Defender Firewall: a PowerShell script of `New-NetFirewallRule` calls.
//!
//! Idempotent: it first removes every rule of the groups it is about to create (one group per
//! product, `portplan <product>`), then creates one rule per IR rule, inbound or outbound, with
//! `-Description` naming the requirements and vendor rows. Inbound rules match the local port;
//! outbound rules the remote port. Windows allows outbound traffic by default, so outbound
//! rules matter only where the default outbound action is Block; the script says so.

use std::fmt::Write as _;

use crate::i18n::Text;
use crate::plan::Direction;
use crate::render::{Note, Rendered, RuleSet, comment_text, header_lines};
use crate::site::Target;

/// A PowerShell single-quoted string. PowerShell also closes such a string on the typographic
/// single quotes (U+2018, U+2019, U+201A, U+201B), so those are doubled as well.
fn ps(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn group(rule: &crate::render::Rule) -> String {
    let product = rule
        .requirements
        .first()
        .and_then(|r| r.split_once('/'))
        .map_or("site", |(p, _)| p);
    format!("portplan {product}")
}

/// Render the rule set.
pub fn render(rs: &RuleSet) -> Rendered {
    let mut out = String::new();
    for l in header_lines(rs, Target::Windows) {
        let _ = writeln!(out, "# {l}");
    }
    for n in &rs.notes {
        let _ = writeln!(out, "# NOTE: {}", comment_text(&n.message.en));
    }
    out.push_str("#Requires -RunAsAdministrator\n$ErrorActionPreference = 'Stop'\n\n");
    let mut groups: Vec<String> = rs.rules.iter().map(group).collect();
    groups.sort();
    groups.dedup();
    out.push_str("# Remove what an earlier run created, so the script can run again.\n");
    for g in &groups {
        let _ = writeln!(
            out,
            "Get-NetFirewallRule -Group {} -ErrorAction SilentlyContinue | Remove-NetFirewallRule",
            ps(g)
        );
    }
    out.push('\n');
    let mut notes = Vec::new();
    if rs.rules.iter().any(|r| r.direction == Direction::Out) {
        out.push_str("# Outbound rules take effect only where the default outbound action is Block:\n#   Set-NetFirewallProfile -Profile Domain,Private,Public -DefaultOutboundAction Block\n\n");
        notes.push(Note {
            rule: None,
            message: Text::new(
                "outbound rules matter only where the default outbound action is Block (Windows allows outbound by default)",
                "送信 (Outbound) ルールは既定の送信動作が Block の場合だけ効果があります (Windows の既定は送信許可)",
            ),
        });
    }
    for r in &rs.rules {
        let (dir, port_param) = match r.direction {
            Direction::In => ("Inbound", "-LocalPort"),
            Direction::Out => ("Outbound", "-RemotePort"),
            Direction::Forward => ("Inbound", "-LocalPort"),
        };
        let remote = if r.direction == Direction::Out {
            &r.dst
        } else {
            &r.src
        };
        let remote = match remote {
            crate::render::Addrs::Any => "Any".to_string(),
            crate::render::Addrs::Nets(n) => n
                .iter()
                .map(|n| ps(&n.to_string()))
                .collect::<Vec<_>>()
                .join(","),
        };
        let ports = r
            .ports
            .iter()
            .map(|(a, b)| {
                ps(&if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                })
            })
            .collect::<Vec<_>>()
            .join(",");
        let name = format!("portplan-{}-r{}", comment_text(&rs.point), r.n);
        let display = format!(
            "portplan r{}: {} {} {}",
            r.n,
            dir.to_lowercase(),
            r.protocol,
            r.ports_text("-")
        );
        let desc = format!(
            "{} ({})",
            r.requirements.join(" "),
            comment_text(&r.sources.join(", "))
        );
        let _ = writeln!(
            out,
            "New-NetFirewallRule -Name {} -DisplayName {} -Group {} -Direction {dir} -Action Allow -Profile Any -Protocol {} {port_param} {ports} -RemoteAddress {remote} -Description {} | Out-Null",
            ps(&name),
            ps(&display),
            ps(&group(r)),
            r.protocol.as_str().to_uppercase(),
            ps(&desc),
        );
    }
    Rendered {
        files: vec![(String::new(), out)],
        notes,
    }
}
