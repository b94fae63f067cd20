//! The condition language of catalog `when:` clauses.
//!
//! Small enough to read at a glance:
//!
//! ```text
//! always                                  # the default: always required
//! syslog_tool                             # a bool option is on
//! auth == direct      rpc_ports != fixed  # a choice (or port) option has a value
//! auth in [agent, adfs]                   # one of several values (`not in` too)
//! syslog_tool and not syslog_via_proxy    # `not` > `and` > `or`, parentheses group
//! ```
//!
//! [`Expr::parse`] never panics and reports byte offsets into the condition text;
//! [`Expr::check`] type-checks against a product's options (unknown option, a value outside a
//! choice, a bare choice option used as a bool), so a catalog with a bad condition never loads.
//! [`Expr`]'s `Display` is canonical and re-parses to the same expression.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use crate::i18n::Text;
use crate::options::{OptionDef, OptionKind, OptionValues};
use crate::tr;

/// A name or value in a condition, with its byte span in the condition text.
#[derive(Debug, Clone)]
pub struct Name {
    /// The text as written.
    pub text: String,
    /// Byte span in the condition string.
    pub span: Range<usize>,
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for Name {}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Always true (`always` or `true`).
    Always,
    /// Always false (`false`).
    Never,
    /// A bool option is on.
    Flag(Name),
    /// `option == value` (or `!=` when `negated`).
    Eq {
        /// The option.
        option: Name,
        /// The value.
        value: Name,
        /// `!=`.
        negated: bool,
    },
    /// `option in [a, b]` (or `not in` when `negated`).
    In {
        /// The option.
        option: Name,
        /// The values.
        values: Vec<Name>,
        /// `not in`.
        negated: bool,
    },
    /// `not e`.
    Not(Box<Expr>),
    /// `a and b and …`.
    And(Vec<Expr>),
    /// `a or b or …`.
    Or(Vec<Expr>),
}

/// A syntax or type error in a condition, at a byte span of the condition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondError {
    /// Where.
    pub span: Range<usize>,
    /// What.
    pub message: Text,
    /// How to fix it.
    pub help: Option<Text>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    EqEq,
    NotEq,
    End,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::EqEq => "`==`".into(),
        Tok::NotEq => "`!=`".into(),
        Tok::End => "end of condition".into(),
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, Range<usize>)>, CondError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = |t| Some((t, 1usize));
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b',' => single(Tok::Comma),
            b'=' if bytes.get(i + 1) == Some(&b'=') => Some((Tok::EqEq, 2)),
            b'!' if bytes.get(i + 1) == Some(&b'=') => Some((Tok::NotEq, 2)),
            b'=' => {
                return Err(CondError {
                    span: start..start + 1,
                    message: tr!("single `=` in a condition", "条件に `=` が1つだけあります"),
                    help: Some(tr!(
                        "compare with `==`, e.g. `auth == direct`",
                        "比較には `==` を使います (例: `auth == direct`)"
                    )),
                });
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' => None,
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                let end = i + ch.len_utf8();
                return Err(CondError {
                    span: start..end,
                    message: tr!(
                        "unexpected character `{ch}` in a condition",
                        "条件に使えない文字 `{ch}` があります"
                    ),
                    help: Some(tr!(
                        "conditions use option names, `==`, `!=`, `in [..]`, `and`, `or`, `not` and parentheses",
                        "条件に使えるのはオプション名、`==`、`!=`、`in [..]`、`and`、`or`、`not`、括弧です"
                    )),
                });
            }
        };
        match tok {
            Some((t, n)) => {
                out.push((t, start..start + n));
                i += n;
            }
            None => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
                {
                    i += 1;
                }
                out.push((Tok::Word(src[start..i].to_string()), start..i));
            }
        }
    }
    out.push((Tok::End, src.len()..src.len()));
    Ok(out)
}

const KEYWORDS: [&str; 7] = ["and", "or", "not", "in", "always", "true", "false"];

struct Parser {
    toks: Vec<(Tok, Range<usize>)>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn span(&self) -> Range<usize> {
        self.toks[self.pos].1.clone()
    }
    fn bump(&mut self) -> (Tok, Range<usize>) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w == kw)
    }
    fn unexpected(&self, wanted: Text) -> CondError {
        let found = describe(self.peek());
        CondError {
            span: self.span(),
            message: Text::new(
                format!("expected {}, found {found}", wanted.en),
                format!("{}が必要ですが {found} があります", wanted.ja),
            ),
            help: None,
        }
    }

    fn or(&mut self) -> Result<Expr, CondError> {
        let mut items = vec![self.and()?];
        while self.is_kw("or") {
            self.bump();
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, CondError> {
        let mut items = vec![self.unary()?];
        while self.is_kw("and") {
            self.bump();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, CondError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CondError {
                span: self.span(),
                message: tr!("condition is nested too deeply", "条件の入れ子が深すぎます"),
                help: None,
            });
        }
        let r = if self.is_kw("not") {
            self.bump();
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        r
    }

    fn name(&mut self, what: Text) -> Result<Name, CondError> {
        match self.peek().clone() {
            Tok::Word(w) if !KEYWORDS.contains(&w.as_str()) || w == "true" || w == "false" => {
                let (_, span) = self.bump();
                Ok(Name { text: w, span })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn primary(&mut self) -> Result<Expr, CondError> {
        match self.peek().clone() {
            Tok::LParen => {
                self.bump();
                let e = self.or()?;
                if *self.peek() != Tok::RParen {
                    return Err(self.unexpected(tr!("`)`", "`)`")));
                }
                self.bump();
                Ok(e)
            }
            Tok::Word(w) if w == "always" || w == "true" => {
                self.bump();
                Ok(Expr::Always)
            }
            Tok::Word(w) if w == "false" => {
                self.bump();
                Ok(Expr::Never)
            }
            Tok::Word(w) if !KEYWORDS.contains(&w.as_str()) => {
                let (_, span) = self.bump();
                let option = Name { text: w, span };
                match self.peek() {
                    Tok::EqEq | Tok::NotEq => {
                        let negated = *self.peek() == Tok::NotEq;
                        self.bump();
                        let value = self.name(tr!("a value", "値"))?;
                        Ok(Expr::Eq {
                            option,
                            value,
                            negated,
                        })
                    }
                    Tok::Word(k) if k == "in" => {
                        self.bump();
                        self.in_list(option, false)
                    }
                    Tok::Word(k) if k == "not" => {
                        // `x not in [..]`
                        let save = self.pos;
                        self.bump();
                        if self.is_kw("in") {
                            self.bump();
                            self.in_list(option, true)
                        } else {
                            self.pos = save;
                            Err(self.unexpected(tr!("`in` after `not`", "`not` の後に `in`")))
                        }
                    }
                    _ => Ok(Expr::Flag(option)),
                }
            }
            _ => Err(self.unexpected(tr!("an option name or `(`", "オプション名か `(`"))),
        }
    }

    fn in_list(&mut self, option: Name, negated: bool) -> Result<Expr, CondError> {
        if *self.peek() != Tok::LBracket {
            return Err(self.unexpected(tr!("`[`", "`[`")));
        }
        self.bump();
        let mut values = vec![self.name(tr!("a value", "値"))?];
        while *self.peek() == Tok::Comma {
            self.bump();
            values.push(self.name(tr!("a value", "値"))?);
        }
        if *self.peek() != Tok::RBracket {
            return Err(self.unexpected(tr!("`,` or `]`", "`,` か `]`")));
        }
        self.bump();
        Ok(Expr::In {
            option,
            values,
            negated,
        })
    }
}

impl Expr {
    /// Parse a condition. An empty string means `always`.
    pub fn parse(src: &str) -> Result<Expr, CondError> {
        let toks = lex(src)?;
        if toks.len() == 1 {
            return Ok(Expr::Always);
        }
        let mut p = Parser {
            toks,
            pos: 0,
            depth: 0,
        };
        let e = p.or()?;
        if *p.peek() != Tok::End {
            return Err(p.unexpected(tr!(
                "`and`, `or` or the end",
                "`and`、`or` または条件の終わり"
            )));
        }
        Ok(e)
    }

    /// Type-check against a product's options. Returns every problem found.
    pub fn check(&self, defs: &[OptionDef]) -> Vec<CondError> {
        let mut errs = Vec::new();
        self.check_into(defs, &mut errs);
        errs
    }

    fn check_into(&self, defs: &[OptionDef], errs: &mut Vec<CondError>) {
        let find = |n: &Name, errs: &mut Vec<CondError>| -> Option<&OptionDef> {
            let d = defs.iter().find(|d| d.id == n.text);
            if d.is_none() {
                let names: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
                let names = names.join(", ");
                let name = &n.text;
                errs.push(CondError {
                    span: n.span.clone(),
                    message: tr!(
                        "unknown option `{name}`",
                        "オプション `{name}` はありません"
                    ),
                    help: Some(tr!(
                        "options of this catalog: {names}",
                        "このカタログのオプション: {names}"
                    )),
                });
            }
            d
        };
        let check_value = |d: &OptionDef, v: &Name, errs: &mut Vec<CondError>| {
            let ok = match &d.kind {
                OptionKind::Bool => v.text == "true" || v.text == "false",
                _ => d.kind.parse(&v.text).is_some(),
            };
            if !ok {
                let (value, name, allowed) = (&v.text, &d.id, d.kind.allowed());
                errs.push(CondError {
                    span: v.span.clone(),
                    message: tr!(
                        "option `{name}` can never be `{value}`",
                        "オプション `{name}` が `{value}` になることはありません"
                    ),
                    help: Some(tr!("its values: {allowed}", "取り得る値: {allowed}")),
                });
            }
        };
        match self {
            Expr::Always | Expr::Never => {}
            Expr::Flag(n) => {
                if let Some(d) = find(n, errs)
                    && d.kind != OptionKind::Bool
                {
                    let (name, kind, allowed) = (&n.text, d.kind.name(), d.kind.allowed());
                    errs.push(CondError {
                        span: n.span.clone(),
                        message: tr!(
                            "option `{name}` is a {kind}, not a bool",
                            "オプション `{name}` は {kind} 型で、bool ではありません"
                        ),
                        help: Some(tr!(
                            "compare it with a value: `{name} == …` ({allowed})",
                            "値と比較してください: `{name} == …` ({allowed})"
                        )),
                    });
                }
            }
            Expr::Eq { option, value, .. } => {
                if let Some(d) = find(option, errs) {
                    check_value(d, value, errs);
                }
            }
            Expr::In { option, values, .. } => {
                if let Some(d) = find(option, errs) {
                    for v in values {
                        check_value(d, v, errs);
                    }
                }
            }
            Expr::Not(e) => e.check_into(defs, errs),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.check_into(defs, errs)),
        }
    }

    /// Evaluate against resolved option values. Options missing from `vals` count as false
    /// (a checked condition over a product's full [`OptionValues`] never hits that case).
    pub fn eval(&self, vals: &OptionValues) -> bool {
        let value_is =
            |o: &Name, v: &Name| vals.get(&o.text).is_some_and(|x| x.to_string() == v.text);
        match self {
            Expr::Always => true,
            Expr::Never => false,
            Expr::Flag(n) => vals.get(&n.text).is_some_and(|x| x.to_string() == "true"),
            Expr::Eq {
                option,
                value,
                negated,
            } => value_is(option, value) != *negated,
            Expr::In {
                option,
                values,
                negated,
            } => values.iter().any(|v| value_is(option, v)) != *negated,
            Expr::Not(e) => !e.eval(vals),
            Expr::And(es) => es.iter().all(|e| e.eval(vals)),
            Expr::Or(es) => es.iter().any(|e| e.eval(vals)),
        }
    }

    /// Whether this is the trivial `always`.
    pub fn is_always(&self) -> bool {
        matches!(self, Expr::Always)
    }

    /// The options this condition reads.
    pub fn options(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        self.collect_options(&mut out);
        out
    }

    fn collect_options<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Expr::Always | Expr::Never => {}
            Expr::Flag(n) | Expr::Eq { option: n, .. } | Expr::In { option: n, .. } => {
                out.insert(&n.text);
            }
            Expr::Not(e) => e.collect_options(out),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.collect_options(out)),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(_) => 1,
            Expr::And(_) => 2,
            _ => 3,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let child = |f: &mut fmt::Formatter<'_>, e: &Expr, min: u8| {
            if e.precedence() < min {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        };
        match self {
            Expr::Always => f.write_str("always"),
            Expr::Never => f.write_str("false"),
            Expr::Flag(n) => f.write_str(&n.text),
            Expr::Eq {
                option,
                value,
                negated,
            } => {
                write!(
                    f,
                    "{} {} {}",
                    option.text,
                    if *negated { "!=" } else { "==" },
                    value.text
                )
            }
            Expr::In {
                option,
                values,
                negated,
            } => {
                let vs: Vec<&str> = values.iter().map(|v| v.text.as_str()).collect();
                let not = if *negated { "not " } else { "" };
                write!(f, "{} {not}in [{}]", option.text, vs.join(", "))
            }
            Expr::Not(e) => {
                f.write_str("not ")?;
                child(f, e, 3)
            }
            Expr::And(es) | Expr::Or(es) => {
                let (sep, min) = if matches!(self, Expr::And(_)) {
                    (" and ", 3)
                } else {
                    (" or ", 2)
                };
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    child(f, e, min)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Value;
    use proptest::prelude::*;

    fn defs() -> Vec<OptionDef> {
        let choice = |id: &str, vs: &[&str]| OptionDef {
            id: id.into(),
            kind: OptionKind::Choice(vs.iter().map(|s| s.to_string()).collect()),
            default: Value::Choice(vs[0].into()),
            description: Text::default(),
            ports: vec![],
        };
        let flag = |id: &str| OptionDef {
            id: id.into(),
            kind: OptionKind::Bool,
            default: Value::Bool(false),
            description: Text::default(),
            ports: vec![],
        };
        vec![
            choice("auth", &["none", "direct", "agent", "adfs"]),
            flag("syslog_tool"),
            flag("syslog_via_proxy"),
            OptionDef {
                id: "syslog_port".into(),
                kind: OptionKind::Port,
                default: Value::Port(514),
                description: Text::default(),
                ports: vec![],
            },
        ]
    }

    fn vals(auth: &str, tool: bool, via: bool) -> OptionValues {
        let d = defs();
        let mut v = OptionValues::defaults(&d);
        v.set(&d, "auth", auth).unwrap();
        v.set(&d, "syslog_tool", &tool.to_string()).unwrap();
        v.set(&d, "syslog_via_proxy", &via.to_string()).unwrap();
        v
    }

    #[test]
    fn parses_and_evaluates_the_catalog_forms() {
        let e = Expr::parse("syslog_tool and not syslog_via_proxy").unwrap();
        assert!(e.check(&defs()).is_empty());
        assert!(e.eval(&vals("none", true, false)));
        assert!(!e.eval(&vals("none", true, true)));
        let e = Expr::parse("auth in [agent, adfs]").unwrap();
        assert!(e.eval(&vals("adfs", false, false)));
        assert!(!e.eval(&vals("direct", false, false)));
        let e = Expr::parse("auth not in [agent,adfs] or syslog_port == 514").unwrap();
        assert_eq!(
            e.to_string(),
            "auth not in [agent, adfs] or syslog_port == 514"
        );
        assert!(Expr::parse("").unwrap().is_always());
        assert!(
            Expr::parse("  always ")
                .unwrap()
                .eval(&OptionValues::default())
        );
    }

    #[test]
    fn precedence_is_not_and_or() {
        let e = Expr::parse("syslog_tool or auth == direct and syslog_via_proxy").unwrap();
        assert!(matches!(&e, Expr::Or(items) if items.len() == 2));
        assert!(e.eval(&vals("none", true, false)));
        assert!(!e.eval(&vals("direct", false, false)));
        assert_eq!(
            Expr::parse("not (syslog_tool or syslog_via_proxy)")
                .unwrap()
                .to_string(),
            "not (syslog_tool or syslog_via_proxy)"
        );
    }

    #[test]
    fn type_errors_point_at_the_culprit() {
        let src = "auth == direkt and sylog_tool";
        let errs = Expr::parse(src).unwrap().check(&defs());
        assert_eq!(errs.len(), 2);
        assert_eq!(&src[errs[0].span.clone()], "direkt");
        assert!(
            errs[0]
                .help
                .as_ref()
                .unwrap()
                .en
                .contains("none, direct, agent, adfs")
        );
        assert_eq!(&src[errs[1].span.clone()], "sylog_tool");
        let errs = Expr::parse("auth").unwrap().check(&defs());
        assert!(errs[0].message.en.contains("is a choice, not a bool"));
        let errs = Expr::parse("syslog_port == 70000").unwrap().check(&defs());
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn syntax_errors_have_offsets() {
        let e = Expr::parse("auth = direct").unwrap_err();
        assert_eq!(e.span, 5..6);
        let e = Expr::parse("auth == direct and").unwrap_err();
        assert_eq!(e.span, 18..18);
        assert!(e.message.en.contains("end of condition"));
        let e = Expr::parse("(syslog_tool").unwrap_err();
        assert!(e.message.en.contains("`)`"));
        let e = Expr::parse("auth in [agent adfs]").unwrap_err();
        assert_eq!(e.span, 15..19);
        assert!(Expr::parse("not").is_err());
        assert!(Expr::parse("a b").is_err());
        assert!(Expr::parse("認証").is_err());
        let deep = format!("{}x{}", "(".repeat(500), ")".repeat(500));
        assert!(Expr::parse(&deep).is_err());
        let nots = format!("{}x", "not ".repeat(500));
        assert!(Expr::parse(&nots).is_err());
    }

    fn arb_expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("syslog_tool".to_string()),
            Just("syslog_via_proxy".to_string()),
            prop::sample::select(vec!["none", "direct", "agent", "adfs"])
                .prop_map(|v| format!("auth == {v}")),
            prop::sample::select(vec!["none", "direct", "agent", "adfs"])
                .prop_map(|v| format!("auth != {v}")),
            Just("auth in [agent, adfs]".to_string()),
            Just("auth not in [none]".to_string()),
            Just("always".to_string()),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| format!("not ({e})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) or ({b})")),
            ]
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            if let Err(e) = Expr::parse(&s) {
                prop_assert!(e.span.end <= s.len());
                prop_assert!(s.is_char_boundary(e.span.start) && s.is_char_boundary(e.span.end));
            }
        }

        #[test]
        fn parse_never_panics_on_condition_like_text(
            s in "(auth|not|and|or|in|==|!=|\\(|\\)|\\[|\\]|,| |direct|x|true){0,20}"
        ) {
            let _ = Expr::parse(&s).map(|e| e.check(&defs()));
        }

        #[test]
        fn display_is_canonical_and_keeps_meaning(
            src in arb_expr(),
            auth in prop::sample::select(vec!["none", "direct", "agent", "adfs"]),
            tool: bool, via: bool,
        ) {
            let e = Expr::parse(&src).unwrap();
            prop_assert!(e.check(&defs()).is_empty());
            let printed = e.to_string();
            let again = Expr::parse(&printed).unwrap();
            prop_assert_eq!(again.to_string(), printed);
            let v = vals(auth, tool, via);
            prop_assert_eq!(e.eval(&v), again.eval(&v));
        }
    }
}
