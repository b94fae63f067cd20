//! Reading `nft -j list ruleset`.
//!
//! Tables of family `ip`, `ip6` and `inet`; base chains (hook, priority, policy) and regular
//! chains; rules made of `match` statements over `payload` (ip/ip6 saddr/daddr/protocol/nexthdr,
//! tcp/udp/th sport/dport, icmp/icmpv6 type), `meta` (l4proto, nfproto, iifname/oifname) and
//! `ct state`, with literals, prefixes, ranges, anonymous sets and named sets; verdicts accept,
//! drop, reject, jump, goto, return; counter/log/comment are ignored. Tolerates the JSON of nft
//! 0.9–1.1 (`name` or `protocol` in payloads, `in` or `==` for flags, wrapped set elements,
//! ranges as lists or objects). Everything else is kept as `unsupported` on its rule (by handle)
//! or listed as not analysed.

use std::collections::HashMap;

use ipnet::IpNet;
use serde_json::Value;

use crate::audit::model::{Chain, Cond, Families, Hook, Rule, Ruleset, Verdict, proto_number};
use crate::i18n::Text;
use crate::packet::CtState;
use crate::site::parse_net;
use crate::tr;

type SetKey = (String, String, String); // family, table, name

/// Parse nft JSON.
pub fn parse(text: &str) -> Result<Ruleset, Text> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        let (l, c) = (e.line(), e.column());
        tr!(
            "not valid JSON at line {l}, column {c}: {e}",
            "{l} 行 {c} 列で JSON として読めません: {e}"
        )
    })?;
    let Some(items) = v.get("nftables").and_then(Value::as_array) else {
        return Err(tr!(
            "no `nftables` array: is this `nft -j list ruleset` output?",
            "`nftables` 配列がありません。`nft -j list ruleset` の出力ですか?"
        ));
    };
    let mut rs = Ruleset::default();
    let mut sets: HashMap<SetKey, Vec<Value>> = HashMap::new();
    for it in items {
        if let Some(s) = it.get("set").or_else(|| it.get("map")) {
            let key = (str_of(s, "family"), str_of(s, "table"), str_of(s, "name"));
            let elems = s
                .get("elem")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            sets.insert(key, elems);
        }
    }
    for it in items {
        if let Some(c) = it.get("chain") {
            let family = str_of(c, "family");
            let families = match family.as_str() {
                "ip" => Families::V4,
                "ip6" => Families::V6,
                "inet" => Families::Both,
                other => {
                    rs.not_analysed.push((
                        format!("chain {}", str_of(c, "name")),
                        format!("family {other} is not analysed"),
                    ));
                    continue;
                }
            };
            let hook = c.get("hook").and_then(Value::as_str).map(|h| match h {
                "input" => Hook::Input,
                "forward" => Hook::Forward,
                "output" => Hook::Output,
                o => Hook::Other(o.to_string()),
            });
            if let Some(Hook::Other(h)) = &hook {
                rs.not_analysed.push((
                    format!("chain {}", str_of(c, "name")),
                    format!("hook {h} is not evaluated"),
                ));
            }
            let ty = c.get("type").and_then(Value::as_str).unwrap_or("filter");
            if hook.is_some() && ty != "filter" {
                rs.not_analysed.push((
                    format!("chain {}", str_of(c, "name")),
                    format!("{ty} chains are not evaluated"),
                ));
                continue;
            }
            let policy = match c.get("policy").and_then(Value::as_str) {
                Some("drop") => Verdict::Drop,
                _ => Verdict::Accept,
            };
            let priority = c.get("prio").and_then(Value::as_i64).unwrap_or(0);
            rs.chains.push(Chain {
                table: format!("{family} {}", str_of(c, "table")),
                name: str_of(c, "name"),
                families,
                hook,
                priority,
                policy,
                rules: vec![],
            });
        }
    }
    for it in items {
        let Some(r) = it.get("rule") else { continue };
        let (family, table, chain) = (
            str_of(r, "family"),
            str_of(r, "table"),
            str_of(r, "name_missing"),
        );
        let _ = chain;
        let chain_name = str_of(r, "chain");
        let handle = r
            .get("handle")
            .and_then(Value::as_i64)
            .map_or("?".to_string(), |h| h.to_string());
        let origin = format!("handle {handle}");
        let rule = parse_rule(r, &family, &table, &sets, origin.clone());
        let tname = format!("{family} {table}");
        match rs
            .chains
            .iter_mut()
            .find(|c| c.table == tname && c.name == chain_name)
        {
            Some(c) => c.rules.push(rule),
            None => {
                if matches!(family.as_str(), "ip" | "ip6" | "inet") {
                    rs.not_analysed.push((
                        origin,
                        format!("rule of unknown or skipped chain {chain_name}"),
                    ));
                }
            }
        }
    }
    Ok(rs)
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// The right-hand values of a match, flattened (sets expanded).
fn values(
    right: &Value,
    family: &str,
    table: &str,
    sets: &HashMap<SetKey, Vec<Value>>,
) -> Option<Vec<Value>> {
    match right {
        Value::String(s) if s.starts_with('@') => {
            let name = &s[1..];
            let key = (family.to_string(), table.to_string(), name.to_string());
            let elems = sets.get(&key)?;
            Some(elems.iter().map(unwrap_elem).collect())
        }
        Value::Object(o) if o.contains_key("set") => {
            let arr = o.get("set")?;
            match arr {
                Value::Array(a) => Some(a.iter().map(unwrap_elem).collect()),
                other => Some(vec![unwrap_elem(other)]),
            }
        }
        Value::Array(a) => Some(a.iter().map(unwrap_elem).collect()),
        other => Some(vec![unwrap_elem(other)]),
    }
}

fn unwrap_elem(v: &Value) -> Value {
    match v.get("elem").and_then(|e| e.get("val")) {
        Some(inner) => inner.clone(),
        None => v.clone(),
    }
}

fn net_of(v: &Value) -> Option<IpNet> {
    match v {
        Value::String(s) => parse_net(s),
        Value::Object(o) => {
            if let Some(p) = o.get("prefix") {
                let addr = p.get("addr")?.as_str()?;
                let len = p.get("len")?.as_u64()?;
                parse_net(&format!("{addr}/{len}"))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Networks for a value: prefixes, addresses, or address ranges split into prefixes.
fn nets_of(vals: &[Value]) -> Option<Vec<IpNet>> {
    let mut out = Vec::new();
    for v in vals {
        if let Some((a, b)) = range_of(v) {
            let (a, b) = (parse_net(a.as_str()?)?, parse_net(b.as_str()?)?);
            let mut s = crate::addr::AddrSet::new();
            match (a.addr(), b.addr()) {
                (std::net::IpAddr::V4(x), std::net::IpAddr::V4(y)) => {
                    s.v4.ranges_insert(u32::from(x)..=u32::from(y))
                }
                (std::net::IpAddr::V6(x), std::net::IpAddr::V6(y)) => {
                    s.v6.ranges_insert(u128::from(x)..=u128::from(y))
                }
                _ => return None,
            };
            out.extend(s.nets());
        } else {
            out.push(net_of(v)?);
        }
    }
    Some(out)
}

fn range_of(v: &Value) -> Option<(Value, Value)> {
    let r = v.get("range")?;
    match r {
        Value::Array(a) if a.len() == 2 => Some((a[0].clone(), a[1].clone())),
        Value::Object(o) => Some((o.get("min")?.clone(), o.get("max")?.clone())),
        _ => None,
    }
}

fn num_of(v: &Value, icmp: bool) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|x| u16::try_from(x).ok()),
        Value::String(s) => s
            .parse()
            .ok()
            .or_else(|| if icmp { icmp_type(s) } else { service_port(s) }),
        _ => None,
    }
}

fn service_port(s: &str) -> Option<u16> {
    Some(match s {
        "ssh" => 22,
        "domain" => 53,
        "http" => 80,
        "https" => 443,
        "ntp" => 123,
        "microsoft-ds" => 445,
        "ldap" => 389,
        "ldaps" => 636,
        _ => return None,
    })
}

fn icmp_type(s: &str) -> Option<u16> {
    Some(match s {
        "echo-reply" => 0,
        "destination-unreachable" => 1,
        "echo-request" => 8,
        "time-exceeded" => 11,
        "nd-router-solicit" => 133,
        "nd-router-advert" => 134,
        "nd-neighbor-solicit" => 135,
        "nd-neighbor-advert" => 136,
        _ => return None,
    })
}

fn ranges_of(vals: &[Value], icmp: bool) -> Option<Vec<(u16, u16)>> {
    vals.iter()
        .map(|v| match range_of(v) {
            Some((a, b)) => Some((num_of(&a, icmp)?, num_of(&b, icmp)?)),
            None => num_of(v, icmp).map(|x| (x, x)),
        })
        .collect()
}

fn ordered(op: &str, n: u16) -> Option<(bool, Vec<(u16, u16)>)> {
    Some(match op {
        "<" => (false, vec![(0, n.checked_sub(1)?)]),
        "<=" => (false, vec![(0, n)]),
        ">" => (false, vec![(n.checked_add(1)?, u16::MAX)]),
        ">=" => (false, vec![(n, u16::MAX)]),
        _ => return None,
    })
}

fn parse_rule(
    r: &Value,
    family: &str,
    table: &str,
    sets: &HashMap<SetKey, Vec<Value>>,
    origin: String,
) -> Rule {
    let mut conds = Vec::new();
    let mut unsupported = Vec::new();
    let mut verdict = Verdict::Continue;
    let mut words = Vec::new();
    let exprs = r
        .get("expr")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for e in &exprs {
        let Some((k, body)) = e.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        match k.as_str() {
            "match" => match match_cond(body, family, table, sets) {
                Ok((cs, w)) => {
                    conds.extend(cs);
                    words.push(w);
                }
                Err(what) => {
                    words.push(what.clone());
                    unsupported.push(what);
                }
            },
            "accept" => verdict = Verdict::Accept,
            "drop" => verdict = Verdict::Drop,
            "reject" => verdict = Verdict::Reject,
            "return" => verdict = Verdict::Return,
            "continue" => verdict = Verdict::Continue,
            "jump" => verdict = Verdict::Jump(str_of(body, "target")),
            "goto" => verdict = Verdict::Goto(str_of(body, "target")),
            "counter" | "log" | "comment" | "mangle" | "notrack" | "ct helper" => {}
            other => {
                let what = format!("{other} statement");
                if matches!(
                    other,
                    "vmap" | "queue" | "limit" | "quota" | "xt" | "set" | "meter" | "synproxy"
                ) {
                    // These decide or filter: the rule's effect is uncertain.
                    unsupported.push(what.clone());
                    if other == "vmap" {
                        verdict = Verdict::Accept;
                    }
                }
                words.push(what);
            }
        }
    }
    let v = match &verdict {
        Verdict::Jump(t) => format!("jump {t}"),
        Verdict::Goto(t) => format!("goto {t}"),
        other => format!("{other:?}").to_lowercase(),
    };
    words.push(v);
    let comment = r
        .get("comment")
        .and_then(Value::as_str)
        .map(|c| format!(" comment \"{c}\""))
        .unwrap_or_default();
    Rule {
        origin,
        text: format!("{}{comment}", words.join(" ")),
        conds,
        verdict,
        unsupported,
    }
}

fn match_cond(
    m: &Value,
    family: &str,
    table: &str,
    sets: &HashMap<SetKey, Vec<Value>>,
) -> Result<(Vec<Cond>, String), String> {
    let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
    let left = m.get("left").cloned().unwrap_or(Value::Null);
    let right = m.get("right").cloned().unwrap_or(Value::Null);
    let text = format!("{} {op} {}", compact(&left), compact(&right));
    let neg = op == "!=";
    if !matches!(op, "==" | "!=" | "in" | "<" | "<=" | ">" | ">=") {
        return Err(text);
    }
    let vals = values(&right, family, table, sets).ok_or_else(|| text.clone())?;
    let bad = || text.clone();
    let mut out = Vec::new();
    if let Some(p) = left.get("payload") {
        let proto = p
            .get("protocol")
            .or_else(|| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let field = p.get("field").and_then(Value::as_str).unwrap_or("");
        match (proto, field) {
            ("ip" | "ip6", "saddr" | "daddr") => {
                out.push(Cond::Family { v6: proto == "ip6" });
                let nets = nets_of(&vals).ok_or_else(bad)?;
                out.push(if field == "saddr" {
                    Cond::Src { neg, nets }
                } else {
                    Cond::Dst { neg, nets }
                });
            }
            ("ip", "protocol") | ("ip6", "nexthdr") => {
                out.push(Cond::Family { v6: proto == "ip6" });
                let ranges = proto_ranges(&vals).ok_or_else(bad)?;
                out.push(Cond::Proto { neg, ranges });
            }
            ("tcp" | "udp" | "th" | "sctp" | "udplite", "sport" | "dport") => {
                if proto != "th" {
                    let n = proto_number(proto).ok_or_else(bad)?;
                    out.push(Cond::Proto {
                        neg: false,
                        ranges: vec![(n, n)],
                    });
                }
                let (neg, ranges) = match (op, vals.first()) {
                    ("<" | "<=" | ">" | ">=", Some(v)) => {
                        ordered(op, num_of(v, false).ok_or_else(bad)?).ok_or_else(bad)?
                    }
                    _ => (neg, ranges_of(&vals, false).ok_or_else(bad)?),
                };
                out.push(if field == "sport" {
                    Cond::SPort { neg, ranges }
                } else {
                    Cond::DPort { neg, ranges }
                });
            }
            ("icmp" | "icmpv6", "type") => {
                let n = if proto == "icmp" { 1 } else { 58 };
                out.push(Cond::Proto {
                    neg: false,
                    ranges: vec![(n, n)],
                });
                out.push(Cond::DPort {
                    neg,
                    ranges: ranges_of(&vals, true).ok_or_else(bad)?,
                });
            }
            _ => return Err(text),
        }
    } else if let Some(meta) = left.get("meta") {
        let key = meta.get("key").and_then(Value::as_str).unwrap_or("");
        match key {
            "l4proto" => out.push(Cond::Proto {
                neg,
                ranges: proto_ranges(&vals).ok_or_else(bad)?,
            }),
            "nfproto" | "protocol" => {
                let names: Vec<&str> = vals.iter().filter_map(Value::as_str).collect();
                match (names.as_slice(), neg) {
                    (["ipv4"] | ["ip"], false) | (["ipv6"] | ["ip6"], true) => {
                        out.push(Cond::Family { v6: false })
                    }
                    (["ipv6"] | ["ip6"], false) | (["ipv4"] | ["ip"], true) => {
                        out.push(Cond::Family { v6: true })
                    }
                    _ => return Err(text),
                }
            }
            "iifname" | "oifname" | "iif" | "oif" => {
                let names: Vec<String> = vals
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
                    .collect::<Result<_, _>>()?;
                out.push(if key.starts_with('i') {
                    Cond::Iif { neg, names }
                } else {
                    Cond::Oif { neg, names }
                });
            }
            _ => return Err(text),
        }
    } else if let Some(ct) = left.get("ct") {
        if ct.get("key").and_then(Value::as_str) != Some("state") {
            return Err(text);
        }
        let states = vals
            .iter()
            .map(|v| match v.as_str() {
                Some("new") => Some(CtState::New),
                Some("established") => Some(CtState::Established),
                Some("related") => Some(CtState::Related),
                Some("invalid") => Some(CtState::Invalid),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        out.push(Cond::State { neg, states });
    } else {
        return Err(text);
    }
    Ok((out, text))
}

fn proto_ranges(vals: &[Value]) -> Option<Vec<(u8, u8)>> {
    vals.iter()
        .map(|v| match v {
            Value::String(s) => proto_number(s).map(|n| (n, n)),
            Value::Number(n) => n
                .as_u64()
                .and_then(|x| u8::try_from(x).ok())
                .map(|n| (n, n)),
            _ => None,
        })
        .collect()
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => {
            if let Some(p) = o.get("payload") {
                format!(
                    "{} {}",
                    p.get("protocol")
                        .or_else(|| p.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("?"),
                    p.get("field").and_then(Value::as_str).unwrap_or("?")
                )
            } else if let Some(m) = o.get("meta") {
                format!(
                    "meta {}",
                    m.get("key").and_then(Value::as_str).unwrap_or("?")
                )
            } else if let Some(c) = o.get("ct") {
                format!("ct {}", c.get("key").and_then(Value::as_str).unwrap_or("?"))
            } else if let Some(p) = o.get("prefix") {
                format!(
                    "{}/{}",
                    p.get("addr").and_then(Value::as_str).unwrap_or("?"),
                    p.get("len").map(Value::to_string).unwrap_or_default()
                )
            } else if let Some((a, b)) = range_of(v) {
                format!("{}-{}", compact(&a), compact(&b))
            } else if let Some(s) = o.get("set") {
                format!(
                    "{{ {} }}",
                    s.as_array()
                        .map(|a| a.iter().map(compact).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                )
            } else {
                v.to_string()
            }
        }
        Value::Array(a) => format!(
            "{{ {} }}",
            a.iter().map(compact).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = include_str!("../../tests/fixtures/rs.json");

    #[test]
    fn reads_nft_1_0_json_with_sets_jumps_and_negation() {
        let rs = parse(SAMPLE).unwrap();
        let main = rs.chains.iter().find(|c| c.name == "main_fw").unwrap();
        assert_eq!(main.families, Families::V4);
        assert_eq!(main.policy, Verdict::Drop);
        assert_eq!(main.hook, Some(Hook::Forward));
        assert_eq!(main.rules.len(), 6);
        assert!(
            main.rules.iter().all(|r| r.unsupported.is_empty()),
            "{:?}",
            main.rules
        );
        assert_eq!(
            main.rules[1].conds[0],
            Cond::Iif {
                neg: false,
                names: vec!["eth*".into()]
            }
        );
        assert_eq!(
            main.rules[2].conds[1],
            Cond::Src {
                neg: false,
                nets: vec![
                    "10.20.0.50/32".parse().unwrap(),
                    "10.20.5.0/24".parse().unwrap()
                ]
            }
        );
        assert_eq!(main.rules[2].verdict, Verdict::Jump("services".into()));
        assert!(main.rules[4].conds.contains(&Cond::DPort {
            neg: true,
            ranges: vec![(445, 445)]
        }));
        assert_eq!(main.rules[4].verdict, Verdict::Return);
        let edge = rs.chains.iter().find(|c| c.name == "forward").unwrap();
        assert_eq!(edge.families, Families::Both);
        assert_eq!(edge.rules[2].origin, "handle 6");
        assert!(edge.rules[2].text.contains("ip daddr == @r1_daddr"));
    }

    #[test]
    fn older_json_spellings_are_read() {
        let old = r#"{"nftables":[{"chain":{"family":"ip","table":"t","name":"c","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
        {"rule":{"family":"ip","table":"t","chain":"c","handle":2,"expr":[
          {"match":{"op":"in","left":{"ct":{"key":"state"}},"right":"established"}},
          {"match":{"op":"==","left":{"payload":{"name":"tcp","field":"dport"}},"right":{"set":[{"range":[1,1023]},{"elem":{"val":8080}}]}}},
          {"accept":null}]}}]}"#;
        let rs = parse(old).unwrap();
        let r = &rs.chains[0].rules[0];
        assert_eq!(
            r.conds[0],
            Cond::State {
                neg: false,
                states: vec![CtState::Established]
            }
        );
        assert_eq!(
            r.conds[2],
            Cond::DPort {
                neg: false,
                ranges: vec![(1, 1023), (8080, 8080)]
            }
        );
    }

    #[test]
    fn bad_json_is_an_error_not_a_panic() {
        assert!(parse("{").is_err());
        assert!(parse("{}").is_err());
        assert!(parse(r#"{"nftables": [{"rule": {"expr": [{"match": 5}]}}]}"#).is_ok());
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_mangled_rules(
            op in prop::sample::select(vec!["==", "!=", "in", "<", ">=", "&"]),
            left in prop::sample::select(vec![
                r#"{"payload":{"protocol":"tcp","field":"dport"}}"#, r#"{"payload":{"protocol":"ip","field":"saddr"}}"#,
                r#"{"meta":{"key":"l4proto"}}"#, r#"{"ct":{"key":"state"}}"#, r#"{"meta":{"key":"iifname"}}"#, "5", "null"]),
            right in prop::sample::select(vec![
                "65536", "-1", r#""10.0.0.0/33""#, r#"{"prefix":{"addr":"x","len":99}}"#, r#"{"range":[5]}"#, r#""@nope""#,
                r#"{"set":[1,{"range":[9,3]}]}"#, r#"["established","bogus"]"#, "[]", "null", r#""eth*""#]),
        ) {
            let doc = format!(r#"{{"nftables":[{{"chain":{{"family":"inet","table":"t","name":"c","hook":"forward","prio":0,"type":"filter","policy":"drop"}}}},
                {{"rule":{{"family":"inet","table":"t","chain":"c","handle":1,"expr":[{{"match":{{"op":"{op}","left":{left},"right":{right}}}}},{{"accept":null}}]}}}}]}}"#);
            let _ = parse(&doc);
        }
    }
}
