//! The report as Markdown: headings, option/finding lists, one table per enforcement point,
//! and the diagram as a fenced DOT block.

use std::fmt::Write as _;

use super::Report;

/// Escape text for a Markdown table cell (or list item): `|` and `\` escaped, HTML special
/// characters as entities, line breaks as `<br>`, carriage returns dropped, other control
/// characters made visible ([`crate::escape::escape_controls`]).
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let without_cr = s.replace('\r', "");
    for c in crate::escape::escape_controls(&without_cr).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(
        out,
        "| {} |",
        header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(
            out,
            "| {} |",
            r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
}

/// The header of the per-point summary (shared with HTML).
pub fn summary_header(report: &Report) -> Vec<String> {
    let lang = report.lang;
    let count = if report.diff_from.is_some() {
        lang.pick("Changes", "変更件数")
    } else {
        lang.pick("Openings", "開放件数")
    };
    [
        lang.pick("Enforcement point", "適用ポイント"),
        lang.pick("Kind", "種類"),
        lang.pick("Target", "出力形式"),
        count,
    ]
    .map(String::from)
    .to_vec()
}

/// The report as Markdown.
pub fn render(report: &Report) -> String {
    let lang = report.lang;
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", cell(&report.title()));
    let fields: Vec<Vec<String>> = report
        .request_fields()
        .into_iter()
        .map(|(l, v)| vec![l, v])
        .collect();
    table(
        &mut out,
        &[
            lang.pick("Item", "項目").to_string(),
            lang.pick("Value", "内容").to_string(),
        ],
        &fields,
    );
    let labels = report.request.approver_labels(lang);
    let _ = writeln!(out, "\n**{}**\n", lang.pick("Approval", "承認欄"));
    table(&mut out, &labels, &[vec![String::new(); labels.len()]]);
    let _ = writeln!(out, "\n## {}\n", lang.pick("Summary", "概要"));
    let summary: Vec<Vec<String>> = report
        .points
        .iter()
        .map(|p| {
            vec![
                p.id.clone(),
                p.kind_text.clone(),
                p.target.clone(),
                p.rows.len().to_string(),
            ]
        })
        .collect();
    table(&mut out, &summary_header(report), &summary);
    let _ = writeln!(out, "\n## {}\n", lang.pick("Options", "オプション"));
    let (header, rows) = report.options_table();
    table(&mut out, &header, &rows);
    let _ = writeln!(out, "\n## {}\n", lang.pick("Findings", "指摘事項"));
    if report.findings.is_empty() {
        let _ = writeln!(out, "{}", lang.pick("None.", "なし。"));
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "- **{}** {}: {}",
            cell(&f.severity_text),
            cell(&f.requirement),
            cell(&f.message)
        );
    }
    let _ = writeln!(
        out,
        "\n## {}\n",
        lang.pick("Site warnings", "サイト定義の警告")
    );
    if report.warnings.is_empty() {
        let _ = writeln!(out, "{}", lang.pick("None.", "なし。"));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "- {}", cell(w));
    }
    let cols = report.columns();
    let header: Vec<String> = cols.iter().map(|c| c.header(lang).to_string()).collect();
    for p in &report.points {
        let _ = writeln!(
            out,
            "\n## {} ({}, {})\n",
            cell(&p.id),
            cell(&p.kind_text),
            cell(&p.target)
        );
        if p.rows.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                if report.diff_from.is_some() {
                    lang.pick("No changes.", "変更はありません。")
                } else {
                    lang.pick("No openings.", "開放はありません。")
                }
            );
            continue;
        }
        let rows: Vec<Vec<String>> = p
            .rows
            .iter()
            .map(|r| cols.iter().map(|c| r.cell(*c, lang)).collect())
            .collect();
        table(&mut out, &header, &rows);
    }
    let _ = writeln!(out, "\n## {}\n", lang.pick("Diagram", "構成図"));
    let _ = writeln!(
        out,
        "{}\n",
        lang.pick(
            "Graphviz DOT; `portplan report --format svg` draws it without Graphviz.",
            "Graphviz DOT 形式です。`portplan report --format svg` なら Graphviz なしで描画できます。"
        )
    );
    let dot = super::dot::render(report);
    // A fence longer than any run of backticks in the content.
    let mut run = 0;
    let mut longest = 0;
    for c in dot.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    let _ = writeln!(out, "{fence}dot\n{dot}{fence}");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_escape_pipes_html_and_newlines() {
        assert_eq!(super::cell("a|b\n<c> & d"), "a\\|b<br>&lt;c&gt; &amp; d");
    }

    #[test]
    fn cells_show_control_characters() {
        assert_eq!(super::cell("a\x1b[2Jb\r\n"), "a\\\\x1b[2Jb<br>");
    }
}
