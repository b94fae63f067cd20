//! A [`FleetReport`] as a table, JSON, JUnit XML or an XLSX workbook.

use std::fmt::Write as _;

use super::merge::{FleetReport, OUTCOMES, Row};
use crate::escape::escape_controls;
use crate::i18n::Lang;

/// Output formats of `fleet merge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeFormat {
    /// A table for the terminal.
    #[default]
    Table,
    /// JSON.
    Json,
    /// JUnit XML.
    Junit,
    /// An XLSX workbook.
    Xlsx,
}

/// Failed pairs shown per row in the table; the rest are counted.
const SHOWN: usize = 5;

fn point_label(r: &Row, lang: Lang) -> String {
    if r.point.is_empty() {
        lang.pick("(no enforcement point)", "(適用ポイントなし)")
            .to_string()
    } else {
        escape_controls(&r.point).into_owned()
    }
}

fn what(r: &Row, lang: Lang) -> String {
    if r.expect == "closed" {
        return lang
            .pick("must be closed (sample)", "閉じるべきポート (標本)")
            .to_string();
    }
    if r.ports.is_empty() {
        return lang
            .pick("required, no opening", "必要な通信 (開放なし)")
            .to_string();
    }
    format!(
        "{} {} → {}\n{}",
        r.ports,
        escape_controls(&r.from_roles.join(",")),
        escape_controls(&r.to_roles.join(",")),
        escape_controls(&r.requirements.join(", "))
    )
}

fn pair_text(p: &super::merge::Pair) -> String {
    format!(
        "{} → {} {}/{} {}",
        p.src.map(|s| s.to_string()).unwrap_or_default(),
        escape_controls(&p.dst),
        p.protocol,
        p.port,
        p.result
    )
}

fn failed_text(r: &Row, lang: Lang) -> String {
    let mut lines: Vec<String> = r.failed.iter().take(SHOWN).map(pair_text).collect();
    if r.failed.len() > SHOWN {
        lines.push(format!(
            "… {} {}",
            r.failed.len() - SHOWN,
            lang.pick("more", "件ほか")
        ));
    }
    lines.join("\n")
}

/// The verdict of a row in words.
fn verdict(r: &Row, lang: Lang) -> &'static str {
    if r.fails() {
        lang.pick("FAIL", "NG")
    } else if r.total() == 0 {
        lang.pick("untested", "未検査")
    } else {
        "OK"
    }
}

/// The report as text.
pub fn text(r: &FleetReport, format: MergeFormat, wrap: bool, lang: Lang) -> String {
    match format {
        MergeFormat::Json => {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["ok"] = r.ok.into();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        MergeFormat::Junit => junit(r, lang),
        MergeFormat::Table | MergeFormat::Xlsx => table(r, wrap, lang),
    }
}

fn table(r: &FleetReport, wrap: bool, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} — {} {}, {} {} — {}",
        lang.pick("Fleet result of site", "フリート検査結果: サイト"),
        crate::escape::escape_line(&r.site),
        r.files,
        lang.pick("result files", "個の結果ファイル"),
        r.checks,
        lang.pick("checks", "件の検査"),
        if r.ok {
            lang.pick("OK: as planned", "OK: 計画どおり")
        } else {
            lang.pick("FAIL: not as planned", "NG: 計画と異なります")
        }
    );
    let mut header: Vec<String> = vec![
        lang.pick("POINT", "適用ポイント").into(),
        lang.pick("RULE", "ルール").into(),
        lang.pick("FLOW", "通信").into(),
        lang.pick("VERDICT", "判定").into(),
    ];
    header.extend(OUTCOMES.iter().map(|o| o.to_string()));
    header.push(lang.pick("PAIRS OK", "成功ペア").into());
    header.push(lang.pick("FAILED PAIRS", "失敗したペア").into());
    let mut t = crate::output::new_table(header, wrap);
    for row in &r.rows {
        let mut cells = vec![
            point_label(row, lang),
            row.rule.clone(),
            what(row, lang),
            verdict(row, lang).to_string(),
        ];
        cells.extend(
            OUTCOMES
                .iter()
                .map(|o| row.counts.get(*o).copied().unwrap_or(0).to_string()),
        );
        cells.push(row.passed_pairs.len().to_string());
        cells.push(failed_text(row, lang));
        t.add_row(crate::output::row(cells));
    }
    let _ = writeln!(out, "{t}");
    for s in &r.skipped {
        let _ = writeln!(
            out,
            "{} {} → {} ({} {}): {}",
            lang.pick("not probed:", "未検査:"),
            escape_controls(&s.requirement),
            escape_controls(&s.to),
            s.hosts,
            lang.pick("hosts", "台"),
            s.reason
                .as_ref()
                .map(|t| escape_controls(t.get(lang)).into_owned())
                .unwrap_or_default()
        );
    }
    out
}

use crate::escape::xml_text as xml;

/// JUnit: one suite per enforcement point, one test case per row; a failing row is a failure
/// listing its failed pairs.
fn junit(r: &FleetReport, lang: Lang) -> String {
    let mut suites: Vec<(String, Vec<&Row>)> = Vec::new();
    for row in &r.rows {
        let name = point_label(row, lang);
        match suites.last_mut() {
            Some((n, v)) if *n == name => v.push(row),
            _ => suites.push((name, vec![row])),
        }
    }
    let failures = r.rows.iter().filter(|x| x.fails()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"portplan fleet {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        xml(&r.site),
        r.rows.len()
    );
    for (name, rows) in &suites {
        let f = rows.iter().filter(|x| x.fails()).count();
        let skipped = rows.iter().filter(|x| x.total() == 0).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"{skipped}\">",
            xml(name),
            rows.len()
        );
        for row in rows {
            let case = format!("{} {}", row.rule, what(row, lang).replace('\n', " "));
            let _ = write!(
                out,
                "    <testcase classname=\"portplan.fleet.{}\" name=\"{}\"",
                xml(&name.replace(['.', ' '], "_")),
                xml(case.trim())
            );
            if row.fails() {
                let pairs: Vec<String> = row.failed.iter().map(pair_text).collect();
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"not-as-planned\" message=\"{} {}\">{}</failure>\n    </testcase>",
                    row.failed.len(),
                    lang.pick("checks failed", "件の検査が失敗"),
                    xml(&pairs.join("\n"))
                );
            } else if row.total() == 0 {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    lang.pick(
                        "no result covers this opening",
                        "この開放を検査した結果がありません"
                    )
                );
            } else {
                let _ = writeln!(out, "/>");
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The report as an XLSX workbook: one sheet of rows, one of failed pairs.
pub fn xlsx(r: &FleetReport, lang: Lang) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("Fleet", "フリート検査"))?;
    let mut header: Vec<String> = vec![
        lang.pick("Point", "適用ポイント").into(),
        lang.pick("Rule", "ルール").into(),
        lang.pick("Request no.", "申請番号").into(),
        lang.pick("Expect", "期待").into(),
        lang.pick("Protocol/ports", "プロトコル/ポート").into(),
        lang.pick("From roles", "送信元ロール").into(),
        lang.pick("To roles", "宛先ロール").into(),
        lang.pick("Requirements", "要件").into(),
        lang.pick("Verdict", "判定").into(),
    ];
    header.extend(OUTCOMES.iter().map(|o| o.to_string()));
    header.push(lang.pick("Pairs OK", "成功ペア").into());
    header.push(lang.pick("Failed checks", "失敗した検査").into());
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (i, row) in r.rows.iter().enumerate() {
        let y = i as u32 + 1;
        let cells = [
            point_label(row, lang),
            row.rule.clone(),
            row.request.clone(),
            row.expect.clone(),
            row.ports.clone(),
            row.from_roles.join(", "),
            row.to_roles.join(", "),
            row.requirements.join(", "),
            verdict(row, lang).to_string(),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(y, c as u16, cell(v))?;
        }
        for (k, o) in OUTCOMES.iter().enumerate() {
            let n = row.counts.get(*o).copied().unwrap_or(0);
            ws.write_number(y, (cells.len() + k) as u16, n as f64)?;
        }
        let c = (cells.len() + OUTCOMES.len()) as u16;
        ws.write_number(y, c, row.passed_pairs.len() as f64)?;
        ws.write_number(y, c + 1, row.failed.len() as f64)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, r.rows.len() as u32, header.len() as u16 - 1)?;
    ws.set_column_width(2, 16)?;
    ws.set_column_width(5, 24)?;
    ws.set_column_width(6, 24)?;
    ws.set_column_width(7, 36)?;

    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("Failed checks", "失敗した検査"))?;
    let head = [
        lang.pick("Point", "適用ポイント"),
        lang.pick("Rule", "ルール"),
        lang.pick("Host", "ホスト"),
        lang.pick("Source", "送信元"),
        lang.pick("Destination", "宛先"),
        lang.pick("Protocol", "プロトコル"),
        lang.pick("Port", "ポート"),
        lang.pick("Result", "結果"),
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let mut y = 1u32;
    // Excel's sheet has 1,048,576 rows; beyond, the JSON output has them all.
    'rows: for row in &r.rows {
        for p in &row.failed {
            if y >= 1_048_575 {
                break 'rows;
            }
            let cells = [
                point_label(row, lang),
                row.rule.clone(),
                p.host.clone(),
                p.src.map(|s| s.to_string()).unwrap_or_default(),
                p.dst.clone(),
                p.protocol.to_string(),
            ];
            for (c, v) in cells.iter().enumerate() {
                ws.write_string_with_format(y, c as u16, cell(v), &wrap)?;
            }
            ws.write_number(y, 6, f64::from(p.port))?;
            ws.write_string(y, 7, &p.result)?;
            y += 1;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, y.saturating_sub(1).max(1), 7)?;
    ws.set_column_width(2, 24)?;
    ws.set_column_width(3, 20)?;
    ws.set_column_width(4, 20)?;
    wb.save_to_buffer()
}

/// A cell's text: no formulas (rust_xlsxwriter writes strings as strings), at most Excel's
/// 32,767 characters.
fn cell(s: &str) -> String {
    s.chars().take(32_767).collect()
}

/// What `portplan fleet` says after writing `dir`: the hosts, what is not covered, the bounds
/// and the commands to run.
pub fn summary(
    fleet: &super::Fleet,
    opts: &super::FleetOptions,
    dir: &std::path::Path,
    lang: Lang,
) -> String {
    let mut out = String::new();
    let d = crate::escape::escape_line(&dir.display().to_string()).into_owned();
    let _ = writeln!(
        out,
        "{} {d}: {} {} ({} {}, {} {})",
        lang.pick("Wrote", "書き込みました:"),
        fleet.hosts.len(),
        lang.pick("hosts", "台"),
        fleet.sources().count(),
        lang.pick("probe", "台が probe"),
        fleet.destinations().count(),
        lang.pick("listen", "台が listen"),
    );
    let _ = writeln!(
        out,
        "{}: {} × {}/s = {}/s ({} {}), serial {}, forks {}",
        lang.pick("bounds", "上限"),
        opts.throttle(),
        opts.probe_rate,
        opts.throttle() * opts.probe_rate,
        lang.pick("at most", "最大"),
        opts.total_rate,
        opts.serial,
        opts.forks
    );
    if fleet.unmatched > 0 {
        let _ = writeln!(
            out,
            "{}: {}",
            lang.pick(
                "inventory hosts with no address of the site (left out)",
                "サイトのアドレスを持たないインベントリのホスト (対象外)"
            ),
            fleet.unmatched
        );
    }
    for (i, u) in fleet.uncovered.iter().enumerate() {
        if i == 20 {
            let _ = writeln!(
                out,
                "… {} {}",
                fleet.uncovered.len() - 20,
                lang.pick("more not covered", "件ほか対象外")
            );
            break;
        }
        let _ = writeln!(
            out,
            "{} {} {}: {}",
            lang.pick("not covered:", "対象外:"),
            escape_controls(&u.role),
            escape_controls(&u.endpoint),
            u.reason.get(lang)
        );
    }
    let _ = writeln!(
        out,
        "{}\n  cd {d} && ansible-playbook -i inventory.yml playbook.yml\n  portplan fleet merge {d}/site.yaml {d}/results/*.json",
        lang.pick("Run:", "実行:")
    );
    out
}
