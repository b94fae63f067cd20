//! Reading `iptables-save` / `ip6tables-save` output (the `filter` table).
//!
//! Supported: built-in and user chains with policies; `-s`/`-d` (lists, `!`), `-p`, `--dport`/
//! `--sport` (ranges `a:b`), `-m multiport --dports/--sports/--ports`, `-m conntrack --ctstate`,
//! `-m state --state`, `-i`/`-o` (with `+`), `-m icmp --icmp-type` / `-m icmp6 --icmpv6-type`
//! (numeric), `-j ACCEPT|DROP|REJECT|RETURN|LOG|<chain>`, `-g <chain>`, `-m comment`.
//! Anything else on a rule is kept as `unsupported` with the line number; other tables are
//! listed as not analysed. Never panics: malformed lines become not-analysed entries.

use ipnet::IpNet;

use crate::audit::model::{Chain, Cond, Families, Hook, Rule, Ruleset, Verdict, proto_number};
use crate::packet::CtState;
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

fn ports(spec: &str) -> Option<Vec<(u16, u16)>> {
    spec.split(',')
        .map(|p| match p.split_once(':') {
            Some((a, b)) => {
                let a = if a.is_empty() { 0 } else { a.parse().ok()? };
                let b = if b.is_empty() { 65535 } else { b.parse().ok()? };
                (a <= b).then_some((a, b))
            }
            None => p.parse().ok().map(|x| (x, x)),
        })
        .collect()
}

fn states(spec: &str) -> Option<Vec<CtState>> {
    spec.split(',')
        .map(|s| match s.to_ascii_uppercase().as_str() {
            "NEW" => Some(CtState::New),
            "ESTABLISHED" => Some(CtState::Established),
            "RELATED" => Some(CtState::Related),
            "INVALID" => Some(CtState::Invalid),
            _ => None,
        })
        .collect()
}

fn nets(spec: &str) -> Option<Vec<IpNet>> {
    spec.split(',').map(parse_net).collect()
}

/// Parse iptables-save text. `v6` says which family the file is (ip6tables-save); `None`
/// guesses from the addresses.
pub fn parse(text: &str, v6: Option<bool>) -> Ruleset {
    let v6 = v6.unwrap_or_else(|| {
        text.lines()
            .any(|l| (l.contains(" -s ") || l.contains(" -d ")) && l.contains("::"))
    });
    let families = if v6 { Families::V6 } else { Families::V4 };
    let mut rs = Ruleset::default();
    let mut table: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            table = Some(t.to_string());
            if t != "filter" {
                rs.not_analysed.push((
                    format!("line {n}"),
                    format!("table {t} is not analysed (only filter decides what passes)"),
                ));
            }
            continue;
        }
        if line == "COMMIT" {
            table = None;
            continue;
        }
        if table.as_deref() != Some("filter") {
            continue;
        }
        if let Some(rest) = line.strip_prefix(':') {
            let w: Vec<&str> = rest.split_whitespace().collect();
            let Some(name) = w.first() else {
                rs.not_analysed.push((
                    format!("line {n}"),
                    format!("cannot read chain line `{line}`"),
                ));
                continue;
            };
            let hook = match *name {
                "INPUT" => Some(Hook::Input),
                "FORWARD" => Some(Hook::Forward),
                "OUTPUT" => Some(Hook::Output),
                _ => None,
            };
            let policy = match w.get(1) {
                Some(&"DROP") => Verdict::Drop,
                _ => Verdict::Accept,
            };
            rs.chains.push(Chain {
                table: "filter".into(),
                name: name.to_string(),
                families,
                hook,
                priority: 0,
                policy,
                rules: vec![],
            });
            continue;
        }
        let w = words(line);
        if w.first().map(String::as_str) != Some("-A") || w.len() < 2 {
            rs.not_analysed
                .push((format!("line {n}"), format!("not understood: `{line}`")));
            continue;
        }
        let chain_name = w[1].clone();
        let rule = parse_rule(&w[2..], n, line);
        match rs.chains.iter_mut().find(|c| c.name == chain_name) {
            Some(c) => c.rules.push(rule),
            None => rs.not_analysed.push((
                format!("line {n}"),
                format!("rule for undeclared chain {chain_name}"),
            )),
        }
    }
    // Jumps to names that are not chains are extension targets (MASQUERADE, TPROXY, …).
    let names: Vec<String> = rs.chains.iter().map(|c| c.name.clone()).collect();
    for c in &mut rs.chains {
        for r in &mut c.rules {
            if let Verdict::Jump(t) | Verdict::Goto(t) = &r.verdict
                && !names.contains(t)
            {
                r.unsupported.push(format!("-j {t}"));
                r.verdict = Verdict::Continue;
            }
        }
    }
    rs
}

fn parse_rule(w: &[String], n: usize, line: &str) -> Rule {
    let mut conds = Vec::new();
    let mut unsupported = Vec::new();
    let mut verdict = Verdict::Continue;
    let mut neg = false;
    let mut i = 0;
    let mut module = String::new();
    let mut proto: Option<u8> = None;
    let arg = |i: usize| w.get(i + 1).map(String::as_str);
    while i < w.len() {
        let opt = w[i].as_str();
        if opt == "!" {
            neg = true;
            i += 1;
            continue;
        }
        let mut bad = |what: &str| unsupported.push(what.to_string());
        let consumed = match opt {
            "-s" | "--source" | "-d" | "--destination" => match arg(i).and_then(nets) {
                Some(ns) => {
                    conds.push(if opt.starts_with("-s") || opt == "--source" {
                        Cond::Src { neg, nets: ns }
                    } else {
                        Cond::Dst { neg, nets: ns }
                    });
                    2
                }
                None => {
                    bad(&format!("{opt} {}", arg(i).unwrap_or("")));
                    2
                }
            },
            "-p" | "--protocol" => {
                let p = arg(i).unwrap_or("");
                if p == "all" {
                } else if let Some(x) = proto_number(p) {
                    proto = Some(x);
                    conds.push(Cond::Proto {
                        neg,
                        ranges: vec![(x, x)],
                    });
                } else {
                    bad(&format!("-p {p}"));
                }
                2
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let name = arg(i).unwrap_or("").to_string();
                conds.push(if opt.starts_with("-i") || opt == "--in-interface" {
                    Cond::Iif {
                        neg,
                        names: vec![name],
                    }
                } else {
                    Cond::Oif {
                        neg,
                        names: vec![name],
                    }
                });
                2
            }
            "-m" | "--match" => {
                module = arg(i).unwrap_or("").to_string();
                if !matches!(
                    module.as_str(),
                    "tcp"
                        | "udp"
                        | "multiport"
                        | "conntrack"
                        | "state"
                        | "comment"
                        | "icmp"
                        | "icmp6"
                ) {
                    bad(&format!("-m {module}"));
                }
                2
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
                match arg(i).and_then(ports) {
                    Some(r) if proto.is_some() => {
                        if opt == "--ports" {
                            // Either port: not a single condition in this model.
                            bad("-m multiport --ports");
                        } else if opt.contains("sport") || opt.contains("source") {
                            conds.push(Cond::SPort { neg, ranges: r });
                        } else {
                            conds.push(Cond::DPort { neg, ranges: r });
                        }
                    }
                    _ => bad(&format!("{opt} {}", arg(i).unwrap_or(""))),
                }
                2
            }
            "--ctstate" | "--state" => {
                match arg(i).and_then(states) {
                    Some(s) => conds.push(Cond::State { neg, states: s }),
                    None => bad(&format!("{opt} {}", arg(i).unwrap_or(""))),
                }
                2
            }
            "--icmp-type" | "--icmpv6-type" => {
                let t = arg(i).unwrap_or("");
                match t
                    .split('/')
                    .next()
                    .and_then(|x| x.parse::<u16>().ok())
                    .or_else(|| icmp_name(t))
                {
                    Some(ty) => conds.push(Cond::DPort {
                        neg,
                        ranges: vec![(ty, ty)],
                    }),
                    None => bad(&format!("{opt} {t}")),
                }
                2
            }
            "--comment" => 2,
            "-j" | "--jump" | "-g" | "--goto" => {
                let t = arg(i).unwrap_or("").to_string();
                verdict = match t.as_str() {
                    "ACCEPT" => Verdict::Accept,
                    "DROP" => Verdict::Drop,
                    "REJECT" => Verdict::Reject,
                    "RETURN" => Verdict::Return,
                    "LOG" | "NFLOG" | "ULOG" | "CONNMARK" | "MARK" => Verdict::Continue,
                    _ if opt.starts_with("-g") || opt == "--goto" => Verdict::Goto(t),
                    // A user chain, or an extension target: resolved once all chains are known.
                    _ => Verdict::Jump(t),
                };
                2
            }
            // Options of targets and modules we do not need.
            "--reject-with" | "--log-prefix" | "--log-level" | "--set-mark" | "--set-xmark" => 2,
            _ => {
                bad(opt);
                // Skip the option's arguments up to the next option.
                let mut j = i + 1;
                while j < w.len() && !w[j].starts_with('-') && w[j] != "!" {
                    j += 1;
                }
                j - i
            }
        };
        let _ = &module;
        neg = false;
        i += consumed;
    }
    Rule {
        origin: format!("line {n}"),
        text: line.to_string(),
        conds,
        verdict,
        unsupported,
    }
}

fn icmp_name(t: &str) -> Option<u16> {
    Some(match t {
        "echo-request" | "echo-request/0" => 8,
        "echo-reply" => 0,
        "destination-unreachable" => 3,
        "time-exceeded" => 11,
        "router-solicitation" => 133,
        "router-advertisement" => 134,
        "neighbour-solicitation" | "neighbor-solicitation" => 135,
        "neighbour-advertisement" | "neighbor-advertisement" => 136,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_portplan_renders_and_more() {
        let text = r#"# generated
*nat
:PREROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:svc - [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -s 10.10.0.10/31 -d 10.20.0.0/16 -p tcp -m multiport --dports 445,9132:9133 -m comment --comment "portplan r1: devicelock/smb" -j ACCEPT
-A FORWARD ! -s 10.0.0.0/8 -p udp --dport 53 -j svc
-A FORWARD -m recent --name x --rcheck -j ACCEPT
-A svc -i eth+ -j RETURN
-A svc -j ACCEPT
COMMIT
"#;
        let rs = parse(text, None);
        assert_eq!(rs.chains.len(), 4);
        let fwd = rs.chains.iter().find(|c| c.name == "FORWARD").unwrap();
        assert_eq!(fwd.policy, Verdict::Drop);
        assert_eq!(fwd.rules.len(), 4);
        assert_eq!(fwd.rules[1].conds.len(), 4);
        assert_eq!(
            fwd.rules[1].conds[3],
            Cond::DPort {
                neg: false,
                ranges: vec![(445, 445), (9132, 9133)]
            }
        );
        assert_eq!(
            fwd.rules[2].conds[0],
            Cond::Src {
                neg: true,
                nets: vec!["10.0.0.0/8".parse().unwrap()]
            }
        );
        assert_eq!(fwd.rules[2].verdict, Verdict::Jump("svc".into()));
        assert_eq!(
            fwd.rules[3].unsupported,
            ["-m recent", "--name", "--rcheck"]
        );
        assert_eq!(fwd.rules[3].origin, "line 13");
        assert!(rs.not_analysed.iter().any(|(_, w)| w.contains("table nat")));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s, None);
        }

        #[test]
        fn never_panics_on_rule_like_lines(
            lines in proptest::collection::vec("(-A (FORWARD|X) )?((! )?(-s|-d|-p|--dport|-m|-j|-g|--ctstate|-i|--ports) [a-zA-Z0-9.:/,+!\"]{0,12} ?){0,6}", 0..8)
        ) {
            let text = format!("*filter\n:FORWARD DROP [0:0]\n:X - [0:0]\n{}\nCOMMIT\n", lines.join("\n"));
            let _ = parse(&text, None);
        }
    }
}

#[cfg(test)]
mod target_tests {
    use super::*;

    #[test]
    fn upper_case_user_chains_are_chains_and_unknown_targets_are_reported() {
        let rs = parse(
            "*filter\n:FORWARD DROP [0:0]\n:SRV - [0:0]\n-A FORWARD -j SRV\n-A FORWARD -j TPROXY --on-port 1\nCOMMIT\n",
            None,
        );
        let fwd = rs.chains.iter().find(|c| c.name == "FORWARD").unwrap();
        assert_eq!(fwd.rules[0].verdict, Verdict::Jump("SRV".into()));
        assert!(fwd.rules[0].unsupported.is_empty());
        assert_eq!(fwd.rules[1].verdict, Verdict::Continue);
        assert!(fwd.rules[1].unsupported.contains(&"-j TPROXY".to_string()));
    }
}
