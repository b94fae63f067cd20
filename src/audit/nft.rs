//! Reading `nft -j list ruleset` (the JSON of nft 0.9–1.1).
//!
//! Tables of family `ip`, `ip6`, `inet` and `netdev`; base chains (hook, device, type,
//! priority, policy) and regular chains. Matches modelled exactly: `ip`/`ip6` addresses,
//! protocol and next header, `meta l4proto/nfproto/protocol`, interface names and indexes
//! (with `*` wildcards), `tcp/udp/sctp/dccp/udplite/th` ports, `tcp flags` (bitmask `in`,
//! equality, masks), `icmp`/`icmpv6` type and code (names and numbers), `ct state`,
//! `ct status dnat/snat`, `ct mark`, `meta mark` (with masks), prefixes, ranges, ordered
//! comparisons, anonymous and named sets (interval, concatenated), verdict maps (`vmap`, each
//! element becomes an arm). Statements: accept, drop, reject, return, jump, goto, continue;
//! `meta mark set` / `ct mark set` (constants, and/or/xor, copies), `notrack`, `dnat`,
//! `redirect`, `snat`, `masquerade`; counter, log, comment and the like do nothing. Anything
//! else (rate limits, quotas, `fib`, sockets, dynamic sets, `queue`, `xt` compat expressions …)
//! is an unknown part of its rule, bounded both ways and named by handle. Statements run in
//! order: a mark set before a later match applies even when that match fails.

use std::collections::HashMap;

use ipnet::IpNet;
use serde_json::Value;

use crate::audit::model::{
    Chain, ChainType, Effect, Families, Hook, Match, Prim, Rule, Ruleset, Verdict, proto_number,
};
use crate::i18n::Text;
use crate::packet::{CtState, tcp};
use crate::site::parse_net;
use crate::tr;

type SetKey = (String, String, String); // family, table, name

#[derive(Debug, Clone)]
struct SetInfo {
    elems: Vec<Value>,
    /// Members change at run time (flags dynamic / timeout, or a rule adds to it).
    dynamic: bool,
}

/// The document, read without building it: each item of the `nftables` array stays a slice
/// of the input until its pass needs it, so memory is the input plus one item at a time (a
/// whole `serde_json::Value` of a 50 MB ruleset took 1.4 GB).
#[derive(serde::Deserialize)]
struct Doc<'a> {
    #[serde(borrow)]
    nftables: Vec<&'a serde_json::value::RawValue>,
}

/// An item of the `nftables` array: `{"rule": {…}}` and the like, its body left unread.
#[derive(serde::Deserialize)]
struct Item<'a>(
    #[serde(borrow)]
    std::collections::BTreeMap<std::borrow::Cow<'a, str>, &'a serde_json::value::RawValue>,
);

fn json_error(e: &serde_json::Error) -> Text {
    let (l, c) = (e.line(), e.column());
    let what = if e.is_eof() {
        tr!(
            "the file ends early (truncated?)",
            "ファイルが途中で終わっています (切れている?)"
        )
    } else {
        tr!("not valid JSON", "JSON として読めません")
    };
    Text::new(
        format!("line {l}, column {c}: {}: {e}", what.en),
        format!("{l} 行 {c} 列: {}: {e}", what.ja),
    )
}

/// An item's body under key `k`, parsed.
fn body(it: &Item<'_>, k: &str) -> Result<Option<Value>, Text> {
    match it.0.get(k) {
        Some(raw) => serde_json::from_str(raw.get())
            .map(Some)
            .map_err(|e| json_error(&e)),
        None => Ok(None),
    }
}

/// Parse nft JSON.
pub fn parse(text: &str) -> Result<Ruleset, Text> {
    let doc: Doc<'_> = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            tr!(
                "no `nftables` array: is this `nft -j list ruleset` output?",
                "`nftables` 配列がありません。`nft -j list ruleset` の出力ですか?"
            )
        } else {
            json_error(&e)
        }
    })?;
    let mut items: Vec<Item<'_>> = Vec::with_capacity(doc.nftables.len());
    for raw in &doc.nftables {
        let it: Item<'_> = serde_json::from_str(raw.get()).map_err(|_| {
            tr!(
                "an item of the `nftables` array is not an object",
                "`nftables` 配列の要素がオブジェクトではありません"
            )
        })?;
        items.push(it);
    }
    let mut rs = Ruleset {
        covers_v4: true,
        covers_v6: true,
        ..Ruleset::default()
    };
    let mut sets: HashMap<SetKey, SetInfo> = HashMap::new();
    for it in &items {
        let set = match body(it, "set")? {
            Some(s) => Some(s),
            None => body(it, "map")?,
        };
        if let Some(s) = &set {
            let key = (str_of(s, "family"), str_of(s, "table"), str_of(s, "name"));
            let flags: Vec<String> = match s.get("flags") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
                Some(Value::String(f)) => vec![f.clone()],
                _ => vec![],
            };
            let dynamic = flags.iter().any(|f| f == "dynamic" || f == "timeout")
                || s.get("timeout").is_some();
            let elems = s
                .get("elem")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            sets.insert(key, SetInfo { elems, dynamic });
        }
    }
    // Sets that rules add to or update are dynamic too (only rules that name one are read
    // here).
    for it in &items {
        let Some(raw) = it.0.get("rule") else {
            continue;
        };
        if !["\"set\"", "\"map\"", "\"meter\""]
            .iter()
            .any(|k| raw.get().contains(k))
        {
            continue;
        }
        let Some(r) = body(it, "rule")? else { continue };
        let r = &r;
        for e in r
            .get("expr")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for k in ["set", "map", "meter"] {
                if let Some(st) = e.get(k)
                    && let Some(name) = st
                        .get(k)
                        .and_then(Value::as_str)
                        .or_else(|| st.get("name").and_then(Value::as_str))
                {
                    let key = (
                        str_of(r, "family"),
                        str_of(r, "table"),
                        name.trim_start_matches('@').to_string(),
                    );
                    if let Some(info) = sets.get_mut(&key) {
                        info.dynamic = true;
                    }
                }
            }
        }
    }
    for it in &items {
        let Some(c) = body(it, "chain")? else {
            continue;
        };
        let c = &c;
        let family = str_of(c, "family");
        let name = str_of(c, "name");
        let families = match family.as_str() {
            "ip" => Families::V4,
            "ip6" => Families::V6,
            "inet" | "netdev" => Families::Both,
            other => {
                rs.not_analysed.push((
                    format!("chain {name}"),
                    format!("family {other} does not filter routed IP traffic: not analysed"),
                ));
                continue;
            }
        };
        let hook = c.get("hook").and_then(Value::as_str).map(|h| match h {
            "prerouting" => Some(Hook::Prerouting),
            "input" => Some(Hook::Input),
            "forward" => Some(Hook::Forward),
            "output" => Some(Hook::Output),
            "postrouting" => Some(Hook::Postrouting),
            "ingress" => Some(Hook::Ingress),
            "egress" => Some(Hook::Egress),
            _ => None,
        });
        let hook = match hook {
            Some(Some(h)) => Some(h),
            Some(None) => {
                rs.not_analysed.push((
                    format!("chain {name}"),
                    format!("hook {} is not on an IP path", str_of(c, "hook")),
                ));
                continue;
            }
            None => None,
        };
        let device = match c.get("dev") {
            Some(Value::String(d)) => Some(d.clone()),
            Some(Value::Array(a)) if a.len() == 1 => a[0].as_str().map(String::from),
            Some(Value::Array(_)) => {
                rs.not_analysed.push((
                    format!("chain {name}"),
                    "a chain on several devices: each device's traffic is treated as seeing it"
                        .into(),
                ));
                None
            }
            _ => None,
        };
        let ty = match c.get("type").and_then(Value::as_str).unwrap_or("filter") {
            "nat" => ChainType::Nat,
            "route" => ChainType::Route,
            _ => ChainType::Filter,
        };
        let policy = match c.get("policy").and_then(Value::as_str) {
            Some("drop") => Verdict::Drop,
            _ => Verdict::Accept,
        };
        let priority = c.get("prio").and_then(Value::as_i64).unwrap_or(0);
        rs.chains.push(Chain {
            table: format!("{family} {}", str_of(c, "table")),
            name,
            families,
            hook,
            device,
            ty,
            priority,
            policy,
            rules: vec![],
        });
    }
    for it in &items {
        let Some(r) = body(it, "rule")? else { continue };
        let r = &r;
        let (family, table) = (str_of(r, "family"), str_of(r, "table"));
        let chain_name = str_of(r, "chain");
        let handle = r
            .get("handle")
            .and_then(Value::as_i64)
            .map_or("?".to_string(), |h| h.to_string());
        let origin = format!("handle {handle}");
        let tname = format!("{family} {table}");
        let Some(ci) = rs
            .chains
            .iter()
            .position(|c| c.table == tname && c.name == chain_name)
        else {
            if matches!(family.as_str(), "ip" | "ip6" | "inet" | "netdev") {
                return Err(Text::new(
                    format!(
                        "{origin}: rule of chain {chain_name} in table {tname}, which the file does not declare (truncated or edited?)"
                    ),
                    format!(
                        "{origin}: 宣言されていないチェイン {chain_name} (テーブル {tname}) のルールです (ファイルが切れているか編集されている?)"
                    ),
                ));
            }
            continue;
        };
        let ctx = RuleCtx {
            family: &family,
            table: &table,
            sets: &sets,
        };
        let rules = parse_rule(r, &ctx, origin);
        rs.chains[ci].rules.extend(rules);
    }
    Ok(rs)
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

struct RuleCtx<'a> {
    family: &'a str,
    table: &'a str,
    sets: &'a HashMap<SetKey, SetInfo>,
}

impl RuleCtx<'_> {
    /// The implicit family of the table (`None` for inet/netdev).
    fn fam(&self) -> Option<bool> {
        match self.family {
            "ip" => Some(false),
            "ip6" => Some(true),
            _ => None,
        }
    }

    fn set(&self, name: &str) -> Option<&SetInfo> {
        self.sets.get(&(
            self.family.to_string(),
            self.table.to_string(),
            name.to_string(),
        ))
    }
}

/// A step of a rule, in order.
enum Step {
    Match(Match),
    Effect(Effect),
    Verdict(Verdict),
    /// A verdict map: arms of (key match, verdict).
    Vmap(Vec<(Match, Verdict)>),
    /// An effect, then a verdict (NAT statements).
    EffectThen(Effect, Verdict),
}

fn parse_rule(r: &Value, ctx: &RuleCtx<'_>, origin: String) -> Vec<Rule> {
    let mut steps: Vec<Step> = Vec::new();
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
        let (step, word) = statement(k, body, ctx);
        words.push(word);
        if let Some(s) = step {
            steps.push(s);
        }
    }
    let comment = r
        .get("comment")
        .and_then(Value::as_str)
        .map(|c| format!(" comment \"{c}\""))
        .unwrap_or_default();
    let text = format!("{}{comment}", words.join(" "));
    // Fold the steps into model rules: a run of matches, then effects, then a verdict; an
    // effect followed by more matches splits the rule (the effect applies either way).
    let mut out: Vec<Rule> = Vec::new();
    let mut matches: Vec<Match> = Vec::new();
    let mut effects: Vec<Effect> = Vec::new();
    let mut n_arm = 0;
    for step in steps {
        match step {
            Step::Match(m) => {
                if !effects.is_empty() {
                    out.push(Rule {
                        origin: origin.clone(),
                        text: text.clone(),
                        matches: Match::all(matches.clone()),
                        effects: std::mem::take(&mut effects),
                        verdict: Verdict::Continue,
                    });
                    // The earlier matches are tested again on the changed packet: exact
                    // unless they read a mark the effects changed.
                    if matches.iter().any(reads_marks) {
                        matches = vec![Match::unknown(
                            "a match after a mark change in the same rule",
                        )];
                    }
                }
                matches.push(m);
            }
            Step::Effect(e) => effects.push(e),
            Step::EffectThen(e, v) => {
                effects.push(e);
                out.push(Rule {
                    origin: origin.clone(),
                    text: text.clone(),
                    matches: Match::all(std::mem::take(&mut matches)),
                    effects: std::mem::take(&mut effects),
                    verdict: v,
                });
                return out;
            }
            Step::Verdict(v) => {
                out.push(Rule {
                    origin: origin.clone(),
                    text: text.clone(),
                    matches: Match::all(std::mem::take(&mut matches)),
                    effects: std::mem::take(&mut effects),
                    verdict: v,
                });
                return out;
            }
            Step::Vmap(arms) => {
                let pre = Match::all(std::mem::take(&mut matches));
                let fx = std::mem::take(&mut effects);
                if !fx.is_empty() {
                    out.push(Rule {
                        origin: origin.clone(),
                        text: text.clone(),
                        matches: pre.clone(),
                        effects: fx,
                        verdict: Verdict::Continue,
                    });
                }
                for (key, v) in arms {
                    n_arm += 1;
                    out.push(Rule {
                        origin: format!("{origin} (element {n_arm})"),
                        text: text.clone(),
                        matches: Match::all(vec![pre.clone(), key]),
                        effects: vec![],
                        verdict: v,
                    });
                }
                return out;
            }
        }
    }
    out.push(Rule {
        origin,
        text,
        matches: Match::all(matches),
        effects,
        verdict: Verdict::Continue,
    });
    out
}

fn reads_marks(m: &Match) -> bool {
    let mut r = false;
    m.prims(&mut |p| {
        if matches!(p, Prim::Mark { .. } | Prim::CtMark { .. }) {
            r = true
        }
    });
    r
}

/// One statement: what it does, and how it reads.
fn statement(k: &str, body: &Value, ctx: &RuleCtx<'_>) -> (Option<Step>, String) {
    let verdict = |v: Verdict, w: String| (Some(Step::Verdict(v)), w);
    match k {
        "match" => match match_expr(body, ctx) {
            Ok((m, w)) => (Some(Step::Match(m)), w),
            Err(w) => (Some(Step::Match(Match::unknown(w.clone()))), w),
        },
        "accept" => verdict(Verdict::Accept, "accept".into()),
        "drop" => verdict(Verdict::Drop, "drop".into()),
        "reject" => verdict(Verdict::Reject, "reject".into()),
        "return" => verdict(Verdict::Return, "return".into()),
        "continue" => verdict(Verdict::Continue, "continue".into()),
        "jump" => {
            let t = str_of(body, "target");
            verdict(Verdict::Jump(t.clone()), format!("jump {t}"))
        }
        "goto" => {
            let t = str_of(body, "target");
            verdict(Verdict::Goto(t.clone()), format!("goto {t}"))
        }
        "queue" => verdict(Verdict::Unknown("queue".into()), "queue".into()),
        "counter" | "log" | "comment" | "ct helper" | "ct timeout" | "ct expectation" | "dup"
        | "secmark" | "last" | "flow" | "ct count_obj" => (None, k.to_string()),
        "notrack" => (Some(Step::Effect(Effect::NoTrack)), "notrack".into()),
        // NAT statements apply and end the chain (accept).
        "dnat" | "redirect" => (
            Some(Step::EffectThen(Effect::Dnat, Verdict::Accept)),
            format!("{k} {}", compact(body)),
        ),
        "snat" | "masquerade" => (
            Some(Step::EffectThen(Effect::Snat, Verdict::Accept)),
            format!("{k} {}", compact(body)),
        ),
        "tproxy" => (
            Some(Step::EffectThen(
                Effect::Dnat,
                Verdict::Unknown("tproxy".into()),
            )),
            "tproxy".into(),
        ),
        "mangle" => {
            let key = body.get("key").cloned().unwrap_or(Value::Null);
            let value = body.get("value").cloned().unwrap_or(Value::Null);
            let word = format!("{} set {}", compact(&key), compact(&value));
            let target = if key
                .get("meta")
                .and_then(|m| m.get("key"))
                .and_then(Value::as_str)
                == Some("mark")
            {
                Some(false)
            } else if key
                .get("ct")
                .and_then(|m| m.get("key"))
                .and_then(Value::as_str)
                == Some("mark")
            {
                Some(true)
            } else {
                None
            };
            match target {
                None => (None, word), // other header fields: nothing the model reads
                Some(ct) => (Some(Step::Effect(mark_effect(ct, &value))), word),
            }
        }
        "vmap" => {
            let key = body.get("key").cloned().unwrap_or(Value::Null);
            let data = body.get("data").cloned().unwrap_or(Value::Null);
            let word = format!("{} vmap {}", compact(&key), compact(&data));
            match vmap_arms(&key, &data, ctx) {
                Ok(arms) => (Some(Step::Vmap(arms)), word),
                Err(w) => (
                    Some(Step::Vmap(vec![(Match::True, Verdict::Unknown(w.clone()))])),
                    word,
                ),
            }
        }
        "xt" => {
            let name = str_of(body, "name");
            let ty = str_of(body, "type");
            let w = format!("xt {ty} {name}");
            if ty == "target" {
                verdict(Verdict::Unknown(w.clone()), w)
            } else {
                (Some(Step::Match(Match::unknown(w.clone()))), w)
            }
        }
        // Rate limits, quotas, meters and set updates decide per packet at run time.
        other => {
            let w = format!("{other} {}", compact(body));
            (Some(Step::Match(Match::unknown(w.clone()))), w)
        }
    }
}

/// The value a mark is set to, as `(old & and) ^ xor`, or a copy from the other mark.
fn mark_effect(ct: bool, value: &Value) -> Effect {
    let unknown = if ct {
        Effect::CtMarkUnknown { mask: u32::MAX }
    } else {
        Effect::MarkUnknown { mask: u32::MAX }
    };
    match affine(value, ct) {
        Some(Affine::Own(and, xor)) => {
            if ct {
                Effect::CtMark { clear: !and, xor }
            } else {
                Effect::Mark { clear: !and, xor }
            }
        }
        Some(Affine::Other(mask)) => {
            if ct {
                Effect::CtMarkFromMark { mask }
            } else {
                Effect::MarkFromCtMark { mask }
            }
        }
        None => unknown,
    }
}

enum Affine {
    /// `(own & and) ^ xor`.
    Own(u32, u32),
    /// The other mark's bits under this mask, the rest 0.
    Other(u32),
}

fn affine(v: &Value, ct: bool) -> Option<Affine> {
    let own_key = if ct { "ct" } else { "meta" };
    let other_key = if ct { "meta" } else { "ct" };
    if let Some(n) = num(v) {
        return Some(Affine::Own(0, n));
    }
    if v.get(own_key)
        .and_then(|m| m.get("key"))
        .and_then(Value::as_str)
        == Some("mark")
    {
        return Some(Affine::Own(u32::MAX, 0));
    }
    if v.get(other_key)
        .and_then(|m| m.get("key"))
        .and_then(Value::as_str)
        == Some("mark")
    {
        return Some(Affine::Other(u32::MAX));
    }
    for op in ["&", "|", "^"] {
        if let Some(Value::Array(a)) = v.get(op)
            && a.len() == 2
        {
            let n = num(&a[1])?;
            return match (affine(&a[0], ct)?, op) {
                (Affine::Own(and, xor), "&") => Some(Affine::Own(and & n, xor & n)),
                (Affine::Own(and, xor), "|") => Some(Affine::Own(and & !n, xor | n)),
                (Affine::Own(and, xor), _) => Some(Affine::Own(and, xor ^ n)),
                (Affine::Other(m), "&") => Some(Affine::Other(m & n)),
                _ => None,
            };
        }
    }
    None
}

fn num(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
        Value::String(s) => crate::audit::ipset::parse_u32(s),
        _ => None,
    }
}

/// What the left side of a match reads.
#[derive(Debug, Clone, PartialEq)]
enum Sel {
    Addr { src: bool, v6: Option<bool> },
    Proto { v6: Option<bool> },
    Port { src: bool, proto: Option<u8> },
    IcmpType { v6: bool },
    IcmpCode { v6: bool },
    TcpFlags,
    CtState,
    CtStatus,
    CtMark,
    Mark,
    IfName { out: bool },
    IfIndex { out: bool },
    NfProto,
    EtherProto,
}

fn selector(left: &Value, ctx: &RuleCtx<'_>) -> Option<(Sel, u32)> {
    if let Some(Value::Array(a)) = left.get("&")
        && a.len() == 2
    {
        let (sel, _) = selector(&a[0], ctx)?;
        let mask = match sel {
            Sel::TcpFlags => flag_bits(&a[1])?,
            Sel::CtState => return None,
            _ => num(&a[1])?,
        };
        return Some((sel, mask));
    }
    if let Some(p) = left.get("payload") {
        let proto = p
            .get("protocol")
            .or_else(|| p.get("name"))
            .and_then(Value::as_str)?;
        let field = p.get("field").and_then(Value::as_str)?;
        let sel = match (proto, field) {
            ("ip", "saddr") => Sel::Addr {
                src: true,
                v6: Some(false),
            },
            ("ip", "daddr") => Sel::Addr {
                src: false,
                v6: Some(false),
            },
            ("ip6", "saddr") => Sel::Addr {
                src: true,
                v6: Some(true),
            },
            ("ip6", "daddr") => Sel::Addr {
                src: false,
                v6: Some(true),
            },
            ("ip", "protocol") => Sel::Proto { v6: Some(false) },
            ("ip6", "nexthdr") => Sel::Proto { v6: Some(true) },
            ("tcp" | "udp" | "sctp" | "dccp" | "udplite", "sport" | "dport") => Sel::Port {
                src: field == "sport",
                proto: proto_number(proto),
            },
            ("th", "sport" | "dport") => Sel::Port {
                src: field == "sport",
                proto: None,
            },
            ("icmp", "type") => Sel::IcmpType { v6: false },
            ("icmp", "code") => Sel::IcmpCode { v6: false },
            ("icmpv6", "type") => Sel::IcmpType { v6: true },
            ("icmpv6", "code") => Sel::IcmpCode { v6: true },
            ("tcp", "flags") => Sel::TcpFlags,
            _ => return None,
        };
        return Some((sel, u32::MAX));
    }
    if let Some(m) = left.get("meta") {
        let sel = match m.get("key").and_then(Value::as_str)? {
            "l4proto" => Sel::Proto { v6: None },
            "nfproto" => Sel::NfProto,
            "protocol" => Sel::EtherProto,
            "iifname" => Sel::IfName { out: false },
            "oifname" => Sel::IfName { out: true },
            "iif" => Sel::IfIndex { out: false },
            "oif" => Sel::IfIndex { out: true },
            "mark" => Sel::Mark,
            _ => return None,
        };
        return Some((sel, u32::MAX));
    }
    if let Some(c) = left.get("ct") {
        if c.get("dir").is_some() {
            return None;
        }
        let sel = match c.get("key").and_then(Value::as_str)? {
            "state" => Sel::CtState,
            "status" => Sel::CtStatus,
            "mark" => Sel::CtMark,
            _ => return None,
        };
        return Some((sel, u32::MAX));
    }
    let _ = ctx;
    None
}

/// The elements a right-hand side stands for (sets expanded), or None if unknown/dynamic.
fn elements(right: &Value, ctx: &RuleCtx<'_>) -> Result<Vec<Value>, String> {
    match right {
        Value::String(s) if s.starts_with('@') => {
            let name = &s[1..];
            let info = ctx
                .set(name)
                .ok_or_else(|| format!("set @{name} is not in the dump"))?;
            if info.dynamic {
                return Err(format!("@{name} (members change at run time)"));
            }
            Ok(info.elems.iter().map(unwrap_elem).collect())
        }
        Value::Object(o) if o.contains_key("set") => match o.get("set") {
            Some(Value::Array(a)) => Ok(a.iter().map(unwrap_elem).collect()),
            Some(other) => Ok(vec![unwrap_elem(other)]),
            None => Ok(vec![]),
        },
        other => Ok(vec![unwrap_elem(other)]),
    }
}

fn unwrap_elem(v: &Value) -> Value {
    match v.get("elem").and_then(|e| e.get("val")) {
        Some(inner) => inner.clone(),
        None => v.clone(),
    }
}

fn range_of(v: &Value) -> Option<(Value, Value)> {
    let r = v.get("range")?;
    match r {
        Value::Array(a) if a.len() == 2 => Some((a[0].clone(), a[1].clone())),
        Value::Object(o) => Some((o.get("min")?.clone(), o.get("max")?.clone())),
        _ => None,
    }
}

fn nets_of(v: &Value) -> Option<Vec<IpNet>> {
    if let Some((a, b)) = range_of(v) {
        let (a, b) = (parse_net(a.as_str()?)?, parse_net(b.as_str()?)?);
        let mut s = crate::addr::AddrSet::new();
        match (a.addr(), b.addr()) {
            (std::net::IpAddr::V4(x), std::net::IpAddr::V4(y)) if x <= y => {
                s.v4.ranges_insert(u32::from(x)..=u32::from(y));
            }
            (std::net::IpAddr::V6(x), std::net::IpAddr::V6(y)) if x <= y => {
                s.v6.ranges_insert(u128::from(x)..=u128::from(y));
            }
            _ => return None,
        }
        return Some(s.nets());
    }
    match v {
        Value::String(s) => parse_net(s).map(|n| vec![n]),
        Value::Object(o) => {
            let p = o.get("prefix")?;
            let addr = p.get("addr")?.as_str()?;
            let len = p.get("len")?.as_u64()?;
            parse_net(&format!("{addr}/{len}")).map(|n| vec![n])
        }
        _ => None,
    }
}

fn service_port(s: &str) -> Option<u16> {
    Some(match s {
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "domain" => 53,
        "bootps" => 67,
        "bootpc" => 68,
        "tftp" => 69,
        "http" => 80,
        "kerberos" => 88,
        "pop3" => 110,
        "ntp" => 123,
        "netbios-ns" => 137,
        "netbios-dgm" => 138,
        "netbios-ssn" => 139,
        "imap" | "imap2" => 143,
        "snmp" => 161,
        "ldap" => 389,
        "https" => 443,
        "microsoft-ds" => 445,
        "isakmp" => 500,
        "syslog" => 514,
        "submission" => 587,
        "ldaps" => 636,
        "imaps" => 993,
        "pop3s" => 995,
        "openvpn" => 1194,
        "ipsec-nat-t" => 4500,
        "dhcpv6-client" => 546,
        "dhcpv6-server" => 547,
        "domain-s" => 853,
        "mdns" => 5353,
        _ => return None,
    })
}

fn port_of(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|x| u16::try_from(x).ok()),
        Value::String(s) => s.parse().ok().or_else(|| service_port(s)),
        _ => None,
    }
}

fn port_ranges(v: &Value) -> Option<Vec<(u16, u16)>> {
    match range_of(v) {
        Some((a, b)) => Some(vec![(port_of(&a)?, port_of(&b)?)]),
        None => port_of(v).map(|p| vec![(p, p)]),
    }
}

fn icmp_type_of(v: &Value, v6: bool) -> Option<u8> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|x| u8::try_from(x).ok()),
        Value::String(s) => s.parse().ok().or_else(|| {
            let t = if v6 {
                match s.as_str() {
                    "destination-unreachable" => 1,
                    "packet-too-big" => 2,
                    "time-exceeded" => 3,
                    "parameter-problem" => 4,
                    "echo-request" => 128,
                    "echo-reply" => 129,
                    "mld-listener-query" => 130,
                    "mld-listener-report" => 131,
                    "mld-listener-done" | "mld-listener-reduction" => 132,
                    "nd-router-solicit" => 133,
                    "nd-router-advert" => 134,
                    "nd-neighbor-solicit" => 135,
                    "nd-neighbor-advert" => 136,
                    "nd-redirect" => 137,
                    "router-renumbering" => 138,
                    "ind-neighbor-solicit" => 141,
                    "ind-neighbor-advert" => 142,
                    "mld2-listener-report" => 143,
                    _ => return None,
                }
            } else {
                match s.as_str() {
                    "echo-reply" => 0,
                    "destination-unreachable" => 3,
                    "source-quench" => 4,
                    "redirect" => 5,
                    "echo-request" => 8,
                    "router-advertisement" => 9,
                    "router-solicitation" => 10,
                    "time-exceeded" => 11,
                    "parameter-problem" => 12,
                    "timestamp-request" => 13,
                    "timestamp-reply" => 14,
                    "info-request" => 15,
                    "info-reply" => 16,
                    "address-mask-request" => 17,
                    "address-mask-reply" => 18,
                    _ => return None,
                }
            };
            Some(t)
        }),
        _ => None,
    }
}

fn icmp_code_of(v: &Value, v6: bool) -> Option<u8> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|x| u8::try_from(x).ok()),
        Value::String(s) => s.parse().ok().or_else(|| {
            Some(match (v6, s.as_str()) {
                (false, "net-unreachable") => 0,
                (false, "host-unreachable") => 1,
                (false, "prot-unreachable") => 2,
                (false, "port-unreachable") => 3,
                (false, "frag-needed") => 4,
                (false, "net-prohibited") => 9,
                (false, "host-prohibited") => 10,
                (false, "admin-prohibited") => 13,
                (true, "no-route") => 0,
                (true, "admin-prohibited") => 1,
                (true, "addr-unreachable") => 3,
                (true, "port-unreachable") => 4,
                (true, "policy-fail") => 5,
                (true, "reject-route") => 6,
                _ => return None,
            })
        }),
        _ => None,
    }
}

fn flag_bits(v: &Value) -> Option<u32> {
    match v {
        Value::Array(a) => a.iter().try_fold(0u32, |acc, x| Some(acc | flag_bits(x)?)),
        Value::Object(o) => {
            let a = o.get("|")?.as_array()?;
            a.iter().try_fold(0u32, |acc, x| Some(acc | flag_bits(x)?))
        }
        Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
        Value::String(s) => Some(u32::from(match s.as_str() {
            "fin" => tcp::FIN,
            "syn" => tcp::SYN,
            "rst" => tcp::RST,
            "psh" => tcp::PSH,
            "ack" => tcp::ACK,
            "urg" => tcp::URG,
            "ecn" => tcp::ECE,
            "cwr" => tcp::CWR,
            _ => return None,
        })),
        _ => None,
    }
}

fn state_of(v: &Value) -> Option<Vec<CtState>> {
    match v {
        Value::Array(a) => a.iter().try_fold(Vec::new(), |mut acc, x| {
            acc.extend(state_of(x)?);
            Some(acc)
        }),
        Value::Object(o) => state_of(&Value::Array(o.get("|")?.as_array()?.clone())),
        Value::String(s) => Some(vec![match s.as_str() {
            "new" => CtState::New,
            "established" => CtState::Established,
            "related" => CtState::Related,
            "invalid" => CtState::Invalid,
            "untracked" => CtState::Untracked,
            _ => return None,
        }]),
        _ => None,
    }
}

/// The match `sel == value` for one element value.
fn eq_one(sel: &Sel, mask: u32, v: &Value, ctx: &RuleCtx<'_>) -> Option<Match> {
    let fam = |v6: Option<bool>| v6.or(ctx.fam());
    Some(match sel {
        Sel::Addr { src, v6 } => {
            let nets = nets_of(v)?;
            let mut parts = Vec::new();
            if let Some(f) = fam(*v6) {
                parts.push(Match::prim(Prim::Family { v6: f }));
                if nets.iter().any(|n| n.addr().is_ipv6() != f) {
                    return Some(Match::False);
                }
            }
            parts.push(Match::prim(if *src {
                Prim::Src { nets }
            } else {
                Prim::Dst { nets }
            }));
            Match::all(parts)
        }
        Sel::Proto { v6 } => {
            let ranges = match range_of(v) {
                Some((a, b)) => vec![(proto_val(&a)?, proto_val(&b)?)],
                None => vec![(proto_val(v)?, proto_val(v)?)],
            };
            let mut parts = Vec::new();
            if let Some(f) = v6 {
                parts.push(Match::prim(Prim::Family { v6: *f }));
            }
            parts.push(Match::prim(Prim::Proto { ranges }));
            Match::all(parts)
        }
        Sel::Port { src, proto } => {
            let ranges = port_ranges(v)?;
            port_match(*src, *proto, ranges)
        }
        Sel::IcmpType { v6 } => {
            let t = u16::from(icmp_type_of(v, *v6)?);
            let (lo, hi) = match range_of(v) {
                Some((a, b)) => (
                    u16::from(icmp_type_of(&a, *v6)?),
                    u16::from(icmp_type_of(&b, *v6)?),
                ),
                None => (t, t),
            };
            Match::all(vec![
                Match::prim(Prim::Family { v6: *v6 }),
                Match::prim(Prim::Icmp {
                    v6: *v6,
                    ranges: vec![(lo << 8, hi << 8 | 0xff)],
                }),
            ])
        }
        Sel::IcmpCode { v6 } => {
            let c = u16::from(icmp_code_of(v, *v6)?);
            Match::all(vec![
                Match::prim(Prim::Family { v6: *v6 }),
                Match::prim(Prim::Icmp {
                    v6: *v6,
                    ranges: (0..=255u16).map(|t| (t << 8 | c, t << 8 | c)).collect(),
                }),
            ])
        }
        Sel::TcpFlags => {
            let value = flag_bits(v)?;
            Match::prim(Prim::TcpFlags {
                mask: (mask & 0xff) as u8,
                value: (value & mask & 0xff) as u8,
            })
        }
        Sel::CtState => Match::prim(Prim::State {
            states: state_of(v)?,
        }),
        Sel::CtStatus => match v.as_str()? {
            "dnat" => Match::prim(Prim::CtStatus {
                dnat: true,
                neg: false,
            }),
            "snat" => Match::prim(Prim::CtStatus {
                dnat: false,
                neg: false,
            }),
            _ => return None,
        },
        Sel::CtMark => Match::prim(Prim::CtMark {
            mask,
            value: num(v)? & mask,
            neg: false,
        }),
        Sel::Mark => Match::prim(Prim::Mark {
            mask,
            value: num(v)? & mask,
        }),
        Sel::IfName { out } => {
            let n = v.as_str()?.replace("\\*", "\u{0}");
            let n = n.replace('\u{0}', "*");
            Match::prim(if *out {
                Prim::Oif { names: vec![n] }
            } else {
                Prim::Iif { names: vec![n] }
            })
        }
        Sel::IfIndex { out } => {
            let n = v.as_str()?.to_string();
            if n.parse::<u64>().is_ok() {
                return None;
            }
            let p = |names: Vec<String>| {
                if *out {
                    Prim::Oif { names }
                } else {
                    Prim::Iif { names }
                }
            };
            Match::all(vec![
                Match::prim(p(vec![String::new()])).negate(),
                Match::prim(p(vec![n])),
            ])
        }
        Sel::NfProto | Sel::EtherProto => match v.as_str()? {
            "ipv4" | "ip" => Match::prim(Prim::Family { v6: false }),
            "ipv6" | "ip6" => Match::prim(Prim::Family { v6: true }),
            _ => Match::False,
        },
    })
}

fn proto_val(v: &Value) -> Option<u8> {
    match v {
        Value::String(s) => proto_number(s),
        Value::Number(n) => n.as_u64().and_then(|x| u8::try_from(x).ok()),
        _ => None,
    }
}

fn port_match(src: bool, proto: Option<u8>, ranges: Vec<(u16, u16)>) -> Match {
    let port = Match::prim(if src {
        Prim::SPort { ranges }
    } else {
        Prim::DPort { ranges }
    });
    match proto {
        Some(p) => Match::all(vec![
            Match::prim(Prim::Proto {
                ranges: vec![(p, p)],
            }),
            port,
        ]),
        // `th`: the port protocols are exact; on any other protocol the bytes read are not
        // ports, so the outcome there is unknown.
        None => Match::any(vec![
            port,
            Match::all(vec![
                Match::prim(Prim::Proto {
                    ranges: crate::packet::PORT_PROTOS
                        .iter()
                        .map(|p| (*p, *p))
                        .collect(),
                })
                .negate(),
                Match::unknown("th on a protocol without ports"),
            ]),
        ]),
    }
}

/// Whether `sel` has an implicit "the header exists" dependency that negation must keep
/// (`tcp dport != 22` still needs TCP).
fn dependency(sel: &Sel, ctx: &RuleCtx<'_>) -> Option<Match> {
    match sel {
        Sel::Addr { v6, .. } | Sel::Proto { v6 } => v6
            .or(ctx.fam())
            .filter(|_| v6.is_some())
            .map(|f| Match::prim(Prim::Family { v6: f })),
        Sel::Port { proto: Some(p), .. } => Some(Match::prim(Prim::Proto {
            ranges: vec![(*p, *p)],
        })),
        Sel::Port { proto: None, .. } => Some(Match::prim(Prim::Proto {
            ranges: crate::packet::PORT_PROTOS
                .iter()
                .map(|p| (*p, *p))
                .collect(),
        })),
        // `icmp` / `icmpv6` imply their family in an inet table (the kernel checks nfproto).
        Sel::IcmpType { v6 } | Sel::IcmpCode { v6 } => Some(Match::all(vec![
            Match::prim(Prim::Family { v6: *v6 }),
            Match::prim(Prim::Proto {
                ranges: vec![if *v6 { (58, 58) } else { (1, 1) }],
            }),
        ])),
        Sel::TcpFlags => Some(Match::prim(Prim::Proto {
            ranges: vec![(6, 6)],
        })),
        _ => None,
    }
}

fn match_expr(m: &Value, ctx: &RuleCtx<'_>) -> Result<(Match, String), String> {
    let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
    let left = m.get("left").cloned().unwrap_or(Value::Null);
    let right = m.get("right").cloned().unwrap_or(Value::Null);
    let text = format!("{} {op} {}", compact(&left), compact(&right));
    let t = text.clone();
    let m = cmp(&left, op, &right, ctx).ok_or(t)?;
    Ok((m, text))
}

fn cmp(left: &Value, op: &str, right: &Value, ctx: &RuleCtx<'_>) -> Option<Match> {
    // Concatenations: each element is a tuple.
    if let Some(Value::Array(parts)) = left.get("concat") {
        let sels: Vec<(Sel, u32)> = parts
            .iter()
            .map(|p| selector(p, ctx))
            .collect::<Option<_>>()?;
        let elems = elements(right, ctx).ok()?;
        let mut any = Vec::new();
        for e in &elems {
            let vals: Vec<Value> = match e.get("concat") {
                Some(Value::Array(a)) => a.clone(),
                _ => return None,
            };
            if vals.len() != sels.len() {
                return None;
            }
            let mut all = Vec::new();
            for ((sel, mask), v) in sels.iter().zip(&vals) {
                all.push(eq_one(sel, *mask, v, ctx)?);
            }
            any.push(Match::all(all));
        }
        let m = Match::any(any);
        return match op {
            "==" | "in" => Some(m),
            "!=" => {
                let deps: Vec<Match> = sels
                    .iter()
                    .filter_map(|(s, _)| dependency(s, ctx))
                    .collect();
                Some(Match::all(vec![Match::all(deps), m.negate()]))
            }
            _ => None,
        };
    }
    let (sel, mask) = selector(left, ctx)?;
    // Bitmask "in": (left & right) != 0.
    if op == "in" && matches!(sel, Sel::TcpFlags) && !right.is_object() {
        let bits = flag_bits(right)?;
        let any: Vec<Match> = (0..8)
            .filter(|b| bits >> b & 1 == 1)
            .map(|b| {
                Match::prim(Prim::TcpFlags {
                    mask: 1 << b,
                    value: 1 << b,
                })
            })
            .collect();
        return Some(Match::any(any));
    }
    if op == "in" && matches!(sel, Sel::CtStatus) {
        let names: Vec<Value> = match right {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        return Some(Match::any(
            names
                .iter()
                .map(|n| eq_one(&sel, mask, n, ctx))
                .collect::<Option<Vec<_>>>()?,
        ));
    }
    if matches!(sel, Sel::CtState) && matches!(right, Value::Array(_) | Value::String(_)) {
        let m = Match::prim(Prim::State {
            states: state_of(right)?,
        });
        return match op {
            "==" | "in" => Some(m),
            "!=" => Some(m.negate()),
            _ => None,
        };
    }
    // A bitmask compared against 0 after `&`: `tcp flags & (syn|ack) != 0`.
    let m = match op {
        "==" | "in" | "!=" => {
            let elems = elements(right, ctx).ok()?;
            let any: Vec<Match> = elems
                .iter()
                .map(|v| eq_one(&sel, mask, v, ctx))
                .collect::<Option<_>>()?;
            Match::any(any)
        }
        "<" | "<=" | ">" | ">=" => {
            let n = match &sel {
                Sel::Port { .. } => u32::from(port_of(right)?),
                Sel::Proto { .. } => u32::from(proto_val(right)?),
                _ => return None,
            };
            let max: u32 = if matches!(sel, Sel::Proto { .. }) {
                255
            } else {
                65535
            };
            let (lo, hi) = match op {
                "<" => (0, n.checked_sub(1)?),
                "<=" => (0, n),
                ">" => (n + 1, max),
                _ => (n, max),
            };
            if lo > max {
                return Some(Match::False);
            }
            let v = serde_json::json!({"range": [lo, hi.min(max)]});
            eq_one(&sel, mask, &v, ctx)?
        }
        _ => return None,
    };
    if op == "!=" {
        if let Sel::CtMark = sel {
            // `ct mark != x` still needs a connection.
            return Some(Match::all(vec![
                Match::prim(Prim::CtMark {
                    mask: 0,
                    value: 0,
                    neg: false,
                }),
                m.negate(),
            ]));
        }
        if let Sel::IfIndex { out } = sel {
            let p = |names: Vec<String>| {
                if out {
                    Prim::Oif { names }
                } else {
                    Prim::Iif { names }
                }
            };
            return Some(Match::all(vec![
                Match::prim(p(vec![String::new()])).negate(),
                m.negate(),
            ]));
        }
        let dep = dependency(&sel, ctx).unwrap_or(Match::True);
        return Some(Match::all(vec![dep, m.negate()]));
    }
    Some(m)
}

/// The arms of a verdict map.
fn vmap_arms(
    key: &Value,
    data: &Value,
    ctx: &RuleCtx<'_>,
) -> Result<Vec<(Match, Verdict)>, String> {
    let pairs: Vec<Value> = match data {
        Value::String(s) if s.starts_with('@') => {
            let name = &s[1..];
            let info = ctx
                .set(name)
                .ok_or_else(|| format!("map @{name} is not in the dump"))?;
            if info.dynamic {
                return Err(format!("map @{name} changes at run time"));
            }
            info.elems.clone()
        }
        Value::Object(o) if o.contains_key("set") => o
            .get("set")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => return Err(format!("vmap {}", compact(data))),
    };
    let mut arms = Vec::new();
    for p in pairs {
        let (k, v) = match &p {
            Value::Array(a) if a.len() == 2 => (unwrap_elem(&a[0]), a[1].clone()),
            _ => return Err(format!("vmap element {}", compact(&p))),
        };
        let verdict = match v.as_object().and_then(|o| o.iter().next()) {
            Some((name, body)) => match name.as_str() {
                "accept" => Verdict::Accept,
                "drop" => Verdict::Drop,
                "reject" => Verdict::Reject,
                "return" => Verdict::Return,
                "continue" => Verdict::Continue,
                "jump" => Verdict::Jump(str_of(body, "target")),
                "goto" => Verdict::Goto(str_of(body, "target")),
                other => Verdict::Unknown(other.to_string()),
            },
            None => return Err(format!("vmap verdict {}", compact(&v))),
        };
        let m = cmp(key, "==", &serde_json::json!({"set": [k]}), ctx)
            .unwrap_or_else(|| Match::unknown(format!("{} == {}", compact(key), compact(&k))));
        arms.push((m, verdict));
    }
    Ok(arms)
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        Value::Object(o) => {
            if let Some(p) = o.get("payload") {
                format!(
                    "{} {}",
                    p.get("protocol")
                        .or_else(|| p.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("raw"),
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
                match s.as_array() {
                    Some(a) => format!(
                        "{{ {} }}",
                        a.iter().map(compact).collect::<Vec<_>>().join(", ")
                    ),
                    None => compact(s),
                }
            } else if let Some(Value::Array(a)) = o.get("concat") {
                a.iter().map(compact).collect::<Vec<_>>().join(" . ")
            } else if let Some((k, Value::Array(a))) = o.iter().next()
                && matches!(k.as_str(), "&" | "|" | "^")
            {
                a.iter()
                    .map(compact)
                    .collect::<Vec<_>>()
                    .join(&format!(" {k} "))
            } else if let Some((k, b)) = o.iter().next() {
                if b.is_null() {
                    k.clone()
                } else {
                    format!("{k} {}", compact(b))
                }
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
            main.rules.iter().all(|r| r.unsupported().is_empty()),
            "{:?}",
            main.rules
        );
        assert_eq!(main.rules[2].verdict, Verdict::Jump("services".into()));
        assert_eq!(main.rules[4].verdict, Verdict::Return);
        let edge = rs.chains.iter().find(|c| c.name == "forward").unwrap();
        assert_eq!(edge.families, Families::Both);
        assert_eq!(edge.rules[2].origin, "handle 6");
        assert!(edge.rules[2].text.contains("ip daddr == @r1_daddr"));
    }

    #[test]
    fn verdict_maps_become_arms_and_nat_is_an_effect() {
        let doc = r#"{"nftables":[
 {"chain":{"family":"inet","table":"t","name":"f","hook":"forward","prio":0,"type":"filter","policy":"drop"}},
 {"chain":{"family":"inet","table":"t","name":"x"}},
 {"chain":{"family":"ip","table":"n","name":"pre","hook":"prerouting","prio":-100,"type":"nat","policy":"accept"}},
 {"rule":{"family":"inet","table":"t","chain":"f","handle":3,"expr":[{"vmap":{"key":{"ct":{"key":"state"}},"data":{"set":[["established",{"accept":null}],["related",{"accept":null}],["invalid",{"drop":null}]]}}}]}},
 {"rule":{"family":"inet","table":"t","chain":"f","handle":4,"expr":[{"match":{"op":"==","left":{"meta":{"key":"l4proto"}},"right":"tcp"}},{"vmap":{"key":{"payload":{"protocol":"tcp","field":"dport"}},"data":{"set":[[443,{"jump":{"target":"x"}}]]}}}]}},
 {"rule":{"family":"inet","table":"t","chain":"x","handle":5,"expr":[{"match":{"op":"in","left":{"payload":{"protocol":"tcp","field":"flags"}},"right":"syn"}},{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"|":[{"meta":{"key":"mark"}},16]}}},{"limit":{"rate":5,"per":"second"}},{"drop":null}]}},
 {"rule":{"family":"ip","table":"n","chain":"pre","handle":6,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":80}},{"dnat":{"addr":"10.0.0.5","port":8080}}]}}
]}"#;
        let rs = parse(doc).unwrap();
        let f = rs.chains.iter().find(|c| c.name == "f").unwrap();
        assert_eq!(f.rules.len(), 4);
        assert_eq!(f.rules[2].verdict, Verdict::Drop);
        assert_eq!(f.rules[0].origin, "handle 3 (element 1)");
        assert_eq!(f.rules[3].verdict, Verdict::Jump("x".into()));
        let x = rs.chains.iter().find(|c| c.name == "x").unwrap();
        // The mark is set before the limit: its own rule, then the limited drop.
        assert_eq!(x.rules.len(), 2);
        assert_eq!(x.rules[0].effects, [Effect::Mark { clear: 16, xor: 16 }]);
        assert_eq!(x.rules[1].unsupported().len(), 1);
        let pre = rs.chains.iter().find(|c| c.name == "pre").unwrap();
        assert_eq!(pre.rules[0].effects, [Effect::Dnat]);
        assert_eq!(pre.rules[0].verdict, Verdict::Accept);
    }

    #[test]
    fn bad_json_is_an_error_not_a_panic() {
        assert!(parse("{").is_err());
        assert!(parse("{}").is_err());
        assert!(parse(r#"{"nftables": [5]}"#).is_err());
        let empty = parse(r#"{"nftables": []}"#).unwrap();
        assert!(empty.chains.is_empty() && empty.covers_v4 && empty.covers_v6);
        assert!(parse(r#"{"nftables": [{"rule": {"family":"ip","table":"t","chain":"c","expr": [{"match": 5}]}}]}"#).is_err());
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
                r#"{"meta":{"key":"l4proto"}}"#, r#"{"ct":{"key":"state"}}"#, r#"{"meta":{"key":"iifname"}}"#,
                r#"{"&":[{"meta":{"key":"mark"}},255]}"#, r#"{"concat":[{"meta":{"key":"l4proto"}},{"payload":{"protocol":"th","field":"dport"}}]}"#,
                r#"{"payload":{"protocol":"tcp","field":"flags"}}"#, "5", "null"]),
            right in prop::sample::select(vec![
                "65536", "-1", r#""10.0.0.0/33""#, r#"{"prefix":{"addr":"x","len":99}}"#, r#"{"range":[5]}"#, r#""@nope""#,
                r#"{"set":[1,{"range":[9,3]}]}"#, r#"["established","bogus"]"#, "[]", "null", r#""eth*""#,
                r#"{"set":[{"concat":["tcp",22]}]}"#, r#"["syn","ack"]"#]),
        ) {
            let doc = format!(r#"{{"nftables":[{{"chain":{{"family":"inet","table":"t","name":"c","hook":"forward","prio":0,"type":"filter","policy":"drop"}}}},
                {{"rule":{{"family":"inet","table":"t","chain":"c","handle":1,"expr":[{{"match":{{"op":"{op}","left":{left},"right":{right}}}}},{{"accept":null}}]}}}}]}}"#);
            let _ = parse(&doc);
        }
    }
}
