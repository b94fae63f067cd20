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
//! * *shadowed*: rules no packet can reach (proven under every resolution);
//! * *redundant*: rules whose removal changes nothing (only when everything is exact).
//!
//! The audit passes only when both bounds agree with the plan: nothing possibly missing and,
//! unless excess is allowed, nothing possibly in excess. Interfaces: when the site says which
//! zones sit behind which interface of a network firewall, packets carry those interfaces;
//! otherwise every interface is possible, so interface-dependent findings are *possible*.
//! On a host firewall, loopback is infrastructure, never excess or required.

pub mod eval;
pub mod ipset;
pub mod iptables;
pub mod model;
pub mod nft;

use serde::Serialize;

use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::i18n::Text;
use crate::packet::{CtState, Exhausted, Field, Packet, R, Set, Space, tcp};
use crate::plan::{Direction, Opening, PointPlan};
use crate::tr;
use eval::{Blame, PathKind, PathResult, eval_path, path_universe};
use model::{Hook, Ruleset, Verdict};

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

/// The audit of one enforcement point.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Enforcement point.
    pub point: String,
    /// Required openings not certainly permitted.
    pub missing: Vec<Missing>,
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
        self.missing.is_empty() && (allow_excess || self.excess.is_empty())
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

fn addr_set(space: &Space, a: &AddrSet, f: Field) -> R<Set> {
    let mut s = space.none();
    for n in a.nets() {
        s = space.or(&s, &space.net(f, &n)?)?;
    }
    Ok(s)
}

fn ports_set(space: &Space, o: &Opening, f: Field) -> R<Set> {
    let mut ports = space.none();
    for r in o.ports.ranges() {
        ports = space.or(
            &ports,
            &space.range(f, u32::from(*r.start()), u32::from(*r.end()))?,
        )?;
    }
    Ok(ports)
}

fn proto_of(o: &Opening) -> u128 {
    match o.protocol {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
    }
}

/// Address sets as packet sets, built once each (a plan repeats the same sides).
#[derive(Default)]
struct AddrCache(std::collections::HashMap<(AddrSet, bool), Set>);

impl AddrCache {
    fn get(&mut self, s: &Space, a: &AddrSet, f: Field) -> R<Set> {
        let key = (a.clone(), f == Field::Src);
        if let Some(x) = self.0.get(&key) {
            return Ok(x.clone());
        }
        let x = addr_set(s, a, f)?;
        self.0.insert(key, x.clone());
        Ok(x)
    }
}

/// The packets of an opening at one stage (entry packets, any interface).
fn stage_set(space: &Space, cache: &mut AddrCache, o: &Opening, stage: Stage) -> R<Set> {
    let s = space;
    let proto = s.eq(Field::Proto, proto_of(o))?;
    let tcp = o.protocol == Protocol::Tcp;
    let (src, dst, ports) = match stage {
        Stage::New | Stage::Established => (
            cache.get(s, &o.from, Field::Src)?,
            cache.get(s, &o.to, Field::Dst)?,
            ports_set(s, o, Field::DPort)?,
        ),
        Stage::Reply => (
            cache.get(s, &o.to, Field::Src)?,
            cache.get(s, &o.from, Field::Dst)?,
            ports_set(s, o, Field::SPort)?,
        ),
    };
    let (state, flags) = match stage {
        Stage::New => (CtState::New, s.eq(Field::Flags, u128::from(tcp::SYN))?),
        Stage::Established => (
            CtState::Established,
            s.eq(Field::Flags, u128::from(tcp::ACK))?,
        ),
        Stage::Reply => (
            CtState::Established,
            s.or(
                &s.eq(Field::Flags, u128::from(tcp::SYN | tcp::ACK))?,
                &s.eq(Field::Flags, u128::from(tcp::ACK))?,
            )?,
        ),
    };
    let mut set = s.and(&s.and(&src, &dst)?, &s.and(&proto, &ports)?)?;
    set = s.and(&set, &s.states(&[state])?)?;
    if tcp {
        set = s.and(&set, &flags)?;
    }
    s.and(&set, &s.entry())
}

/// New connections: state NEW, and for TCP a plain SYN.
fn new_connections(space: &Space) -> R<Set> {
    let s = space;
    let new = s.and(&s.entry(), &s.states(&[CtState::New])?)?;
    let tcp = s.eq(Field::Proto, 6)?;
    let syn = s.eq(Field::Flags, u128::from(tcp::SYN))?;
    s.diff(&new, &s.diff(&tcp, &syn)?)
}

/// A path's verdicts on entering packets, with interfaces projected away.
struct Bounds {
    kind: PathKind,
    result: PathResult,
    /// Possibly accepted (entry packets, with interfaces and the relation applied).
    pa: Set,
    /// Possibly accepted (entry packets, interfaces projected).
    hi: Set,
    /// Certainly accepted.
    lo: Set,
}

fn bounds(space: &Space, rs: &Ruleset, kind: PathKind, rel: Set) -> R<Bounds> {
    let s = space;
    let mut t = std::time::Instant::now();
    let universe = s.and(&path_universe(s, rs, kind)?, &rel)?;
    let result = eval_path(s, rs, kind, &universe)?;
    phase(&mut t, "eval_path");
    let taint = s.back_to_entry(&result.tainted)?;
    let pa = s.or(&s.back_to_entry(&result.accepted)?, &taint)?;
    let pd = s.or(&s.back_to_entry(&result.dropped)?, &taint)?;
    let ifs = [Field::Iif, Field::Oif];
    let pa = s.and(&pa, &universe)?;
    let hi = s.exists(&pa, &ifs)?;
    let valid = s.exists(&universe, &ifs)?;
    let lo = s.diff(&valid, &s.exists(&s.and(&pd, &universe)?, &ifs)?)?;
    Ok(Bounds {
        kind,
        result,
        pa,
        hi,
        lo,
    })
}

/// The interface relation for a path: which interfaces packets between these addresses use.
fn relation(space: &Space, kind: PathKind, ifs: Option<&Interfaces>) -> R<Set> {
    let s = space;
    match kind {
        PathKind::Input | PathKind::Output => {
            let lo = s.or(&s.iface(false, "lo")?, &s.iface(true, "lo")?)?;
            s.complement(&lo)
        }
        PathKind::Forward => {
            let Some(Interfaces(list)) = ifs else {
                return Ok(s.top());
            };
            let mut rel = s.none();
            for (i, a, sa) in list {
                let from = s.and(
                    &s.iface_code(false, s.iface_code_of(i))?,
                    &addr_set(s, a, Field::Src)?,
                )?;
                for (j, b, sb) in list {
                    if sa == sb {
                        continue;
                    }
                    let to = s.and(
                        &s.iface_code(true, s.iface_code_of(j))?,
                        &addr_set(s, b, Field::Dst)?,
                    )?;
                    rel = s.or(&rel, &s.and(&from, &to)?)?;
                }
            }
            Ok(rel)
        }
    }
}

fn ranges_text(r: &[(u32, u32)]) -> Vec<String> {
    r.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect()
}

fn rule_ref(rs: &Ruleset, ci: usize, ri: usize) -> RuleRef {
    let c = &rs.chains[ci];
    let r = &c.rules[ri];
    RuleRef {
        table: c.table.clone(),
        chain: c.name.clone(),
        origin: r.origin.clone(),
        text: r.text.clone(),
    }
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
    audit_with_tables(rs, point, &steps[first..])
}

/// [`audit`] with these node table sizes (log2), tried in turn until one is large enough.
pub fn audit_with_tables(
    rs: &Ruleset,
    point: Point<'_>,
    tables: &[u32],
) -> Result<AuditReport, Exhausted> {
    let mut result = Err(Exhausted);
    for log in tables {
        result = with_stack(|| audit_here(rs, point, *log));
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

/// `PORTPLAN_TIMING=1`: phase times on stderr (for profiling; not a user feature).
fn phase(t: &mut std::time::Instant, what: &str) {
    if std::env::var_os("PORTPLAN_TIMING").is_some() {
        eprintln!("timing: {what}: {:.3} s", t.elapsed().as_secs_f64());
    }
    *t = std::time::Instant::now();
}

fn audit_here(rs: &Ruleset, point: Point<'_>, table_log: u32) -> Result<AuditReport, Exhausted> {
    let mut t = std::time::Instant::now();
    let mut layout = rs.layout();
    if let Some(Interfaces(list)) = point.interfaces {
        for (n, _, _) in list {
            if !layout.names.contains(n) {
                layout.names.push(n.clone());
            }
        }
    }
    let space = Space::with_table(&layout, table_log)?;
    let s = &space;
    let plan = point.plan;
    let mut report = AuditReport {
        point: plan.id.clone(),
        missing: vec![],
        excess: vec![],
        shadowed: vec![],
        redundant: vec![],
        not_analysed: rs.not_analysed.clone(),
    };
    let kinds: Vec<PathKind> = if point.host {
        vec![PathKind::Input, PathKind::Output]
    } else {
        vec![PathKind::Forward]
    };
    phase(&mut t, "space");
    let mut paths = Vec::new();
    for k in &kinds {
        let rel = relation(s, *k, point.interfaces)?;
        paths.push(bounds(s, rs, *k, rel)?);
    }
    phase(&mut t, "paths");
    let path_of = |k: PathKind| paths.iter().find(|p| p.kind == k);
    let mut covered = s.none();
    if rs.covers_v4 {
        covered = s.or(&covered, &s.family(false)?)?;
    }
    if rs.covers_v6 {
        covered = s.or(&covered, &s.family(true)?)?;
    }
    let newconn = s.and(&new_connections(s)?, &covered)?;
    let mut uncovered_notice = false;
    let mut cache = AddrCache::default();
    // Missing: every opening, its new connections, later packets and replies.
    let mut needed: Vec<(PathKind, Set)> = kinds.iter().map(|k| (*k, s.none())).collect();
    for o in &plan.openings {
        let (fwd, back) = match o.direction {
            Direction::Forward => (PathKind::Forward, PathKind::Forward),
            Direction::In => (PathKind::Input, PathKind::Output),
            Direction::Out => (PathKind::Output, PathKind::Input),
        };
        if !o.from.fqdns.is_empty() || !o.to.fqdns.is_empty() {
            report.not_analysed.push((
                "plan".into(),
                format!(
                    "opening {} -> {}: names cannot be checked against addresses",
                    o.from.cidrs().join(" "),
                    o.to.cidrs().join(" ")
                ),
            ));
        }
        for stage in [Stage::New, Stage::Established, Stage::Reply] {
            let k = if stage == Stage::Reply { back } else { fwd };
            let Some(p) = path_of(k) else { continue };
            let all = stage_set(s, &mut cache, o, stage)?;
            let req = s.and(&all, &covered)?;
            if !uncovered_notice && !s.is_empty(&s.diff(&all, &covered)?) {
                uncovered_notice = true;
                report.not_analysed.push((
                    "ruleset".into(),
                    if rs.covers_v4 {
                        "the ruleset speaks only for IPv4 (iptables-save): the plan's IPv6 openings are not audited; add the ip6tables-save output with a second --ruleset".into()
                    } else {
                        "the ruleset speaks only for IPv6 (ip6tables-save): the plan's IPv4 openings are not audited; add the iptables-save output with a second --ruleset".into()
                    },
                ));
            }
            if stage == Stage::New
                && let Some(n) = needed.iter_mut().find(|(kk, _)| *kk == k)
            {
                n.1 = s.or(&n.1, &req)?;
            }
            let possible = s.diff(&req, &p.lo)?;
            if s.is_empty(&possible) {
                continue;
            }
            let certain_part = s.diff(&req, &p.hi)?;
            let certain = !s.is_empty(&certain_part);
            let w = s
                .witness(if certain { &certain_part } else { &possible })
                .ok_or(Exhausted)?;
            report.missing.push(Missing {
                hook: k.filter_hook(),
                stage,
                requirements: o.requirements(),
                from: o.from.cidrs(),
                to: o.to.cidrs(),
                protocol: o.protocol,
                ports: o.ports.to_strings(),
                witness: w,
                certain,
            });
            // One stage at a time: later packets matter once new connections pass.
            break;
        }
    }
    phase(&mut t, "missing");
    // Excess: new connections possibly accepted that nothing needs, per accepting rule.
    for p in &paths {
        let need = needed
            .iter()
            .find(|(k, _)| *k == p.kind)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| s.none());
        let ex_hi = s.diff(&s.and(&p.hi, &newconn)?, &need)?;
        if s.is_empty(&ex_hi) {
            continue;
        }
        let ex_lo = s.and(&ex_hi, &p.lo)?;
        let mut order: Vec<&(Blame, Set)> = p
            .result
            .accepts
            .iter()
            .filter(|(b, _)| matches!(b, Blame::Rule(..)))
            .collect();
        order.extend(
            p.result
                .accepts
                .iter()
                .filter(|(b, _)| matches!(b, Blame::Policy(_))),
        );
        order.extend(
            p.result
                .accepts
                .iter()
                .filter(|(b, _)| matches!(b, Blame::NoChain)),
        );
        // Attribution on packets with their interfaces: a rule is blamed for what it accepts
        // and the whole path accepts too.
        let mut rest = s.diff(&s.and(&p.pa, &newconn)?, &need)?;
        for (blame, set) in order {
            if s.is_empty(&rest) {
                break;
            }
            // The rule's packets as they entered (sets are already entry packets when no rule
            // changed any).
            let entered = if p.result.changed {
                s.back_to_entry(set)?
            } else {
                set.clone()
            };
            let with_if = s.and(&entered, &rest)?;
            if s.is_empty(&with_if) {
                continue;
            }
            rest = s.diff(&rest, &with_if)?;
            let part = s.exists(&with_if, &[Field::Iif, Field::Oif])?;
            let certain_part = s.and(&part, &ex_lo)?;
            let certain = !s.is_empty(&certain_part);
            let shown = if certain { certain_part } else { part };
            let witness = s
                .witness(&s.and(&with_if, &shown)?)
                .or_else(|| s.witness(&shown))
                .ok_or(Exhausted)?;
            let nets = |f| -> R<Vec<String>> {
                let (n, more) = s.prefixes(&shown, f, 6)?;
                let mut v: Vec<String> = n.iter().map(|x| x.to_string()).collect();
                if more {
                    v.push("…".into());
                }
                Ok(v)
            };
            let (src, dst) = (nets(Field::Src)?, nets(Field::Dst)?);
            let protos: Vec<String> = s
                .ranges(&shown, Field::Proto)?
                .iter()
                .flat_map(|(a, b)| *a..=*b)
                .map(|p| p.to_string())
                .collect();
            let port_part = {
                let mut pp = s.none();
                for pr in crate::packet::PORT_PROTOS {
                    pp = s.or(&pp, &s.eq(Field::Proto, u128::from(pr))?)?;
                }
                s.and(&shown, &pp)?
            };
            let icmp_part = s.and(
                &shown,
                &s.or(&s.eq(Field::Proto, 1)?, &s.eq(Field::Proto, 58)?)?,
            )?;
            let dports = if s.is_empty(&port_part) {
                vec![]
            } else {
                ranges_text(&s.ranges(&port_part, Field::DPort)?)
            };
            let icmp = icmp_text(&s.ranges(&icmp_part, Field::DPort)?);
            let (rule, policy, no_chain) = match blame {
                Blame::Rule(ci, ri) => (Some(rule_ref(rs, *ci, *ri)), None, false),
                Blame::Policy(ci) => (None, Some(rs.chains[*ci].name.clone()), false),
                Blame::NoChain => (None, None, true),
            };
            report.excess.push(Excess {
                hook: p.kind.filter_hook(),
                rule,
                policy,
                no_chain,
                src,
                dst,
                protocols: protos,
                dports,
                icmp,
                witness,
                certain,
            });
        }
    }
    phase(&mut t, "excess");
    // Shadowed and redundant: only rules of chains every path into which was evaluated.
    let evaluated: Vec<Hook> = kinds
        .iter()
        .flat_map(|k| k.hooks().iter().cloned())
        .collect();
    let eligible = eligible_chains(rs, &evaluated);
    let exact = paths.iter().all(|p| p.result.exact);
    let mut keys: Vec<(usize, usize)> = paths
        .iter()
        .flat_map(|p| p.result.could_match.keys().copied())
        .collect();
    keys.sort();
    keys.dedup();
    for (ci, ri) in keys {
        if !eligible[ci] {
            continue;
        }
        let could = paths.iter().any(|p| {
            p.result
                .could_match
                .get(&(ci, ri))
                .copied()
                .unwrap_or(false)
        });
        let hit = paths
            .iter()
            .any(|p| p.result.hits.get(&(ci, ri)).is_some_and(|h| !s.is_empty(h)));
        if could && !hit {
            report.shadowed.push(rule_ref(rs, ci, ri));
        }
        if exact
            && hit
            && paths.iter().all(|p| {
                p.result.hits.get(&(ci, ri)).is_none_or(|h| s.is_empty(h))
                    || p.result.redundant.contains(&(ci, ri))
            })
        {
            report.redundant.push(rule_ref(rs, ci, ri));
        }
    }
    // What was not read exactly.
    for (ci, c) in rs.chains.iter().enumerate() {
        if !paths.iter().any(|p| p.result.reached.contains(&ci)) {
            continue;
        }
        for r in &c.rules {
            let u = r.unsupported();
            if !u.is_empty() {
                report.not_analysed.push((
                    r.origin.clone(),
                    format!("{}: {} (evaluated both ways)", c.name, u.join(", ")),
                ));
            }
        }
    }
    phase(&mut t, "shadowed");
    for p in &paths {
        for n in &p.result.notes {
            if !report.not_analysed.contains(n) {
                report.not_analysed.push(n.clone());
            }
        }
    }
    Ok(report)
}

fn icmp_text(r: &[(u32, u32)]) -> Vec<String> {
    let mut out = Vec::new();
    for (a, b) in r {
        let (ta, tb) = (a >> 8, b >> 8);
        if a & 0xff == 0 && b & 0xff == 0xff {
            if ta == tb {
                out.push(ta.to_string());
            } else {
                out.push(format!("{ta}-{tb}"));
            }
        } else {
            for v in *a..=*b {
                out.push(format!("{}/{}", v >> 8, v & 0xff));
                if out.len() > 16 {
                    out.push("…".into());
                    return out;
                }
            }
        }
    }
    out
}

/// Chains whose every caller chain hangs off an evaluated hook.
fn eligible_chains(rs: &Ruleset, evaluated: &[Hook]) -> Vec<bool> {
    let n = rs.chains.len();
    // Hooks each chain can be reached from.
    let mut from_other = vec![false; n];
    let mut from_eval = vec![false; n];
    let mut stack: Vec<(usize, bool)> = Vec::new();
    for (i, c) in rs.chains.iter().enumerate() {
        if let Some(h) = &c.hook {
            stack.push((i, evaluated.contains(h)));
        }
    }
    let mut seen = std::collections::HashSet::new();
    while let Some((ci, ev)) = stack.pop() {
        if !seen.insert((ci, ev)) {
            continue;
        }
        if ev {
            from_eval[ci] = true;
        } else {
            from_other[ci] = true;
        }
        for r in &rs.chains[ci].rules {
            if let Verdict::Jump(t) | Verdict::Goto(t) = &r.verdict
                && let Some(ti) = rs.find(&rs.chains[ci], t)
            {
                stack.push((ti, ev));
            }
        }
    }
    (0..n).map(|i| from_eval[i] && !from_other[i]).collect()
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
