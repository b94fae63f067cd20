//! iptables: `iptables-restore` input, plus `ip6tables-restore` input (`FILE.v6`) when there
//! are IPv6 rules.
//!
//! - **replace**: a whole `filter` table, as `iptables-save` writes it: loading it replaces the
//!   table. Network firewalls set FORWARD to DROP (INPUT/OUTPUT stay ACCEPT: the router's own
//!   traffic is not this plan's business); host firewalls set INPUT and OUTPUT to DROP. Each
//!   owned chain accepts ESTABLISHED,RELATED first and drops INVALID.
//! - **merge** (`iptables-restore --noflush`): chain `portplan-<point>` (a host's `-in` and
//!   `-out`) with the rules, and one `-I FORWARD` (INPUT, OUTPUT) jump to it; nothing else in
//!   the table changes.
//! - **remove**: replace mode's table emptied (policies ACCEPT); merge mode's jumps and chains
//!   deleted (a shell script, so that it takes out every jump however often the file was
//!   loaded).
//!
//! Several sources or destinations become one rule per pair; more than 15 ports are split over
//! `multiport` rules; "not in a group" (the internet is "not the site") is one rule that jumps
//! to a chain which RETURNs for the group's networks and accepts the rest. Every rule that
//! accepts or jumps has `-m comment` naming its requirements.

use std::fmt::Write as _;

use crate::i18n::Lang;
use crate::plan::Direction;
use crate::render::ident::{IPTABLES, Namer};
use crate::render::{Addrs, Family, Into, Mode, Options, Rendered, Rule, RuleSet, header_lines};
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

fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        crate::render::one_line(s).replace(['"', '\\'], "'")
    )
}

/// The chains portplan owns and where it hooks them: (chain, base chain, directions).
struct Layout {
    /// (portplan's chain, the chain that jumps to it or that holds the rules, direction).
    chains: Vec<(String, String, Direction)>,
}

fn layout(rs: &RuleSet, opts: &Options, names: &mut Namer) -> Layout {
    let host = rs.kind != "network";
    let pt = &rs.point;
    let base: Vec<String> = match &opts.into {
        Some(Into::Chains(c)) => c.clone(),
        _ if host => vec!["INPUT".into(), "OUTPUT".into()],
        _ => vec!["FORWARD".into()],
    };
    let chains = match (opts.mode, host) {
        (Mode::Replace, true) => vec![
            ("INPUT".into(), "INPUT".into(), Direction::In),
            ("OUTPUT".into(), "OUTPUT".into(), Direction::Out),
        ],
        (Mode::Replace, false) => vec![("FORWARD".into(), "FORWARD".into(), Direction::Forward)],
        (Mode::Merge, true) => vec![
            (
                names.name(&format!("portplan-{pt}-in")),
                base.first().cloned().unwrap_or_else(|| "INPUT".into()),
                Direction::In,
            ),
            (
                names.name(&format!("portplan-{pt}-out")),
                base.get(1).cloned().unwrap_or_else(|| "OUTPUT".into()),
                Direction::Out,
            ),
        ],
        (Mode::Merge, false) => vec![(
            names.name(&format!("portplan-{pt}")),
            base.first().cloned().unwrap_or_else(|| "FORWARD".into()),
            Direction::Forward,
        )],
    };
    Layout { chains }
}

/// The negation chains: one per (negated source group, negated destination group).
struct Negations {
    /// (src group, dst group, chain name, lines).
    chains: Vec<(Option<String>, Option<String>, String)>,
}

impl Negations {
    /// The chain a rule with these negated sides jumps to (creating it and the destination
    /// chain it continues into).
    fn chain(
        &mut self,
        rs: &RuleSet,
        names: &mut Namer,
        src: Option<&String>,
        dst: Option<&String>,
    ) -> String {
        if let Some((_, _, c)) = self
            .chains
            .iter()
            .find(|(s, d, _)| s.as_ref() == src && d.as_ref() == dst)
        {
            return c.clone();
        }
        if src.is_some() && dst.is_some() {
            self.chain(rs, names, None, dst);
        }
        let pt = &rs.point;
        let id = match (src, dst) {
            (Some(s), Some(d)) => format!("portplan-{pt}-not-{s}-s-not-{d}-d"),
            (Some(s), None) => format!("portplan-{pt}-not-{s}-s"),
            (None, Some(d)) => format!("portplan-{pt}-not-{d}-d"),
            (None, None) => unreachable!("only negated sides get a chain"),
        };
        let name = names.name(&id);
        self.chains.push((src.cloned(), dst.cloned(), name.clone()));
        name
    }

    fn lines(&self, rs: &RuleSet, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        for (s, d, name) in &self.chains {
            let (group, flag) = match (s, d) {
                (Some(s), _) => (s, "-s"),
                (None, Some(d)) => (d, "-d"),
                (None, None) => continue,
            };
            let Some(g) = rs.group(group) else { continue };
            for n in &g.nets {
                out.push(format!("-A {name} {flag} {n} -j RETURN"));
            }
            let next = match (s, d) {
                (Some(_), Some(d)) => self
                    .chains
                    .iter()
                    .find(|(s2, d2, _)| s2.is_none() && d2.as_ref() == Some(d))
                    .map(|c| c.2.clone())
                    .unwrap_or_else(|| "ACCEPT".into()),
                _ => "ACCEPT".into(),
            };
            let what = match (flag == "-s", lang) {
                (true, Lang::En) => format!("source not in {group}"),
                (false, Lang::En) => format!("destination not in {group}"),
                (true, Lang::Ja) => format!("送信元が {group} 以外"),
                (false, Lang::Ja) => format!("宛先が {group} 以外"),
            };
            // iptables keeps at most 256 bytes of a comment.
            out.push(format!(
                "-A {name} -m comment --comment {} -j {next}",
                quote(&crate::render::cut_bytes(&format!("portplan: {what}"), 250))
            ));
        }
        out
    }
}

fn rule_lines(
    rule: &Rule,
    chain: &str,
    neg: &mut Negations,
    rs: &RuleSet,
    names: &mut Namer,
) -> Vec<String> {
    let family = rule.family;
    let comment = quote(&rule.comment_max(250));
    let side = |a: &Addrs| -> Vec<Option<String>> {
        match a {
            Addrs::Any | Addrs::Except(_) => vec![None],
            Addrs::Nets(n) => n
                .iter()
                .map(|n| (n.prefix_len() > 0).then(|| n.to_string()))
                .collect(),
        }
    };
    let neg_src = match &rule.src {
        Addrs::Except(_) => rule.src_group.as_ref(),
        _ => None,
    };
    let neg_dst = match &rule.dst {
        Addrs::Except(_) => rule.dst_group.as_ref(),
        _ => None,
    };
    let target = if neg_src.is_some() || neg_dst.is_some() {
        neg.chain(rs, names, neg_src, neg_dst)
    } else {
        "ACCEPT".into()
    };
    let iifs: Vec<Option<&String>> = if rule.iif.is_empty() {
        vec![None]
    } else {
        rule.iif.iter().map(Some).collect()
    };
    let oifs: Vec<Option<&String>> = if rule.oif.is_empty() {
        vec![None]
    } else {
        rule.oif.iter().map(Some).collect()
    };
    let mut out = Vec::new();
    let _ = family;
    for i in &iifs {
        for o in &oifs {
            for s in side(&rule.src) {
                for d in side(&rule.dst) {
                    for ports in port_chunks(rule) {
                        let mut line = format!("-A {chain}");
                        if let Some(i) = i {
                            let _ = write!(line, " -i {i}");
                        }
                        if let Some(o) = o {
                            let _ = write!(line, " -o {o}");
                        }
                        if let Some(s) = &s {
                            let _ = write!(line, " -s {s}");
                        }
                        if let Some(d) = &d {
                            let _ = write!(line, " -d {d}");
                        }
                        let _ = write!(line, " -p {}", rule.protocol);
                        if ports.contains(',') || ports.contains(':') {
                            let _ = write!(line, " -m multiport --dports {ports}");
                        } else {
                            let _ = write!(line, " --dport {ports}");
                        }
                        let _ = write!(line, " -m comment --comment {comment} -j {target}");
                        out.push(line);
                    }
                }
            }
        }
    }
    out
}

fn table(rs: &RuleSet, opts: &Options, family: Family) -> (String, Vec<String>) {
    let host = rs.kind != "network";
    let mut names = Namer::new(IPTABLES);
    let lay = layout(rs, opts, &mut names);
    let mut neg = Negations { chains: vec![] };
    let mut body: Vec<String> = Vec::new();
    for (chain, _, dir) in &lay.chains {
        if opts.mode == Mode::Replace {
            if *dir == Direction::In {
                body.push("-A INPUT -i lo -j ACCEPT".into());
            }
            if *dir == Direction::Out {
                body.push("-A OUTPUT -o lo -j ACCEPT".into());
            }
        }
        body.push(format!(
            "-A {chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
        ));
        if opts.mode == Mode::Replace {
            body.push(format!("-A {chain} -m conntrack --ctstate INVALID -j DROP"));
            if host && family == Family::V6 {
                for t in [
                    "neighbour-solicitation",
                    "neighbour-advertisement",
                    "router-solicitation",
                    "router-advertisement",
                ] {
                    body.push(format!(
                        "-A {chain} -p ipv6-icmp --icmpv6-type {t} -j ACCEPT"
                    ));
                }
            }
        }
        for rule in rs
            .rules
            .iter()
            .filter(|r| r.family == family && r.direction == *dir)
        {
            body.extend(rule.note_lines(opts.lang).iter().map(|l| format!("# {l}")));
            body.extend(rule_lines(rule, chain, &mut neg, rs, &mut names));
        }
    }
    let mut own: Vec<String> = Vec::new();
    if opts.mode == Mode::Merge {
        own.extend(lay.chains.iter().map(|c| c.0.clone()));
    }
    own.extend(neg.chains.iter().map(|c| c.2.clone()));
    let mut out = String::from("*filter\n");
    if opts.mode == Mode::Replace {
        let (input, forward, output) = if host {
            ("DROP", "ACCEPT", "DROP")
        } else {
            ("ACCEPT", "DROP", "ACCEPT")
        };
        let _ = writeln!(
            out,
            ":INPUT {input} [0:0]\n:FORWARD {forward} [0:0]\n:OUTPUT {output} [0:0]"
        );
    }
    for c in &own {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    for l in body {
        let _ = writeln!(out, "{l}");
    }
    for l in neg.lines(rs, opts.lang) {
        let _ = writeln!(out, "{l}");
    }
    if opts.mode == Mode::Merge {
        for (chain, base, _) in &lay.chains {
            let hookup = match opts.lang {
                Lang::En => {
                    format!(
                        "The hook-up: the top of {base} sends every packet through {chain} first."
                    )
                }
                Lang::Ja => {
                    format!("接続: {base} の先頭で、すべてのパケットをまず {chain} に通します。")
                }
            };
            let _ = writeln!(
                out,
                "# {hookup}\n-I {base} 1 -m comment --comment {} -j {chain}",
                quote(&format!("portplan {}", rs.point))
            );
        }
    }
    out.push_str("COMMIT\n");
    (out, own)
}

/// Render the rule set: the IPv4 file, and `.v6` when there are IPv6 rules.
pub fn render(rs: &RuleSet, opts: &Options) -> Rendered {
    let v6 = rs.rules.iter().any(|r| r.family == Family::V6);
    let families: Vec<Family> = if v6 {
        Family::BOTH.to_vec()
    } else {
        vec![Family::V4]
    };
    let mut names = Namer::new(IPTABLES);
    let lay = layout(rs, opts, &mut names);
    let mut files = Vec::new();
    let mut own_all: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    for f in &families {
        let (text, own) = table(rs, opts, *f);
        for c in own {
            if !own_all.contains(&c) {
                own_all.push(c);
            }
        }
        texts.push(text);
    }
    let effect = effect(rs, opts, &lay, &own_all, v6);
    let mut header = String::new();
    for l in header_lines(rs, Target::Iptables, opts, &effect, &[]) {
        let _ = writeln!(header, "{}", format!("# {l}").trim_end());
    }
    if opts.remove {
        match opts.mode {
            Mode::Replace => {
                for (i, _) in families.iter().enumerate() {
                    let suffix = if i == 0 { "" } else { ".v6" };
                    files.push((
                        suffix.to_string(),
                        format!(
                            "{header}*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
                        ),
                    ));
                }
            }
            Mode::Merge => {
                let mut s = format!("#!/bin/sh\n{header}set -u\n");
                for f in &families {
                    let ipt = if *f == Family::V4 {
                        "iptables"
                    } else {
                        "ip6tables"
                    };
                    let c = quote(&format!("portplan {}", rs.point));
                    for (chain, base, _) in &lay.chains {
                        let _ = writeln!(
                            s,
                            "while {ipt} -w -D {base} -m comment --comment {c} -j {chain} 2>/dev/null; do :; done"
                        );
                    }
                    let list = own_all.join(" ");
                    let _ = writeln!(
                        s,
                        "for c in {list}; do {ipt} -w -F \"$c\" 2>/dev/null; done\nfor c in {list}; do {ipt} -w -X \"$c\" 2>/dev/null; done"
                    );
                }
                s.push_str("exit 0\n");
                files.push((String::new(), s));
            }
        }
        return Rendered {
            files,
            notes: vec![],
        };
    }
    for (i, text) in texts.into_iter().enumerate() {
        let suffix = if i == 0 { "" } else { ".v6" };
        files.push((suffix.to_string(), format!("{header}{text}")));
    }
    Rendered {
        files,
        notes: vec![],
    }
}

fn effect(rs: &RuleSet, opts: &Options, lay: &Layout, own: &[String], v6: bool) -> Vec<String> {
    let load = if v6 {
        "iptables-restore FILE and ip6tables-restore FILE.v6"
    } else {
        "iptables-restore FILE"
    };
    let noflush = if v6 {
        "iptables-restore --noflush FILE and ip6tables-restore --noflush FILE.v6"
    } else {
        "iptables-restore --noflush FILE"
    };
    let chains = own.join(", ");
    let bases = lay
        .chains
        .iter()
        .map(|c| c.1.as_str())
        .collect::<Vec<_>>()
        .join(" and ");
    let host = rs.kind != "network";
    let pt = &rs.point;
    match opts.lang {
        Lang::En => match (opts.mode, opts.remove) {
            (Mode::Replace, false) => {
                let (drop, keep) = if host {
                    ("INPUT and OUTPUT", "FORWARD")
                } else {
                    ("FORWARD", "INPUT and OUTPUT")
                };
                vec![
                    "REPLACES the whole filter table: every rule and user chain in it is deleted first.".into(),
                    format!("{drop} get policy DROP and only the plan's rules; {keep} policy ACCEPT, no rules."),
                    format!("Other tables (nat, mangle, raw) are not touched. Load: {load}."),
                ]
            }
            (Mode::Replace, true) => vec![
                "Empties the filter table that --mode replace wrote: no rules, every policy ACCEPT, so the".into(),
                format!("filter table no longer filters anything. Load: {load}."),
            ],
            (Mode::Merge, false) => vec![
                format!("Adds chain(s) {chains} with portplan's rules, and inserts one rule at the top of {bases}"),
                "that jumps to portplan's chain. Portplan's chains only accept (the plan's new connections,".into(),
                "and replies of accepted ones); what they do not accept returns and goes on through the".into(),
                "existing rules and policy. Nothing that exists is changed or removed.".into(),
                format!("Load: {noflush} (without --noflush the table would be replaced)."),
                "Loading it again refreshes portplan's chains and adds one more (harmless) jump; --remove takes".into(),
                "every one out.".into(),
            ],
            (Mode::Merge, true) => vec![
                format!("Deletes every jump to portplan's chain from {bases}, then chain(s) {chains}: what"),
                format!("--mode merge added for {pt}. Nothing else changes. Run: sh FILE."),
            ],
        },
        Lang::Ja => {
            let (load, noflush) = (load.replace(" and ", " と "), noflush.replace(" and ", " と "));
            let bases = bases.replace(" and ", "、");
            match (opts.mode, opts.remove) {
                (Mode::Replace, false) => {
                    let (drop, keep) = if host {
                        ("INPUT と OUTPUT", "FORWARD")
                    } else {
                        ("FORWARD", "INPUT と OUTPUT")
                    };
                    vec![
                        "filter テーブル全体を置き換えます: まずテーブル内のルールとユーザーチェーンをすべて削除します。".into(),
                        format!("{drop} はポリシー DROP で計画のルールだけを持ち、{keep} はポリシー ACCEPT でルールなしです。"),
                        format!("ほかのテーブル (nat、mangle、raw) は変更しません。読み込み: {load}"),
                    ]
                }
                (Mode::Replace, true) => vec![
                    "--mode replace で書いた filter テーブルを空にします (ルールなし、ポリシーはすべて ACCEPT)。".into(),
                    format!("filter テーブルは何も制限しなくなります。読み込み: {load}"),
                ],
                (Mode::Merge, false) => vec![
                    format!("portplan のルールを入れたチェーン {chains} を追加し、{bases} の先頭に"),
                    "portplan のチェーンへジャンプするルールを 1 行挿入します。portplan のチェーンは許可だけを行い".into(),
                    "(計画にある新規接続と、許可した接続の応答)、許可しなかったパケットは戻って既存のルールと".into(),
                    "ポリシーに進みます。既存のものは変更も削除もしません。".into(),
                    format!("読み込み: {noflush} (--noflush なしではテーブルが置き換わります)"),
                    "再度読み込むとチェーンを更新し、ジャンプが 1 行増えます (無害)。--remove はそのすべてを取り除きます。".into(),
                ],
                (Mode::Merge, true) => vec![
                    format!("{bases} から portplan のチェーンへのジャンプをすべて削除し、続いてチェーン {chains} を削除します"),
                    format!("({pt} に --mode merge で追加したもの)。ほかは変更しません。実行: sh FILE"),
                ],
            }
        }
    }
}
