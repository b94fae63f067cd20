//! `portplan audit` output: text (also Markdown), JSON and CSV. Every text that comes from the
//! ruleset (rule text, comments, chain names) has its control characters escaped, so a rule
//! comment cannot rewrite the terminal.

use std::fmt::Write as _;

use crate::audit::{AuditReport, Closed, Excess, Missing, Stage};
use crate::i18n::Lang;
use crate::output::Format;
use crate::packet::Packet;

/// Text from the ruleset on one line, control characters escaped.
fn esc(s: &str) -> String {
    crate::escape::escape_line(s).into_owned()
}

fn stage(s: Stage, lang: Lang) -> &'static str {
    match s {
        Stage::New => lang.pick("new connections", "新規接続"),
        Stage::Established => lang.pick("later packets of a connection", "接続の後続パケット"),
        Stage::Reply => lang.pick("replies", "応答"),
    }
}

fn witness(p: &Packet, lang: Lang) -> String {
    let mut s = p.to_string();
    if let Some(i) = &p.iif {
        let _ = write!(s, " {} {}", lang.pick("in", "入力"), esc(i));
    }
    if let Some(o) = &p.oif {
        let _ = write!(s, " {} {}", lang.pick("out", "出力"), esc(o));
    }
    s
}

fn by(e: &Excess, lang: Lang) -> String {
    match (&e.rule, &e.policy, e.no_chain) {
        (Some(r), _, _) => format!(
            "{} {} ({} {}): {}",
            lang.pick("rule", "ルール"),
            esc(&r.origin),
            esc(&r.table),
            esc(&r.chain),
            esc(&r.text)
        ),
        (None, Some(c), _) => format!(
            "{} {}",
            lang.pick("accept policy of chain", "チェーンの accept ポリシー:"),
            esc(c)
        ),
        _ => lang
            .pick(
                "no base chain filters this hook: the kernel lets everything through",
                "このフックにベースチェインがありません: カーネルはすべて通します",
            )
            .to_string(),
    }
}

fn certainty(certain: bool, lang: Lang) -> &'static str {
    if certain {
        lang.pick("certain", "確定")
    } else {
        lang.pick(
            "possible: depends on parts not analysed exactly",
            "可能性: 厳密に解析できない部分による",
        )
    }
}

fn permits(e: &Excess) -> String {
    let protos: Vec<String> = e
        .protocols
        .iter()
        .map(|p| p.parse().map_or(p.clone(), crate::packet::proto_name))
        .collect();
    let mut s = format!(
        "{} -> {} {}",
        e.src.join(" "),
        e.dst.join(" "),
        protos.join(",")
    );
    if !e.dports.is_empty() {
        let _ = write!(s, " dport {}", e.dports.join(","));
    }
    if !e.icmp.is_empty() {
        let _ = write!(s, " icmp {}", e.icmp.join(","));
    }
    s
}

fn closed_what(c: &Closed) -> String {
    let any = |v: &Vec<String>| {
        if v.is_empty() {
            "*".to_string()
        } else {
            v.join(" ")
        }
    };
    format!(
        "{} -> {} {} {}",
        any(&c.from),
        any(&c.to),
        c.protocol,
        c.ports.join(",")
    )
}

fn opening(m: &Missing) -> String {
    format!(
        "{} -> {} {} {}",
        m.from.join(" "),
        m.to.join(" "),
        m.protocol,
        m.ports.join(",")
    )
}

/// Render an audit report.
pub fn render(r: &AuditReport, format: Format, allow_excess: bool, lang: Lang) -> String {
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["ok"] = serde_json::Value::Bool(r.ok(allow_excess));
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Csv => csv(r, lang),
        Format::Table | Format::Md => text(r, format == Format::Md, allow_excess, lang),
    }
}

fn text(r: &AuditReport, md: bool, allow_excess: bool, lang: Lang) -> String {
    let (h, li) = if md { ("## ", "- ") } else { ("", "  ") };
    let mut out = String::new();
    let verdict = if r.ok(allow_excess) {
        lang.pick("matches the plan", "計画どおりです")
    } else {
        lang.pick("does NOT match the plan", "計画と一致しません")
    };
    let _ = writeln!(
        out,
        "{h}{} {}: {verdict}",
        lang.pick("Audit of", "監査:"),
        esc(&r.point)
    );
    let _ = writeln!(
        out,
        "\n{h}{} ({})",
        lang.pick("Missing: required but dropped", "不足: 必要だが遮断される"),
        r.missing.len()
    );
    for m in &r.missing {
        let _ = writeln!(
            out,
            "{li}[{}] {}  {}  ({}; {})\n{li}    {} {}",
            m.hook.name(),
            opening(m),
            m.requirements.join(" "),
            stage(m.stage, lang),
            certainty(m.certain, lang),
            lang.pick("e.g.", "例:"),
            witness(&m.witness, lang)
        );
    }
    if !r.closed.is_empty() {
        let _ = writeln!(
            out,
            "\n{h}{} ({})",
            lang.pick(
                "Must stay closed, but accepted",
                "閉じておくべきポートが許可されている"
            ),
            r.closed.len()
        );
        for c in &r.closed {
            let _ = writeln!(
                out,
                "{li}[{}] {}  {}  ({})\n{li}    {}: {} ({} {})\n{li}    {} {}",
                c.hook.name(),
                closed_what(c),
                c.requirement,
                certainty(c.certain, lang),
                lang.pick("purpose", "用途"),
                lang.pick(&c.purpose.en, &c.purpose.ja),
                lang.pick("source:", "出典:"),
                c.source,
                lang.pick("e.g.", "例:"),
                witness(&c.witness, lang)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{h}{} ({})",
        lang.pick(
            "Excess: new connections permitted, no requirement",
            "過剰: 要件のない新規接続が許可されている"
        ),
        r.excess.len()
    );
    for e in &r.excess {
        let _ = writeln!(
            out,
            "{li}[{}] {} ({})\n{li}    {} {}\n{li}    {} {}",
            e.hook.name(),
            by(e, lang),
            certainty(e.certain, lang),
            lang.pick("permits", "許可範囲:"),
            permits(e),
            lang.pick("e.g.", "例:"),
            witness(&e.witness, lang)
        );
    }
    for (title, list) in [
        (
            lang.pick(
                "Shadowed: no packet can reach them",
                "シャドウ: どのパケットも到達しないルール",
            ),
            &r.shadowed,
        ),
        (
            lang.pick(
                "Redundant: removing them changes nothing",
                "冗長: 削除しても結果が変わらないルール",
            ),
            &r.redundant,
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{h}{title} ({})", list.len());
        for s in list {
            let _ = writeln!(
                out,
                "{li}{} ({} {}): {}",
                esc(&s.origin),
                esc(&s.table),
                esc(&s.chain),
                esc(&s.text)
            );
        }
    }
    if !r.not_analysed.is_empty() {
        let _ = writeln!(
            out,
            "\n{h}{} ({})",
            lang.pick(
                "Not analysed exactly (bounded both ways)",
                "厳密には解析していない部分 (両方向に評価)"
            ),
            r.not_analysed.len()
        );
        for (w, what) in &r.not_analysed {
            let _ = writeln!(out, "{li}{}: {}", esc(w), esc(what));
        }
    }
    out
}

/// A CSV cell: escaped and formula-neutralised ([`crate::escape::csv_cell`]), quoted when
/// needed.
fn cell(s: &str) -> String {
    let s = crate::escape::csv_cell(s);
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn csv(r: &AuditReport, lang: Lang) -> String {
    let header = [
        lang.pick("finding", "指摘"),
        lang.pick("certain", "確定"),
        lang.pick("hook", "フック"),
        lang.pick("what", "対象"),
        lang.pick("rule", "ルール"),
        lang.pick("source", "送信元"),
        lang.pick("destination", "宛先"),
        lang.pick("protocol", "プロトコル"),
        lang.pick("ports", "ポート"),
        lang.pick("example", "例"),
    ];
    let mut out = header.map(cell).join(",") + "\n";
    let yes = |b: bool| if b { "yes" } else { "possible" };
    for m in &r.missing {
        let row = [
            "missing".to_string(),
            yes(m.certain).into(),
            m.hook.name().into(),
            format!("{} ({})", m.requirements.join(" "), stage(m.stage, lang)),
            String::new(),
            m.from.join(" "),
            m.to.join(" "),
            m.protocol.to_string(),
            m.ports.join(" "),
            witness(&m.witness, lang),
        ];
        out += &(row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\n");
    }
    for c in &r.closed {
        let row = [
            "closed".to_string(),
            yes(c.certain).into(),
            c.hook.name().into(),
            format!(
                "{} ({}; {})",
                c.requirement,
                lang.pick(&c.purpose.en, &c.purpose.ja),
                c.source
            ),
            String::new(),
            c.from.join(" "),
            c.to.join(" "),
            c.protocol.to_string(),
            c.ports.join(" "),
            witness(&c.witness, lang),
        ];
        out += &(row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\n");
    }
    for e in &r.excess {
        let rule = e
            .rule
            .as_ref()
            .map(|x| format!("{} {}: {}", x.chain, x.origin, x.text))
            .or_else(|| e.policy.as_ref().map(|p| format!("policy {p}")))
            .unwrap_or_else(|| "no base chain".into());
        let row = [
            "excess".to_string(),
            yes(e.certain).into(),
            e.hook.name().into(),
            String::new(),
            rule,
            e.src.join(" "),
            e.dst.join(" "),
            e.protocols.join(" "),
            [e.dports.join(" "), e.icmp.join(" ")]
                .join(" ")
                .trim()
                .to_string(),
            witness(&e.witness, lang),
        ];
        out += &(row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\n");
    }
    for (kind, list) in [("shadowed", &r.shadowed), ("redundant", &r.redundant)] {
        for s in list {
            let row = [
                kind.to_string(),
                "yes".into(),
                String::new(),
                String::new(),
                format!("{} {}: {}", s.chain, s.origin, s.text),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ];
            out += &(row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_formulas_are_neutralised() {
        assert!(!esc("a\x1b[2Jb\nc").contains(['\x1b', '\n']));
        assert!(cell("=HYPERLINK(\"x\")").starts_with("\"'="));
        assert!(cell("+cmd|x").starts_with("'+"));
        assert_eq!(cell("plain"), "plain");
    }
}
