//! The report as an XLSX workbook: a summary sheet, an options sheet (every option with its
//! value, then the findings and site warnings), and one request sheet per enforcement point.
//!
//! Request sheets are real Excel tables (autofilter, banded rows) with a frozen header row,
//! column widths from the content (East Asian wide characters count double), wrapped text and
//! row heights for the number of lines, landscape printing one page wide with the header
//! repeated.

use rust_xlsxwriter::{
    Format, FormatAlign, Table, TableColumn, TableStyle, Workbook, Worksheet, XlsxError,
};

use super::{Report, text_width};

/// Excel's limit on the characters of one cell.
const CELL_MAX: usize = 32_767;
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 60;

/// A sheet name Excel accepts: no `[]:*?/\`, at most 31 characters, unique (case-insensitive)
/// among `taken`.
pub fn sheet_name(wanted: &str, taken: &[String]) -> String {
    let clean: String = wanted
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').to_string();
    let base: String = if clean.is_empty() {
        "sheet".into()
    } else {
        clean
    };
    let is_taken = |n: &str| taken.iter().any(|t| t.to_lowercase() == n.to_lowercase());
    let mut n = 1;
    loop {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!(" ({n})")
        };
        let keep = 31 - suffix.chars().count();
        let name: String = base.chars().take(keep).collect::<String>() + &suffix;
        if !is_taken(&name) && !name.eq_ignore_ascii_case("history") {
            return name;
        }
        n += 1;
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() <= CELL_MAX {
        return s.to_string();
    }
    let mut t: String = s.chars().take(CELL_MAX - 1).collect();
    t.push('…');
    t
}

/// Column width in characters for these cells (header included): the widest line plus 10 %
/// and two characters of slack, as fonts differ between Excel, LibreOffice and their platforms.
fn column_width<'a>(cells: impl Iterator<Item = &'a str>) -> usize {
    let widest = cells
        .flat_map(|c| c.lines())
        .map(text_width)
        .max()
        .unwrap_or(0);
    (widest.saturating_mul(11).div_ceil(10))
        .saturating_add(2)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

/// Lines a cell takes when wrapped at `width` characters.
fn cell_lines(s: &str, width: usize) -> usize {
    let w = width.saturating_sub(1).max(1);
    s.lines()
        .map(|l| text_width(l).div_ceil(w).max(1))
        .sum::<usize>()
        .max(1)
}

/// Write a table (header + rows) at `top`, sized and wrapped; returns the next free row.
fn write_table(
    ws: &mut Worksheet,
    top: u32,
    header: &[String],
    rows: &[Vec<String>],
    widths: &mut [usize],
) -> Result<u32, XlsxError> {
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (i, w) in widths.iter_mut().enumerate() {
        let col = column_width(
            std::iter::once(header[i].as_str()).chain(rows.iter().map(|r| r[i].as_str())),
        );
        *w = (*w).max(col);
    }
    for (r, row) in rows.iter().enumerate() {
        let rn = top + 1 + r as u32;
        let mut lines = 1;
        for (c, text) in row.iter().enumerate() {
            ws.write_string_with_format(rn, c as u16, clip(text), &wrap)?;
            lines = lines.max(cell_lines(text, widths[c]));
        }
        ws.set_row_height(rn, (lines as f64) * 15.0 + 3.0)?;
    }
    let columns: Vec<TableColumn> = header
        .iter()
        .map(|h| TableColumn::new().set_header(h.as_str()))
        .collect();
    let table = Table::new()
        .set_columns(&columns)
        .set_style(TableStyle::Medium2);
    let last = top + (rows.len().max(1)) as u32;
    ws.add_table(top, 0, last, (header.len() - 1) as u16, &table)?;
    Ok(last + 1)
}

fn apply_widths(ws: &mut Worksheet, widths: &[usize]) -> Result<(), XlsxError> {
    for (i, w) in widths.iter().enumerate() {
        ws.set_column_width(i as u16, *w as f64)?;
    }
    Ok(())
}

fn build(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let lang = report.lang;
    let mut wb = Workbook::new();
    let mut names: Vec<String> = Vec::new();
    let bold = Format::new().set_bold();
    let title_fmt = Format::new().set_bold().set_font_size(14);

    // Summary.
    {
        let name = sheet_name(lang.pick("Summary", "概要"), &names);
        names.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        ws.write_string_with_format(0, 0, clip(&report.title()), &title_fmt)?;
        ws.write_string_with_format(2, 0, lang.pick("Site", "サイト"), &bold)?;
        ws.write_string(2, 1, clip(&report.site))?;
        let mut row = 3;
        if let Some(old) = &report.diff_from {
            ws.write_string_with_format(row, 0, lang.pick("Changed from", "変更前"), &bold)?;
            ws.write_string(row, 1, clip(old))?;
            row += 1;
        }
        row += 1;
        let count = if report.diff_from.is_some() {
            lang.pick("Changes", "変更件数")
        } else {
            lang.pick("Openings", "開放件数")
        };
        let header: Vec<String> = [
            lang.pick("Enforcement point", "適用ポイント"),
            lang.pick("Kind", "種類"),
            lang.pick("Target", "出力形式"),
            count,
            lang.pick("Sheet", "シート"),
        ]
        .map(String::from)
        .to_vec();
        let mut taken = names.clone();
        taken.push(sheet_name(lang.pick("Options", "オプション"), &names));
        let rows: Vec<Vec<String>> = report
            .points
            .iter()
            .map(|p| {
                let sheet = sheet_name(&p.id, &taken);
                taken.push(sheet.clone());
                vec![
                    p.id.clone(),
                    p.kind_text.clone(),
                    p.target.clone(),
                    p.rows.len().to_string(),
                    sheet,
                ]
            })
            .collect();
        let mut widths = vec![0; header.len()];
        widths[0] = 14;
        write_table(ws, row, &header, &rows, &mut widths)?;
        apply_widths(ws, &widths)?;
    }

    // Options, findings, warnings.
    {
        let name = sheet_name(lang.pick("Options", "オプション"), &names);
        names.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        ws.write_string_with_format(0, 0, lang.pick("Options", "オプション"), &title_fmt)?;
        let (header, rows) = report.options_table();
        let mut widths = vec![0; header.len()];
        let mut row = write_table(ws, 1, &header, &rows, &mut widths)? + 1;
        ws.write_string_with_format(row, 0, lang.pick("Findings", "指摘事項"), &title_fmt)?;
        row += 1;
        let header: Vec<String> = [
            lang.pick("Severity", "重要度"),
            lang.pick("Requirement", "要件"),
            lang.pick("Finding", "内容"),
        ]
        .map(String::from)
        .to_vec();
        let rows: Vec<Vec<String>> = report
            .findings
            .iter()
            .map(|f| {
                vec![
                    f.severity_text.clone(),
                    f.requirement.clone(),
                    f.message.clone(),
                ]
            })
            .collect();
        let mut fwidths = vec![0; header.len()];
        row = write_table(ws, row, &header, &rows, &mut fwidths)? + 1;
        ws.write_string_with_format(
            row,
            0,
            lang.pick("Site warnings", "サイト定義の警告"),
            &title_fmt,
        )?;
        row += 1;
        if report.warnings.is_empty() {
            ws.write_string(row, 0, lang.pick("None.", "なし。"))?;
        }
        for w in &report.warnings {
            ws.write_string(row, 0, clip(w))?;
            row += 1;
        }
        for (i, w) in fwidths.iter().enumerate() {
            widths[i] = widths[i].max(*w);
        }
        apply_widths(ws, &widths)?;
    }

    // One request sheet per enforcement point.
    let cols = report.columns();
    let header: Vec<String> = cols.iter().map(|c| c.header(lang).to_string()).collect();
    for p in &report.points {
        let name = sheet_name(&p.id, &names);
        names.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        let rows: Vec<Vec<String>> = p
            .rows
            .iter()
            .map(|r| cols.iter().map(|c| r.cell(*c, lang)).collect())
            .collect();
        let mut widths = vec![0; header.len()];
        write_table(ws, 0, &header, &rows, &mut widths)?;
        apply_widths(ws, &widths)?;
        ws.set_freeze_panes(1, 0)?;
        ws.set_landscape();
        ws.set_paper_size(9); // A4
        ws.set_print_fit_to_pages(1, 0);
        ws.set_repeat_rows(0, 0)?;
    }
    wb.save_to_buffer()
}

/// The report as XLSX bytes.
pub fn render(report: &Report) -> crate::diag::Result<Vec<u8>> {
    build(report).map_err(|e| {
        crate::diag::Error::usage(
            crate::tr!(
                "cannot build the XLSX workbook: {e}",
                "XLSX ブックを作成できません: {e}"
            ),
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let taken = vec!["概要".to_string(), "fw-a".to_string()];
        assert_eq!(sheet_name("fw/b:[x]", &taken), "fw_b__x_");
        assert_eq!(sheet_name("FW-A", &taken), "FW-A (2)");
        let long = "x".repeat(40);
        assert_eq!(sheet_name(&long, &taken).chars().count(), 31);
        assert_eq!(sheet_name("'", &taken), "sheet");
    }

    #[test]
    fn widths_fit_japanese_and_wrap_counts_lines() {
        assert_eq!(column_width(["申請番号"].into_iter()), 11);
        assert_eq!(column_width(["FW-fw-core-001"].into_iter()), 18);
        assert_eq!(column_width(["a\nbbbb"].into_iter()), 7);
        assert_eq!(column_width([&*"x".repeat(200)].into_iter()), MAX_WIDTH);
        assert_eq!(cell_lines("ab\ncd", 10), 2);
        assert_eq!(cell_lines(&"x".repeat(30), 11), 3);
    }
}
