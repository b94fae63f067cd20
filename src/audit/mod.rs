//! Audit: does an existing ruleset let through what the plan needs at one enforcement point,
//! and nothing more?
//!
//! The ruleset is read ([`iptables`], [`nft`], with [`ipset`] contents) into a typed [`model`]
//! and evaluated over packet sets ([`eval`], [`crate::packet`]) along the point's netfilter
//! paths: forward for a network firewall; input and output for a host firewall. Each path
//! gives, for every packet that enters it, whether it is *possibly* accepted and *possibly*
//! dropped (rules the model cannot read, rate limits, NAT and unknown interfaces are followed
//! both ways). Compared with the plan:
//!
//! * *missing*: a required opening not certainly accepted — its new connections, the
//!   connection's later packets, or its replies; *certain* when no resolution accepts it;
//! * *excess*: new connections possibly accepted that no requirement needs, per accepting rule
//!   or policy; *certain* when accepted whatever the unknowns do;
//! * *closed*: a port the catalogs say must stay closed here (`closed:` entries) that the
//!   ruleset possibly accepts, with the vendor's row and the port's purpose; the audit fails on
//!   it even when excess is allowed;
//! * *shadowed*: rules no packet can reach (proven under every resolution);
//! * *redundant*: rules whose removal changes nothing (only when everything is exact).
//!
//! The audit passes only when both bounds agree with the plan: nothing possibly missing and,
//! unless excess is allowed, nothing possibly in excess. Interfaces: when the site says which
//! zones sit behind which interface of a network firewall, packets carry those interfaces;
//! otherwise every interface is possible, so interface-dependent findings are *possible*.
//! On a host firewall, loopback is infrastructure, never excess or required.

mod compare;
pub mod eval;
pub mod ipset;
pub mod iptables;
pub mod model;
pub mod nft;
pub mod slice;

use serde::Serialize;

use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::i18n::Text;
use crate::packet::{Exhausted, Packet};
use crate::plan::PointPlan;
use crate::tr;
pub use compare::Engine;
use model::{Hook, Ruleset};

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `nft -j list ruleset`.
    NftJson,
    /// `iptables-save`.
    IptablesSave,
    /// `ip6tables-save`.
    Ip6tablesSave,
}

/// Read a ruleset; `kind` `None` recognises the format. `sets` are ipset contents
/// (`ipset save`) that `-m set` matches refer to. Anything that is not a complete ruleset of
/// the format (empty, truncated, another kind of file) is an error naming the line.
pub fn read(text: &str, kind: Option<Kind>, sets: &ipset::Sets) -> Result<Ruleset, Text> {
    if text.trim().is_empty() {
        return Err(tr!(
            "the file is empty: no ruleset to audit (an empty ruleset filters nothing; give `nft -j list ruleset` or `iptables-save` output)",
            "ファイルが空です: 監査するルールセットがありません (`nft -j list ruleset` か `iptables-save` の出力を指定してください)"
        ));
    }
    if text.contains('\0') {
        return Err(tr!(
            "the file is binary, not a ruleset",
            "バイナリファイルです。ルールセットではありません"
        ));
    }
    let kind = match kind {
        Some(k) => k,
        None => guess(text)?,
    };
    match kind {
        Kind::NftJson => nft::parse(text),
        Kind::IptablesSave => iptables::parse(text, false, sets),
        Kind::Ip6tablesSave => iptables::parse(text, true, sets),
    }
}

/// Recognise the format, or say what the file looks like instead.
fn guess(text: &str) -> Result<Kind, Text> {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if text.trim_start().starts_with('{') {
        return Ok(Kind::NftJson);
    }
    if first.starts_with('*') || first.starts_with(':') || first.starts_with("-A ") {
        let v6 = text.lines().take(3).any(|l| l.contains("ip6tables-save"))
            || text.lines().any(|l| {
                (l.starts_with("-A ") || l.starts_with("-I "))
                    && (l.contains("icmpv6") || addr_word_has_colon(l))
            });
        return Ok(if v6 {
            Kind::Ip6tablesSave
        } else {
            Kind::IptablesSave
        });
    }
    let looks = if first.starts_with("table ") || first.starts_with("flush ruleset") {
        tr!(
            "this is `nft list ruleset` text; the audit reads its JSON form: `nft -j list ruleset > ruleset.json`",
            "これは `nft list ruleset` のテキスト形式です。JSON 形式を指定してください: `nft -j list ruleset > ruleset.json`"
        )
    } else if first.starts_with("Chain ") {
        tr!(
            "this is `iptables -L` output; the audit reads `iptables-save` output",
            "これは `iptables -L` の出力です。`iptables-save` の出力を指定してください"
        )
    } else if first.starts_with("create ") || first.starts_with("add ") {
        tr!(
            "this is `ipset save` output: give it with --ipset, and the ruleset with --ruleset",
            "これは `ipset save` の出力です。--ipset で指定し、ルールセットは --ruleset で指定してください"
        )
    } else {
        let shown: String = first.chars().take(60).collect();
        let shown: String = shown
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        Text::new(
            format!(
                "line 1: `{shown}` is not the start of a ruleset: expected `nft -j list ruleset` JSON or `iptables-save` output (`*filter` …)"
            ),
            format!(
                "1 行目: `{shown}` はルールセットの先頭ではありません。`nft -j list ruleset` の JSON か `iptables-save` の出力 (`*filter` …) を指定してください"
            ),
        )
    };
    Err(looks)
}

fn addr_word_has_colon(line: &str) -> bool {
    let w: Vec<&str> = line.split_whitespace().collect();
    w.windows(2)
        .any(|p| matches!(p[0], "-s" | "-d" | "--source" | "--destination") && p[1].contains(':'))
}

/// Merge rulesets read from several files (an `iptables-save` and an `ip6tables-save`).
pub fn merge(parts: Vec<Ruleset>) -> Ruleset {
    let mut out = Ruleset::default();
    for p in parts {
        out.chains.extend(p.chains);
        out.not_analysed.extend(p.not_analysed);
        out.covers_v4 |= p.covers_v4;
        out.covers_v6 |= p.covers_v6;
    }
    out
}

/// A rule, as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRef {
    /// Table.
    pub table: String,
    /// Chain.
    pub chain: String,
    /// `line 12` / `handle 7`.
    pub origin: String,
    /// The rule's text.
    pub text: String,
}

/// Which packets of a required opening are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The first packet of a connection.
    New,
    /// Later packets of an accepted connection, in the opening's direction.
    Established,
    /// Replies.
    Reply,
}

/// A required opening the ruleset does not certainly permit.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    /// Hook that filters the path.
    pub hook: Hook,
    /// Which packets.
    pub stage: Stage,
    /// Requirements behind the opening.
    pub requirements: Vec<String>,
    /// The opening.
    pub from: Vec<String>,
    /// The opening.
    pub to: Vec<String>,
    /// The opening.
    pub protocol: Protocol,
    /// The opening.
    pub ports: Vec<String>,
    /// A packet it needs that the ruleset drops (or may drop).
    pub witness: Packet,
    /// True when no resolution of what the model cannot read accepts the witness.
    pub certain: bool,
}

/// Traffic the ruleset permits that no requirement needs.
#[derive(Debug, Clone, Serialize)]
pub struct Excess {
    /// Hook that filters the path.
    pub hook: Hook,
    /// The rule that accepts it (`None` for a chain policy or no chain).
    pub rule: Option<RuleRef>,
    /// The base chain whose accept policy lets it through.
    pub policy: Option<String>,
    /// No base chain filters this family on the hook: the kernel lets everything through.
    pub no_chain: bool,
    /// Sources (prefixes, IPv4 then IPv6; `…` when there are more).
    pub src: Vec<String>,
    /// Destinations.
    pub dst: Vec<String>,
    /// Protocol numbers.
    pub protocols: Vec<String>,
    /// Destination ports of the port protocols among them.
    pub dports: Vec<String>,
    /// ICMP / ICMPv6 types (`type` or `type/code`) among them.
    pub icmp: Vec<String>,
    /// One such packet.
    pub witness: Packet,
    /// True when accepted whatever the unknowns do.
    pub certain: bool,
}

/// A port the catalogs say must stay closed at this point, which the ruleset accepts.
#[derive(Debug, Clone, Serialize)]
pub struct Closed {
    /// Hook that filters the path.
    pub hook: Hook,
    /// `product/id` of the catalog's closed entry.
    pub requirement: String,
    /// `doc#row` of the vendor's statement.
    pub source: String,
    /// What the port is for.
    pub purpose: Text,
    /// Sources.
    pub from: Vec<String>,
    /// Destinations.
    pub to: Vec<String>,
    /// Protocol.
    pub protocol: Protocol,
    /// Ports.
    pub ports: Vec<String>,
    /// A new connection to it that the ruleset accepts (or may accept).
    pub witness: Packet,
    /// True when accepted whatever the unknowns do.
    pub certain: bool,
}

/// The audit of one enforcement point.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Enforcement point.
    pub point: String,
    /// Required openings not certainly permitted.
    pub missing: Vec<Missing>,
    /// Ports that must stay closed but are possibly accepted: the audit fails on them even
    /// when excess is allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<Closed>,
    /// Permitted traffic without a requirement.
    pub excess: Vec<Excess>,
    /// Rules no packet reaches.
    pub shadowed: Vec<RuleRef>,
    /// Rules whose removal changes nothing.
    pub redundant: Vec<RuleRef>,
    /// What was not analysed exactly, by location.
    pub not_analysed: Vec<(String, String)>,
}

impl AuditReport {
    /// Whether the ruleset matches the plan (with `allow_excess`, only missing counts).
    pub fn ok(&self, allow_excess: bool) -> bool {
        self.missing.is_empty()
            && self.closed.is_empty()
            && (allow_excess || self.excess.is_empty())
    }
}

/// Which addresses sit behind which interface of a network firewall, and on which of its
/// sides: (interface, addresses, side index). Only packets between different sides cross it.
#[derive(Debug, Clone)]
pub struct Interfaces(pub Vec<(String, AddrSet, usize)>);

/// What the audit needs to know about the enforcement point.
#[derive(Clone, Copy)]
pub struct Point<'a> {
    /// Its plan.
    pub plan: &'a PointPlan,
    /// A host firewall (input and output) rather than a network one (forward).
    pub host: bool,
    /// The interfaces of a network firewall, when the site says.
    pub interfaces: Option<&'a Interfaces>,
}

/// Stack for the packet-space engine: decision-diagram operations recurse once per variable
/// level (several hundred), which overflows small thread stacks in debug builds.
const STACK: usize = 512 << 20;

/// Run `f` on a thread with a stack deep enough for the engine.
pub fn with_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(s, f)
        {
            Ok(h) => match h.join() {
                Ok(v) => v,
                Err(p) => std::panic::resume_unwind(p),
            },
            Err(_) => unreachable_thread(),
        }
    })
}

#[cold]
fn unreachable_thread() -> ! {
    panic!("cannot start the audit's worker thread")
}

/// Audit `rs` against one enforcement point.
///
/// The engine starts with a node table of moderate size and, when a ruleset needs more, starts
/// over with a table four times larger, as long as the machine has the memory for it
/// ([`crate::packet::NODE_TABLE_STEPS`]); only when the largest that fits is exhausted does it
/// answer [`Exhausted`].
pub fn audit(rs: &Ruleset, point: Point<'_>) -> Result<AuditReport, Exhausted> {
    let avail = available_memory();
    // Rulesets this large exhausted the first table in every measured case (bench/README.md):
    // skip the attempt.
    let rules: usize = rs.chains.iter().map(|c| c.rules.len()).sum();
    let steps: Vec<u32> = crate::packet::NODE_TABLE_STEPS
        .iter()
        .enumerate()
        .filter(|(i, log)| *i == 0 || avail.is_none_or(|a| crate::packet::table_bytes(**log) <= a))
        .map(|(_, log)| *log)
        .collect();
    let first = usize::from(rules > 40_000).min(steps.len() - 1);
    // `PORTPLAN_ENGINE=sliced`: the sliced engine, for measuring and comparing (not a user
    // feature). It gives the same findings but was measured slower (bench/README.md, "Audit at
    // scale"), so the whole-space evaluation stays the default.
    let engine = match std::env::var("PORTPLAN_ENGINE").as_deref() {
        Ok("sliced") => Engine::Sliced,
        _ => Engine::Whole,
    };
    audit_with(rs, point, &steps[first..], engine)
}

/// [`audit`] with these node table sizes (log2), tried in turn until one is large enough.
pub fn audit_with_tables(
    rs: &Ruleset,
    point: Point<'_>,
    tables: &[u32],
) -> Result<AuditReport, Exhausted> {
    audit_with(rs, point, tables, Engine::Whole)
}

/// [`audit_with_tables`] with this engine (both give the same findings: `tests/audit_engines.rs`).
pub fn audit_with(
    rs: &Ruleset,
    point: Point<'_>,
    tables: &[u32],
    engine: Engine,
) -> Result<AuditReport, Exhausted> {
    let mut result = Err(Exhausted);
    for log in tables {
        result = with_stack(|| compare::run(rs, point, *log, engine));
        if result.is_ok() {
            break;
        }
    }
    result
}

/// Memory available to this process in bytes (`MemAvailable`, or the cgroup limit when lower);
/// `None` when unknown.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let avail = meminfo.as_deref().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match (avail, cgroup) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// `PORTPLAN_TIMING=1`: a remark on stderr (for profiling; not a user feature).
fn timing(what: impl FnOnce() -> String) {
    if std::env::var_os("PORTPLAN_TIMING").is_some() {
        eprintln!("timing: {}", what());
    }
}

/// `PORTPLAN_TIMING=1`: phase times on stderr (for profiling; not a user feature).
fn phase(t: &mut std::time::Instant, what: &str) {
    if std::env::var_os("PORTPLAN_TIMING").is_some() {
        eprintln!("timing: {what}: {:.3} s", t.elapsed().as_secs_f64());
    }
    *t = std::time::Instant::now();
}

/// A message for an exhausted packet space.
pub fn exhausted_text() -> Text {
    tr!(
        "the ruleset is too large to analyse exactly within the packet-space engine's memory",
        "ルールセットが大きすぎて、パケット空間エンジンのメモリ内で厳密に解析できません"
    )
}

#[cfg(test)]
mod table_tests {
    use super::*;
    use crate::plan::{Direction, Opening};
    use crate::portset::PortSet;

    fn point_plan() -> PointPlan {
        let mut all = AddrSet::new();
        all.v4.ranges_insert(0..=u32::MAX);
        PointPlan {
            id: "fw".into(),
            kind: "network",
            target: crate::site::raw::Target::Iptables,
            openings: vec![Opening {
                direction: Direction::Forward,
                from: all.clone(),
                to: all,
                protocol: Protocol::Tcp,
                ports: PortSet::parse("443").expect("port"),
                from_roles: Default::default(),
                to_roles: Default::default(),
                provenance: vec![],
            }],
            must_stay_closed: vec![],
        }
    }

    /// A table too small for the ruleset is not the answer: the next, larger one is tried, and
    /// the findings are those of a table large enough from the start.
    #[test]
    fn an_exhausted_table_is_retried_with_a_larger_one() {
        let mut text = String::from(
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n",
        );
        for i in 0..200u32 {
            text.push_str(&format!(
                "-A FORWARD -s 10.{}.{}.0/24 -p udp --dport {} -j ACCEPT\n",
                i / 250,
                i % 250,
                1000 + i
            ));
        }
        text.push_str("-A FORWARD -p tcp --dport 443 -j ACCEPT\nCOMMIT\n");
        let rs = read(&text, None, &ipset::Sets::default()).expect("ruleset");
        let plan = point_plan();
        let point = Point {
            plan: &plan,
            host: false,
            interfaces: None,
        };
        assert!(
            audit_with_tables(&rs, point, &[12]).is_err(),
            "2^12 nodes should not do"
        );
        let grown = audit_with_tables(&rs, point, &[12, 22]).expect("the larger table does");
        let direct = audit_with_tables(&rs, point, &[22]).expect("2^22 nodes");
        assert_eq!(grown.excess.len(), 200);
        assert!(grown.missing.is_empty());
        assert_eq!(
            serde_json::to_string(&grown).expect("json"),
            serde_json::to_string(&direct).expect("json")
        );
    }
}
