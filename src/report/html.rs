//! The report as one self-contained HTML page: inline CSS, the SVG diagram inline, no scripts
//! and no external references (the citations' document URLs are links, nothing is loaded).
//!
//! Order: the request's paperwork and 承認欄, a summary of the openings per point, the
//! openings, then options, findings, warnings and the diagram (scaled to the page width).
//! Headers never break inside a word (`送信元ゾー/ン`): they may wrap only between words
//! (`送信元<wbr>ゾーン`, the breaks of [`super::svg::pieces`]); cells wrap between words and
//! after the `/` of `devicelock/smb`, so a 15-column request table fits a 1200 px window
//! without scrolling sideways. It prints on A4 landscape.

use std::fmt::Write as _;

use super::Report;
use super::svg::{FONTS, xml_escape};
use super::wrap::{self, Kind};

const CSS: &str = "
@page { size: A4 landscape; margin: 10mm; }
body { font-family: FONTS; margin: 16px; color: #212121; max-width: 100%; }
h1 { font-size: 22px; }
h2 { font-size: 18px; margin-top: 28px; border-bottom: 2px solid #90a4ae; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12px; }
th, td { border: 1px solid #b0bec5; padding: 3px 4px; vertical-align: top; text-align: left; }
th { background: #eceff1; word-break: keep-all; }
td { white-space: pre-line; min-width: 3em; overflow-wrap: break-word; }
table.request { font-size: 11px; }
table.request th, table.request td { padding: 2px 3px; }
table.request td { word-break: keep-all; line-break: strict; }
.nb { white-space: nowrap; }
.zone { color: #455a64; font-weight: bold; }
td:first-child { white-space: nowrap; }
table.fields th { width: 9em; }
table.stamps td { height: 4.5em; width: 6em; }
tr.internet td { background: #ffebee; }
tr.wide td { background: #fff3e0; }
tr.add td:nth-child(2) { color: #1b5e20; font-weight: bold; }
tr.remove td:nth-child(2) { color: #b71c1c; font-weight: bold; }
.diagram { border: 1px solid #cfd8dc; padding: 4px; }
.diagram svg { max-width: 100%; height: auto; }
.sev-critical, .sev-warning { color: #b71c1c; font-weight: bold; }
@media print { h2 { break-after: avoid; } tr { break-inside: avoid; } }
";

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    xml_escape(s)
}

/// Escape `s`, and make `<https://…>` (the citations' URLs) links.
fn esc_links(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("<http") {
        let Some(len) = rest[i..].find('>') else {
            break;
        };
        let url = &rest[i + 1..i + len];
        if url.contains(char::is_whitespace) {
            break;
        }
        out.push_str(&esc(&rest[..i]));
        let _ = write!(out, "<a href=\"{}\">{}</a>", esc(url), esc(url));
        rest = &rest[i + len + 1..];
    }
    out.push_str(&esc(rest));
    out
}

/// [`esc_links`], and a break opportunity after every `/` before a letter (`devicelock/<wbr>smb`,
/// never inside `10.0.0.0/16`), so long requirement ids wrap instead of widening the table.
fn esc_cell(s: &str) -> String {
    around_links(s, |t| slash_breaks(&esc(t)))
}

/// A request-table cell: escaped, with break opportunities only where the XLSX breaks
/// ([`wrap::pieces`]): labels (zones, hosts, request numbers, ports) whole in a `nowrap` span,
/// running text between its pieces (`<wbr>`; with `word-break: keep-all` nowhere else), so
/// no `サー/バーセグ/メント` or `fw-/core`. The citations' URLs stay links.
fn esc_cell_kind(s: &str, kind: Kind) -> String {
    around_links(s, |t| pieces_html(t, kind))
}

/// `s` with its `<https://…>` parts as links ([`esc_links`]) and the text between them
/// through `text`.
fn around_links(s: &str, text: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("<http") {
        let Some(len) = rest[i..].find('>') else {
            break;
        };
        out.push_str(&text(&rest[..i]));
        out.push_str(&esc_links(&rest[i..i + len + 1]));
        rest = &rest[i + len + 1..];
    }
    out.push_str(&text(rest));
    out
}

fn pieces_html(s: &str, kind: Kind) -> String {
    let mut out = String::new();
    for (n, line) in s.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        for (i, p) in wrap::pieces(line, kind).iter().enumerate() {
            if i > 0 {
                out.push_str("<wbr>");
            }
            let (body, tail) = p.split_at(p.trim_end_matches(' ').len());
            match kind {
                Kind::Labels => {
                    let _ = write!(out, "<span class=\"nb\">{}</span>{tail}", esc(body));
                }
                Kind::Text => out.push_str(&esc(p)),
            }
        }
    }
    out
}

fn slash_breaks(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '/' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic()) {
            out.push_str("<wbr>");
        }
    }
    out
}

/// A header: escaped, with `<wbr>` only between words (`送信元<wbr>ゾーン`, `許可/<wbr>拒否`);
/// with `word-break: keep-all` it never breaks anywhere else.
fn esc_header(h: &str) -> String {
    let mut out = String::new();
    for (i, (space, piece)) in super::svg::pieces(h).into_iter().enumerate() {
        if space {
            out.push(' ');
        } else if i > 0 && !piece.starts_with(['/', ')', '）']) {
            out.push_str("<wbr>");
        }
        out.push_str(&esc(&piece));
    }
    out
}

fn table(out: &mut String, header: &[String], rows: &[(String, Vec<String>)]) {
    table_class(out, "", header, rows);
}

/// `<tr>`, with `class` when there is one.
fn open_row(out: &mut String, class: &str) {
    if class.is_empty() {
        out.push_str("<tr>");
    } else {
        let _ = write!(out, "<tr class=\"{}\">", esc(class));
    }
}

fn table_class(out: &mut String, class: &str, header: &[String], rows: &[(String, Vec<String>)]) {
    if class.is_empty() {
        out.push_str("<table>\n<thead><tr>");
    } else {
        let _ = write!(out, "<table class=\"{class}\">\n<thead><tr>");
    }
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc_header(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (class, r) in rows {
        open_row(out, class);
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc_cell(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// An openings table: each cell broken as its column's [`super::Column::wrap_kind`], the
/// zone columns folded into the address cells ([`super::folded_columns`]) with the zone
/// names on top.
fn request_table(
    out: &mut String,
    header: &[String],
    cols: &[super::Column],
    rows: &[(String, Vec<String>)],
) {
    let at = |c: super::Column| cols.iter().position(|x| *x == c);
    let shown = super::folded_columns(cols);
    out.push_str("<table class=\"request\">\n<thead><tr>");
    for (c, _) in &shown {
        let i = at(*c).unwrap_or_default();
        let _ = write!(out, "<th>{}</th>", esc_header(&header[i]));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (class, r) in rows {
        open_row(out, class);
        for (c, zone) in &shown {
            out.push_str("<td>");
            if let Some(z) = zone.and_then(at)
                && !r[z].is_empty()
            {
                let _ = writeln!(
                    out,
                    "<span class=\"zone\">{}</span>",
                    esc_cell_kind(&r[z], Kind::Labels)
                );
            }
            let i = at(*c).unwrap_or_default();
            let _ = write!(out, "{}</td>", esc_cell_kind(&r[i], c.wrap_kind()));
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
    out.push_str("<table class=\"fields\">\n<tbody>\n");
    for (label, value) in report.request_fields() {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(&label),
            esc(&value)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    let labels = report.request.approver_labels(lang);
    let _ = writeln!(out, "<h2>{}</h2>", esc(lang.pick("Approval", "承認欄")));
    table_class(
        &mut out,
        "stamps",
        &labels,
        &[(String::new(), vec![String::new(); labels.len()])],
    );
    let _ = writeln!(out, "<h2>{}</h2>", esc(lang.pick("Summary", "概要")));
    let summary: Vec<(String, Vec<String>)> = report
        .points
        .iter()
        .map(|p| {
            (
                String::new(),
                vec![
                    p.id.clone(),
                    p.kind_text.clone(),
                    p.target.clone(),
                    p.rows.len().to_string(),
                ],
            )
        })
        .collect();
    table(&mut out, &super::markdown::summary_header(report), &summary);
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
        request_table(&mut out, &header, &cols, &rows);
    }
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
    fn headers_break_between_words_and_cells_after_slashes() {
        assert_eq!(super::esc_header("送信元ゾーン"), "送信元<wbr>ゾーン");
        assert_eq!(super::esc_header("プロトコル"), "プロトコル");
        assert_eq!(super::esc_header("許可/拒否"), "許可/<wbr>拒否");
        assert_eq!(super::esc_header("Source zone"), "Source zone");
        assert_eq!(
            super::esc_cell("devicelock/smb 10.0.0.0/16 <https://x.example/a/b>"),
            "devicelock/<wbr>smb 10.0.0.0/16 <a href=\"https://x.example/a/b\">https://x.example/a/b</a>"
        );
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::esc("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
