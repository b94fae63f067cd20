//! Windows Defender Firewall: a PowerShell script of `New-NetFirewallRule` calls.
//!
//! Idempotent in both modes: it first removes every rule of this point's groups
//! (`portplan-<point>-<product>`, one per product), then creates one rule per IR rule, inbound
//! or outbound, with `-Description` naming the requirements and vendor rows. Inbound rules
//! match the local port, outbound rules the remote port; the local side is restricted with
//! `-LocalAddress` whenever it is not every member of the point. Address groups are PowerShell
//! variables, so a reviewer reads names; Windows has no negated address match, so "not the
//! site" is the list of every other address. The script is ASCII (Windows PowerShell 5.1 reads
//! a file without BOM in the ANSI code page). Windows allows outbound traffic by default, so
//! outbound rules matter only where the default outbound action is Block; the script says so.

use std::fmt::Write as _;

use crate::i18n::Text;
use crate::plan::Direction;
use crate::render::ident::{Namer, WINDOWS};
use crate::render::{Addrs, Note, Options, Rendered, Rule, RuleSet, header_lines};
use crate::site::Target;

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

fn ps(s: &str) -> String {
    format!("'{}'", ascii(s).replace('\'', "''"))
}

fn product(rule: &Rule) -> &str {
    rule.requirements
        .first()
        .and_then(|r| r.split_once('/'))
        .map_or("site", |(p, _)| p)
}

/// Render the rule set.
pub fn render(rs: &RuleSet, opts: &Options) -> Rendered {
    let mut names = Namer::new(WINDOWS);
    let prefix = names.name(&format!("portplan-{}", rs.point));
    let group = |names: &mut Namer, r: &Rule| names.child(&prefix, product(r));
    let mut notes = Vec::new();
    let outbound = rs.rules.iter().any(|r| r.direction == Direction::Out);
    if outbound && !opts.remove {
        notes.push(Note::info(Text::new(
            "outbound rules matter only where the default outbound action is Block (Windows allows outbound by default)",
            "送信 (Outbound) ルールは既定の送信動作が Block の場合だけ効果があります (Windows の既定は送信許可)",
        )));
    }
    let effect: Vec<String> = if opts.remove {
        vec![
            format!(
                "Removes every firewall rule whose group starts with {prefix}- (what this point's script created)."
            ),
            "Nothing else changes. Run in an elevated PowerShell.".into(),
        ]
    } else {
        vec![
            format!("Removes every firewall rule whose group starts with {prefix}- (an earlier run for this point),"),
            "then adds this point's rules, one group per product. Rules of other groups are not touched;".into(),
            "in both modes the script is the same: Windows keeps portplan's rules apart by group.".into(),
            "Windows allows what any Allow rule allows, so these rules add to the existing ones.".into(),
            "Run in an elevated PowerShell; run it again after a change.".into(),
        ]
    };
    let mut out = String::new();
    for l in header_lines(rs, Target::Windows, opts, &effect, &notes) {
        let _ = writeln!(out, "{}", format!("# {}", ascii(&l)).trim_end());
    }
    out.push_str("#Requires -RunAsAdministrator\n$ErrorActionPreference = 'Stop'\n\n");
    out.push_str(
        "# Remove what an earlier run for this point created, so the script can run again.\n",
    );
    let _ = writeln!(
        out,
        "Get-NetFirewallRule -ErrorAction SilentlyContinue | Where-Object {{ $_.Group -like {} }} | Remove-NetFirewallRule",
        ps(&format!("{prefix}-*"))
    );
    if opts.remove {
        return Rendered {
            files: vec![(String::new(), out)],
            notes,
        };
    }
    out.push('\n');
    if outbound {
        out.push_str("# Outbound rules take effect only where the default outbound action is Block:\n#   Set-NetFirewallProfile -Profile Domain,Private,Public -DefaultOutboundAction Block\n\n");
    }
    // Address groups as variables.
    let mut vars: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut var_names: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut var = |out: &mut String, a: &Addrs, g: Option<&String>, fam| -> String {
        match a {
            Addrs::Any => "Any".into(),
            Addrs::Nets(n) if n.len() == 1 => ps(&n[0].to_string()),
            _ => {
                let g = g.cloned().unwrap_or_else(|| "addresses".into());
                let key = match a {
                    Addrs::Except(_) if g == "site" => "internet".to_string(),
                    Addrs::Except(_) if g == "site-v6" => "internet-v6".to_string(),
                    Addrs::Except(_) => format!("not-{g}"),
                    _ => g.clone(),
                };
                if let Some(v) = vars.get(&key) {
                    return v.clone();
                }
                let v: String = format!(
                    "$pp_{}",
                    key.chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect::<String>()
                );
                let v = if var_names.contains(&v) {
                    format!("{v}_{}", vars.len())
                } else {
                    v
                };
                var_names.insert(v.clone());
                let what = match a {
                    Addrs::Except(_) if g.starts_with("site") => "the internet: every address but the site's zones and the special-purpose ranges".to_string(),
                    Addrs::Except(_) => format!("every address that is not in {g}"),
                    _ => g.clone(),
                };
                let list: Vec<String> = a.nets(fam).iter().map(|n| ps(&n.to_string())).collect();
                let _ = writeln!(out, "# {}\n{v} = @({})", ascii(&what), list.join(", "));
                vars.insert(key, v.clone());
                v
            }
        }
    };
    let mut lines = Vec::new();
    for r in &rs.rules {
        let (dir, port_param) = match r.direction {
            Direction::Out => ("Outbound", "-RemotePort"),
            Direction::In => ("Inbound", "-LocalPort"),
            Direction::Forward => {
                lines.push(format!(
                    "# r{} not rendered (forwarding: Windows filters traffic to and from this host): {}",
                    r.n,
                    ascii(&r.comment())
                ));
                continue;
            }
        };
        let (remote, rg, local, lg) = if r.direction == Direction::Out {
            (&r.dst, r.dst_group.as_ref(), &r.src, r.src_group.as_ref())
        } else {
            (&r.src, r.src_group.as_ref(), &r.dst, r.dst_group.as_ref())
        };
        let remote = var(&mut out, remote, rg, r.family);
        let local = var(&mut out, local, lg, r.family);
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
        let name = names.child(&prefix, &format!("r{}", r.n));
        let display = format!(
            "portplan r{}: {} {} {}",
            r.n,
            dir.to_lowercase(),
            r.protocol,
            r.ports_text("-")
        );
        let desc = format!("{} ({})", r.comment(), r.sources_text());
        let local = if local == "Any" {
            String::new()
        } else {
            format!(" -LocalAddress {local}")
        };
        lines.push(format!(
            "New-NetFirewallRule -Name {} -DisplayName {} -Group {} -Direction {dir} -Action Allow -Profile Any -Protocol {} {port_param} {ports}{local} -RemoteAddress {remote} -Description {} | Out-Null",
            ps(&name),
            ps(&display),
            ps(&group(&mut names, r)),
            r.protocol.as_str().to_uppercase(),
            ps(&desc),
        ));
    }
    out.push('\n');
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    Rendered {
        files: vec![(String::new(), out)],
        notes,
    }
}
