//! Evaluating a ruleset over packet sets: first match, jumps, gotos, returns, policies, and
//! several base chains per hook in priority order (a drop anywhere is final; an accept ends only
//! that base chain).

use crate::audit::model::{Chain, Cond, Families, Hook, Rule, Ruleset, Verdict};
use crate::packet::{Field, R, Set, Space};

/// How rules with unsupported parts are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As permissive as they could be: accept-like rules match, drop-like rules do not.
    Most,
    /// As strict as they could be.
    Least,
}

/// What evaluating a hook produced.
pub struct HookResult {
    /// Packets that pass the hook.
    pub accepted: Set,
    /// Per rule (chain index, rule index): the packets this rule is the first to accept.
    pub accepts_by_rule: Vec<((usize, usize), Set)>,
    /// Packets accepted by a chain policy (chain index).
    pub accepts_by_policy: Vec<(usize, Set)>,
    /// Rules that match packets but no packet ever reaches them (chain index, rule index).
    pub shadowed: Vec<(usize, usize)>,
    /// Rules whose removal would change nothing: the rest of their chain gives every packet they
    /// decide the same verdict (computed for rulesets up to [`REDUNDANCY_LIMIT`] rules).
    pub redundant: Vec<(usize, usize)>,
}

/// Above this many rules, redundancy (quadratic) is not computed.
pub const REDUNDANCY_LIMIT: usize = 3000;

struct Ctx<'a> {
    space: &'a Space,
    rs: &'a Ruleset,
    mode: Mode,
    accepts_by_rule: Vec<((usize, usize), Set)>,
    shadowed: Vec<(usize, usize)>,
    /// (chain, rule, packets it decides) for terminal verdicts, for the redundancy pass.
    decided: Vec<(usize, usize, Set)>,
    record: bool,
    /// Compiled matches, by (chain, rule); only kept when the redundancy pass will use them.
    matches: std::collections::HashMap<(usize, usize), Set>,
    /// Whether the redundancy pass will run (small, fully readable rulesets).
    redundancy: bool,
    /// What to keep of each accepting rule's packets.
    keep: Option<Set>,
    stack: Vec<usize>,
    notes: Vec<(String, String)>,
}

/// Compile a rule's conditions. Unsupported parts: per `mode` and verdict.
pub fn rule_match(space: &Space, rule: &Rule, families: Families, mode: Mode) -> R<Set> {
    if !rule.unsupported.is_empty() {
        let permissive = matches!(
            rule.verdict,
            Verdict::Accept | Verdict::Jump(_) | Verdict::Goto(_)
        );
        let matches_all = (mode == Mode::Most) == permissive;
        if !matches_all {
            return Ok(space.none());
        }
    }
    let mut acc = family_set(space, families)?;
    for c in &rule.conds {
        let (neg, s) = cond_set(space, c)?;
        acc = if neg {
            space.diff(&acc, &s)?
        } else {
            space.and(&acc, &s)?
        };
    }
    Ok(acc)
}

fn family_set(space: &Space, f: Families) -> R<Set> {
    match f {
        Families::Both => Ok(space.all()),
        Families::V4 => space.family(false),
        Families::V6 => space.family(true),
    }
}

fn cond_set(space: &Space, c: &Cond) -> R<(bool, Set)> {
    let union = |sets: Vec<Set>| -> R<Set> {
        let mut a = space.none();
        for s in sets {
            a = space.or(&a, &s)?;
        }
        Ok(a)
    };
    Ok(match c {
        Cond::Src { neg, nets } => (
            *neg,
            union(
                nets.iter()
                    .map(|n| space.prefix(Field::Src, n))
                    .collect::<R<_>>()?,
            )?,
        ),
        Cond::Dst { neg, nets } => (
            *neg,
            union(
                nets.iter()
                    .map(|n| space.prefix(Field::Dst, n))
                    .collect::<R<_>>()?,
            )?,
        ),
        Cond::Proto { neg, ranges } => (
            *neg,
            union(
                ranges
                    .iter()
                    .map(|(a, b)| space.range(Field::Proto, u32::from(*a), u32::from(*b)))
                    .collect::<R<_>>()?,
            )?,
        ),
        Cond::SPort { neg, ranges } => (
            *neg,
            union(
                ranges
                    .iter()
                    .map(|(a, b)| space.range(Field::SPort, u32::from(*a), u32::from(*b)))
                    .collect::<R<_>>()?,
            )?,
        ),
        Cond::DPort { neg, ranges } => (
            *neg,
            union(
                ranges
                    .iter()
                    .map(|(a, b)| space.range(Field::DPort, u32::from(*a), u32::from(*b)))
                    .collect::<R<_>>()?,
            )?,
        ),
        Cond::State { neg, states } => (*neg, space.states(states)?),
        Cond::Iif { neg, names } | Cond::Oif { neg, names } => {
            let out = matches!(c, Cond::Oif { .. });
            let sets = names
                .iter()
                .map(|n| match n.strip_suffix(['+', '*']) {
                    Some(p) => space.iface_wild(out, p),
                    None => space.iface(out, n),
                })
                .collect::<R<Vec<_>>>()?;
            (*neg, union(sets)?)
        }
        Cond::Family { v6 } => (false, space.family(*v6)?),
    })
}

impl Ctx<'_> {
    /// (accepted, dropped, returned) for packets `reach` entering chain `ci`.
    fn chain(&mut self, ci: usize, reach: Set) -> R<(Set, Set, Set)> {
        self.chain_from(ci, 0, reach)
    }

    /// As [`Ctx::chain`], starting at rule `start`.
    fn chain_from(&mut self, ci: usize, start: usize, reach: Set) -> R<(Set, Set, Set)> {
        let s = self.space;
        let (mut acc, mut drop, mut ret) = (s.none(), s.none(), s.none());
        if self.stack.contains(&ci) || self.stack.len() > 64 {
            let c = &self.rs.chains[ci];
            self.notes.push((
                format!("chain {}", c.name),
                "jump loop or nesting deeper than 64: packets entering it are treated as returning"
                    .into(),
            ));
            return Ok((acc, drop, reach));
        }
        self.stack.push(ci);
        let chain: &Chain = &self.rs.chains[ci];
        let mut live = reach;
        for (ri, rule) in chain.rules.iter().enumerate().skip(start) {
            let m = match self.matches.get(&(ci, ri)) {
                Some(m) => m.clone(),
                None => {
                    let m = rule_match(s, rule, chain.families, self.mode)?;
                    if self.redundancy {
                        self.matches.insert((ci, ri), m.clone());
                    }
                    m
                }
            };
            let hit = s.and(&live, &m)?;
            if s.is_empty(&hit) {
                if self.record && !s.is_empty(&m) && chain.hook.is_some() {
                    self.shadowed.push((ci, ri));
                }
                continue;
            }
            if self.record
                && matches!(
                    rule.verdict,
                    Verdict::Accept | Verdict::Drop | Verdict::Reject
                )
            {
                self.decided.push((ci, ri, hit.clone()));
            }
            match &rule.verdict {
                Verdict::Accept => {
                    if self.record {
                        let kept = match &self.keep {
                            Some(k) => s.and(&hit, k)?,
                            None => hit.clone(),
                        };
                        if !s.is_empty(&kept) {
                            self.accepts_by_rule.push(((ci, ri), kept));
                        }
                    }
                    acc = s.or(&acc, &hit)?;
                    live = s.diff(&live, &m)?;
                }
                Verdict::Drop | Verdict::Reject => {
                    drop = s.or(&drop, &hit)?;
                    live = s.diff(&live, &m)?;
                }
                Verdict::Return => {
                    ret = s.or(&ret, &hit)?;
                    live = s.diff(&live, &m)?;
                }
                Verdict::Continue => {}
                Verdict::Jump(target) | Verdict::Goto(target) => {
                    let Some(ti) = self.find(chain, target) else {
                        self.notes.push((
                            rule.origin.clone(),
                            format!("jump to unknown chain {target}: treated as no verdict"),
                        ));
                        continue;
                    };
                    let (a, d, r) = self.chain(ti, hit)?;
                    acc = s.or(&acc, &a)?;
                    drop = s.or(&drop, &d)?;
                    live = s.diff(&live, &m)?;
                    if matches!(rule.verdict, Verdict::Jump(_)) {
                        live = s.or(&live, &r)?;
                    } else {
                        ret = s.or(&ret, &r)?;
                    }
                }
            }
        }
        self.stack.pop();
        if chain.hook.is_some() {
            match chain.policy {
                Verdict::Drop | Verdict::Reject => drop = s.or(&drop, &live)?,
                _ => acc = s.or(&acc, &live)?,
            }
            // A base chain has no caller: what returns is decided by its policy above.
            let r = std::mem::replace(&mut ret, s.none());
            match chain.policy {
                Verdict::Drop | Verdict::Reject => drop = s.or(&drop, &r)?,
                _ => acc = s.or(&acc, &r)?,
            }
        } else {
            ret = s.or(&ret, &live)?;
        }
        Ok((acc, drop, ret))
    }

    fn find(&self, from: &Chain, name: &str) -> Option<usize> {
        self.rs
            .chains
            .iter()
            .position(|c| c.table == from.table && c.name == name && c.families == from.families)
            .or_else(|| {
                self.rs
                    .chains
                    .iter()
                    .position(|c| c.table == from.table && c.name == name)
            })
    }
}

/// Evaluate every base chain of `hook` on `universe`. `keep`, when given, limits what is kept
/// per accepting rule and per policy to the packets of interest (the audit passes "new and
/// not required"), so memory does not grow with every accepting rule.
pub fn eval_hook(
    space: &Space,
    rs: &Ruleset,
    hook: &Hook,
    universe: &Set,
    mode: Mode,
    keep: Option<&Set>,
) -> R<(HookResult, Vec<(String, String)>)> {
    let mut bases: Vec<usize> = rs
        .chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.hook.as_ref() == Some(hook))
        .map(|(i, _)| i)
        .collect();
    bases.sort_by_key(|i| rs.chains[*i].priority);
    let total: usize = rs.chains.iter().map(|c| c.rules.len()).sum();
    let unreadable = rs
        .chains
        .iter()
        .any(|c| c.rules.iter().any(|r| !r.unsupported.is_empty()));
    let mut ctx = Ctx {
        space,
        rs,
        mode,
        accepts_by_rule: vec![],
        shadowed: vec![],
        decided: vec![],
        record: true,
        matches: std::collections::HashMap::new(),
        redundancy: !unreadable && total <= REDUNDANCY_LIMIT,
        keep: keep.cloned(),
        stack: vec![],
        notes: vec![],
    };
    let mut live = universe.clone();
    let mut accepts_by_policy = Vec::new();
    for ci in bases {
        let fam = family_set(space, rs.chains[ci].families)?;
        let seen = space.and(&live, &fam)?;
        let unseen = space.diff(&live, &fam)?;
        let before: Vec<usize> = (0..ctx.accepts_by_rule.len()).collect();
        let (a, _d, _r) = ctx.chain(ci, seen)?;
        // What the policy accepted = accepted minus what rules accepted in this chain.
        let mut by_rules = space.none();
        for (_, set) in ctx.accepts_by_rule.iter().skip(before.len()) {
            by_rules = space.or(&by_rules, set)?;
        }
        let mut pol = space.diff(&a, &by_rules)?;
        if let Some(k) = keep {
            pol = space.and(&pol, k)?;
        }
        if !space.is_empty(&pol) {
            accepts_by_policy.push((ci, pol));
        }
        live = space.or(&a, &unseen)?;
    }
    // Redundancy: would the rest of the chain decide the same for the packets a rule decides?
    let mut redundant = Vec::new();
    if unreadable {
        ctx.notes.push(("ruleset".into(), "redundancy not computed: some rules are not fully analysed, so no rule can be proven removable".into()));
    } else if total <= REDUNDANCY_LIMIT {
        ctx.record = false;
        let decided = std::mem::take(&mut ctx.decided);
        for (ci, ri, hit) in decided {
            let (a, d, r) = ctx.chain_from(ci, ri + 1, hit.clone())?;
            let same = match rs.chains[ci].rules[ri].verdict {
                Verdict::Accept => space.subset(&hit, &a)?,
                // In a regular chain, what returns is decided by the caller: not provably the same.
                _ => {
                    space.subset(&hit, &d)? && (rs.chains[ci].hook.is_some() || space.is_empty(&r))
                }
            };
            if same && !redundant.contains(&(ci, ri)) {
                redundant.push((ci, ri));
            }
        }
    } else {
        ctx.notes.push((
            "ruleset".into(),
            format!("{total} rules: redundancy not computed (limit {REDUNDANCY_LIMIT})"),
        ));
    }
    let notes = ctx.notes;
    Ok((
        HookResult {
            accepted: live,
            accepts_by_rule: ctx.accepts_by_rule,
            accepts_by_policy,
            shadowed: ctx.shadowed,
            redundant,
        },
        notes,
    ))
}
