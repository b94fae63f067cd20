//! The report as one self-contained HTML page: inline CSS, the SVG diagram inline, no scripts
//! and no external references.

use std::fmt::Write as _;

use super::Report;
use super::svg::{FONTS, xml_escape};

const CSS: &str = "
body { font-family: FONTS; margin: 24px; color: #212121; }
h1 { font-size: 22px; }
h2 { font-size: 18px; margin-top: 28px; border-bottom: 2px solid #90a4ae; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #b0bec5; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #eceff1; position: sticky; top: 0; }
td { white-space: pre-line; min-width: 4.5em; }
td:first-child { white-space: nowrap; }
tr.internet td { background: #ffebee; }
tr.wide td { background: #fff3e0; }
tr.add td:nth-child(2) { color: #1b5e20; font-weight: bold; }
tr.remove td:nth-child(2) { color: #b71c1c; font-weight: bold; }
.diagram { overflow-x: auto; border: 1px solid #cfd8dc; padding: 4px; }
.sev-critical, .sev-warning { color: #b71c1c; font-weight: bold; }
";

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    xml_escape(s)
}

fn table(out: &mut String, header: &[String], rows: &[(String, Vec<String>)]) {
    out.push_str("<table>\n<thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (class, r) in rows {
        if class.is_empty() {
            out.push_str("<tr>");
        } else {
            let _ = write!(out, "<tr class=\"{}\">", esc(class));
        }
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The report as HTML.
pub fn render(report: &Report) -> String {
    let lang = report.lang;
    let mut out = String::new();
    let title = report.title();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        lang.code(),
        esc(&title),
        CSS.replace("FONTS", FONTS)
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(out, "<h2>{}</h2>", esc(lang.pick("Options", "オプション")));
    let (header, rows) = report.options_table();
    let rows: Vec<(String, Vec<String>)> = rows.into_iter().map(|r| (String::new(), r)).collect();
    table(&mut out, &header, &rows);
    let _ = writeln!(out, "<h2>{}</h2>", esc(lang.pick("Findings", "指摘事項")));
    if report.findings.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", esc(lang.pick("None.", "なし。")));
    } else {
        out.push_str("<ul>\n");
        for f in &report.findings {
            let _ = writeln!(
                out,
                "<li><span class=\"sev-{}\">{}</span> {}: {}</li>",
                format!("{:?}", f.severity).to_lowercase(),
                esc(&f.severity_text),
                esc(&f.requirement),
                esc(&f.message)
            );
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(
        out,
        "<h2>{}</h2>",
        esc(lang.pick("Site warnings", "サイト定義の警告"))
    );
    if report.warnings.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", esc(lang.pick("None.", "なし。")));
    } else {
        out.push_str("<ul>\n");
        for w in &report.warnings {
            let _ = writeln!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul>\n");
    }
    let cols = report.columns();
    let header: Vec<String> = cols.iter().map(|c| c.header(lang).to_string()).collect();
    for p in &report.points {
        let _ = writeln!(
            out,
            "<h2 id=\"point-{}\">{} ({}, {})</h2>",
            esc(&p.id),
            esc(&p.id),
            esc(&p.kind_text),
            esc(&p.target)
        );
        if p.rows.is_empty() {
            let none = if report.diff_from.is_some() {
                lang.pick("No changes.", "変更はありません。")
            } else {
                lang.pick("No openings.", "開放はありません。")
            };
            let _ = writeln!(out, "<p>{}</p>", esc(none));
            continue;
        }
        let rows: Vec<(String, Vec<String>)> = p
            .rows
            .iter()
            .map(|r| {
                let mut class = Vec::new();
                if r.from_internet {
                    class.push("internet");
                } else if r.wide {
                    class.push("wide");
                }
                match r.change {
                    Some(super::Change::Add) => class.push("add"),
                    Some(super::Change::Remove) => class.push("remove"),
                    None => {}
                }
                (
                    class.join(" "),
                    cols.iter().map(|c| r.cell(*c, lang)).collect(),
                )
            })
            .collect();
        table(&mut out, &header, &rows);
    }
    let _ = writeln!(out, "<h2>{}</h2>", esc(lang.pick("Diagram", "構成図")));
    out.push_str("<div class=\"diagram\">\n");
    let svg = super::svg::render(report);
    // Inline SVG in HTML needs no XML namespace declaration beyond the one it has.
    out.push_str(&svg);
    out.push_str("</div>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::esc("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
