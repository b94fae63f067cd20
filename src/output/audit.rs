//! `portplan audit` output.

use std::fmt::Write as _;

use crate::audit::AuditReport;
use crate::audit::model::Hook;
use crate::i18n::Lang;
use crate::output::Format;

fn hook(h: &Hook) -> String {
    match h {
        Hook::Input => "input".into(),
        Hook::Forward => "forward".into(),
        Hook::Output => "output".into(),
        Hook::Other(s) => s.clone(),
    }
}

/// Render an audit report.
pub fn render(r: &AuditReport, format: Format, lang: Lang) -> String {
    if format == Format::Json {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        v["ok"] = serde_json::Value::Bool(r.ok(false));
        return serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    }
    let (h, li) = if format == Format::Md {
        ("## ", "- ")
    } else {
        ("", "  ")
    };
    let mut out = String::new();
    let verdict = if r.ok(false) {
        lang.pick("matches the plan", "計画どおりです")
    } else {
        lang.pick("does NOT match the plan", "計画と一致しません")
    };
    let _ = writeln!(
        out,
        "{h}{} {}: {verdict}",
        lang.pick("Audit of", "監査:"),
        r.point
    );
    let maybe = |certain: bool| {
        if certain {
            ""
        } else {
            lang.pick(
                " (possibly: depends on rules not fully analysed)",
                " (未解析のルール次第)",
            )
        }
    };
    let _ = writeln!(
        out,
        "\n{h}{} ({})",
        lang.pick("Missing: required but dropped", "不足: 必要だが遮断される"),
        r.missing.len()
    );
    for m in &r.missing {
        let _ = writeln!(
            out,
            "{li}[{}] {} -> {} {} {}  {}{}\n{li}    {} {}",
            hook(&m.hook),
            m.from.join(" "),
            m.to.join(" "),
            m.protocol,
            m.ports.join(","),
            m.requirements.join(" "),
            maybe(m.certain),
            lang.pick("e.g.", "例:"),
            m.witness
        );
    }
    let _ = writeln!(
        out,
        "\n{h}{} ({})",
        lang.pick(
            "Excess: permitted, no requirement",
            "過剰: 許可されているが要件がない"
        ),
        r.excess.len()
    );
    for e in &r.excess {
        let by = match (&e.rule, &e.policy) {
            (Some(rule), _) => format!(
                "{} {} ({}): {}",
                lang.pick("rule", "ルール"),
                rule.origin,
                rule.chain,
                rule.text
            ),
            (None, Some(c)) => format!(
                "{} {c}",
                lang.pick("policy accept of chain", "チェーンのポリシー accept:")
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{li}[{}] {by}{}\n{li}    {} {} -> {} proto {} dport {}\n{li}    {} {}",
            hook(&e.hook),
            maybe(e.certain),
            lang.pick("permits", "許可範囲:"),
            e.src.join(" "),
            e.dst.join(" "),
            e.protocols.join(","),
            e.dports.join(","),
            lang.pick("e.g.", "例:"),
            e.witness
        );
    }
    if !r.shadowed.is_empty() {
        let _ = writeln!(
            out,
            "\n{h}{} ({})",
            lang.pick("Shadowed: never reached", "シャドウ: 到達しないルール"),
            r.shadowed.len()
        );
        for s in &r.shadowed {
            let _ = writeln!(out, "{li}{} ({}): {}", s.origin, s.chain, s.text);
        }
    }
    if !r.redundant.is_empty() {
        let _ = writeln!(
            out,
            "\n{h}{} ({})",
            lang.pick(
                "Redundant: removing them changes nothing",
                "冗長: 削除しても結果が変わらないルール"
            ),
            r.redundant.len()
        );
        for s in &r.redundant {
            let _ = writeln!(out, "{li}{} ({}): {}", s.origin, s.chain, s.text);
        }
    }
    if !r.not_analysed.is_empty() {
        let _ = writeln!(
            out,
            "\n{h}{} ({})",
            lang.pick("Not analysed", "未解析"),
            r.not_analysed.len()
        );
        for (w, what) in &r.not_analysed {
            let _ = writeln!(out, "{li}{w}: {what}");
        }
    }
    out
}
