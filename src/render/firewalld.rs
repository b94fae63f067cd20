//! firewalld: a shell script of `firewall-cmd --permanent` calls for a host firewall.
//!
//! One service per rule (`portplan-<point>-r<n>`, its ports), bound by rich rules: inbound rules
//! in the zone (`--into ZONE`, default `public`, or `$PORTPLAN_ZONE`), outbound rules in a
//! policy from `HOST` to `ANY` (firewalld 0.9 and later). A rule's remote side is its source
//! (inbound) or destination (outbound), the local side the other one whenever it is not every
//! member of the point. Address groups of several networks are ipsets (`hash:net`); "not the
//! site" is `source not ipset=…`.
//!
//! Both modes add to the zone and change nothing else in it; they differ in what they remove
//! first: **replace** every portplan object (of any point), **merge** only this point's.
//! **remove** takes this point's objects out. firewalld filters what reaches the host, so a
//! network firewall cannot be rendered.

use std::fmt::Write as _;

use crate::i18n::{Lang, Text};
use crate::plan::Direction;
use crate::render::ident::{FIREWALLD, FIREWALLD_POLICY, Namer};
use crate::render::{Addrs, Family, Into, Mode, Note, Options, Rendered, RuleSet, header_lines};
use crate::site::Target;

/// Render the rule set.
pub fn render(rs: &RuleSet, opts: &Options) -> Rendered {
    let lang = opts.lang;
    let mut names = Namer::new(FIREWALLD);
    let pt = &rs.point;
    // Every object of the point starts with this prefix (at most 20 bytes, leaving room).
    let prefix = crate::render::ident::name(
        &format!("portplan-{pt}"),
        &crate::render::ident::Rules {
            max: 20,
            ..FIREWALLD
        },
    );
    let policy = crate::render::ident::name(&format!("pp-{pt}"), &FIREWALLD_POLICY);
    let zone = match &opts.into {
        Some(Into::Zone(z)) => z.clone(),
        _ => "public".into(),
    };
    let mut notes = Vec::new();
    let fwd = rs
        .rules
        .iter()
        .filter(|r| r.direction == Direction::Forward)
        .count();
    if fwd > 0 && !opts.remove {
        notes.push(Note::lost(Text::new(
            format!("{fwd} forwarding rule(s) not rendered: firewalld zones filter traffic to and from this host; render network firewalls for nftables or iptables"),
            format!("転送ルール {fwd} 件は出力していません: firewalld のゾーンはこのホストとの通信を制御します。ネットワーク FW は nftables か iptables で出力してください"),
        )));
    }
    let outbound = rs.rules.iter().any(|r| r.direction == Direction::Out);
    if outbound && !opts.remove {
        notes.push(Note::info(Text::new(
            format!("outbound rules matter only where policy {policy} (HOST to ANY) has target DROP or REJECT: firewalld allows outbound by default"),
            format!("送信ルールはポリシー {policy} (HOST から ANY) のターゲットが DROP か REJECT の場合だけ効果があります (firewalld の既定は送信許可)"),
        )));
    }
    let owned = match (opts.mode, opts.remove) {
        (Mode::Replace, false) => "portplan-".to_string(),
        _ => format!("{prefix}-"),
    };
    let effect: Vec<String> = if lang == Lang::Ja {
        if opts.remove {
            vec![
                format!(
                    "ゾーン {zone} (または $PORTPLAN_ZONE) から、サービス {prefix}-* のリッチルール、それらのサービス、"
                ),
                format!(
                    "ipset {prefix}-* とポリシー {policy} を削除します (このポイントのスクリプトが追加したもの)。"
                ),
                "ほかは変更しません。root で実行: sh FILE".into(),
            ]
        } else {
            vec![
                format!(
                    "まず以前の実行で追加したもの ({owned}* という名前のオブジェクトすべて) を削除し、続いてゾーン {zone}"
                ),
                format!(
                    "(または $PORTPLAN_ZONE) に受信ルールごとのサービスとリッチルール、ipset {prefix}-*、送信ルールには"
                ),
                format!(
                    "ポリシー {policy} (HOST から ANY) を追加します。ゾーンのほかのサービス、ポート、ルールはそのままです:"
                ),
                "firewalld はそのいずれかが許可する通信を許可します。root で実行: sh FILE".into(),
            ]
        }
    } else if opts.remove {
        vec![
            format!(
                "Removes from zone {zone} (or $PORTPLAN_ZONE) the rich rules of services {prefix}-*, those"
            ),
            format!(
                "services, ipsets {prefix}-* and policy {policy}: what this point's script added."
            ),
            "Nothing else changes. Run as root: sh FILE.".into(),
        ]
    } else {
        vec![
            format!(
                "First removes what an earlier run added (every object named {owned}*), then adds to zone {zone}"
            ),
            format!(
                "(or $PORTPLAN_ZONE) one service and rich rule per inbound rule, ipsets {prefix}-*, and for"
            ),
            format!(
                "outbound rules policy {policy} (HOST to ANY). The zone's other services, ports and rules"
            ),
            "stay as they are: firewalld accepts what any of them accepts. Run as root: sh FILE."
                .into(),
        ]
    };
    let mut out = String::from("#!/bin/sh\n");
    for l in header_lines(rs, Target::Firewalld, opts, &effect, &notes) {
        let _ = writeln!(out, "{}", format!("# {l}").trim_end());
    }
    let _ = writeln!(
        out,
        "set -eu\nZONE=\"${{PORTPLAN_ZONE:-{zone}}}\"\nFC=\"firewall-cmd --permanent\"\n"
    );
    let _ = writeln!(
        out,
        "# {}",
        lang.pick(
            "Remove what an earlier run added.",
            "以前の実行で追加したものを削除します。"
        )
    );
    let _ = writeln!(
        out,
        "$FC --zone=\"$ZONE\" --list-rich-rules | grep -F 'name=\"{owned}' | while IFS= read -r r; do\n\t$FC --zone=\"$ZONE\" --remove-rich-rule=\"$r\" >/dev/null\ndone"
    );
    let _ = writeln!(
        out,
        "if $FC --get-policies 2>/dev/null | tr ' ' '\\n' | grep -qx '{policy}'; then\n\t$FC --delete-policy='{policy}' >/dev/null\nfi"
    );
    let _ = writeln!(
        out,
        "for s in $($FC --get-services); do\n\tcase \"$s\" in {owned}*) $FC --delete-service=\"$s\" >/dev/null ;; esac\ndone"
    );
    let _ = writeln!(
        out,
        "for s in $($FC --get-ipsets); do\n\tcase \"$s\" in {owned}*) $FC --delete-ipset=\"$s\" >/dev/null ;; esac\ndone\n"
    );
    if opts.remove {
        out.push_str("firewall-cmd --reload\n");
        return Rendered {
            files: vec![(String::new(), out)],
            notes,
        };
    }
    // ipsets for groups of several networks.
    let mut ipsets: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut set_names = Namer::new(FIREWALLD);
    let mut addr = |out: &mut String, a: &Addrs, g: Option<&String>| -> Option<String> {
        let (nets, not) = match a {
            Addrs::Any => return None,
            Addrs::Nets(n) => (n, ""),
            Addrs::Except(n) => (n, "not "),
        };
        if nets.len() == 1 {
            return Some(format!("{not}address=\"{}\"", nets[0]));
        }
        let g = g.cloned().unwrap_or_else(|| "addresses".into());
        let set = match ipsets.get(&g) {
            Some(s) => s.clone(),
            None => {
                let s = set_names.child(&prefix, &g);
                let fam = if nets[0].addr().is_ipv4() {
                    "inet"
                } else {
                    "inet6"
                };
                let _ = writeln!(
                    out,
                    "# {}\n$FC --new-ipset='{s}' --type=hash:net --option=family={fam} >/dev/null",
                    crate::render::one_line(&g)
                );
                for n in nets {
                    let _ = writeln!(out, "$FC --ipset='{s}' --add-entry='{n}' >/dev/null");
                }
                ipsets.insert(g, s.clone());
                s
            }
        };
        Some(format!("{not}ipset=\"{set}\""))
    };
    let mut rules_out = String::new();
    if outbound {
        let head = match lang {
            Lang::En => format!("Outbound: policy {policy}, from the host to anywhere."),
            Lang::Ja => format!("送信: ポリシー {policy} (このホストから任意の宛先へ)。"),
        };
        let _ = writeln!(
            rules_out,
            "# {head}\n$FC --new-policy='{policy}' >/dev/null\n$FC --policy='{policy}' --add-ingress-zone=HOST >/dev/null\n$FC --policy='{policy}' --add-egress-zone=ANY >/dev/null\n"
        );
    }
    for r in &rs.rules {
        if r.direction == Direction::Forward {
            let _ = match lang {
                Lang::En => writeln!(
                    rules_out,
                    "# r{} not rendered (forwarding: firewalld filters traffic to and from this host): {}\n",
                    r.n,
                    r.comment()
                ),
                Lang::Ja => writeln!(
                    rules_out,
                    "# r{} は出力していません (転送: firewalld はこのホストとの通信だけを制御します): {}\n",
                    r.n,
                    r.comment()
                ),
            };
            continue;
        }
        let svc = names.child(&prefix, &format!("r{}", r.n));
        for l in r.note_lines(lang) {
            let _ = writeln!(rules_out, "# {l}");
        }
        let _ = writeln!(
            rules_out,
            "$FC --new-service='{svc}' >/dev/null\n$FC --service='{svc}' --set-description='{}' >/dev/null",
            r.comment().replace('\'', "")
        );
        for (a, b) in &r.ports {
            let port = if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            };
            let _ = writeln!(
                rules_out,
                "$FC --service='{svc}' --add-port='{port}/{}' >/dev/null",
                r.protocol
            );
        }
        let family = match r.family {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        };
        let src = addr(&mut out, &r.src, r.src_group.as_ref());
        let dst = addr(&mut out, &r.dst, r.dst_group.as_ref());
        let mut rich = format!("rule family=\"{family}\"");
        if let Some(s) = src {
            let _ = write!(rich, " source {s}");
        }
        if let Some(d) = dst {
            let _ = write!(rich, " destination {d}");
        }
        let _ = write!(rich, " service name=\"{svc}\" accept");
        let target = if r.direction == Direction::Out {
            format!("--policy='{policy}'")
        } else {
            "--zone=\"$ZONE\"".to_string()
        };
        let _ = writeln!(
            rules_out,
            "$FC {target} --add-rich-rule='{rich}' >/dev/null\n"
        );
    }
    out.push('\n');
    out.push_str(&rules_out);
    out.push_str("firewall-cmd --reload\n");
    Rendered {
        files: vec![(String::new(), out)],
        notes,
    }
}
