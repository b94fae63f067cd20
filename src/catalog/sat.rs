//! Whether a condition can hold at all, for `catalog check`'s warning about conditions such as
//! `a and not a` (gap 9 of issue 14).
//!
//! Conditions read few options with few values each (bools, choices; a port option is compared
//! only with the literals the condition names), so trying every combination is exact and
//! cheap. Hand-written because it is a dozen lines over our own [`Expr`]; a SAT crate would
//! need the same translation.

use std::collections::BTreeMap;

use crate::condition::Expr;
use crate::options::{OptionDef, OptionKind, OptionValues};

/// Combinations tried at most; beyond this the answer is "unknown".
const MAX_COMBINATIONS: usize = 1 << 14;

/// `Some(true)` when some option values make `e` true, `Some(false)` when none do, `None`
/// when there are too many combinations to try (or the condition reads an unknown option).
pub fn satisfiable(e: &Expr, options: &[OptionDef]) -> Option<bool> {
    let mut literals: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    collect_literals(e, &mut literals);
    let mut domains: Vec<(&str, Vec<String>)> = Vec::new();
    for name in e.options() {
        let def = options.iter().find(|d| d.id == name)?;
        let values = match &def.kind {
            OptionKind::Bool => vec!["true".to_string(), "false".to_string()],
            OptionKind::Choice(vs) => vs.clone(),
            OptionKind::Port => {
                // The literals compared with, and one value equal to none of them.
                let mut vs: Vec<String> = literals.get(name).cloned().unwrap_or_default();
                vs.retain(|v| def.kind.parse(v).is_some());
                let other = (1..=u16::MAX)
                    .map(|p| p.to_string())
                    .find(|p| !vs.contains(p))?;
                vs.push(other);
                vs
            }
        };
        domains.push((name, values));
    }
    let total = domains
        .iter()
        .try_fold(1usize, |n, (_, vs)| n.checked_mul(vs.len().max(1)))?;
    if total > MAX_COMBINATIONS {
        return None;
    }
    let base = OptionValues::defaults(options);
    for mut i in 0..total {
        let mut vals = base.clone();
        for (name, vs) in &domains {
            if vs.is_empty() {
                continue;
            }
            let v = &vs[i % vs.len()];
            i /= vs.len();
            vals.set(options, name, v).ok()?;
        }
        if e.eval(&vals) {
            return Some(true);
        }
    }
    Some(false)
}

fn collect_literals<'a>(e: &'a Expr, out: &mut BTreeMap<&'a str, Vec<String>>) {
    match e {
        Expr::Always | Expr::Never | Expr::Flag(_) => {}
        Expr::Eq { option, value, .. } => out
            .entry(option.text.as_str())
            .or_default()
            .push(value.text.clone()),
        Expr::In { option, values, .. } => out
            .entry(option.text.as_str())
            .or_default()
            .extend(values.iter().map(|v| v.text.clone())),
        Expr::Not(x) => collect_literals(x, out),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| collect_literals(x, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Text;
    use crate::options::Value;

    fn defs() -> Vec<OptionDef> {
        vec![
            OptionDef {
                id: "a".into(),
                kind: OptionKind::Bool,
                default: Value::Bool(false),
                description: Text::default(),
                ports: vec![],
            },
            OptionDef {
                id: "mode".into(),
                kind: OptionKind::Choice(vec!["x".into(), "y".into(), "z".into()]),
                default: Value::Choice("x".into()),
                description: Text::default(),
                ports: vec![],
            },
            OptionDef {
                id: "port".into(),
                kind: OptionKind::Port,
                default: Value::Port(514),
                description: Text::default(),
                ports: vec![],
            },
        ]
    }

    fn sat(src: &str) -> Option<bool> {
        satisfiable(&Expr::parse(src).unwrap(), &defs())
    }

    #[test]
    fn contradictions_are_found() {
        for src in [
            "a and not a",
            "mode == x and mode == y",
            "mode in [x, y] and mode == z",
            "not (mode == x or mode == y or mode == z)",
            "port == 514 and port != 514",
            "port == 1 and port == 2",
            "false",
        ] {
            assert_eq!(sat(src), Some(false), "{src}");
        }
    }

    #[test]
    fn satisfiable_conditions_pass() {
        for src in [
            "a",
            "not a",
            "a or not a",
            "mode != x and mode != y",
            "port != 514",
            "port == 1",
            "always",
            "a and mode == z and port != 22",
        ] {
            assert_eq!(sat(src), Some(true), "{src}");
        }
    }
}
