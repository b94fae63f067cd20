//! `portplan ports` output.

use std::fmt::Write as _;

use crate::catalog::Catalogs;
use crate::flows::{Flow, PortsReport};
use crate::i18n::Lang;
use crate::output::{Format, csv_text, md_table, new_table};
use crate::portset::range_string;
use crate::text::{because_text, severity_text};

/// One line of the "why" table: a port range of one flow.
pub struct Row {
    /// (from, to) role ids: rows of one group sit together.
    pub group: (String, String),
    /// Initiating role's name.
    pub from: String,
    /// Accepting role's name.
    pub to: String,
    /// Protocol.
    pub protocol: String,
    /// Port or range.
    pub port: String,
    /// IANA service name, `-`, or "(range)".
    pub service: String,
    /// What for.
    pub purpose: String,
    /// The conditions that held.
    pub when: String,
    /// Vendor document row.
    pub source: String,
    /// `product/requirement`.
    pub requirement: String,
    /// Product id.
    pub product: String,
}

/// The rows of the "why" table, grouped by product and role pair, then by protocol and port:
/// the same rows for the table, Markdown, CSV, XLSX and the web page.
pub fn rows(report: &PortsReport, catalogs: &Catalogs, lang: Lang) -> Vec<Row> {
    // Group by (product, from, to) in first-appearance order, then by protocol and port.
    // One pass with an index (a hostile catalog has a million role pairs).
    // (product, from, to) → its flows.
    type Key<'a> = (&'a str, &'a str, &'a str);
    let mut groups: Vec<(Key, Vec<&Flow>)> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    for f in &report.flows {
        let k = (f.product.as_str(), f.from.as_str(), f.to.as_str());
        let i = *index.entry(k).or_insert_with(|| {
            groups.push((k, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(f);
    }
    let mut out = Vec::new();
    for ((product, from, to), members) in groups {
        let cat = catalogs.get(product).ok();
        let name = |r: &str| cat.map_or(r.to_string(), |c| c.role_name(r).get(lang).to_string());
        let mut items: Vec<(&Flow, std::ops::RangeInclusive<u16>)> = members
            .into_iter()
            .flat_map(|f| f.ports.ranges().map(move |r| (f, r)))
            .collect();
        items.sort_by_key(|(f, r)| (f.protocol, *r.start()));
        for (f, r) in items {
            let service = if let Some(name) = &f.service {
                name.get(lang).to_string()
            } else if r.start() == r.end() {
                crate::iana::lookup(f.protocol.as_str(), *r.start())
                    .map_or("-".to_string(), |s| s.name.to_string())
            } else {
                lang.pick("(range)", "(範囲)").to_string()
            };
            out.push(Row {
                group: (from.to_string(), to.to_string()),
                from: name(from),
                to: name(to),
                protocol: f.protocol.to_string(),
                port: range_string(&r),
                service,
                purpose: f.purpose.get(lang).to_string(),
                when: because_text(&f.because, lang),
                source: f.source.clone(),
                requirement: f.qualified(),
                product: product.to_string(),
            });
        }
    }
    out
}

/// Render the report.
pub fn render(
    report: &PortsReport,
    catalogs: &Catalogs,
    format: Format,
    wrap: bool,
    lang: Lang,
) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        Format::Table => table(report, catalogs, wrap, lang),
        Format::Md => markdown(report, catalogs, lang),
        Format::Csv => csv(report, catalogs, lang),
    }
}

fn options_lines(report: &PortsReport, catalogs: &Catalogs, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for p in &report.products {
        let Ok(cat) = catalogs.get(&p.id) else {
            continue;
        };
        let opts: Vec<String> = cat
            .options
            .iter()
            .filter_map(|d| {
                let v = p.options.get(&d.id)?;
                Some(if *v == d.default {
                    format!("{}={v}", d.id)
                } else {
                    format!("{}={v}*", d.id)
                })
            })
            .collect();
        let opts = if opts.is_empty() {
            "-".to_string()
        } else {
            opts.join(", ")
        };
        out.push(format!("{} ({}): {opts}", cat.name.get(lang), cat.id));
    }
    out
}

/// One line per closed entry, role pair and protocol: `any source -> Server  tcp 5432  purpose (doc#row)`.
fn closed_lines(report: &PortsReport, catalogs: &Catalogs, lang: Lang) -> Vec<String> {
    report
        .closed
        .iter()
        .map(|c| {
            let cat = catalogs.get(&c.product).ok();
            let name =
                |r: &str| cat.map_or(r.to_string(), |k| k.role_name(r).get(lang).to_string());
            let from = c.from.as_deref().map_or_else(
                || lang.pick("any source", "すべての送信元").to_string(),
                name,
            );
            let when = if c.because.len() == 1 && c.because[0] == "always" {
                String::new()
            } else {
                format!(" [{}]", because_text(&c.because, lang))
            };
            format!(
                "{from} -> {}  {} {}  {}{when} ({}, {})",
                name(&c.to),
                c.protocol,
                c.ports.to_strings().join(", "),
                c.purpose.get(lang),
                c.qualified(),
                c.source
            )
        })
        .collect()
}

/// The column headers of [`rows`] (without product and requirement).
pub fn header(lang: Lang) -> Vec<String> {
    [
        lang.pick("From", "送信元"),
        lang.pick("To", "宛先"),
        lang.pick("Proto", "プロトコル"),
        lang.pick("Port", "ポート"),
        lang.pick("Service", "サービス名"),
        lang.pick("Purpose", "用途"),
        lang.pick("Required when", "必要な条件"),
        lang.pick("Source", "根拠"),
    ]
    .map(String::from)
    .to_vec()
}

fn cells(rows: &[Row]) -> Vec<Vec<String>> {
    let mut prev: Option<&(String, String)> = None;
    rows.iter()
        .map(|r| {
            let first = prev != Some(&r.group);
            prev = Some(&r.group);
            vec![
                if first { r.from.clone() } else { String::new() },
                if first { r.to.clone() } else { String::new() },
                r.protocol.clone(),
                r.port.clone(),
                r.service.clone(),
                r.purpose.clone(),
                r.when.clone(),
                r.source.clone(),
            ]
        })
        .collect()
}

fn table(report: &PortsReport, catalogs: &Catalogs, wrap: bool, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        lang.pick(
            "Options (* = changed from the default)",
            "オプション (* は既定値から変更)"
        )
    );
    for l in options_lines(report, catalogs, lang) {
        let _ = writeln!(out, "  {l}");
    }
    out.push('\n');
    let rows = rows(report, catalogs, lang);
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            lang.pick(
                "No openings are required.",
                "開放が必要な通信はありません。"
            )
        );
    } else {
        let mut t = new_table(header(lang), wrap);
        for c in cells(&rows) {
            t.add_row(crate::output::row(c));
        }
        let _ = writeln!(out, "{t}");
        let _ = writeln!(
            out,
            "\n{}",
            lang.pick("Openings (merged):", "開放するポート (集約):")
        );
        for o in &report.openings {
            let cat = catalogs.get(&o.product).ok();
            let name =
                |r: &str| cat.map_or(r.to_string(), |c| c.role_name(r).get(lang).to_string());
            let _ = writeln!(
                out,
                "  {} -> {}  {} {}",
                name(&o.from),
                name(&o.to),
                o.protocol,
                o.ports.to_strings().join(", ")
            );
        }
    }
    let closed = closed_lines(report, catalogs, lang);
    if !closed.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            lang.pick(
                "Must stay closed (the vendor says no opening; audit and probe check them):",
                "閉じたままにするポート (ベンダーが開放不要とするもの。audit と probe が検査します):"
            )
        );
        for l in closed {
            let _ = writeln!(out, "  {l}");
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\n{}", lang.pick("Notes:", "注記:"));
        for n in &report.notes {
            let _ = writeln!(out, "  {}: {}", n.product, n.note.get(lang));
        }
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\n{}", lang.pick("Findings:", "指摘事項:"));
        for f in &report.findings {
            let _ = writeln!(
                out,
                "  [{}] {}: {}",
                severity_text(f.severity, lang),
                f.requirement,
                f.message.get(lang)
            );
        }
    }
    out
}

fn markdown(report: &PortsReport, catalogs: &Catalogs, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", lang.pick("Required openings", "必要な通信"));
    for l in options_lines(report, catalogs, lang) {
        let _ = writeln!(out, "- {l}");
    }
    out.push('\n');
    let rows = rows(report, catalogs, lang);
    out.push_str(&md_table(&header(lang), &cells(&rows)));
    let closed = closed_lines(report, catalogs, lang);
    if !closed.is_empty() {
        let _ = writeln!(
            out,
            "\n### {}\n",
            lang.pick("Must stay closed", "閉じたままにするポート")
        );
        for l in closed {
            let _ = writeln!(out, "- {l}");
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\n### {}\n", lang.pick("Notes", "注記"));
        for n in &report.notes {
            let _ = writeln!(out, "- `{}`: {}", n.product, n.note.get(lang));
        }
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\n### {}\n", lang.pick("Findings", "指摘事項"));
        for f in &report.findings {
            let _ = writeln!(
                out,
                "- **{}** `{}`: {}",
                severity_text(f.severity, lang),
                f.requirement,
                f.message.get(lang)
            );
        }
    }
    out
}

fn csv(report: &PortsReport, catalogs: &Catalogs, lang: Lang) -> String {
    let header: Vec<String> = [
        "product",
        "requirement",
        "from",
        "to",
        "from_name",
        "to_name",
        "protocol",
        "port",
        "service",
        "purpose",
        "required_when",
        "source",
    ]
    .map(String::from)
    .to_vec();
    let flows_by_row = rows(report, catalogs, lang);
    let data: Vec<Vec<String>> = flows_by_row
        .into_iter()
        .map(|r| {
            let req = r
                .requirement
                .split_once('/')
                .map_or(r.requirement.clone(), |(_, b)| b.to_string());
            vec![
                r.product, req, r.group.0, r.group.1, r.from, r.to, r.protocol, r.port, r.service,
                r.purpose, r.when, r.source,
            ]
        })
        .collect();
    csv_text(&header, &data)
}

/// The port table as an XLSX workbook: one sheet of the rows of [`rows`] (with product and
/// requirement), one of the options, one of the findings. Cells are written as strings, so a
/// spreadsheet never evaluates them.
pub fn xlsx(
    report: &PortsReport,
    catalogs: &Catalogs,
    lang: Lang,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let bold = XFormat::new().set_bold();
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(lang.pick("Ports", "ポート"))?;
    let mut head = header(lang);
    head.push(lang.pick("Requirement", "要件").to_string());
    for (c, h) in head.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (i, r) in rows(report, catalogs, lang).iter().enumerate() {
        let cells = [
            &r.from,
            &r.to,
            &r.protocol,
            &r.port,
            &r.service,
            &r.purpose,
            &r.when,
            &r.source,
            &r.requirement,
        ];
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string(i as u32 + 1, c as u16, crate::escape::escape_controls(v))?;
        }
    }
    sheet.autofit();
    let opts = wb.add_worksheet();
    opts.set_name(lang.pick("Options", "オプション"))?;
    for (i, l) in options_lines(report, catalogs, lang).iter().enumerate() {
        opts.write_string(i as u32, 0, crate::escape::escape_controls(l))?;
    }
    opts.autofit();
    let fs = wb.add_worksheet();
    fs.set_name(lang.pick("Findings", "指摘事項"))?;
    for (i, f) in report.findings.iter().enumerate() {
        let row = i as u32;
        fs.write_string(row, 0, severity_text(f.severity, lang))?;
        fs.write_string(row, 1, crate::escape::escape_controls(&f.requirement))?;
        fs.write_string(row, 2, crate::escape::escape_controls(f.message.get(lang)))?;
    }
    wb.save_to_buffer()
}
