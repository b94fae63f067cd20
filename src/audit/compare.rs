//! Comparing a ruleset's verdicts with a point's plan: missing openings, excess, shadowed and
//! redundant rules.
//!
//! The packet space is one leaf ([`Engine::Whole`], the default) or is cut into leaves
//! ([`Engine::Sliced`], [`slice`]); each leaf's packets are evaluated along the point's paths
//! meeting only the rules that can match them, and compared with the opening stages and
//! must-stay-closed entries that reach into the leaf. What a finding shows (its witness, its
//! prefixes and ports) is computed once at the end from the union of the leaves' parts, so the
//! findings do not depend on the cut: the evaluation is pointwise, and excess is attributed in
//! a fixed order ([`eval::blame_order`]).

use std::collections::{HashMap, HashSet};

use super::model::{Hook, Ruleset, Verdict};
use super::{
    AuditReport, Closed, Excess, Interfaces, Missing, Point, RuleRef, Stage, eval, phase, slice,
    timing,
};
use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::packet::{CtState, Exhausted, Field, R, Set, Space, tcp};
use crate::plan::{Direction, Opening};
use eval::{
    Blame, HookCtx, PathKind, PathResult, blame_order, compile, eval_path_in, family_set,
    path_universe,
};

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

/// Address and port sets as packet sets, built once each (a plan repeats the same sides and
/// ports), and the part of a stage's set that depends only on the stage and the protocol.
#[derive(Default)]
struct AddrCache {
    addrs: std::collections::HashMap<(AddrSet, bool), Set>,
    ports: std::collections::HashMap<(crate::portset::PortSet, bool), Set>,
    contexts: std::collections::HashMap<(usize, bool), Set>,
}

impl AddrCache {
    fn get(&mut self, s: &Space, a: &AddrSet, f: Field) -> R<Set> {
        let key = (a.clone(), f == Field::Src);
        if let Some(x) = self.addrs.get(&key) {
            return Ok(x.clone());
        }
        let x = addr_set(s, a, f)?;
        self.addrs.insert(key, x.clone());
        Ok(x)
    }

    fn ports(&mut self, s: &Space, o: &Opening, f: Field) -> R<Set> {
        let key = (o.ports.clone(), f == Field::SPort);
        if let Some(x) = self.ports.get(&key) {
            return Ok(x.clone());
        }
        let x = ports_set(s, o, f)?;
        self.ports.insert(key, x.clone());
        Ok(x)
    }

    /// Protocol, state and TCP flags of `stage` for entry packets.
    fn context(&mut self, s: &Space, stage: Stage, protocol: Protocol) -> R<Set> {
        let tcp = protocol == Protocol::Tcp;
        let key = (stage_index(stage), tcp);
        if let Some(x) = self.contexts.get(&key) {
            return Ok(x.clone());
        }
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
        let proto = s.eq(Field::Proto, if tcp { 6 } else { 17 })?;
        let mut x = s.and(&proto, &s.states(&[state])?)?;
        if tcp {
            x = s.and(&x, &flags)?;
        }
        let x = s.and(&x, &s.entry())?;
        self.contexts.insert(key, x.clone());
        Ok(x)
    }
}

/// The packets of an opening at one stage (entry packets, any interface).
fn stage_set(space: &Space, cache: &mut AddrCache, o: &Opening, stage: Stage) -> R<Set> {
    let s = space;
    let (src, dst, ports) = match stage {
        Stage::New | Stage::Established => (
            cache.get(s, &o.from, Field::Src)?,
            cache.get(s, &o.to, Field::Dst)?,
            cache.ports(s, o, Field::DPort)?,
        ),
        Stage::Reply => (
            cache.get(s, &o.to, Field::Src)?,
            cache.get(s, &o.from, Field::Dst)?,
            cache.ports(s, o, Field::SPort)?,
        ),
    };
    let ctx = cache.context(s, stage, o.protocol)?;
    s.and(&s.and(&s.and(&ctx, &ports)?, &dst)?, &src)
}

/// New connections: state NEW, and for TCP a plain SYN.
fn new_connections(space: &Space) -> R<Set> {
    let s = space;
    let new = s.and(&s.entry(), &s.states(&[CtState::New])?)?;
    let tcp = s.eq(Field::Proto, 6)?;
    let syn = s.eq(Field::Flags, u128::from(tcp::SYN))?;
    s.diff(&new, &s.diff(&tcp, &syn)?)
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

/// A path's verdicts on entering packets, with interfaces projected away.
struct Bounds {
    /// Possibly accepted (entry packets, with interfaces and the relation applied).
    pa: Set,
    /// Possibly accepted (entry packets, interfaces projected).
    hi: Set,
    /// Certainly accepted.
    lo: Set,
}

fn bounds(space: &Space, result: &PathResult, universe: &Set) -> R<Bounds> {
    let s = space;
    let taint = s.back_to_entry(&result.tainted)?;
    let pa = s.or(&s.back_to_entry(&result.accepted)?, &taint)?;
    let pd = s.or(&s.back_to_entry(&result.dropped)?, &taint)?;
    let ifs = [Field::Iif, Field::Oif];
    let pa = s.and(&pa, universe)?;
    let hi = s.exists(&pa, &ifs)?;
    let valid = s.exists(universe, &ifs)?;
    let lo = s.diff(&valid, &s.exists(&s.and(&pd, universe)?, &ifs)?)?;
    Ok(Bounds { pa, hi, lo })
}

/// One path of the point: its packets and the order excess is attributed in.
struct PathCtx {
    kind: PathKind,
    universe: Set,
    order: HashMap<Blame, usize>,
}

/// A packet set kept across leaves: the union of each leaf's part.
fn unite(s: &Space, acc: &mut Option<Set>, part: &Set) -> R<()> {
    if s.is_empty(part) {
        return Ok(());
    }
    *acc = Some(match acc.take() {
        Some(a) => s.or(&a, part)?,
        None => part.clone(),
    });
    Ok(())
}

/// What one rule, policy or missing chain accepts in excess, over all leaves.
#[derive(Default)]
struct ExcessAcc {
    /// Accepted packets with their interfaces.
    with_if: Option<Set>,
    /// The same with interfaces projected.
    part: Option<Set>,
    /// The part accepted whatever the unknowns do.
    certain: Option<Set>,
}

/// What a missing opening stage lacks, over all leaves.
#[derive(Default)]
struct MissingAcc {
    possible: Option<Set>,
    certain: Option<Set>,
}

/// Per path, what the leaves found about rules: (chain, rule) keys.
#[derive(Default)]
struct RuleAcc {
    /// Some packet reaches the rule and possibly matches.
    hit: HashSet<(usize, usize)>,
    /// The rule possibly matches some packet of the path.
    could: HashSet<(usize, usize)>,
    /// Per rule with a hit: whether every leaf that hit it found it redundant.
    redundant: HashMap<(usize, usize), bool>,
    /// Chains evaluated, with their contexts.
    visited: Vec<(usize, HookCtx)>,
}

/// Whether the openings' stages and the rules are split into leaves of the packet space
/// ([`slice`]) or evaluated over the whole space at once. Both give the same findings
/// (`tests/audit_engines.rs`); the whole evaluation is the default because it measured faster:
/// a rule's conjunction and difference cost about the same in a small leaf as against the
/// whole space (the cost is in creating each operation's nodes, not in the size of the
/// undecided set), and leaves meet rules 2–3 times over (a rule's bounds cross several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One evaluation over the whole space.
    Whole,
    /// One evaluation per leaf, each meeting only the rules that can match in it.
    Sliced,
}

/// Excess is attributed to rules first, then policies, then "no chain", each in walk order.
fn blame_key(order: &HashMap<Blame, usize>, bl: &Blame) -> (u8, usize) {
    let class = match bl {
        Blame::Rule(..) => 0,
        Blame::Policy(_) => 1,
        Blame::NoChain => 2,
    };
    (class, order.get(bl).copied().unwrap_or(usize::MAX))
}

/// Opening stages by item: item `2 i` is opening `i`'s way there (new connections and later
/// packets), item `2 i + 1` its replies.
fn item_stages(item: usize) -> &'static [Stage] {
    if item.is_multiple_of(2) {
        &[Stage::New, Stage::Established]
    } else {
        &[Stage::Reply]
    }
}

fn stage_index(st: Stage) -> usize {
    match st {
        Stage::New => 0,
        Stage::Established => 1,
        Stage::Reply => 2,
    }
}

pub(super) fn run(
    rs: &Ruleset,
    point: Point<'_>,
    table_log: u32,
    engine: Engine,
) -> Result<AuditReport, Exhausted> {
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
        closed: vec![],
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
    let mut paths = Vec::new();
    for k in &kinds {
        let rel = relation(s, *k, point.interfaces)?;
        paths.push(PathCtx {
            kind: *k,
            universe: s.and(&path_universe(s, rs, *k)?, &rel)?,
            order: blame_order(rs, *k),
        });
    }
    let path_index = |k: PathKind| paths.iter().position(|p| p.kind == k);
    let mut covered = s.none();
    if rs.covers_v4 {
        covered = s.or(&covered, &s.family(false)?)?;
    }
    if rs.covers_v6 {
        covered = s.or(&covered, &s.family(true)?)?;
    }
    let newconn = s.and(&new_connections(s)?, &covered)?;
    phase(&mut t, "space");

    // The openings' packets per stage (entry packets of the families the ruleset covers), and
    // the path that carries each stage.
    let mut cache = AddrCache::default();
    let mut uncovered_notice = false;
    let mut req: Vec<[Option<(usize, Set)>; 3]> = Vec::with_capacity(plan.openings.len());
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
        let mut per: [Option<(usize, Set)>; 3] = [None, None, None];
        for stage in [Stage::New, Stage::Established, Stage::Reply] {
            let k = if stage == Stage::Reply { back } else { fwd };
            let Some(pi) = path_index(k) else { continue };
            let all = stage_set(s, &mut cache, o, stage)?;
            let on_covered = s.and(&all, &covered)?;
            // `on_covered` ⊆ `all`, and decision diagrams are canonical: unequal means some
            // packet of the opening is of a family the ruleset does not speak for.
            if !uncovered_notice && on_covered != all {
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
            per[stage_index(stage)] = Some((pi, on_covered));
        }
        req.push(per);
    }
    // Must-stay-closed entries: their new connections, on the path that carries them.
    let mut closed_req: Vec<Option<(usize, Set)>> = Vec::with_capacity(plan.must_stay_closed.len());
    for c in &plan.must_stay_closed {
        let kind = match c.direction {
            Direction::Forward => PathKind::Forward,
            Direction::In => PathKind::Input,
            Direction::Out => PathKind::Output,
        };
        let as_opening = Opening {
            direction: c.direction,
            from: c.from.clone(),
            to: c.to.clone(),
            protocol: c.protocol,
            ports: c.ports.clone(),
            from_roles: Default::default(),
            to_roles: Default::default(),
            provenance: vec![],
        };
        closed_req.push(match path_index(kind) {
            Some(pi) => Some((
                pi,
                s.and(
                    &stage_set(s, &mut cache, &as_opening, Stage::New)?,
                    &covered,
                )?,
            )),
            None => None,
        });
    }
    let first_closed = 2 * plan.openings.len();
    drop(cache);
    phase(&mut t, "openings");

    // The leaves: rules and opening stages placed by their bounds.
    let leaves: Vec<slice::Leaf> = match engine {
        Engine::Whole => Vec::new(),
        Engine::Sliced => {
            let mut items = slice::rule_items(rs);
            for (oi, o) in plan.openings.iter().enumerate() {
                for (b, v6) in slice::flow_boxes(&o.from, &o.to, Some(&o.ports)) {
                    items.push((b, v6, slice::Tag::Item(2 * oi)));
                }
                // Replies: the other way, from any port.
                for (b, v6) in slice::flow_boxes(&o.to, &o.from, None) {
                    items.push((b, v6, slice::Tag::Item(2 * oi + 1)));
                }
            }
            for (k, c) in plan.must_stay_closed.iter().enumerate() {
                for (b, v6) in slice::flow_boxes(&c.from, &c.to, Some(&c.ports)) {
                    items.push((b, v6, slice::Tag::Item(first_closed + k)));
                }
            }
            slice::leaves(&items, slice::LEAF_ITEMS)
        }
    };
    let all_items: Vec<usize> = (0..first_closed + plan.must_stay_closed.len()).collect();
    let leaf_refs: Vec<Option<&slice::Leaf>> = match engine {
        Engine::Whole => vec![None],
        Engine::Sliced => leaves.iter().map(Some).collect(),
    };
    phase(&mut t, "leaves");
    timing(|| format!("{} leaves", leaf_refs.len()));

    let mut missing: HashMap<(usize, usize), MissingAcc> = HashMap::new();
    let mut closed: HashMap<usize, MissingAcc> = HashMap::new();
    let mut excess: Vec<HashMap<Blame, ExcessAcc>> = paths.iter().map(|_| HashMap::new()).collect();
    let mut rules: Vec<RuleAcc> = paths.iter().map(|_| RuleAcc::default()).collect();
    let mut reached: HashSet<usize> = HashSet::new();
    let mut exact = true;
    let mut notes: Vec<(String, String)> = Vec::new();
    let ifs = [Field::Iif, Field::Oif];
    let mut spent = [std::time::Duration::ZERO; 4];
    let (mut visited_rules, mut leaf_items) = (0usize, 0usize);
    for leaf in leaf_refs {
        visited_rules += leaf.map_or(0, |l| l.rules.len());
        leaf_items += leaf.map_or(0, |l| l.items.len());
        let bset = match leaf {
            Some(l) => l.set(s)?,
            None => s.top(),
        };
        let items = leaf.map_or(&all_items[..], |l| &l.items[..]);
        for (pi, p) in paths.iter().enumerate() {
            let uni = s.and(&p.universe, &bset)?;
            if s.is_empty(&uni) {
                continue;
            }
            let t0 = std::time::Instant::now();
            let res = eval_path_in(s, rs, p.kind, &uni, leaf)?;
            let t1 = std::time::Instant::now();
            let b = bounds(s, &res, &uni)?;
            let t2 = std::time::Instant::now();
            spent[0] += t1 - t0;
            spent[1] += t2 - t1;
            exact &= res.exact;
            reached.extend(res.reached.iter().copied());
            for n in &res.notes {
                if !notes.contains(n) {
                    notes.push(n.clone());
                }
            }
            let ra = &mut rules[pi];
            for v in &res.visited {
                if !ra.visited.contains(v) {
                    ra.visited.push(*v);
                }
            }
            for (key, c) in &res.could_match {
                if *c {
                    ra.could.insert(*key);
                }
            }
            for (key, h) in &res.hits {
                if !s.is_empty(h) {
                    ra.hit.insert(*key);
                    if res.exact {
                        *ra.redundant.entry(*key).or_insert(true) &= res.redundant.contains(key);
                    }
                }
            }
            // Missing: each opening stage this path carries, in this leaf.
            let mut need = s.none();
            for item in items {
                if *item >= first_closed {
                    // A port that must stay closed: possibly or certainly accepted?
                    let Some((cpi, all)) = &closed_req[item - first_closed] else {
                        continue;
                    };
                    if *cpi != pi {
                        continue;
                    }
                    let r = s.and(all, &bset)?;
                    let possible = s.and(&r, &b.hi)?;
                    if s.is_empty(&possible) {
                        continue;
                    }
                    let c = closed.entry(item - first_closed).or_default();
                    unite(s, &mut c.possible, &possible)?;
                    unite(s, &mut c.certain, &s.and(&r, &b.lo)?)?;
                    continue;
                }
                for st in item_stages(*item) {
                    let Some((spi, all)) = &req[item / 2][stage_index(*st)] else {
                        continue;
                    };
                    if *spi != pi {
                        continue;
                    }
                    let r = s.and(all, &bset)?;
                    if s.is_empty(&r) {
                        continue;
                    }
                    if *st == Stage::New {
                        need = s.or(&need, &r)?;
                    }
                    let possible = s.diff(&r, &b.lo)?;
                    if s.is_empty(&possible) {
                        continue;
                    }
                    let m = missing.entry((item / 2, stage_index(*st))).or_default();
                    unite(s, &mut m.possible, &possible)?;
                    unite(s, &mut m.certain, &s.diff(&r, &b.hi)?)?;
                }
            }
            let t3 = std::time::Instant::now();
            spent[2] += t3 - t2;
            // Excess: new connections possibly accepted that nothing needs, per accepting rule.
            let ex_hi = s.diff(&s.and(&b.hi, &newconn)?, &need)?;
            if s.is_empty(&ex_hi) {
                continue;
            }
            let ex_lo = s.and(&ex_hi, &b.lo)?;
            let mut order: Vec<&(Blame, Set)> = res.accepts.iter().collect();
            order.sort_by_key(|(bl, _)| blame_key(&p.order, bl));
            // Attribution on packets with their interfaces: a rule is blamed for what it
            // accepts and the whole path accepts too.
            let mut rest = s.diff(&s.and(&b.pa, &newconn)?, &need)?;
            for (blame, set) in order {
                if s.is_empty(&rest) {
                    break;
                }
                // The rule's packets as they entered (sets are already entry packets when no
                // rule changed any).
                let entered = if res.changed {
                    s.back_to_entry(set)?
                } else {
                    set.clone()
                };
                let with_if = s.and(&entered, &rest)?;
                if s.is_empty(&with_if) {
                    continue;
                }
                rest = s.diff(&rest, &with_if)?;
                let part = s.exists(&with_if, &ifs)?;
                let e = excess[pi].entry(*blame).or_default();
                unite(s, &mut e.certain, &s.and(&part, &ex_lo)?)?;
                unite(s, &mut e.with_if, &with_if)?;
                unite(s, &mut e.part, &part)?;
            }
        }
    }
    timing(|| {
        format!(
            "in leaves: evaluation {:.3} s, bounds {:.3} s, missing {:.3} s; {visited_rules} rules and {leaf_items} opening items over the leaves",
            spent[0].as_secs_f64(),
            spent[1].as_secs_f64(),
            spent[2].as_secs_f64()
        )
    });
    phase(&mut t, "leaves evaluated");

    // Missing, in plan order: the first stage of each opening that lacks something.
    for (oi, o) in plan.openings.iter().enumerate() {
        for stage in [Stage::New, Stage::Established, Stage::Reply] {
            let Some(m) = missing.get(&(oi, stage_index(stage))) else {
                continue;
            };
            let Some(possible) = &m.possible else {
                continue;
            };
            let Some((pi, _)) = &req[oi][stage_index(stage)] else {
                continue;
            };
            let certain = m.certain.is_some();
            let w = s
                .witness(m.certain.as_ref().unwrap_or(possible))
                .ok_or(Exhausted)?;
            report.missing.push(Missing {
                hook: paths[*pi].kind.filter_hook(),
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
    // Must stay closed, in plan order.
    for (k, c) in plan.must_stay_closed.iter().enumerate() {
        let Some(acc) = closed.get(&k) else { continue };
        let (Some(possible), Some((pi, _))) = (&acc.possible, &closed_req[k]) else {
            continue;
        };
        let certain = acc.certain.is_some();
        let w = s
            .witness(acc.certain.as_ref().unwrap_or(possible))
            .ok_or(Exhausted)?;
        report.closed.push(Closed {
            hook: paths[*pi].kind.filter_hook(),
            requirement: c.requirement.clone(),
            source: c.source.clone(),
            purpose: c.purpose.clone(),
            from: c.from.cidrs(),
            to: c.to.cidrs(),
            protocol: c.protocol,
            ports: c.ports.to_strings(),
            witness: w,
            certain,
        });
    }
    // Excess, per path in attribution order.
    for (pi, p) in paths.iter().enumerate() {
        let mut found: Vec<(&Blame, &ExcessAcc)> = excess[pi].iter().collect();
        found.sort_by_key(|(bl, _)| blame_key(&p.order, bl));
        for (blame, e) in found {
            let (Some(with_if), Some(part)) = (&e.with_if, &e.part) else {
                continue;
            };
            let certain = e.certain.is_some();
            let shown = e.certain.as_ref().unwrap_or(part);
            let witness = s
                .witness(&s.and(with_if, shown)?)
                .or_else(|| s.witness(shown))
                .ok_or(Exhausted)?;
            report.excess.push(excess_finding(
                s, rs, p.kind, blame, shown, witness, certain,
            )?);
        }
    }
    phase(&mut t, "findings");

    // Shadowed and redundant: only rules of chains every path into which was evaluated.
    let evaluated: Vec<Hook> = kinds
        .iter()
        .flat_map(|k| k.hooks().iter().cloned())
        .collect();
    let eligible = eligible_chains(rs, &evaluated);
    // Base chains are evaluated even when no packet enters them.
    for p in &paths {
        for hook in p.kind.hooks() {
            for (ci, c) in rs.chains.iter().enumerate() {
                if c.hook.as_ref() == Some(hook) {
                    reached.insert(ci);
                }
            }
        }
    }
    let mut keys: Vec<(usize, usize)> = Vec::new();
    for ci in &reached {
        for ri in 0..rs.chains[*ci].rules.len() {
            keys.push((*ci, ri));
        }
    }
    keys.sort();
    let mut path_any: Vec<Option<Set>> = paths.iter().map(|_| None).collect();
    for (ci, ri) in keys {
        if !eligible[ci] {
            continue;
        }
        let hit = rules.iter().any(|r| r.hit.contains(&(ci, ri)));
        if !hit {
            // Shadowed when some packet of a path could match it (leaves only know this for
            // their own rules: ask the whole path).
            let mut could = false;
            for (pi, p) in paths.iter().enumerate() {
                if could {
                    break;
                }
                if rules[pi].could.contains(&(ci, ri)) {
                    could = true;
                    break;
                }
                let ctxs: Vec<HookCtx> = rules[pi]
                    .visited
                    .iter()
                    .filter(|(c, _)| *c == ci)
                    .map(|(_, x)| *x)
                    .collect();
                if ctxs.is_empty() && rs.chains[ci].hook.is_none() {
                    continue;
                }
                let any = match &path_any[pi] {
                    Some(a) => a.clone(),
                    None => {
                        let a =
                            s.and(&s.exists(&p.universe, &crate::packet::MUTABLE)?, &s.all())?;
                        path_any[pi] = Some(a.clone());
                        a
                    }
                };
                let ctxs = if ctxs.is_empty() {
                    // A base chain no packet entered: it runs in its own context.
                    let c = &rs.chains[ci];
                    c.hook.iter().map(|h| HookCtx::of(h, c.priority)).collect()
                } else {
                    ctxs
                };
                let fam = family_set(s, rs.chains[ci].families)?;
                for ctx in ctxs {
                    let (_, may) = compile(s, &rs.chains[ci].rules[ri].matches, ctx)?;
                    if !s.is_empty(&s.and(&s.and(&may, &fam)?, &any)?) {
                        could = true;
                        break;
                    }
                }
            }
            if could {
                report.shadowed.push(rule_ref(rs, ci, ri));
            }
        } else if exact
            && rules
                .iter()
                .all(|r| !r.hit.contains(&(ci, ri)) || r.redundant.get(&(ci, ri)) == Some(&true))
        {
            report.redundant.push(rule_ref(rs, ci, ri));
        }
    }
    if !exact {
        notes.push((
            "ruleset".into(),
            "redundancy not computed: some rules on the path are not fully analysed, change marks or translate addresses, so no rule can be proven removable".into(),
        ));
    }
    // What was not read exactly.
    for (ci, c) in rs.chains.iter().enumerate() {
        if !reached.contains(&ci) {
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
    for n in notes {
        if !report.not_analysed.contains(&n) {
            report.not_analysed.push(n);
        }
    }
    Ok(report)
}

/// The excess finding of one rule, policy or missing chain: `shown` summarised.
fn excess_finding(
    s: &Space,
    rs: &Ruleset,
    kind: PathKind,
    blame: &Blame,
    shown: &Set,
    witness: crate::packet::Packet,
    certain: bool,
) -> R<Excess> {
    let nets = |f| -> R<Vec<String>> {
        let (n, more) = s.prefixes(shown, f, 6)?;
        let mut v: Vec<String> = n.iter().map(|x| x.to_string()).collect();
        if more {
            v.push("…".into());
        }
        Ok(v)
    };
    let (src, dst) = (nets(Field::Src)?, nets(Field::Dst)?);
    let protos: Vec<String> = s
        .ranges(shown, Field::Proto)?
        .iter()
        .flat_map(|(a, b)| *a..=*b)
        .map(|p| p.to_string())
        .collect();
    let port_part = {
        let mut pp = s.none();
        for pr in crate::packet::PORT_PROTOS {
            pp = s.or(&pp, &s.eq(Field::Proto, u128::from(pr))?)?;
        }
        s.and(shown, &pp)?
    };
    let icmp_part = s.and(
        shown,
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
    Ok(Excess {
        hook: kind.filter_hook(),
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
    })
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
