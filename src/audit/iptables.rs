//! Reading `iptables-save` / `ip6tables-save` output (also `iptables-restore` input).
//!
//! Every table: `raw` (priority -300), `mangle` (-150), `nat` (-100 / 100), `filter` (0),
//! `security` (50), each built-in chain on its hook. Matches modelled exactly: `-s`/`-d`
//! (lists, masks, `!`, also the old `-s ! x`), `-p`, `-i`/`-o` (`+`), `-m tcp/udp/sctp/dccp`
//! ports, `--tcp-flags`, `--syn`, `-m multiport --dports/--sports/--ports`, `-m state`,
//! `-m conntrack --ctstate` (incl. UNTRACKED, SNAT, DNAT), `-m icmp/icmp6` types and codes (numbers
//! and names), `-m mark`, `-m connmark`, `-m iprange`, `-m set` (with `ipset save` contents),
//! `-m addrtype --src/dst-type MULTICAST`, `-m recent --set` (always matches), `-m comment`.
//! Targets: ACCEPT, DROP, REJECT, RETURN, user chains (jump, `-g` goto), LOG and other
//! non-terminating targets, MARK, CONNMARK, NOTRACK / CT --notrack, DNAT, REDIRECT, SNAT,
//! MASQUERADE, NETMAP. Everything else on a rule (rate and history matches, owner, physdev,
//! fragments, unknown targets, …) is kept as an unknown part, bounded both ways, and named by
//! line. A file that is not complete (no table, a table without COMMIT, a rule for an undeclared
//! chain) is an error naming the line: such a file cannot be what the kernel holds.

use ipnet::IpNet;

use crate::audit::ipset::{Sets, parse_u32};
use crate::audit::model::{
    Chain, ChainType, Effect, Families, Hook, Match, Prim, Rule, Ruleset, Verdict, proto_number,
};
use crate::i18n::Text;
use crate::packet::{CtState, tcp};
use crate::site::parse_net;

/// Split a line into words, honouring double quotes (as iptables-save writes them).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    let mut chars = line.chars().peekable();
    let mut has = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_q = !in_q;
                has = true;
            }
            '\\' if in_q => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !in_q => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn port_ranges(spec: &str) -> Option<Vec<(u16, u16)>> {
    spec.split(',')
        .map(|p| match p.split_once(':') {
            Some((a, b)) => {
                let a = if a.is_empty() { 0 } else { a.parse().ok()? };
                let b = if b.is_empty() { 65535 } else { b.parse().ok()? };
                // iptables swaps reversed ranges
                Some(if a <= b { (a, b) } else { (b, a) })
            }
            None => p.parse().ok().map(|x| (x, x)),
        })
        .collect()
}

fn ct_states(spec: &str) -> Option<(Vec<CtState>, bool, bool)> {
    let (mut v, mut dnat, mut snat) = (Vec::new(), false, false);
    for s in spec.split(',') {
        match s.to_ascii_uppercase().as_str() {
            "NEW" => v.push(CtState::New),
            "ESTABLISHED" => v.push(CtState::Established),
            "RELATED" => v.push(CtState::Related),
            "INVALID" => v.push(CtState::Invalid),
            "UNTRACKED" => v.push(CtState::Untracked),
            "DNAT" => dnat = true,
            "SNAT" => snat = true,
            _ => return None,
        }
    }
    Some((v, dnat, snat))
}

fn state_match(spec: &str) -> Option<Match> {
    let (states, dnat, snat) = ct_states(spec)?;
    let mut any = Vec::new();
    if !states.is_empty() {
        any.push(Match::prim(Prim::State { states }));
    }
    if dnat {
        any.push(Match::prim(Prim::CtStatus {
            dnat: true,
            neg: false,
        }));
    }
    if snat {
        any.push(Match::prim(Prim::CtStatus {
            dnat: false,
            neg: false,
        }));
    }
    Some(Match::any(any))
}

/// An address list: `a,b/24,c/255.255.0.0`. Non-contiguous masks are not prefixes.
fn nets(spec: &str) -> Option<Vec<IpNet>> {
    spec.split(',')
        .map(|p| match p.split_once('/') {
            Some((a, m)) if m.contains('.') || (m.contains(':') && !a.is_empty()) => {
                let mask: std::net::IpAddr = m.parse().ok()?;
                let len = match mask {
                    std::net::IpAddr::V4(x) => {
                        let b = u32::from(x);
                        if b.leading_ones() + b.trailing_zeros() != 32 {
                            return None;
                        }
                        b.leading_ones()
                    }
                    std::net::IpAddr::V6(x) => {
                        let b = u128::from(x);
                        if b.leading_ones() + b.trailing_zeros() != 128 {
                            return None;
                        }
                        b.leading_ones()
                    }
                };
                parse_net(&format!("{a}/{len}"))
            }
            _ => parse_net(p),
        })
        .collect()
}

fn mark_value(spec: &str) -> Option<(u32, u32)> {
    match spec.split_once('/') {
        Some((v, m)) => Some((parse_u32(v)?, parse_u32(m)?)),
        None => Some((parse_u32(spec)?, u32::MAX)),
    }
}

/// ICMP type names as iptables spells them: (type, Some(code)) or (type, None) for any code.
fn icmp_name(t: &str, v6: bool) -> Option<(u8, Option<u8>)> {
    let v4 = [
        ("any", (255, None)),
        ("echo-reply", (0, None)),
        ("pong", (0, None)),
        ("destination-unreachable", (3, None)),
        ("network-unreachable", (3, Some(0))),
        ("host-unreachable", (3, Some(1))),
        ("protocol-unreachable", (3, Some(2))),
        ("port-unreachable", (3, Some(3))),
        ("fragmentation-needed", (3, Some(4))),
        ("source-route-failed", (3, Some(5))),
        ("network-unknown", (3, Some(6))),
        ("host-unknown", (3, Some(7))),
        ("network-prohibited", (3, Some(9))),
        ("host-prohibited", (3, Some(10))),
        ("TOS-network-unreachable", (3, Some(11))),
        ("TOS-host-unreachable", (3, Some(12))),
        ("communication-prohibited", (3, Some(13))),
        ("host-precedence-violation", (3, Some(14))),
        ("precedence-cutoff", (3, Some(15))),
        ("source-quench", (4, None)),
        ("redirect", (5, None)),
        ("network-redirect", (5, Some(0))),
        ("host-redirect", (5, Some(1))),
        ("TOS-network-redirect", (5, Some(2))),
        ("TOS-host-redirect", (5, Some(3))),
        ("echo-request", (8, None)),
        ("ping", (8, None)),
        ("router-advertisement", (9, None)),
        ("router-solicitation", (10, None)),
        ("time-exceeded", (11, None)),
        ("ttl-exceeded", (11, None)),
        ("ttl-zero-during-transit", (11, Some(0))),
        ("ttl-zero-during-reassembly", (11, Some(1))),
        ("parameter-problem", (12, None)),
        ("ip-header-bad", (12, Some(0))),
        ("required-option-missing", (12, Some(1))),
        ("timestamp-request", (13, None)),
        ("timestamp-reply", (14, None)),
        ("address-mask-request", (17, None)),
        ("address-mask-reply", (18, None)),
    ];
    let v6n = [
        ("destination-unreachable", (1, None)),
        ("no-route", (1, Some(0))),
        ("communication-prohibited", (1, Some(1))),
        ("beyond-scope", (1, Some(2))),
        ("address-unreachable", (1, Some(3))),
        ("port-unreachable", (1, Some(4))),
        ("failed-policy", (1, Some(5))),
        ("reject-route", (1, Some(6))),
        ("packet-too-big", (2, None)),
        ("time-exceeded", (3, None)),
        ("ttl-exceeded", (3, None)),
        ("ttl-zero-during-transit", (3, Some(0))),
        ("ttl-zero-during-reassembly", (3, Some(1))),
        ("parameter-problem", (4, None)),
        ("bad-header", (4, Some(0))),
        ("unknown-header-type", (4, Some(1))),
        ("unknown-option", (4, Some(2))),
        ("echo-request", (128, None)),
        ("ping", (128, None)),
        ("echo-reply", (129, None)),
        ("pong", (129, None)),
        ("mld-listener-query", (130, None)),
        ("mld-listener-report", (131, None)),
        ("mld-listener-done", (132, None)),
        ("mld-listener-reduction", (132, None)),
        ("router-solicitation", (133, None)),
        ("router-advertisement", (134, None)),
        ("neighbour-solicitation", (135, None)),
        ("neighbor-solicitation", (135, None)),
        ("neighbour-advertisement", (136, None)),
        ("neighbor-advertisement", (136, None)),
        ("redirect", (137, None)),
    ];
    let table: &[(&str, (u8, Option<u8>))] = if v6 { &v6n } else { &v4 };
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(t))
        .map(|(_, v)| *v)
}

/// `--icmp-type T[/C]` (numbers or a name) as `type << 8 | code` ranges.
fn icmp_ranges(spec: &str, v6: bool) -> Option<Vec<(u16, u16)>> {
    let (t, c) = match spec.split_once('/') {
        Some((t, c)) => (t.parse::<u8>().ok()?, Some(c.parse::<u8>().ok()?)),
        None => match spec.parse::<u8>() {
            Ok(t) => (t, None),
            Err(_) => icmp_name(spec, v6)?,
        },
    };
    if t == 255 && c.is_none() && !v6 {
        return Some(vec![(0, 0xffff)]); // "any"
    }
    let t = u16::from(t);
    Some(match c {
        Some(c) => vec![(t << 8 | u16::from(c), t << 8 | u16::from(c))],
        None => vec![(t << 8, t << 8 | 0xff)],
    })
}

fn tcp_flag_bits(s: &str) -> Option<u8> {
    let mut v = 0u8;
    for f in s.split(',') {
        v |= match f.to_ascii_uppercase().as_str() {
            "FIN" => tcp::FIN,
            "SYN" => tcp::SYN,
            "RST" => tcp::RST,
            "PSH" => tcp::PSH,
            "ACK" => tcp::ACK,
            "URG" => tcp::URG,
            "ECE" => tcp::ECE,
            "CWR" => tcp::CWR,
            "ALL" => 0xff,
            "NONE" => 0,
            _ => return None,
        };
    }
    Some(v)
}

/// Tables with their base chains' types and priorities.
fn base_of(table: &str, chain: &str) -> Option<(Hook, ChainType, i64)> {
    let hook = match chain {
        "PREROUTING" => Hook::Prerouting,
        "INPUT" => Hook::Input,
        "FORWARD" => Hook::Forward,
        "OUTPUT" => Hook::Output,
        "POSTROUTING" => Hook::Postrouting,
        _ => return None,
    };
    let (ty, prio) = match table {
        "raw" => (ChainType::Filter, -300),
        "mangle" if hook == Hook::Output => (ChainType::Route, -150),
        "mangle" => (ChainType::Filter, -150),
        "nat" => (
            ChainType::Nat,
            match hook {
                Hook::Prerouting | Hook::Output => -100,
                _ => 100,
            },
        ),
        "filter" => (ChainType::Filter, 0),
        "security" => (ChainType::Filter, 50),
        _ => return None,
    };
    // Built-in chains each table has.
    let ok = match table {
        "raw" => matches!(hook, Hook::Prerouting | Hook::Output),
        "filter" | "security" => matches!(hook, Hook::Input | Hook::Forward | Hook::Output),
        "nat" => !matches!(hook, Hook::Forward),
        _ => true,
    };
    ok.then_some((hook, ty, prio))
}

fn err(n: usize, en: String, ja: String) -> Text {
    Text::new(format!("line {n}: {en}"), format!("{n} 行目: {ja}"))
}

fn shown(line: &str) -> String {
    line.chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Parse iptables-save text of one family (`v6`: ip6tables-save).
pub fn parse(text: &str, v6: bool, sets: &Sets) -> Result<Ruleset, Text> {
    let fam = if v6 { "ip6" } else { "ip" };
    let families = if v6 { Families::V6 } else { Families::V4 };
    let mut rs = Ruleset {
        covers_v4: !v6,
        covers_v6: v6,
        ..Ruleset::default()
    };
    let mut sets = sets.clone();
    // Sets that SET targets change at run time are not what the dump says.
    for line in text.lines() {
        let w = words(line);
        if let Some(i) = w.iter().position(|x| x == "SET") {
            for j in i..w.len() {
                if (w[j] == "--add-set" || w[j] == "--del-set")
                    && let Some(n) = w.get(j + 1)
                {
                    sets.make_dynamic(n, "changed at run time by a SET target");
                }
            }
        }
    }
    let mut table: Option<(String, usize)> = None;
    let mut tables = 0;
    let mut first_table_chain = 0;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let mut line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `iptables-save -c`: counters before the rule.
        if line.starts_with('[')
            && let Some(end) = line.find(']')
        {
            line = line[end + 1..].trim_start();
        }
        if let Some(t) = line.strip_prefix('*') {
            if let Some((open, at)) = &table {
                return Err(err(
                    n,
                    format!(
                        "table *{t} starts before table *{open} (line {at}) was committed: the file is truncated or edited"
                    ),
                    format!(
                        "テーブル *{open} ({at} 行目) の COMMIT の前に *{t} が始まっています: ファイルが途中で切れているか編集されています"
                    ),
                ));
            }
            let t = t.trim().to_string();
            if !matches!(t.as_str(), "raw" | "mangle" | "nat" | "filter" | "security") {
                return Err(err(
                    n,
                    format!("unknown table *{t}"),
                    format!("テーブル *{t} は知られていません"),
                ));
            }
            table = Some((t, n));
            tables += 1;
            first_table_chain = rs.chains.len();
            continue;
        }
        if line == "COMMIT" {
            if table.is_none() {
                return Err(err(
                    n,
                    "COMMIT outside a table".into(),
                    "テーブルの外に COMMIT があります".into(),
                ));
            }
            table = None;
            continue;
        }
        let Some((tname, _)) = &table else {
            return Err(err(
                n,
                format!(
                    "`{}` is not iptables-save output (expected `*TABLE`, `:CHAIN`, `-A …` or `COMMIT`)",
                    shown(line)
                ),
                format!(
                    "`{}` は iptables-save の出力ではありません (`*TABLE`、`:CHAIN`、`-A …`、`COMMIT` のいずれかが必要です)",
                    shown(line)
                ),
            ));
        };
        let tname = tname.clone();
        let table_id = format!("{fam} {tname}");
        if let Some(rest) = line.strip_prefix(':') {
            let w: Vec<&str> = rest.split_whitespace().collect();
            let Some(name) = w.first() else {
                return Err(err(
                    n,
                    format!("cannot read chain line `{}`", shown(line)),
                    format!("チェイン行 `{}` が読めません", shown(line)),
                ));
            };
            let policy = match w.get(1) {
                Some(&"DROP") => Verdict::Drop,
                _ => Verdict::Accept,
            };
            declare(
                &mut rs,
                &table_id,
                &tname,
                name,
                families,
                policy,
                first_table_chain,
            );
            continue;
        }
        let w = words(line);
        let cmd = w.first().map(String::as_str).unwrap_or("");
        match cmd {
            "-A" | "--append" | "-I" | "--insert" if w.len() >= 2 => {
                let chain_name = w[1].clone();
                let mut args = &w[2..];
                let mut pos: Option<usize> = None;
                if cmd.starts_with("-I") || cmd == "--insert" {
                    pos = Some(0);
                    if let Some(k) = args.first().and_then(|x| x.parse::<usize>().ok()) {
                        pos = Some(k.saturating_sub(1));
                        args = &args[1..];
                    }
                }
                let rule = parse_rule(args, n, line, v6, &tname, &chain_name, &sets);
                let Some(c) = rs.chains[first_table_chain..]
                    .iter_mut()
                    .find(|c| c.name == chain_name)
                else {
                    return Err(err(
                        n,
                        format!("rule for chain {chain_name}, which the table does not declare"),
                        format!("テーブルで宣言されていないチェイン {chain_name} のルールです"),
                    ));
                };
                match pos {
                    Some(p) => {
                        let p = p.min(c.rules.len());
                        c.rules.insert(p, rule)
                    }
                    None => c.rules.push(rule),
                }
            }
            "-N" | "--new-chain" if w.len() >= 2 => {
                declare(
                    &mut rs,
                    &table_id,
                    &tname,
                    &w[1],
                    families,
                    Verdict::Accept,
                    first_table_chain,
                );
            }
            "-P" | "--policy" if w.len() >= 3 => {
                let policy = if w[2] == "DROP" {
                    Verdict::Drop
                } else {
                    Verdict::Accept
                };
                declare(
                    &mut rs,
                    &table_id,
                    &tname,
                    &w[1],
                    families,
                    policy.clone(),
                    first_table_chain,
                );
                if let Some(c) = rs.chains[first_table_chain..]
                    .iter_mut()
                    .find(|c| c.name == w[1])
                {
                    c.policy = policy;
                }
            }
            "-F" | "--flush" => {
                for c in rs.chains[first_table_chain..].iter_mut() {
                    if w.len() < 2 || c.name == w[1] {
                        c.rules.clear();
                    }
                }
            }
            "-X" | "--delete-chain" | "-Z" | "--zero" => {}
            _ => {
                return Err(err(
                    n,
                    format!("`{}` is not an iptables-save line", shown(line)),
                    format!("`{}` は iptables-save の行ではありません", shown(line)),
                ));
            }
        }
    }
    if let Some((t, at)) = table {
        return Err(err(
            at,
            format!("table *{t} has no COMMIT: the file is truncated"),
            format!("テーブル *{t} に COMMIT がありません: ファイルが途中で切れています"),
        ));
    }
    if tables == 0 {
        return Err(Text::new(
            "no table (`*filter` …) in the file: not iptables-save output".to_string(),
            "テーブル (`*filter` など) がありません: iptables-save の出力ではありません"
                .to_string(),
        ));
    }
    // Jumps to names that are not chains of the table are extension targets.
    let names: Vec<(String, String)> = rs
        .chains
        .iter()
        .map(|c| (c.table.clone(), c.name.clone()))
        .collect();
    for c in &mut rs.chains {
        for r in &mut c.rules {
            if let Verdict::Jump(t) | Verdict::Goto(t) = &r.verdict
                && !names.iter().any(|(tb, nm)| *tb == c.table && nm == t)
            {
                r.verdict = Verdict::Unknown(format!("-j {t}"));
            }
        }
    }
    Ok(rs)
}

fn declare(
    rs: &mut Ruleset,
    table_id: &str,
    tname: &str,
    name: &str,
    families: Families,
    policy: Verdict,
    from: usize,
) {
    if rs.chains[from..].iter().any(|c| c.name == name) {
        return;
    }
    let base = base_of(tname, name);
    rs.chains.push(Chain {
        table: table_id.to_string(),
        name: name.to_string(),
        families,
        hook: base.as_ref().map(|b| b.0.clone()),
        device: None,
        ty: base.as_ref().map_or(ChainType::Filter, |b| b.1),
        priority: base.as_ref().map_or(0, |b| b.2),
        policy,
        rules: vec![],
    });
}

/// Core options that end a module's option list.
fn is_core(opt: &str) -> bool {
    matches!(
        opt,
        "-s" | "--source"
            | "-d"
            | "--destination"
            | "-p"
            | "--protocol"
            | "-i"
            | "--in-interface"
            | "-o"
            | "--out-interface"
            | "-f"
            | "--fragment"
            | "-m"
            | "--match"
            | "-j"
            | "--jump"
            | "-g"
            | "--goto"
    )
}

/// Modules whose options the reader models.
const KNOWN_MODULES: [&str; 18] = [
    "tcp",
    "udp",
    "sctp",
    "dccp",
    "udplite",
    "multiport",
    "conntrack",
    "state",
    "comment",
    "icmp",
    "icmp6",
    "icmpv6",
    "mark",
    "connmark",
    "iprange",
    "set",
    "addrtype",
    "recent",
];

#[allow(clippy::too_many_arguments)]
fn parse_rule(
    w: &[String],
    n: usize,
    line: &str,
    v6: bool,
    table: &str,
    chain: &str,
    sets: &Sets,
) -> Rule {
    let mut parts: Vec<Match> = Vec::new();
    let mut effects: Vec<Effect> = Vec::new();
    let mut verdict = Verdict::Continue;
    let mut neg = false;
    let mut i = 0;
    let mut module = String::new();
    let mut proto: Option<u8> = None;
    let arg = |i: usize| w.get(i + 1).map(String::as_str).unwrap_or("");
    let unknown = |t: String| Match::unknown(t);
    while i < w.len() {
        let opt = w[i].as_str();
        if opt == "!" {
            neg = true;
            i += 1;
            continue;
        }
        // The old style puts `!` after the option: `-s ! 10.0.0.0/8`.
        let (a, extra) = if arg(i) == "!" {
            neg = !neg;
            (w.get(i + 2).map(String::as_str).unwrap_or(""), 1)
        } else {
            (arg(i), 0)
        };
        let mut consumed = 2 + extra;
        match opt {
            "-s" | "--source" | "-d" | "--destination" => {
                let src = opt == "-s" || opt == "--source";
                parts.push(match nets(a) {
                    Some(ns) => Match::prim(if src {
                        Prim::Src { nets: ns }
                    } else {
                        Prim::Dst { nets: ns }
                    })
                    .negated_if(neg),
                    None => unknown(format!("{opt} {a}")),
                });
            }
            "-p" | "--protocol" => {
                if a == "all" || a == "0" {
                    if neg {
                        parts.push(Match::False);
                    }
                } else if let Some(x) = proto_number(a) {
                    proto = Some(x);
                    parts.push(
                        Match::prim(Prim::Proto {
                            ranges: vec![(x, x)],
                        })
                        .negated_if(neg),
                    );
                    if neg {
                        proto = None;
                    }
                } else {
                    parts.push(unknown(format!("-p {a}")));
                }
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let name = a.to_string();
                let p = if opt.starts_with("-i") || opt == "--in-interface" {
                    Prim::Iif { names: vec![name] }
                } else {
                    Prim::Oif { names: vec![name] }
                };
                parts.push(Match::prim(p).negated_if(neg));
            }
            "-f" | "--fragment" => {
                parts.push(unknown(if neg { "! -f".into() } else { "-f".into() }));
                consumed = 1;
            }
            "-m" | "--match" => {
                module = a.to_string();
                if !KNOWN_MODULES.contains(&module.as_str()) {
                    // Gather the module's options into one unknown part.
                    let mut j = i + 2;
                    let mut text = format!("-m {module}");
                    while j < w.len()
                        && !(is_core(&w[j])
                            || (w[j] == "!" && w.get(j + 1).is_some_and(|x| is_core(x))))
                    {
                        text.push(' ');
                        text.push_str(&w[j]);
                        j += 1;
                    }
                    parts.push(unknown(text));
                    consumed = j - i;
                }
            }
            "--dport"
            | "--destination-port"
            | "--sport"
            | "--source-port"
            | "--dports"
            | "--destination-ports"
            | "--sports"
            | "--source-ports"
            | "--ports" => {
                let src = opt.contains("sport") || opt.contains("source");
                match (port_ranges(a), proto) {
                    (Some(r), Some(p)) => {
                        let m = if opt == "--ports" {
                            Match::any(vec![
                                Match::prim(Prim::SPort { ranges: r.clone() }),
                                Match::prim(Prim::DPort { ranges: r }),
                            ])
                        } else if src {
                            Match::prim(Prim::SPort { ranges: r })
                        } else {
                            Match::prim(Prim::DPort { ranges: r })
                        };
                        // The module implies its protocol (`-p tcp` is there too).
                        let _ = p;
                        parts.push(m.negated_if(neg));
                    }
                    _ => parts.push(unknown(format!("{opt} {a}"))),
                }
            }
            "--tcp-flags" => {
                let comp = w.get(i + 2 + extra).map(String::as_str).unwrap_or("");
                match (tcp_flag_bits(a), tcp_flag_bits(comp)) {
                    (Some(mask), Some(value)) => parts.push(
                        Match::prim(Prim::TcpFlags {
                            mask,
                            value: value & mask,
                        })
                        .negated_if(neg),
                    ),
                    _ => parts.push(unknown(format!("--tcp-flags {a} {comp}"))),
                }
                consumed = 3 + extra;
            }
            "--syn" => {
                parts.push(
                    Match::prim(Prim::TcpFlags {
                        mask: tcp::SYN | tcp::RST | tcp::ACK | tcp::FIN,
                        value: tcp::SYN,
                    })
                    .negated_if(neg),
                );
                consumed = 1;
            }
            "--tcp-option" | "--chunk-types" | "--dccp-types" | "--dccp-option" => {
                parts.push(unknown(format!("{opt} {a}")));
                if opt == "--chunk-types" {
                    consumed = 3 + extra;
                }
            }
            "--ctstate" | "--state" => match state_match(a) {
                Some(m) => parts.push(m.negated_if(neg)),
                None => parts.push(unknown(format!("{opt} {a}"))),
            },
            "--ctstatus" | "--ctproto" | "--ctorigsrc" | "--ctorigdst" | "--ctreplsrc"
            | "--ctrepldst" | "--ctorigsrcport" | "--ctorigdstport" | "--ctreplsrcport"
            | "--ctrepldstport" | "--ctexpire" | "--ctdir" => {
                parts.push(unknown(format!("-m conntrack {opt} {a}")));
            }
            "--icmp-type" | "--icmpv6-type" => {
                let six = opt == "--icmpv6-type";
                match icmp_ranges(a, six) {
                    Some(r) => {
                        parts.push(Match::prim(Prim::Icmp { v6: six, ranges: r }).negated_if(neg))
                    }
                    None => parts.push(unknown(format!("{opt} {a}"))),
                }
            }
            "--comment" => {}
            "--mark" => match mark_value(a) {
                Some((value, mask)) => {
                    if module == "connmark" {
                        parts.push(Match::prim(Prim::CtMark {
                            mask,
                            value: value & mask,
                            neg,
                        }));
                    } else {
                        parts.push(
                            Match::prim(Prim::Mark {
                                mask,
                                value: value & mask,
                            })
                            .negated_if(neg),
                        );
                    }
                }
                None => parts.push(unknown(format!("-m {module} --mark {a}"))),
            },
            "--src-range" | "--dst-range" => {
                let r = a.split_once('-').and_then(|(x, y)| {
                    let (x, y) = (parse_net(x)?, parse_net(y)?);
                    let mut s = crate::addr::AddrSet::new();
                    match (x.addr(), y.addr()) {
                        (std::net::IpAddr::V4(p), std::net::IpAddr::V4(q)) if p <= q => {
                            s.v4.ranges_insert(u32::from(p)..=u32::from(q));
                        }
                        (std::net::IpAddr::V6(p), std::net::IpAddr::V6(q)) if p <= q => {
                            s.v6.ranges_insert(u128::from(p)..=u128::from(q));
                        }
                        _ => return None,
                    }
                    Some(s.nets())
                });
                match r {
                    Some(ns) => parts.push(
                        Match::prim(if opt == "--src-range" {
                            Prim::Src { nets: ns }
                        } else {
                            Prim::Dst { nets: ns }
                        })
                        .negated_if(neg),
                    ),
                    None => parts.push(unknown(format!("{opt} {a}"))),
                }
            }
            "--match-set" => {
                let flags_text = w.get(i + 2 + extra).map(String::as_str).unwrap_or("");
                let flags: Vec<bool> = flags_text.split(',').map(|f| f == "src").collect();
                parts.push(sets.matcher(a, &flags).negated_if(neg));
                consumed = 3 + extra;
            }
            "--return-nomatch"
            | "--update-counters"
            | "--update-subcounters"
            | "--packets-eq"
            | "--packets-lt"
            | "--packets-gt"
            | "--bytes-eq"
            | "--bytes-lt"
            | "--bytes-gt"
            | "! --update-counters" => {
                parts.push(unknown(format!("-m set {opt}")));
                if !matches!(
                    opt,
                    "--return-nomatch" | "--update-counters" | "--update-subcounters"
                ) {
                } else {
                    consumed = 1;
                }
            }
            "--src-type" | "--dst-type" => {
                let src = opt == "--src-type";
                let types: Vec<&str> = a.split(',').collect();
                if types == ["MULTICAST"] {
                    let net: IpNet = if v6 {
                        "ff00::/8".parse().expect("valid")
                    } else {
                        "224.0.0.0/4".parse().expect("valid")
                    };
                    let p = if src {
                        Prim::Src { nets: vec![net] }
                    } else {
                        Prim::Dst { nets: vec![net] }
                    };
                    parts.push(Match::prim(p).negated_if(neg));
                } else {
                    parts.push(unknown(format!(
                        "-m addrtype {}{opt} {a}",
                        if neg { "! " } else { "" }
                    )));
                }
            }
            "--limit-iface-in" | "--limit-iface-out" => {
                parts.push(unknown(format!("-m addrtype {opt}")));
                consumed = 1;
            }
            // -m recent: `--set` records and always matches; checks depend on history.
            "--set" if module == "recent" => {
                if neg {
                    parts.push(Match::False);
                }
                consumed = 1;
            }
            "--rcheck" | "--update" | "--remove" if module == "recent" => {
                parts.push(unknown(format!("-m recent {opt}")));
                consumed = 1;
            }
            "--name" | "--seconds" | "--hitcount" | "--mask" if module == "recent" => {}
            "--rsource" | "--rdest" | "--rttl" | "--reap" if module == "recent" => {
                consumed = 1;
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let t = a.to_string();
                let goto = opt.starts_with("-g") || opt == "--goto";
                let rest = w.get(i + 2..).unwrap_or(&[]);
                let (v, fx, used) = target(rest, &t, goto, table, chain, v6);
                verdict = v;
                effects.extend(fx);
                consumed = 2 + used;
            }
            _ => {
                parts.push(unknown(opt.to_string()));
                // Skip the option's arguments up to the next option.
                let mut j = i + 1;
                while j < w.len() && !w[j].starts_with('-') && w[j] != "!" {
                    j += 1;
                }
                consumed = j - i;
            }
        }
        neg = false;
        i += consumed.max(1);
    }
    Rule {
        origin: format!("line {n}"),
        text: line.to_string(),
        matches: Match::all(parts),
        effects,
        verdict,
    }
}

/// A target and its options: (verdict, effects, words of options used).
fn target(
    rest: &[String],
    t: &str,
    goto: bool,
    table: &str,
    chain: &str,
    v6: bool,
) -> (Verdict, Vec<Effect>, usize) {
    // Target options run to the end of the rule (iptables-save puts the target last), except
    // that a match may follow in hand-written files.
    let used = rest.iter().take_while(|x| !is_core(x)).count();
    let opts = &rest[..used];
    let opt = |name: &str| {
        opts.iter()
            .position(|x| x == name)
            .and_then(|k| opts.get(k + 1))
            .map(String::as_str)
    };
    let has = |name: &str| opts.iter().any(|x| x == name);
    let nat_dst = matches!(chain, "PREROUTING" | "OUTPUT");
    let _ = v6;
    let v = match t {
        "ACCEPT" => (Verdict::Accept, vec![]),
        "DROP" => (Verdict::Drop, vec![]),
        "REJECT" => (Verdict::Reject, vec![]),
        "RETURN" => (Verdict::Return, vec![]),
        "QUEUE" | "NFQUEUE" => (Verdict::Unknown(format!("-j {t}")), vec![]),
        "LOG" | "NFLOG" | "ULOG" | "TCPMSS" | "TOS" | "TTL" | "HL" | "DSCP" | "ECN"
        | "CLASSIFY" | "SECMARK" | "CONNSECMARK" | "CHECKSUM" | "IDLETIMER" | "LED" | "AUDIT"
        | "TRACE" | "TEE" | "SET" | "RATEEST" | "NFACCT" => (Verdict::Continue, vec![]),
        "MARK" => {
            let fx = if let Some(v) = opt("--set-xmark").and_then(mark_value) {
                Effect::Mark {
                    clear: v.1,
                    xor: v.0,
                }
            } else if let Some((v, m)) = opt("--set-mark").and_then(mark_value) {
                Effect::Mark {
                    clear: m | v,
                    xor: v,
                }
            } else if let Some(v) = opt("--or-mark").and_then(parse_u32) {
                Effect::Mark { clear: v, xor: v }
            } else if let Some(v) = opt("--and-mark").and_then(parse_u32) {
                Effect::Mark { clear: !v, xor: 0 }
            } else if let Some(v) = opt("--xor-mark").and_then(parse_u32) {
                Effect::Mark { clear: 0, xor: v }
            } else {
                Effect::MarkUnknown { mask: u32::MAX }
            };
            (Verdict::Continue, vec![fx])
        }
        "CONNMARK" => {
            let fx = if let Some(v) = opt("--set-xmark").and_then(mark_value) {
                Effect::CtMark {
                    clear: v.1,
                    xor: v.0,
                }
            } else if let Some((v, m)) = opt("--set-mark").and_then(mark_value) {
                Effect::CtMark {
                    clear: m | v,
                    xor: v,
                }
            } else if let Some(v) = opt("--or-mark").and_then(parse_u32) {
                Effect::CtMark { clear: v, xor: v }
            } else if let Some(v) = opt("--and-mark").and_then(parse_u32) {
                Effect::CtMark { clear: !v, xor: 0 }
            } else if let Some(v) = opt("--xor-mark").and_then(parse_u32) {
                Effect::CtMark { clear: 0, xor: v }
            } else if has("--save-mark") || has("--restore-mark") {
                let all = opt("--mask").and_then(parse_u32);
                let nf = opt("--nfmask")
                    .and_then(parse_u32)
                    .or(all)
                    .unwrap_or(u32::MAX);
                let ct = opt("--ctmask")
                    .and_then(parse_u32)
                    .or(all)
                    .unwrap_or(u32::MAX);
                match (has("--save-mark"), nf == ct) {
                    (true, true) => Effect::CtMarkFromMark { mask: nf },
                    (false, true) => Effect::MarkFromCtMark { mask: nf },
                    // Shifted copies: the changed bits get values the model does not follow.
                    (true, false) => Effect::CtMarkUnknown { mask: ct },
                    (false, false) => Effect::MarkUnknown { mask: nf },
                }
            } else {
                Effect::CtMarkUnknown { mask: u32::MAX }
            };
            (Verdict::Continue, vec![fx])
        }
        "NOTRACK" => (Verdict::Continue, vec![Effect::NoTrack]),
        "CT" => {
            if has("--notrack") {
                (Verdict::Continue, vec![Effect::NoTrack])
            } else {
                (Verdict::Continue, vec![])
            }
        }
        "DNAT" | "REDIRECT" => (Verdict::Accept, vec![Effect::Dnat]),
        "SNAT" | "MASQUERADE" => (Verdict::Accept, vec![Effect::Snat]),
        "NETMAP" => (
            Verdict::Accept,
            vec![if nat_dst { Effect::Dnat } else { Effect::Snat }],
        ),
        "TPROXY" => (Verdict::Unknown("-j TPROXY".into()), vec![Effect::Dnat]),
        "HMARK" => (
            Verdict::Continue,
            vec![Effect::MarkUnknown { mask: u32::MAX }],
        ),
        _ if goto => (Verdict::Goto(t.to_string()), vec![]),
        // A user chain, or an extension target: resolved once all chains are known.
        _ => (Verdict::Jump(t.to_string()), vec![]),
    };
    let _ = table;
    (v.0, v.1, used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Ruleset {
        parse(text, false, &Sets::none()).unwrap()
    }

    #[test]
    fn reads_tables_targets_and_matches() {
        let text = r#"# generated
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -s 10.9.0.0/16 -j DROP
-A PREROUTING -p udp --dport 53 -j CT --notrack
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.5:8080
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:svc - [0:0]
[5:300] -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -s 10.10.0.10/31 -d 10.20.0.0/16 -p tcp -m multiport --dports 445,9132:9133 -m comment --comment "portplan r1: devicelock/smb" -j ACCEPT
-A FORWARD ! -s 10.0.0.0/8 -p udp --dport 53 -j svc
-A FORWARD -m recent --name x --rcheck -j ACCEPT
-A FORWARD -p tcp ! --syn -m state --state NEW -j DROP
-A FORWARD -p icmp --icmp-type 3/4 -j ACCEPT
-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A svc -i eth+ -j RETURN
-A svc -j MARK --set-xmark 0x1/0xff
-A svc -j ACCEPT
COMMIT
"#;
        let rs = p(text);
        assert_eq!(rs.chains.len(), 2 + 4 + 4);
        let fwd = rs
            .chains
            .iter()
            .find(|c| c.name == "FORWARD" && c.table == "ip filter")
            .unwrap();
        assert_eq!(fwd.policy, Verdict::Drop);
        assert_eq!(fwd.rules.len(), 7);
        assert_eq!(fwd.rules[2].verdict, Verdict::Jump("svc".into()));
        assert_eq!(fwd.rules[3].unsupported(), ["-m recent --rcheck"]);
        assert_eq!(fwd.rules[3].origin, "line 24");
        assert!(fwd.rules[5].matches != Match::True);
        let raw = rs
            .chains
            .iter()
            .find(|c| c.table == "ip raw" && c.name == "PREROUTING")
            .unwrap();
        assert_eq!(raw.priority, -300);
        assert_eq!(raw.rules[1].effects, [Effect::NoTrack]);
        let nat = rs
            .chains
            .iter()
            .find(|c| c.table == "ip nat" && c.name == "PREROUTING")
            .unwrap();
        assert_eq!(nat.ty, ChainType::Nat);
        assert_eq!(nat.rules[0].effects, [Effect::Dnat]);
        let svc = rs.chains.iter().find(|c| c.name == "svc").unwrap();
        assert_eq!(
            svc.rules[1].effects,
            [Effect::Mark {
                clear: 0xff,
                xor: 1
            }]
        );
    }

    #[test]
    fn incomplete_files_are_errors() {
        let s = Sets::none();
        assert!(
            parse(
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n",
                false,
                &s
            )
            .is_err()
        );
        assert!(parse("hello: world\n", false, &s).is_err());
        assert!(parse("*filter\n-A NOPE -j ACCEPT\nCOMMIT\n", false, &s).is_err());
        assert!(parse("# only a comment\n", false, &s).is_err());
        // A table with nothing in it is fine.
        assert!(parse("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", false, &s).is_ok());
    }

    #[test]
    fn icmp_types_and_codes() {
        assert_eq!(icmp_ranges("3/4", false), Some(vec![(0x0304, 0x0304)]));
        assert_eq!(icmp_ranges("3", false), Some(vec![(0x0300, 0x03ff)]));
        assert_eq!(
            icmp_ranges("echo-request", false),
            Some(vec![(0x0800, 0x08ff)])
        );
        assert_eq!(
            icmp_ranges("echo-request", true),
            Some(vec![(0x8000, 0x80ff)])
        );
        assert_eq!(
            icmp_ranges("port-unreachable", false),
            Some(vec![(0x0303, 0x0303)])
        );
        assert_eq!(icmp_ranges("any", false), Some(vec![(0, 0xffff)]));
    }

    #[test]
    fn upper_case_user_chains_are_chains_and_unknown_targets_are_unknown() {
        let rs = p(
            "*filter\n:FORWARD DROP [0:0]\n:SRV - [0:0]\n-A FORWARD -j SRV\n-A FORWARD -j FOO --on-port 1\nCOMMIT\n",
        );
        let fwd = rs.chains.iter().find(|c| c.name == "FORWARD").unwrap();
        assert_eq!(fwd.rules[0].verdict, Verdict::Jump("SRV".into()));
        assert!(fwd.rules[0].unsupported().is_empty());
        assert_eq!(fwd.rules[1].verdict, Verdict::Unknown("-j FOO".into()));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s, false, &Sets::none());
        }

        #[test]
        fn never_panics_on_rule_like_lines(
            lines in proptest::collection::vec("(-A (FORWARD|X) )?((! )?(-s|-d|-p|--dport|-m|-j|-g|--ctstate|-i|--ports|--tcp-flags|--icmp-type|--mark|--set-xmark) [a-zA-Z0-9.:/,+!\"]{0,12} ?){0,6}", 0..8)
        ) {
            let text = format!("*filter\n:FORWARD DROP [0:0]\n:X - [0:0]\n{}\nCOMMIT\n", lines.join("\n"));
            let _ = parse(&text, false, &Sets::none());
        }
    }
}
