//! Input formats to a [`Grid`] of cell texts: decoding (UTF-8 with or without BOM, UTF-16 with
//! BOM, CP932/Shift_JIS), CSV/TSV (the `csv` crate: quoting, comment lines), Markdown and
//! `|`-separated text, HTML tables (`scraper`, rowspan/colspan expanded) and XLSX (`calamine`).
//! Flattened text without separators is read by [`super::flat`].

use std::io::Cursor;

use calamine::Reader;

use super::cells::clean;
use super::{Format, ImportError};

/// One table row as read: cells and the source lines holding it (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridRow {
    /// Cell texts, cleaned (width folded, `<br>` as line breaks).
    pub cells: Vec<String>,
    /// First and last source line (for XLSX, the sheet row).
    pub lines: Option<(u32, u32)>,
}

/// Rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    /// Rows in order.
    pub rows: Vec<GridRow>,
    /// Text before the table (for the table's subject), in order.
    pub preamble: Vec<String>,
    /// How a reader split ambiguous text: (row index, quote, what to check).
    pub guesses: Vec<(usize, String, crate::i18n::Text)>,
}

/// Bytes to text. UTF-8 (BOM dropped), UTF-16 with a BOM, else CP932 (Shift_JIS as Windows
/// writes it); binary content is refused.
pub fn decode(bytes: &[u8]) -> Result<String, ImportError> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
        if had_errors {
            return Err(ImportError::NotText { offset: bom });
        }
        return check_text(text.into_owned());
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => check_text(s.to_string()),
        Err(e) => {
            let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(ImportError::NotText {
                    offset: e.valid_up_to(),
                });
            }
            check_text(text.into_owned())
        }
    }
}

fn check_text(s: String) -> Result<String, ImportError> {
    if let Some(i) = s
        .find(|c: char| c == '\0' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')))
    {
        return Err(ImportError::NotText { offset: i });
    }
    Ok(s.replace("\r\n", "\n").replace('\r', "\n"))
}

/// The format from the content (and the file name's extension).
pub fn detect(name: &str, bytes: &[u8]) -> Format {
    let lower = name.to_ascii_lowercase();
    if bytes.starts_with(b"PK\x03\x04") || lower.ends_with(".xlsx") {
        return Format::Xlsx;
    }
    for (ext, f) in [
        (".csv", Format::Csv),
        (".tsv", Format::Tsv),
        (".md", Format::Md),
        (".markdown", Format::Md),
        (".html", Format::Html),
        (".htm", Format::Html),
    ] {
        if lower.ends_with(ext) {
            return f;
        }
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    if head.contains("<table") || head.contains("<html") || head.contains("<!doctype html") {
        return Format::Html;
    }
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(60)
        .collect();
    if lines.iter().any(|l| is_md_separator(l)) {
        return Format::Md;
    }
    let tabs = lines
        .iter()
        .filter(|l| l.matches('\t').count() >= 2)
        .count();
    if tabs * 2 >= lines.len().max(1) && tabs >= 2 {
        return Format::Tsv;
    }
    let commas = lines.iter().filter(|l| l.matches(',').count() >= 2).count();
    let pipes = lines.iter().filter(|l| l.matches('|').count() >= 2).count();
    if commas * 2 >= lines.len().max(1) && commas >= 2 && pipes == 0 {
        return Format::Csv;
    }
    Format::Text
}

fn is_md_separator(l: &str) -> bool {
    let t = l.trim();
    t.contains('-')
        && t.contains('|')
        && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

/// CSV or TSV text. Lines starting with `#` are comments.
pub fn csv(text: &str, delimiter: u8) -> Result<Grid, ImportError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut grid = Grid::default();
    let mut rec = csv::StringRecord::new();
    loop {
        let first = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let line = rec.position().map_or(first, |p| p.line()) as u32;
                let last = line
                    + rec
                        .iter()
                        .map(|c| c.matches('\n').count() as u32)
                        .sum::<u32>();
                grid.rows.push(GridRow {
                    cells: rec.iter().map(clean).collect(),
                    lines: Some((line, last)),
                });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line()) as u32;
                return Err(ImportError::Malformed {
                    line,
                    what: e.to_string(),
                });
            }
        }
    }
    Ok(grid)
}

fn split_pipes(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    // `\|` is a literal bar inside a cell.
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'|') {
            cur.push('|');
            chars.next();
        } else if c == '|' {
            cells.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    cells.push(cur);
    cells.iter().map(|c| clean(c)).collect()
}

/// Markdown pipe tables and `|`-separated text. A line with fewer cells than the header that
/// is followed by another such line is one row whose cell held a line break: the two are
/// joined when together they do not exceed the header.
pub fn pipes(text: &str) -> Grid {
    let mut grid = Grid::default();
    let mut width = 0usize;
    let mut pending: Option<GridRow> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if raw.trim().is_empty() || is_md_separator(raw) {
            if let Some(p) = pending.take() {
                grid.rows.push(p);
            }
            continue;
        }
        if !raw.contains('|') {
            if let Some(p) = pending.take() {
                grid.rows.push(p);
            }
            if grid.rows.is_empty() {
                grid.preamble.push(clean(raw));
            } else {
                grid.rows.push(GridRow {
                    cells: vec![clean(raw)],
                    lines: Some((n, n)),
                });
            }
            continue;
        }
        let cells = split_pipes(raw);
        if width == 0 {
            width = cells.len();
            grid.rows.push(GridRow {
                cells,
                lines: Some((n, n)),
            });
            continue;
        }
        let filled = |c: &[String]| c.len();
        match pending.take() {
            Some(mut p) if filled(&p.cells) + filled(&cells) <= width => {
                p.cells.extend(cells);
                p.lines = p.lines.map(|(a, _)| (a, n));
                if p.cells.len() < width {
                    pending = Some(p);
                } else {
                    grid.rows.push(p);
                }
            }
            other => {
                if let Some(p) = other {
                    grid.rows.push(p);
                }
                let row = GridRow {
                    cells,
                    lines: Some((n, n)),
                };
                if row.cells.len() < width {
                    pending = Some(row);
                } else {
                    grid.rows.push(row);
                }
            }
        }
    }
    if let Some(p) = pending {
        grid.rows.push(p);
    }
    grid
}

/// The first HTML table that looks like a port table (or the first table), rowspan and
/// colspan expanded.
pub fn html(text: &str) -> Result<Grid, ImportError> {
    let doc = scraper::Html::parse_document(text);
    let table_sel = scraper::Selector::parse("table").map_err(|_| ImportError::NoTable)?;
    let tr_sel = scraper::Selector::parse("tr").map_err(|_| ImportError::NoTable)?;
    let mut grids = Vec::new();
    for table in doc.select(&table_sel) {
        let mut rows: Vec<Vec<Option<String>>> = Vec::new();
        // Cells still spanning down: column → (rows left, text).
        let mut carry: Vec<Option<(usize, String)>> = Vec::new();
        for tr in table.select(&tr_sel) {
            // Rows of a nested table belong to it.
            if tr
                .ancestors()
                .filter_map(scraper::ElementRef::wrap)
                .find(|e| e.value().name() == "table")
                .is_some_and(|t| t.id() != table.id())
            {
                continue;
            }
            let mut row: Vec<Option<String>> = Vec::new();
            let mut col = 0usize;
            let take_carry =
                |row: &mut Vec<Option<String>>,
                 col: &mut usize,
                 carry: &mut Vec<Option<(usize, String)>>| {
                    while let Some(Some((left, text))) = carry.get_mut(*col) {
                        row.push(Some(text.clone()));
                        *left -= 1;
                        if *left == 0 {
                            carry[*col] = None;
                        }
                        *col += 1;
                    }
                };
            for cell in tr.children().filter_map(scraper::ElementRef::wrap) {
                let name = cell.value().name();
                if name != "td" && name != "th" {
                    continue;
                }
                take_carry(&mut row, &mut col, &mut carry);
                let mut text = String::new();
                for node in cell.descendants() {
                    if let Some(t) = node.value().as_text() {
                        text.push_str(t);
                    } else if let Some(e) = node.value().as_element()
                        && matches!(e.name(), "br" | "p" | "li" | "div")
                    {
                        text.push('\n');
                    }
                }
                let text = clean(&text);
                let span = |a: &str| {
                    cell.value()
                        .attr(a)
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 1000)
                };
                let (rs, cs) = (span("rowspan"), span("colspan"));
                for _ in 0..cs {
                    if rs > 1 {
                        if carry.len() <= col {
                            carry.resize(col + 1, None);
                        }
                        carry[col] = Some((rs - 1, text.clone()));
                    }
                    row.push(Some(text.clone()));
                    col += 1;
                }
            }
            take_carry(&mut row, &mut col, &mut carry);
            if row.len() > 10_000 {
                return Err(ImportError::TooLarge);
            }
            rows.push(row);
        }
        grids.push(Grid {
            rows: rows
                .into_iter()
                .map(|r| GridRow {
                    cells: r.into_iter().map(Option::unwrap_or_default).collect(),
                    lines: None,
                })
                .collect(),
            preamble: Vec::new(),
            guesses: Vec::new(),
        });
    }
    if grids.is_empty() {
        return Err(ImportError::NoTable);
    }
    let pick = grids
        .iter()
        .position(|g| super::table::find_header(g).is_some())
        .unwrap_or(0);
    Ok(grids.swap_remove(pick))
}

/// A sheet of an XLSX workbook: `sheet` by name, or the first.
pub fn xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Grid, ImportError> {
    let mut wb =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).map_err(|e| {
            ImportError::Malformed {
                line: 0,
                what: e.to_string(),
            }
        })?;
    let names = wb.sheet_names().to_vec();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| ImportError::NoSheet {
                sheet: s.to_string(),
                sheets: names.clone(),
            })?,
        None => names.first().cloned().ok_or(ImportError::NoTable)?,
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| ImportError::Malformed {
            line: 0,
            what: e.to_string(),
        })?;
    let (r0, _) = range.start().unwrap_or((0, 0));
    let mut grid = Grid::default();
    for (i, row) in range.rows().enumerate() {
        let n = r0 + i as u32 + 1;
        grid.rows.push(GridRow {
            cells: row.iter().map(|c| clean(&c.to_string())).collect(),
            lines: Some((n, n)),
        });
    }
    Ok(grid)
}
