//! nftables: an `nft -f` file.
//!
//! - **replace**: table `inet portplan-<point>`, declared, deleted and declared again, so
//!   loading it twice gives the same ruleset. Network firewalls own the `forward` hook, host
//!   firewalls `input` and `output`; each chain has policy drop, accepts established/related
//!   traffic first and drops invalid. Being a base chain with policy drop, it drops what the
//!   plan does not permit whatever other tables accept.
//! - **merge**: into an existing table (`--into 'inet filter forward'`, the default; a host
//!   firewall's `--into 'inet filter input output'`): a regular chain `portplan-<point>` with
//!   the rules (accepts only, so what it does not accept returns to the base chain), its named
//!   sets, and one `jump` inserted at the top of the base chain. A drop in any base chain is
//!   final, so accepting in a separate table would open nothing behind an existing drop policy.
//! - **remove**: replace mode's table deleted (an nft file); merge mode's jump, chain and sets
//!   deleted (a shell script: nft deletes a rule only by its handle).
//!
//! Address groups with several networks are named interval sets, shared by the rules that use
//! them; "not the site" is `!= @site`. Ports with several ranges are anonymous sets. Every rule
//! carries a comment naming its requirements.

use std::fmt::Write as _;

use crate::i18n::Lang;
use crate::plan::Direction;
use crate::render::ident::{NFT, Namer};
use crate::render::{
    Addrs, Family, Into, Mode, Note, Options, Rendered, Rule, RuleSet, header_lines,
};
use crate::site::Target;
use crate::tr;

fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        crate::render::one_line(s).replace(['"', '\\'], "'")
    )
}

/// The name of the table replace mode writes for `point`.
pub fn table_name(point: &str) -> String {
    crate::render::ident::name(&format!("portplan-{point}"), &NFT)
}

/// Where the rules go.
struct Place {
    /// `inet filter` (merge) or `inet portplan-x` (replace).
    table: String,
    /// Merge: the existing base chains (forward; or input, output).
    base: Vec<String>,
    /// Families the table takes.
    families: Vec<Family>,
}

fn place(rs: &RuleSet, opts: &Options) -> Place {
    let host = rs.kind != "network";
    match (&opts.mode, &opts.into) {
        (
            Mode::Merge,
            Some(Into::Nft {
                family,
                table,
                chains,
            }),
        ) => Place {
            table: format!("{family} {table}"),
            base: chains.clone(),
            families: match family.as_str() {
                "ip" => vec![Family::V4],
                "ip6" => vec![Family::V6],
                _ => Family::BOTH.to_vec(),
            },
        },
        (Mode::Merge, _) => Place {
            table: "inet filter".into(),
            base: if host {
                vec!["input".into(), "output".into()]
            } else {
                vec!["forward".into()]
            },
            families: Family::BOTH.to_vec(),
        },
        (Mode::Replace, _) => Place {
            table: format!("inet {}", table_name(&rs.point)),
            base: vec![],
            families: Family::BOTH.to_vec(),
        },
    }
}

/// The chains portplan writes: (name, hook, directions).
fn own_chains(rs: &RuleSet, opts: &Options, names: &mut Namer) -> Vec<(String, &'static str)> {
    let host = rs.kind != "network";
    let pt = &rs.point;
    match opts.mode {
        Mode::Replace if host => vec![("input".into(), "input"), ("output".into(), "output")],
        Mode::Replace => vec![("forward".into(), "forward")],
        Mode::Merge if host => vec![
            (names.name(&format!("portplan-{pt}-in")), "input"),
            (names.name(&format!("portplan-{pt}-out")), "output"),
        ],
        Mode::Merge => vec![(names.name(&format!("portplan-{pt}")), "forward")],
    }
}

fn hook_of(d: Direction) -> &'static str {
    match d {
        Direction::Forward => "forward",
        Direction::In => "input",
        Direction::Out => "output",
    }
}

/// One side's match: `ip saddr @clients `, `ip daddr != @site `, or nothing for `Any`.
fn side(rule: &Rule, addrs: &Addrs, group: Option<&String>, dir: &str, sets: &SetNames) -> String {
    let fam = match rule.family {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    };
    let (nets, neg) = match addrs {
        Addrs::Any => return String::new(),
        Addrs::Nets(n) => (n, ""),
        Addrs::Except(n) => (n, "!= "),
    };
    match (nets.as_slice(), group.and_then(|g| sets.get(g))) {
        ([one], _) => format!("{fam} {dir} {neg}{one} "),
        (_, Some(set)) => format!("{fam} {dir} {neg}@{set} "),
        (many, None) => {
            let list: Vec<String> = many.iter().map(|n| n.to_string()).collect();
            format!("{fam} {dir} {neg}{{ {} }} ", list.join(", "))
        }
    }
}

fn ifaces(kw: &str, list: &[String]) -> String {
    match list {
        [] => String::new(),
        [one] => format!("{kw} {} ", quote(one)),
        many => {
            let q: Vec<String> = many.iter().map(|i| quote(i)).collect();
            format!("{kw} {{ {} }} ", q.join(", "))
        }
    }
}

/// Group name → set name, for the groups with more than one network (in first-use order).
struct SetNames(
    Vec<(String, String)>,
    std::collections::HashMap<String, String>,
);

impl SetNames {
    fn get(&self, group: &str) -> Option<&String> {
        self.1.get(group)
    }
}

fn rule_line(rule: &Rule, sets: &SetNames) -> String {
    let mut line = String::new();
    line.push_str(&ifaces("iifname", &rule.iif));
    line.push_str(&ifaces("oifname", &rule.oif));
    if matches!((&rule.src, &rule.dst), (Addrs::Any, Addrs::Any)) {
        line.push_str(match rule.family {
            Family::V4 => "meta nfproto ipv4 ",
            Family::V6 => "meta nfproto ipv6 ",
        });
    }
    line.push_str(&side(
        rule,
        &rule.src,
        rule.src_group.as_ref(),
        "saddr",
        sets,
    ));
    line.push_str(&side(
        rule,
        &rule.dst,
        rule.dst_group.as_ref(),
        "daddr",
        sets,
    ));
    let ports = rule.ports_text("-");
    let ports = if rule.ports.len() == 1 {
        ports
    } else {
        format!("{{ {} }}", ports.replace(',', ", "))
    };
    let _ = write!(
        line,
        "{} dport {ports} accept comment {}",
        rule.protocol,
        quote(&rule.comment_max(128))
    );
    line
}

/// Render the rule set.
pub fn render(rs: &RuleSet, opts: &Options) -> Rendered {
    let pl = place(rs, opts);
    let mut names = Namer::new(NFT);
    let chains = own_chains(rs, opts, &mut names);
    let mut notes = Vec::new();
    let skipped: Vec<&Rule> = rs
        .rules
        .iter()
        .filter(|r| !pl.families.contains(&r.family))
        .collect();
    if !skipped.is_empty() && !opts.remove {
        let (k, t) = (skipped.len(), &pl.table);
        notes.push(Note::lost(tr!(
            "{k} rule(s) of the other address family not rendered: table {t} cannot hold them (merge into an inet table)",
            "もう一方のアドレスファミリのルール {k} 件は出力していません: テーブル {t} には書けません (inet テーブルにマージしてください)"
        )));
    }
    let rules: Vec<&Rule> = rs
        .rules
        .iter()
        .filter(|r| pl.families.contains(&r.family))
        .collect();
    // Named sets: the groups of more than one network the rules use.
    let mut used: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &rules {
        for (a, g) in [(&r.src, &r.src_group), (&r.dst, &r.dst_group)] {
            if let (Addrs::Nets(n) | Addrs::Except(n), Some(g)) = (a, g)
                && n.len() > 1
                && seen.insert(g.as_str())
            {
                used.push(g);
            }
        }
    }
    let set_prefix = match opts.mode {
        Mode::Replace => String::new(),
        Mode::Merge => format!("portplan-{}-", rs.point),
    };
    let pairs: Vec<(String, String)> = used
        .iter()
        .map(|g| (g.to_string(), names.name(&format!("{set_prefix}{g}"))))
        .collect();
    let sets = SetNames(pairs.clone(), pairs.into_iter().collect());
    let t = &pl.table;
    let lang = opts.lang;
    let effect = effect(rs, opts, &pl, &chains, &sets);
    let mut out = String::new();
    out.push_str(if opts.remove && opts.mode == Mode::Merge {
        "#!/bin/sh\n"
    } else {
        "#!/usr/sbin/nft -f\n"
    });
    for l in header_lines(rs, Target::Nftables, opts, &effect, &notes) {
        let _ = writeln!(out, "{}", format!("# {l}").trim_end());
    }
    out.push('\n');
    if opts.remove {
        match opts.mode {
            Mode::Replace => {
                let _ = writeln!(out, "table {t}\ndelete table {t}");
            }
            Mode::Merge => {
                out.push_str("set -eu\n");
                for ((chain, _), base) in chains.iter().zip(&pl.base) {
                    let pat = chain.replace('.', "\\.");
                    let _ = writeln!(
                        out,
                        "for h in $(nft -a list chain {t} {base} | sed -n 's/.*[[:space:]]jump {pat} comment .*# handle \\([0-9][0-9]*\\)$/\\1/p'); do\n\tnft delete rule {t} {base} handle \"$h\"\ndone"
                    );
                }
                for (chain, _) in &chains {
                    let _ = writeln!(
                        out,
                        "nft flush chain {t} {chain}\nnft delete chain {t} {chain}"
                    );
                }
                for (_, set) in &sets.0 {
                    let _ = writeln!(out, "nft delete set {t} {set}");
                }
            }
        }
        return Rendered {
            files: vec![(String::new(), out)],
            notes,
        };
    }
    let index = rs.group_index();
    let set_decl = |out: &mut String, indent: &str, g: &str, set: &str, inline: bool| {
        let Some(group) = index.get(g) else { return };
        let ty = match group.family {
            Family::V4 => "ipv4_addr",
            Family::V6 => "ipv6_addr",
        };
        let elems: Vec<String> = group.nets.iter().map(|n| n.to_string()).collect();
        let _ = writeln!(
            out,
            "{indent}# {}",
            crate::render::one_line(&format!("{}: {}", group.name, group.what.get(lang)))
        );
        if inline {
            let _ = writeln!(
                out,
                "\tset {set} {{\n\t\ttype {ty}\n\t\tflags interval\n\t\telements = {{ {} }}\n\t}}\n",
                elems.join(", ")
            );
        } else {
            let _ = writeln!(
                out,
                "add set {t} {set} {{ type {ty}; flags interval; }}\nflush set {t} {set}\nadd element {t} {set} {{ {} }}",
                elems.join(", ")
            );
        }
    };
    match opts.mode {
        Mode::Replace => {
            let _ = writeln!(
                out,
                "# {}\ntable {t}\ndelete table {t}\n\ntable {t} {{",
                lang.pick(
                    "Replace the table if it exists.",
                    "テーブルがあれば作り直します。"
                )
            );
            for (g, set) in &sets.0 {
                set_decl(&mut out, "\t", g, set, true);
            }
            for (name, hook) in &chains {
                let _ = writeln!(
                    out,
                    "\tchain {name} {{\n\t\ttype filter hook {hook} priority filter; policy drop;"
                );
                if *hook != "forward" {
                    let lo = if *hook == "input" { "iif" } else { "oif" };
                    let _ = writeln!(out, "\t\t{lo} \"lo\" accept");
                }
                out.push_str(
                    "\t\tct state established,related accept\n\t\tct state invalid drop\n",
                );
                if *hook != "forward" {
                    let _ = writeln!(
                        out,
                        "\t\t# {}",
                        lang.pick(
                            "IPv6 neighbour discovery keeps the host reachable at all.",
                            "IPv6 の近隣探索 (ND) がないとホストに到達できなくなるため許可します。"
                        )
                    );
                    out.push_str("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept\n");
                }
                for r in rules.iter().filter(|r| hook_of(r.direction) == *hook) {
                    for l in r.note_lines(lang) {
                        let _ = writeln!(out, "\t\t# {l}");
                    }
                    let _ = writeln!(out, "\t\t{}", rule_line(r, &sets));
                }
                out.push_str("\t}\n");
            }
            out.push_str("}\n");
        }
        Mode::Merge => {
            for (name, _) in &chains {
                let _ = writeln!(out, "add chain {t} {name}\nflush chain {t} {name}");
            }
            for (g, set) in &sets.0 {
                set_decl(&mut out, "", g, set, false);
            }
            for (name, hook) in &chains {
                let _ = writeln!(
                    out,
                    "# {}\nadd rule {t} {name} ct state established,related accept comment {}",
                    lang.pick(
                        "Replies of connections that were accepted.",
                        "許可した接続の応答。"
                    ),
                    quote(&crate::render::cut_bytes(
                        &format!("portplan {}: {}", rs.point, lang.pick("replies", "応答")),
                        128
                    ))
                );
                for r in rules.iter().filter(|r| hook_of(r.direction) == *hook) {
                    for l in r.note_lines(lang) {
                        let _ = writeln!(out, "# {l}");
                    }
                    let _ = writeln!(out, "add rule {t} {name} {}", rule_line(r, &sets));
                }
            }
            for ((name, _), base) in chains.iter().zip(&pl.base) {
                let hookup = match lang {
                    Lang::En => {
                        format!(
                            "The hook-up: the top of {base} sends every packet through {name} first."
                        )
                    }
                    Lang::Ja => {
                        format!("接続: {base} の先頭で、すべてのパケットをまず {name} に通します。")
                    }
                };
                let _ = writeln!(
                    out,
                    "# {hookup}\ninsert rule {t} {base} jump {name} comment {}",
                    quote(&crate::render::cut_bytes(
                        &format!("portplan {}", rs.point),
                        128
                    ))
                );
            }
        }
    }
    Rendered {
        files: vec![(String::new(), out)],
        notes,
    }
}

/// What loading the file does, in plain words, in the options' language.
fn effect(
    rs: &RuleSet,
    opts: &Options,
    pl: &Place,
    chains: &[(String, &'static str)],
    sets: &SetNames,
) -> Vec<String> {
    let t = &pl.table;
    let chain_list = chains
        .iter()
        .map(|c| c.0.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let set_names = sets
        .0
        .iter()
        .map(|s| s.1.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let hooks = chains.iter().map(|c| c.1).collect::<Vec<_>>().join(" and ");
    let base = pl.base.join(" and ");
    let pt = &rs.point;
    match opts.lang {
        Lang::En => {
            let set_list = if sets.0.is_empty() {
                "no sets".to_string()
            } else {
                format!("sets {set_names}")
            };
            match (opts.mode, opts.remove) {
                (Mode::Replace, false) => vec![
                    format!("Deletes table {t} if it exists and creates it anew; no other table changes."),
                    format!(
                        "Its base chain(s) {chain_list} (hook {hooks}) have policy drop: a packet this table drops"
                    ),
                    "is dropped whatever other tables accept (a drop in any base chain is final), so on a"
                        .into(),
                    "machine with other rules this table narrows them to the plan. Load: nft -f FILE."
                        .into(),
                ],
                (Mode::Replace, true) => vec![format!(
                    "Deletes table {t} (what --mode replace created); no other table changes. Load: nft -f FILE."
                )],
                (Mode::Merge, false) => vec![
                    format!("Adds to the existing table {t}: chain(s) {chain_list} with portplan's rules and {set_list};"),
                    format!("and inserts one rule at the top of base chain(s) {base}: `jump` to portplan's chain."),
                    "Portplan's chains only accept (the plan's new connections, and replies of accepted ones);".into(),
                    "what they do not accept goes on through the base chain's own rules and policy.".into(),
                    "Nothing that exists is changed or removed. The table and base chains must exist: loading".into(),
                    "fails otherwise, changing nothing. Load: nft -f FILE. Take out with: portplan render ... --remove.".into(),
                    "Loading it again refreshes portplan's chains and sets and adds one more (harmless) jump;".into(),
                    "--remove takes every one out.".into(),
                ],
                (Mode::Merge, true) => vec![
                    format!(
                        "Deletes from table {t} every `jump` to {chain_list} in {}, then chain(s) {chain_list}",
                        pl.base.join(", ")
                    ),
                    format!(
                        "and {set_list}: what --mode merge added for {pt}. Nothing else changes. Run: sh FILE."
                    ),
                ],
            }
        }
        Lang::Ja => {
            let set_list = if sets.0.is_empty() {
                String::new()
            } else {
                format!("とセット {set_names} ")
            };
            let hooks = chains.iter().map(|c| c.1).collect::<Vec<_>>().join("、");
            let base = pl.base.join("、");
            match (opts.mode, opts.remove) {
                (Mode::Replace, false) => vec![
                    format!("テーブル {t} があれば削除して作り直します。ほかのテーブルは変更しません。"),
                    format!("ベースチェーン {chain_list} (フック {hooks}) のポリシーは drop です。このテーブルが破棄した"),
                    "パケットは、ほかのテーブルが許可しても破棄されます (どのベースチェーンの drop も最終的)。".into(),
                    "ほかのルールがあるマシンでは、このテーブルが通信を計画の範囲に絞ります。読み込み: nft -f FILE".into(),
                ],
                (Mode::Replace, true) => vec![format!(
                    "テーブル {t} (--mode replace で作成したもの) を削除します。ほかのテーブルは変更しません。読み込み: nft -f FILE"
                )],
                (Mode::Merge, false) => vec![
                    format!("既存のテーブル {t} に、portplan のルールを入れたチェーン {chain_list} {set_list}を追加し、"),
                    format!("ベースチェーン {base} の先頭に portplan のチェーンへの `jump` を 1 行挿入します。"),
                    "portplan のチェーンは許可だけを行います (計画にある新規接続と、許可した接続の応答)。".into(),
                    "許可しなかったパケットは、ベースチェーン自身のルールとポリシーに進みます。".into(),
                    "既存のものは変更も削除もしません。テーブルとベースチェーンが存在しない場合は読み込みが失敗し、".into(),
                    "何も変わりません。読み込み: nft -f FILE。取り外し: portplan render ... --remove".into(),
                    "再度読み込むと portplan のチェーンとセットを更新し、`jump` が 1 行増えます (無害)。".into(),
                    "--remove はそのすべてを取り除きます。".into(),
                ],
                (Mode::Merge, true) => vec![
                    format!(
                        "テーブル {t} の {} から {chain_list} への `jump` をすべて削除し、続いてチェーン {chain_list} {set_list}を",
                        pl.base.join(", ")
                    ),
                    format!(
                        "削除します ({pt} に --mode merge で追加したもの)。ほかは変更しません。実行: sh FILE"
                    ),
                ],
            }
        }
    }
}
