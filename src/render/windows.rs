//! Windows Defender Firewall: a PowerShell script of `New-NetFirewallRule` calls.
//!
//! Idempotent in both modes: it first removes every rule of this point's groups
//! (`portplan-<point>-<product>`, one per product), then creates one rule per IR rule, inbound
//! or outbound, with `-Description` naming the requirements and vendor rows. Inbound rules
//! match the local port, outbound rules the remote port; the local side is restricted with
//! `-LocalAddress` whenever it is not every member of the point. Address groups are PowerShell
//! variables, so a reviewer reads names; Windows has no negated address match, so "not the
//! site" is the list of every other address. In English the script is ASCII; in Japanese
//! (comments, display names and descriptions) it is UTF-8 with a byte order mark, because
//! Windows PowerShell 5.1 reads a script without BOM in the ANSI code page (CP932 on a
//! Japanese Windows), which garbles UTF-8 and can break the quoting. Rule names and groups stay
//! ASCII in both. Windows allows outbound traffic by default, so outbound rules matter only
//! where the default outbound action is Block; the script says so.

use std::fmt::Write as _;

use crate::i18n::{Lang, Text};
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

/// The byte order mark a Japanese script starts with (see the module doc).
pub const BOM: char = '\u{FEFF}';

fn ps(s: &str) -> String {
    format!("'{}'", ascii(s).replace('\'', "''"))
}

/// A single-quoted PowerShell string of free text: ASCII in English; in Japanese the text kept,
/// control characters made `?`, and every character PowerShell takes for a single quote
/// (`'`, and the typographic `‘ ’ ‚ ‛`) doubled, so none ends the string.
fn ps_text(s: &str, lang: Lang) -> String {
    match lang {
        Lang::En => ps(s),
        Lang::Ja => {
            let mut out = String::from("'");
            for c in crate::render::one_line(s).chars() {
                if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
                    out.push(c);
                }
                out.push(c);
            }
            out.push('\'');
            out
        }
    }
}

/// A comment line's text: ASCII in English, as is in Japanese (the file is UTF-8 with BOM).
fn text(s: &str, lang: Lang) -> String {
    match lang {
        Lang::En => ascii(s),
        Lang::Ja => crate::render::one_line(s),
    }
}

fn product(rule: &Rule) -> &str {
    rule.requirements
        .first()
        .and_then(|r| r.split_once('/'))
        .map_or("site", |(p, _)| p)
}

/// Render the rule set.
pub fn render(rs: &RuleSet, opts: &Options) -> Rendered {
    let lang = opts.lang;
    let mut names = Namer::new(WINDOWS);
    let prefix = names.name(&format!("portplan-{}", rs.point));
    let group = |names: &mut Namer, r: &Rule| names.child(&prefix, product(r));
    let mut notes = Vec::new();
    let outbound = rs.rules.iter().any(|r| r.direction == Direction::Out);
    if outbound && !opts.remove {
        notes.push(Note::info(Text::new(
            "outbound rules matter only where the default outbound action is Block (Windows allows outbound by default)",
            "送信 (Outbound) ルールは既定の送信動作がブロック (Block) の場合だけ効果があります (Windows の既定は送信許可)",
        )));
    }
    let effect: Vec<String> = match (lang, opts.remove) {
        (Lang::En, true) => vec![
            format!(
                "Removes every firewall rule whose group starts with {prefix}- (what this point's script created)."
            ),
            "Nothing else changes. Run in an elevated PowerShell.".into(),
        ],
        (Lang::En, false) => vec![
            format!("Removes every firewall rule whose group starts with {prefix}- (an earlier run for this point),"),
            "then adds this point's rules, one group per product. Rules of other groups are not touched;".into(),
            "in both modes the script is the same: Windows keeps portplan's rules apart by group.".into(),
            "Windows allows what any Allow rule allows, so these rules add to the existing ones.".into(),
            "Run in an elevated PowerShell; run it again after a change.".into(),
        ],
        (Lang::Ja, true) => vec![
            format!(
                "グループ名が {prefix}- で始まるファイアウォール規則 (このポイントのスクリプトが作成したもの) をすべて削除します。"
            ),
            "ほかは変更しません。管理者として実行した PowerShell で実行してください。".into(),
        ],
        (Lang::Ja, false) => vec![
            format!("グループ名が {prefix}- で始まるファイアウォール規則 (このポイントの以前の実行分) をすべて削除し、"),
            "続いてこのポイントの規則を製品ごとに 1 グループで追加します。ほかのグループの規則は変更しません。".into(),
            "モードによらずスクリプトは同じです: Windows は portplan の規則をグループで区別します。".into(),
            "Windows はいずれかの許可規則が許可する通信を許可するため、これらの規則は既存の規則に追加されます。".into(),
            "管理者として実行した PowerShell で実行してください。変更後は再度実行してください。".into(),
        ],
    };
    let mut out = String::new();
    if lang == Lang::Ja {
        out.push(BOM);
    }
    for l in header_lines(rs, Target::Windows, opts, &effect, &notes) {
        let _ = writeln!(out, "{}", format!("# {}", text(&l, lang)).trim_end());
    }
    out.push_str("#Requires -RunAsAdministrator\n$ErrorActionPreference = 'Stop'\n\n");
    let _ = writeln!(
        out,
        "# {}",
        lang.pick(
            "Remove what an earlier run for this point created, so the script can run again.",
            "以前の実行でこのポイントが作成したものを削除します (スクリプトは繰り返し実行できます)。"
        )
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
        let _ = writeln!(
            out,
            "# {}\n#   Set-NetFirewallProfile -Profile Domain,Private,Public -DefaultOutboundAction Block\n",
            lang.pick(
                "Outbound rules take effect only where the default outbound action is Block:",
                "送信規則は既定の送信動作がブロック (Block) の場合だけ効果があります:"
            )
        );
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
                let what = match (a, lang) {
                    (Addrs::Except(_), Lang::En) if g.starts_with("site") => "the internet: every address but the site's zones and the special-purpose ranges".to_string(),
                    (Addrs::Except(_), Lang::Ja) if g.starts_with("site") => "インターネット: サイトのゾーンと特殊用途アドレス以外のすべてのアドレス".to_string(),
                    (Addrs::Except(_), Lang::En) => format!("every address that is not in {g}"),
                    (Addrs::Except(_), Lang::Ja) => format!("{g} に含まれないすべてのアドレス"),
                    _ => g.clone(),
                };
                let list: Vec<String> = a.nets(fam).iter().map(|n| ps(&n.to_string())).collect();
                let _ = writeln!(out, "# {}\n{v} = @({})", text(&what, lang), list.join(", "));
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
                lines.push(match lang {
                    Lang::En => format!(
                        "# r{} not rendered (forwarding: Windows filters traffic to and from this host): {}",
                        r.n,
                        ascii(&r.comment())
                    ),
                    Lang::Ja => format!(
                        "# r{} は出力していません (転送: Windows はこのホストとの通信だけを制御します): {}",
                        r.n,
                        text(&r.comment(), lang)
                    ),
                });
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
        let dir_text = match (r.direction, lang) {
            (Direction::Out, Lang::Ja) => "送信",
            (_, Lang::Ja) => "受信",
            _ => &dir.to_lowercase(),
        };
        let display = format!(
            "portplan r{}: {dir_text} {} {}",
            r.n,
            r.protocol,
            r.ports_text("-")
        );
        let purposes: Vec<&str> = r.purposes.iter().map(|p| p.get(lang).trim()).collect();
        let desc = if purposes.is_empty() {
            format!("{} ({})", r.comment(), r.citations_text(lang))
        } else {
            format!(
                "{} - {} ({})",
                r.comment(),
                purposes.join(" / "),
                r.citations_text(lang)
            )
        };
        let local = if local == "Any" {
            String::new()
        } else {
            format!(" -LocalAddress {local}")
        };
        for l in r.note_lines(lang) {
            lines.push(format!("# {}", text(&l, lang)));
        }
        lines.push(format!(
            "New-NetFirewallRule -Name {} -DisplayName {} -Group {} -Direction {dir} -Action Allow -Profile Any -Protocol {} {port_param} {ports}{local} -RemoteAddress {remote} -Description {} | Out-Null",
            ps(&name),
            ps_text(&display, lang),
            ps(&group(&mut names, r)),
            r.protocol.as_str().to_uppercase(),
            ps_text(&desc, lang),
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
