//! Evaluating a ruleset over packet sets along a netfilter path.
//!
//! **Possibility semantics.** A rule the model cannot fully read (a rate limit, a history
//! match, an unknown target) may or may not match, independently each time. The evaluator
//! computes, for every packet, whether *some* resolution of those unknowns accepts it (the
//! `accepted` set) and whether some resolution drops it (`dropped`), by following sets of
//! packets that can be at each point of the ruleset: a rule compiles to `must` (packets it
//! certainly matches) and `may` (packets it possibly matches); `may ∧ live` can take the rule's
//! verdict and `live ∖ must` can go on. So the packets accepted whatever the unknowns do are
//! exactly the valid ones never possibly dropped, and both bounds are sound for every verdict
//! kind: accept, drop, reject, jump, goto, return, verdict-map arms, policies, and unknown
//! verdicts (which may accept, drop or go on).
//!
//! **The path.** A network firewall's packets cross ingress, prerouting, forward, postrouting
//! and egress; a host's inbound packets ingress, prerouting and input; its outbound packets
//! output, postrouting and egress. On each hook every base chain of every table runs in
//! priority order: an accept ends only its own base chain, a drop is final. NAT chains see only
//! the first packet of a connection; chains below conntrack's priority see no connection yet
//! (`ct state` reads INVALID, or UNTRACKED after `notrack`). Prerouting and input chains see no
//! output interface, output and postrouting chains no input interface.
//!
//! **Effects.** Marks (set, or-ed, and-ed, copied to and from the connection mark) are applied
//! exactly to the modelled bits; `notrack` before conntrack makes the state UNTRACKED. A
//! destination NAT marks the packet's destination as rewritten: later destination matches are
//! unknown for it, and the packet's fate is *tainted* — reported possible, never certain,
//! since the filter then decides about another destination.

use std::collections::HashMap;

use crate::audit::model::{
    Chain, ChainType, Effect, Families, Hook, Match, Prim, Ruleset, Verdict,
};
use crate::audit::slice::{Leaf, Rw, rule_hull};
use crate::packet::{CtState, Field, PORT_PROTOS, R, Set, Space};

/// Which way packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// Through the host (a network firewall).
    Forward,
    /// To the host.
    Input,
    /// From the host.
    Output,
}

impl PathKind {
    /// The hooks of the path, in order.
    pub fn hooks(self) -> &'static [Hook] {
        match self {
            PathKind::Forward => &[
                Hook::Ingress,
                Hook::Prerouting,
                Hook::Forward,
                Hook::Postrouting,
                Hook::Egress,
            ],
            PathKind::Input => &[Hook::Ingress, Hook::Prerouting, Hook::Input],
            PathKind::Output => &[Hook::Output, Hook::Postrouting, Hook::Egress],
        }
    }

    /// The hook that filters this path (whose absence means "no filtering").
    pub fn filter_hook(self) -> Hook {
        match self {
            PathKind::Forward => Hook::Forward,
            PathKind::Input => Hook::Input,
            PathKind::Output => Hook::Output,
        }
    }
}

/// What a chain sees of a packet at its hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HookCtx {
    /// The input interface is known.
    pub iif: bool,
    /// The output interface is known.
    pub oif: bool,
    /// Conntrack has not run yet.
    pub pre_ct: bool,
}

impl HookCtx {
    /// The context of a base chain on `hook` at `priority`.
    pub fn of(hook: &Hook, priority: i64) -> HookCtx {
        // Conntrack's own hook runs at -200 on prerouting and output.
        const CONNTRACK: i64 = -200;
        match hook {
            Hook::Ingress => HookCtx {
                iif: true,
                oif: false,
                pre_ct: true,
            },
            Hook::Prerouting => HookCtx {
                iif: true,
                oif: false,
                pre_ct: priority < CONNTRACK,
            },
            Hook::Input => HookCtx {
                iif: true,
                oif: false,
                pre_ct: false,
            },
            Hook::Forward => HookCtx {
                iif: true,
                oif: true,
                pre_ct: false,
            },
            Hook::Output => HookCtx {
                iif: false,
                oif: true,
                pre_ct: priority < CONNTRACK,
            },
            Hook::Postrouting | Hook::Egress => HookCtx {
                iif: false,
                oif: true,
                pre_ct: false,
            },
        }
    }
}

/// Who accepted a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Blame {
    /// A rule (chain index, rule index).
    Rule(usize, usize),
    /// A base chain's accept policy (chain index).
    Policy(usize),
    /// No base chain of the packet's family on the path's filtering hook: the kernel accepts.
    NoChain,
}

/// What evaluating one path produced. Sets are of packets as they are at that point (marks
/// and NAT flags possibly changed); [`Space::back_to_entry`] maps them to entering packets.
pub struct PathResult {
    /// Packets possibly accepted by the whole path.
    pub accepted: Set,
    /// Packets possibly dropped somewhere on it.
    pub dropped: Set,
    /// Packets whose fate the model does not follow (destination NAT): possible both ways.
    pub tainted: Set,
    /// Per accepting rule, policy or missing chain: the packets it possibly accepts.
    pub accepts: Vec<(Blame, Set)>,
    /// Per rule: the packets that possibly reach it and possibly match, over every call.
    pub hits: HashMap<(usize, usize), Set>,
    /// Rules that could match some packet of the path (whether or not any reaches them).
    pub could_match: HashMap<(usize, usize), bool>,
    /// Chains that were evaluated.
    pub reached: Vec<usize>,
    /// Whether nothing uncertain was met: every reached rule exact, no unknown verdict, no
    /// effect, no NAT. Only then are redundant rules computed.
    pub exact: bool,
    /// Whether some rule changed a packet (marks, NAT, notrack): only then do sets need mapping
    /// back to entering packets.
    pub changed: bool,
    /// Rules whose removal changes nothing (only when `exact`).
    pub redundant: Vec<(usize, usize)>,
    /// Which computation found `redundant` (`None` when not `exact`).
    pub redundancy: Option<Redundancy>,
    /// Chains evaluated, with the context they were evaluated in.
    pub visited: Vec<(usize, HookCtx)>,
    /// Remarks by location.
    pub notes: Vec<(String, String)>,
}

/// Deepest chain nesting followed (the kernel's own limit is 16 for nft).
const MAX_DEPTH: usize = 64;

struct Flow {
    acc: Set,
    drop: Set,
    ret: Set,
}

struct Eval<'a> {
    space: &'a Space,
    rs: &'a Ruleset,
    compiled: HashMap<(usize, usize, HookCtx, Rw), (Set, Set)>,
    prims: PrimCache,
    hits: HashMap<(usize, usize, HookCtx), Set>,
    could: HashMap<(usize, usize), bool>,
    accepts: Vec<(Blame, Set)>,
    accept_index: HashMap<Blame, usize>,
    tainted: Set,
    reached: Vec<usize>,
    exact: bool,
    changed: bool,
    record: bool,
    stack: Vec<usize>,
    notes: Vec<(String, String)>,
    path_any: Set,
    /// Only rules whose bounds meet this leaf's box can match (see [`crate::audit::slice`]).
    leaf: Option<&'a Leaf>,
    /// Which addresses NAT has rewritten in some packet evaluated so far.
    rw: Rw,
    visited: Vec<(usize, HookCtx)>,
}

impl Eval<'_> {
    fn blame(&mut self, b: Blame, set: &Set) -> R<()> {
        if !self.record || self.space.is_empty(set) {
            return Ok(());
        }
        match self.accept_index.get(&b) {
            Some(i) => {
                let i = *i;
                self.accepts[i].1 = self.space.or(&self.accepts[i].1, set)?;
            }
            None => {
                self.accept_index.insert(b, self.accepts.len());
                self.accepts.push((b, set.clone()));
            }
        }
        Ok(())
    }

    /// The first rule of chain `ci` from `from` on that can match a packet being evaluated.
    fn next_rule(&self, ci: usize, from: usize) -> Option<usize> {
        let n = self.rs.chains[ci].rules.len();
        match self.leaf {
            None => (from < n).then_some(from),
            Some(l) if self.rw == Rw::default() => l.rules_of(ci, from).next(),
            Some(l) => (from..n).find(|ri| {
                rule_hull(self.rs, ci, *ri, self.rw)
                    .of(l.v6)
                    .is_some_and(|b| b.overlaps(&l.bx))
            }),
        }
    }

    /// A rule's (must, may) for the packets that can reach it now: address matches are exact
    /// while no NAT has rewritten that address in any packet evaluated so far (`self.rw`), which
    /// keeps the rewritten-flag variables out of the rule's sets (see [`compile_rw`]).
    fn compile(&mut self, ci: usize, ri: usize, ctx: HookCtx) -> R<(Set, Set)> {
        let rw = self.rw;
        if let Some(c) = self.compiled.get(&(ci, ri, ctx, rw)) {
            return Ok(c.clone());
        }
        let chain = &self.rs.chains[ci];
        let m = compile_cached(
            self.space,
            &chain.rules[ri].matches,
            ctx,
            rw,
            &mut self.prims,
        )?;
        let fam = family_set(self.space, chain.families)?;
        let must = self.space.and(&m.0, &fam)?;
        let c = if m.0 == m.1 {
            (must.clone(), must)
        } else {
            (must, self.space.and(&m.1, &fam)?)
        };
        self.compiled.insert((ci, ri, ctx, rw), c.clone());
        Ok(c)
    }

    /// Whether rule (`ci`, `ri`) could match some packet of the path in `ctx`, whether or not
    /// any reaches it: its match as it reads for every packet (rewritten or not) meets the
    /// path's packets.
    fn could_match(&self, ci: usize, ri: usize, ctx: HookCtx) -> R<bool> {
        let s = self.space;
        let chain = &self.rs.chains[ci];
        let (_, may) = compile(s, &chain.rules[ri].matches, ctx)?;
        let may = s.and(&may, &family_set(s, chain.families)?)?;
        Ok(!s.is_empty(&s.and(&may, &self.path_any)?))
    }

    fn effects(&mut self, set: &Set, effects: &[Effect], ctx: HookCtx) -> R<Set> {
        let s = self.space;
        let mut out = set.clone();
        for e in effects {
            self.exact = false;
            self.changed = true;
            out = match e {
                Effect::Mark { clear, xor } => s.set_bits(&out, Field::Mark, *clear, *xor)?,
                Effect::MarkUnknown { mask } => s.forget_bits(&out, Field::Mark, *mask)?,
                Effect::CtMark { clear, xor } => {
                    let (has, not) = split_ct(s, &out, ctx)?;
                    s.or(&s.set_bits(&has, Field::CtMark, *clear, *xor)?, &not)?
                }
                Effect::CtMarkUnknown { mask } => {
                    let (has, not) = split_ct(s, &out, ctx)?;
                    s.or(&s.forget_bits(&has, Field::CtMark, *mask)?, &not)?
                }
                Effect::MarkFromCtMark { mask } => {
                    let (has, not) = split_ct(s, &out, ctx)?;
                    s.or(&s.copy_bits(&has, Field::CtMark, Field::Mark, *mask)?, &not)?
                }
                Effect::CtMarkFromMark { mask } => {
                    let (has, not) = split_ct(s, &out, ctx)?;
                    s.or(&s.copy_bits(&has, Field::Mark, Field::CtMark, *mask)?, &not)?
                }
                Effect::NoTrack => {
                    if ctx.pre_ct {
                        s.assign(&out, Field::NoTrack, 1)?
                    } else {
                        out
                    }
                }
                Effect::Dnat => {
                    self.rw.dst = true;
                    self.tainted = s.or(&self.tainted, &out)?;
                    let o = s.assign(&out, Field::RwDst, 1)?;
                    s.assign(&o, Field::CtDnat, 1)?
                }
                Effect::Snat => {
                    self.rw.src = true;
                    let o = s.assign(&out, Field::RwSrc, 1)?;
                    s.assign(&o, Field::CtSnat, 1)?
                }
            };
        }
        Ok(out)
    }

    fn forget_marks(&mut self, set: &Set) -> R<Set> {
        self.changed = true;
        let s = self.space;
        let o = s.forget_bits(set, Field::Mark, u32::MAX)?;
        s.forget_bits(&o, Field::CtMark, u32::MAX)
    }

    /// (accepted, dropped, returned) for packets `input` entering chain `ci` at rule `start`.
    fn chain(&mut self, ci: usize, start: usize, input: Set, ctx: HookCtx) -> R<Flow> {
        let s = self.space;
        if self.stack.contains(&ci) || self.stack.len() >= MAX_DEPTH {
            self.exact = false;
            let c = &self.rs.chains[ci];
            self.notes.push((
                format!("chain {}", c.name),
                "jump loop or nesting deeper than 64: packets entering it may be accepted, dropped or returned".into(),
            ));
            return Ok(Flow {
                acc: input.clone(),
                drop: input.clone(),
                ret: input,
            });
        }
        if self.record && !self.reached.contains(&ci) {
            self.reached.push(ci);
        }
        if self.record && !self.visited.contains(&(ci, ctx)) {
            self.visited.push((ci, ctx));
        }
        self.stack.push(ci);
        let rs = self.rs;
        let chain: &Chain = &rs.chains[ci];
        let (mut acc, mut drop, mut ret) = (s.none(), s.none(), s.none());
        let mut live = input;
        let mut next = start;
        while let Some(ri) = self.next_rule(ci, next) {
            next = ri + 1;
            let rule = &chain.rules[ri];
            s.tidy();
            let (must, may) = self.compile(ci, ri, ctx)?;
            let hit = s.and(&live, &may)?;
            if self.record && !self.could.get(&(ci, ri)).copied().unwrap_or(false) {
                // A rule some packet reaches and possibly matches could match (what reaches it
                // lies in the path's packets); only the others need the question asked.
                let could = !s.is_empty(&hit) || self.could_match(ci, ri, ctx)?;
                debug_assert_eq!(could, self.could_match(ci, ri, ctx)?);
                *self.could.entry((ci, ri)).or_insert(false) |= could;
            }
            if self.record {
                let h = match self.hits.remove(&(ci, ri, ctx)) {
                    Some(h) => s.or(&h, &hit)?,
                    None => hit.clone(),
                };
                self.hits.insert((ci, ri, ctx), h);
            }
            if s.is_empty(&hit) {
                continue;
            }
            let stay = s.diff(&live, &must)?;
            if self.exact && must != may && !s.is_empty(&s.diff(&hit, &must)?) {
                // Some packet here may or may not match.
                self.exact = false;
            }
            let out = self.effects(&hit, &rule.effects, ctx)?;
            let mut cont = s.none();
            match &rule.verdict {
                Verdict::Accept => {
                    self.blame(Blame::Rule(ci, ri), &out)?;
                    acc = s.or(&acc, &out)?;
                }
                Verdict::Drop | Verdict::Reject => drop = s.or(&drop, &out)?,
                Verdict::Return => ret = s.or(&ret, &out)?,
                Verdict::Continue => cont = out,
                Verdict::Jump(t) | Verdict::Goto(t) => match rs.find(chain, t) {
                    Some(ti) => {
                        let f = self.chain(ti, 0, out, ctx)?;
                        acc = s.or(&acc, &f.acc)?;
                        drop = s.or(&drop, &f.drop)?;
                        if matches!(rule.verdict, Verdict::Jump(_)) {
                            cont = f.ret;
                        } else {
                            ret = s.or(&ret, &f.ret)?;
                        }
                    }
                    None => {
                        self.exact = false;
                        self.notes.push((
                            rule.origin.clone(),
                            format!("jump to unknown chain {t}: it may accept, drop or return"),
                        ));
                        self.blame(Blame::Rule(ci, ri), &out)?;
                        acc = s.or(&acc, &out)?;
                        drop = s.or(&drop, &out)?;
                        cont = self.forget_marks(&out)?;
                    }
                },
                Verdict::Unknown(_) => {
                    self.exact = false;
                    self.blame(Blame::Rule(ci, ri), &out)?;
                    acc = s.or(&acc, &out)?;
                    drop = s.or(&drop, &out)?;
                    cont = self.forget_marks(&out)?;
                }
            }
            live = s.or(&stay, &cont)?;
        }
        self.stack.pop();
        if chain.hook.is_some() {
            // A base chain has no caller: what falls through or returns meets the policy.
            let rest = s.or(&live, &ret)?;
            ret = s.none();
            match chain.policy {
                Verdict::Drop | Verdict::Reject => drop = s.or(&drop, &rest)?,
                _ => {
                    self.blame(Blame::Policy(ci), &rest)?;
                    acc = s.or(&acc, &rest)?;
                }
            }
        } else {
            ret = s.or(&ret, &live)?;
        }
        Ok(Flow { acc, drop, ret })
    }
}

/// Packets with a connection attached (so `ct mark` and friends apply), and the others.
fn split_ct(s: &Space, set: &Set, ctx: HookCtx) -> R<(Set, Set)> {
    let has = has_ct(s, ctx)?;
    Ok((s.and(set, &has)?, s.diff(set, &has)?))
}

fn has_ct(s: &Space, ctx: HookCtx) -> R<Set> {
    if ctx.pre_ct {
        return Ok(s.none());
    }
    let tracked = s.states(&[CtState::New, CtState::Established, CtState::Related])?;
    s.diff(&tracked, &s.eq(Field::NoTrack, 1)?)
}

/// The packets of a chain's families.
pub fn family_set(space: &Space, f: Families) -> R<Set> {
    match f {
        Families::Both => Ok(space.top()),
        Families::V4 => space.family(false),
        Families::V6 => space.family(true),
    }
}

/// Compile a match into (packets it certainly matches, packets it possibly matches), for every
/// packet: an address or port a NAT rule rewrote on this path reads as unknown.
pub fn compile(s: &Space, m: &Match, ctx: HookCtx) -> R<(Set, Set)> {
    compile_rw(
        s,
        m,
        ctx,
        Rw {
            src: true,
            dst: true,
        },
    )
}

/// [`compile`] for packets whose addresses only `rw` says may have been rewritten: a source
/// (destination) match is exact when `rw.src` (`rw.dst`) is false. Both give the same sets once
/// intersected with packets whose rewritten flags are as `rw` allows, and this form does not
/// mention the flags, so the engine's operations do not walk them.
pub fn compile_rw(s: &Space, m: &Match, ctx: HookCtx, rw: Rw) -> R<(Set, Set)> {
    compile_cached(s, m, ctx, rw, &mut PrimCache::default())
}

/// Primitives already compiled, by context: rules repeat the same addresses and ports.
#[derive(Default)]
pub struct PrimCache(HashMap<(Prim, HookCtx, Rw), (Set, Set)>);

/// [`compile_rw`] reusing (and filling) `cache`.
pub fn compile_cached(
    s: &Space,
    m: &Match,
    ctx: HookCtx,
    rw: Rw,
    cache: &mut PrimCache,
) -> R<(Set, Set)> {
    // (must, may) of a combination, computed once when both bounds are the same set.
    let pair = |a: (&Set, &Set), b: (&Set, &Set), op: &dyn Fn(&Set, &Set) -> R<Set>| {
        let must = op(a.0, b.0)?;
        let may = if a.0 == a.1 && b.0 == b.1 {
            must.clone()
        } else {
            op(a.1, b.1)?
        };
        Ok::<_, crate::packet::Exhausted>((must, may))
    };
    Ok(match m {
        Match::True => (s.top(), s.top()),
        Match::False => (s.none(), s.none()),
        Match::Unknown { .. } => (s.none(), s.top()),
        Match::Prim { prim } => {
            let key = (prim.clone(), ctx, rw);
            if let Some(c) = cache.0.get(&key) {
                return Ok(c.clone());
            }
            let c = prim_bounds(s, prim, ctx, rw)?;
            cache.0.insert(key, c.clone());
            c
        }
        Match::Not { of } => {
            let (must, may) = compile_cached(s, of, ctx, rw, cache)?;
            if must == may {
                let c = s.complement(&must)?;
                (c.clone(), c)
            } else {
                (s.complement(&may)?, s.complement(&must)?)
            }
        }
        Match::All { of } => {
            let (mut must, mut may) = (s.top(), s.top());
            for p in of {
                let (a, b) = compile_cached(s, p, ctx, rw, cache)?;
                (must, may) = pair((&must, &may), (&a, &b), &|x, y| s.and(x, y))?;
            }
            (must, may)
        }
        Match::Any { of } => {
            let (mut must, mut may) = (s.none(), s.none());
            for p in of {
                let (a, b) = compile_cached(s, p, ctx, rw, cache)?;
                (must, may) = pair((&must, &may), (&a, &b), &|x, y| s.or(x, y))?;
            }
            (must, may)
        }
    })
}

fn union_of<T>(s: &Space, items: &[T], mut f: impl FnMut(&T) -> R<Set>) -> R<Set> {
    let mut a = s.none();
    for i in items {
        a = s.or(&a, &f(i)?)?;
    }
    Ok(a)
}

fn port_protos(s: &Space) -> R<Set> {
    union_of(s, &PORT_PROTOS, |p| s.eq(Field::Proto, u128::from(*p)))
}

/// A primitive's (must, may): exact, except where a rewritten address makes it unknown.
fn prim_bounds(s: &Space, p: &Prim, ctx: HookCtx, rw: Rw) -> R<(Set, Set)> {
    let exact = |x: Set| -> R<(Set, Set)> { Ok((x.clone(), x)) };
    // Exact for packets whose `rw` field is 0; unknown for the rewritten ones (when some may be).
    let unless = |x: Set, field: Field| -> R<(Set, Set)> {
        let may_be = match field {
            Field::RwSrc => rw.src,
            _ => rw.dst,
        };
        if !may_be {
            return exact(x);
        }
        let r = s.eq(field, 1)?;
        Ok((s.diff(&x, &r)?, s.or(&x, &r)?))
    };
    match p {
        Prim::Family { v6 } => exact(s.family(*v6)?),
        Prim::Src { nets } => unless(union_of(s, nets, |n| s.net(Field::Src, n))?, Field::RwSrc),
        Prim::Dst { nets } => unless(union_of(s, nets, |n| s.net(Field::Dst, n))?, Field::RwDst),
        Prim::Proto { ranges } => exact(union_of(s, ranges, |(a, b)| {
            s.range(Field::Proto, u32::from(*a), u32::from(*b))
        })?),
        Prim::SPort { ranges } => {
            let x = union_of(s, ranges, |(a, b)| {
                s.range(Field::SPort, u32::from(*a), u32::from(*b))
            })?;
            unless(s.and(&x, &port_protos(s)?)?, Field::RwSrc)
        }
        Prim::DPort { ranges } => {
            let x = union_of(s, ranges, |(a, b)| {
                s.range(Field::DPort, u32::from(*a), u32::from(*b))
            })?;
            unless(s.and(&x, &port_protos(s)?)?, Field::RwDst)
        }
        Prim::Icmp { v6, ranges } => {
            let x = union_of(s, ranges, |(a, b)| {
                s.range(Field::DPort, u32::from(*a), u32::from(*b))
            })?;
            exact(s.and(&x, &s.eq(Field::Proto, if *v6 { 58 } else { 1 })?)?)
        }
        Prim::TcpFlags { mask, value } => exact(s.and(
            &s.eq(Field::Proto, 6)?,
            &s.masked(Field::Flags, u32::from(*mask), u32::from(*value))?,
        )?),
        Prim::State { states } => {
            let nt = s.eq(Field::NoTrack, 1)?;
            let untracked = if states.contains(&CtState::Untracked) {
                nt.clone()
            } else {
                s.none()
            };
            let rest = if ctx.pre_ct {
                // No connection yet: the state reads INVALID.
                if states.contains(&CtState::Invalid) {
                    s.complement(&nt)?
                } else {
                    s.none()
                }
            } else {
                s.diff(&s.states(states)?, &nt)?
            };
            exact(s.or(&untracked, &rest)?)
        }
        Prim::CtStatus { dnat, neg } => {
            let bit = s.eq(if *dnat { Field::CtDnat } else { Field::CtSnat }, 1)?;
            let v = if *neg { s.complement(&bit)? } else { bit };
            exact(s.and(&v, &has_ct(s, ctx)?)?)
        }
        Prim::CtMark { mask, value, neg } => {
            let m = s.masked(Field::CtMark, *mask, *value)?;
            let v = if *neg { s.complement(&m)? } else { m };
            exact(s.and(&v, &has_ct(s, ctx)?)?)
        }
        Prim::Mark { mask, value } => exact(s.masked(Field::Mark, *mask, *value)?),
        Prim::Iif { names } | Prim::Oif { names } => {
            let out = matches!(p, Prim::Oif { .. });
            let visible = if out { ctx.oif } else { ctx.iif };
            if visible {
                exact(union_of(s, names, |n| s.iface(out, n))?)
            } else {
                // No interface at this hook: the name reads empty.
                let m = names.iter().any(|n| n.is_empty() || n == "*" || n == "+");
                exact(if m { s.top() } else { s.none() })
            }
        }
    }
}

/// The base chains of `hook`, in priority order (stable: file order for equal priorities).
fn bases(rs: &Ruleset, hook: &Hook) -> Vec<usize> {
    let mut v: Vec<usize> = rs
        .chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.hook.as_ref() == Some(hook))
        .map(|(i, _)| i)
        .collect();
    v.sort_by_key(|i| rs.chains[*i].priority);
    v
}

/// Evaluate the path `kind` for the packets `universe` (entering packets).
pub fn eval_path(space: &Space, rs: &Ruleset, kind: PathKind, universe: &Set) -> R<PathResult> {
    eval_path_in(space, rs, kind, universe, None)
}

/// [`eval_path`] for a `universe` inside `leaf`'s box, meeting only the leaf's rules: the
/// result is [`eval_path`]'s restricted to the universe, except that `could_match` is only
/// known for the leaf's rules (the others match no packet of the leaf).
pub fn eval_path_in(
    space: &Space,
    rs: &Ruleset,
    kind: PathKind,
    universe: &Set,
    leaf: Option<&Leaf>,
) -> R<PathResult> {
    // `PORTPLAN_REDUNDANCY=replay`: the replay, for measuring and comparing (not a user feature).
    let redundancy = match std::env::var("PORTPLAN_REDUNDANCY").as_deref() {
        Ok("replay") => Redundancy::Replay,
        _ => Redundancy::Suffix,
    };
    eval_path_with(space, rs, kind, universe, leaf, redundancy)
}

/// How redundant rules are found (only when the whole path is exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redundancy {
    /// One backward pass per chain: what the rest of the chain decides, from each rule on, as
    /// one set per outcome ([`redundant_by_suffix`]); falls back to `Replay` where a chain
    /// holds something the pass does not follow.
    Suffix,
    /// Each decided rule's packets evaluated again through the rest of its chain: one chain
    /// evaluation per rule, quadratic in the chain's length. The test oracle of `Suffix`.
    Replay,
}

/// [`eval_path_in`] with the redundancy computation chosen.
pub fn eval_path_with(
    space: &Space,
    rs: &Ruleset,
    kind: PathKind,
    universe: &Set,
    leaf: Option<&Leaf>,
    redundancy: Redundancy,
) -> R<PathResult> {
    let s = space;
    let mut ev = Eval {
        space,
        rs,
        compiled: HashMap::new(),
        prims: PrimCache::default(),
        hits: HashMap::new(),
        could: HashMap::new(),
        accepts: Vec::new(),
        accept_index: HashMap::new(),
        tainted: s.none(),
        reached: Vec::new(),
        exact: true,
        changed: false,
        record: true,
        stack: Vec::new(),
        notes: Vec::new(),
        path_any: s.and(&s.exists(universe, &crate::packet::MUTABLE)?, &s.all())?,
        leaf,
        rw: Rw::default(),
        visited: Vec::new(),
    };
    let mut live = universe.clone();
    let mut dropped = s.none();
    for hook in kind.hooks() {
        let chains = bases(rs, hook);
        if *hook == kind.filter_hook() {
            // A family without a base chain on the filtering hook is not filtered at all.
            let mut covered = s.none();
            for ci in &chains {
                covered = s.or(&covered, &family_set(s, rs.chains[*ci].families)?)?;
            }
            let open = s.diff(&live, &covered)?;
            ev.blame(Blame::NoChain, &open)?;
        }
        for ci in chains {
            let c = &rs.chains[ci];
            let ctx = HookCtx::of(hook, c.priority);
            let mut sees = family_set(s, c.families)?;
            if let Some(dev) = &c.device {
                let on = match hook {
                    Hook::Egress => s.iface(true, dev)?,
                    _ => s.iface(false, dev)?,
                };
                sees = s.and(&sees, &on)?;
            }
            // NAT chains see the first packet of a connection; a RELATED one may or may not be.
            let (must_see, may_see) = if c.ty == ChainType::Nat {
                let new = s.and(&s.states(&[CtState::New])?, &s.eq(Field::NoTrack, 0)?)?;
                let rel = s.and(&s.states(&[CtState::Related])?, &s.eq(Field::NoTrack, 0)?)?;
                (s.and(&sees, &new)?, s.and(&sees, &s.or(&new, &rel)?)?)
            } else {
                (sees.clone(), sees)
            };
            let seen = s.and(&live, &may_see)?;
            let skip = s.diff(&live, &must_see)?;
            let f = ev.chain(ci, 0, seen, ctx)?;
            dropped = s.or(&dropped, &f.drop)?;
            live = s.or(&f.acc, &skip)?;
        }
    }
    let tainted = ev.tainted.clone();
    if !s.is_empty(&tainted) {
        ev.exact = false;
    }
    // Redundancy: would the rest of the chain decide the same for the packets a rule decides?
    let mut redundant = Vec::new();
    let mut answered = None;
    if ev.exact {
        ev.record = false;
        let suffix = match redundancy {
            Redundancy::Suffix => redundant_by_suffix(&mut ev)?,
            Redundancy::Replay => None,
        };
        (redundant, answered) = match suffix {
            Some(r) => (r, Some(Redundancy::Suffix)),
            None => (redundant_by_replay(&mut ev)?, Some(Redundancy::Replay)),
        };
    } else {
        ev.notes.push((
            "ruleset".into(),
            "redundancy not computed: some rules on the path are not fully analysed, change marks or translate addresses, so no rule can be proven removable".into(),
        ));
    }
    let mut hits: HashMap<(usize, usize), Set> = HashMap::new();
    for ((ci, ri, _), h) in ev.hits {
        let e = match hits.remove(&(ci, ri)) {
            Some(x) => s.or(&x, &h)?,
            None => h,
        };
        hits.insert((ci, ri), e);
    }
    Ok(PathResult {
        accepted: live,
        dropped,
        tainted,
        accepts: ev.accepts,
        hits,
        could_match: ev.could,
        reached: ev.reached,
        exact: ev.exact,
        changed: ev.changed,
        redundant,
        redundancy: answered,
        visited: ev.visited,
        notes: ev.notes,
    })
}

/// Rules whose verdict the rest of their chain would reach anyway, from per-rule flags.
fn redundant_of(per_rule: HashMap<(usize, usize), bool>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = per_rule
        .into_iter()
        .filter(|(_, r)| *r)
        .map(|(k, _)| k)
        .collect();
    out.sort();
    out
}

/// [`Redundancy::Replay`]: each rule's decided packets evaluated through the rest of its chain.
fn redundant_by_replay(ev: &mut Eval<'_>) -> R<Vec<(usize, usize)>> {
    let s = ev.space;
    let rs = ev.rs;
    let mut per_rule: HashMap<(usize, usize), bool> = HashMap::new();
    let mut keys: Vec<(usize, usize, HookCtx)> = ev.hits.keys().copied().collect();
    keys.sort_by_key(|k| (k.0, k.1));
    for (ci, ri, ctx) in keys {
        let hit = ev.hits[&(ci, ri, ctx)].clone();
        let verdict = &rs.chains[ci].rules[ri].verdict;
        if s.is_empty(&hit) || !matches!(verdict, Verdict::Accept | Verdict::Drop | Verdict::Reject)
        {
            continue;
        }
        let f = ev.chain(ci, ri + 1, hit.clone(), ctx)?;
        let same = match verdict {
            Verdict::Accept => s.subset(&hit, &f.acc)?,
            // In a regular chain, what returns is decided by the caller: not provably the same.
            _ => s.subset(&hit, &f.drop)?,
        };
        *per_rule.entry((ci, ri)).or_insert(true) &= same;
    }
    Ok(redundant_of(per_rule))
}

/// What a chain does with every packet entering it at some rule, when each packet has one
/// fate: accepted (`acc`), dropped (`drop`), or neither: returned to the caller. (In a base
/// chain nothing returns: the policy's verdict is already in the sets.)
#[derive(Clone)]
struct Fate {
    acc: Set,
    drop: Set,
}

/// [`Redundancy::Suffix`]: per chain and context, one backward pass from the chain's end
/// computes the [`Fate`] of packets entering at each rule (a rule's matched packets take its
/// verdict's fate, the others the fate after it; a jump's matched packets the target's fate,
/// what it returns the fate after the jump). A rule is redundant when the packets it decides
/// (its hits) get the same verdict from the fate after it: the replay's question, answered
/// with a few operations per rule instead of one chain evaluation per rule. `None` when a
/// chain on the way holds what the pass does not follow (effects, inexact matches, unknown
/// verdicts or chains, loops, nesting deeper than [`MAX_DEPTH`]): then the caller replays.
///
/// Equal to the replay whenever it answers: with no effect, no uncertain match and no loop
/// in any chain it passes, each packet's path through a chain is a function of the packet,
/// so replaying a rule's hits from the next rule gives those hits intersected with the fate
/// after the rule (`tests/audit_engines.rs` compares the two on random rulesets).
fn redundant_by_suffix(ev: &mut Eval<'_>) -> R<Option<Vec<(usize, usize)>>> {
    let mut keys: Vec<(usize, HookCtx)> = Vec::new();
    let mut seen: std::collections::HashSet<(usize, HookCtx)> = Default::default();
    let mut hit_keys: Vec<&(usize, usize, HookCtx)> = ev.hits.keys().collect();
    hit_keys.sort_by_key(|k| (k.0, k.1));
    for (ci, _, ctx) in hit_keys {
        if seen.insert((*ci, *ctx)) {
            keys.push((*ci, *ctx));
        }
    }
    let mut pass = SuffixPass {
        memo: HashMap::new(),
        stack: Vec::new(),
        per_rule: HashMap::new(),
    };
    for (ci, ctx) in keys {
        if pass.fate(ev, ci, ctx)?.is_none() {
            return Ok(None);
        }
    }
    Ok(Some(redundant_of(pass.per_rule)))
}

struct SuffixPass {
    /// Fate at a chain's first rule, per chain and context.
    memo: HashMap<(usize, HookCtx), Fate>,
    /// Chains being passed (loop and depth guard).
    stack: Vec<usize>,
    per_rule: HashMap<(usize, usize), bool>,
}

impl SuffixPass {
    /// The fate of packets entering chain `ci` in `ctx` at its first rule, checking each
    /// decided rule of the chain on the way (see [`redundant_by_suffix`]).
    fn fate(&mut self, ev: &mut Eval<'_>, ci: usize, ctx: HookCtx) -> R<Option<Fate>> {
        if let Some(f) = self.memo.get(&(ci, ctx)) {
            return Ok(Some(f.clone()));
        }
        if self.stack.contains(&ci) || self.stack.len() >= MAX_DEPTH {
            return Ok(None);
        }
        self.stack.push(ci);
        let r = self.pass(ev, ci, ctx);
        self.stack.pop();
        let f = r?;
        if let Some(f) = &f {
            self.memo.insert((ci, ctx), f.clone());
        }
        Ok(f)
    }

    fn pass(&mut self, ev: &mut Eval<'_>, ci: usize, ctx: HookCtx) -> R<Option<Fate>> {
        let s = ev.space;
        let rs = ev.rs;
        let chain = &rs.chains[ci];
        let accepted = || Fate {
            acc: s.top(),
            drop: s.none(),
        };
        let dropped = || Fate {
            acc: s.none(),
            drop: s.top(),
        };
        // Leaving the chain: a base chain's policy decides; a regular chain returns.
        let leave = match (&chain.hook, &chain.policy) {
            (Some(_), Verdict::Drop | Verdict::Reject) => dropped(),
            (Some(_), _) => accepted(),
            (None, _) => Fate {
                acc: s.none(),
                drop: s.none(),
            },
        };
        let mut f = leave.clone();
        for ri in (0..chain.rules.len()).rev() {
            let rule = &chain.rules[ri];
            // `f` is the fate after this rule.
            if let Some(hit) = ev.hits.get(&(ci, ri, ctx))
                && !s.is_empty(hit)
            {
                let same = match rule.verdict {
                    Verdict::Accept => Some(s.subset(hit, &f.acc)?),
                    Verdict::Drop | Verdict::Reject => Some(s.subset(hit, &f.drop)?),
                    _ => None,
                };
                if let Some(same) = same {
                    *self.per_rule.entry((ci, ri)).or_insert(true) &= same;
                }
            }
            if !rule.effects.is_empty() {
                return Ok(None);
            }
            let (must, may) = ev.compile(ci, ri, ctx)?;
            if must != may {
                return Ok(None);
            }
            let then = match &rule.verdict {
                Verdict::Accept => accepted(),
                Verdict::Drop | Verdict::Reject => dropped(),
                Verdict::Return => leave.clone(),
                Verdict::Continue => continue,
                Verdict::Jump(t) | Verdict::Goto(t) => {
                    let Some(ti) = rs.find(chain, t) else {
                        return Ok(None);
                    };
                    let Some(tf) = self.fate(ev, ti, ctx)? else {
                        return Ok(None);
                    };
                    // What the target returns goes on after the jump, or leaves this chain.
                    let after = if matches!(rule.verdict, Verdict::Jump(_)) {
                        &f
                    } else {
                        &leave
                    };
                    Fate {
                        acc: s.or(&tf.acc, &s.diff(&after.acc, &tf.drop)?)?,
                        drop: s.or(&tf.drop, &s.diff(&after.drop, &tf.acc)?)?,
                    }
                }
                Verdict::Unknown(_) => return Ok(None),
            };
            f = Fate {
                acc: s.ite(&must, &then.acc, &f.acc)?,
                drop: s.ite(&must, &then.drop, &f.drop)?,
            };
        }
        Ok(Some(f))
    }
}

/// The packets of a path that can enter it: entry packets of the families the ruleset covers,
/// with interface codes as the hooks allow (forward: both interfaces, never loopback; input:
/// no output interface; output: no input interface).
pub fn path_universe(space: &Space, rs: &Ruleset, kind: PathKind) -> R<Set> {
    use crate::packet::IF_NONE;
    let s = space;
    let mut fam = s.none();
    if rs.covers_v4 {
        fam = s.or(&fam, &s.family(false)?)?;
    }
    if rs.covers_v6 {
        fam = s.or(&fam, &s.family(true)?)?;
    }
    let mut u = s.and(&s.entry(), &fam)?;
    let none_in = s.iface_code(false, IF_NONE)?;
    let none_out = s.iface_code(true, IF_NONE)?;
    let lo_in = s.iface(false, "lo")?;
    let lo_out = s.iface(true, "lo")?;
    u = match kind {
        PathKind::Forward => {
            let bad = s.or(&s.or(&none_in, &none_out)?, &s.or(&lo_in, &lo_out)?)?;
            s.diff(&u, &bad)?
        }
        PathKind::Input => s.diff(&s.and(&u, &none_out)?, &none_in)?,
        PathKind::Output => s.diff(&s.and(&u, &none_in)?, &none_out)?,
    };
    Ok(u)
}

/// A fixed order of the rules and policies that can accept on path `kind`: the order a walk of
/// the ruleset meets them (hooks in path order, base chains by priority, rules in order, a jump's
/// chain at its first jump, a base chain's policy after its rules), then "no chain". Excess is
/// attributed in this order, so it does not depend on which packets are evaluated together.
pub fn blame_order(rs: &Ruleset, kind: PathKind) -> HashMap<Blame, usize> {
    fn walk(rs: &Ruleset, ci: usize, seen: &mut Vec<bool>, out: &mut HashMap<Blame, usize>) {
        seen[ci] = true;
        let chain = &rs.chains[ci];
        for (ri, r) in chain.rules.iter().enumerate() {
            let n = out.len();
            out.entry(Blame::Rule(ci, ri)).or_insert(n);
            if let Verdict::Jump(t) | Verdict::Goto(t) = &r.verdict
                && let Some(ti) = rs.find(chain, t)
                && !seen[ti]
            {
                walk(rs, ti, seen, out);
            }
        }
    }
    let mut out = HashMap::new();
    let mut seen = vec![false; rs.chains.len()];
    for hook in kind.hooks() {
        for ci in bases(rs, hook) {
            if !seen[ci] {
                walk(rs, ci, &mut seen, &mut out);
            }
            let n = out.len();
            out.entry(Blame::Policy(ci)).or_insert(n);
        }
    }
    let n = out.len();
    out.insert(Blame::NoChain, n);
    out
}
