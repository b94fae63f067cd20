//! The report as an XLSX workbook: a summary sheet, an options sheet (every option with its
//! value, then the findings and site warnings), and one request sheet per enforcement point.
//!
//! The summary sheet carries the request's paperwork (申請区分, 申請者, 申請日, …, the site's
//! description) and the 承認欄 boxes. Request sheets are real Excel tables (autofilter) with
//! thin borders on every cell, a frozen header row, column widths from the content (East Asian
//! wide characters count double), wrapped text and row heights for the number of lines.
//!
//! Every sheet is set up for printing: landscape, A4 or — when its columns are wider — A3, one
//! page wide, the header row repeated, the title in the page header and page n / N in the
//! footer. A sheet may be up to 11/9 of what A3 holds at 100 %, so fitting it to the page
//! never prints the 11 pt text (and the 11 pt page header and footer) below 9 pt. When the
//! content is wider, each column keeps its longest label or word ([`wrap`]) and the rest goes
//! first to make the tallest row as low as possible, then where it saves the most printed
//! lines; the line breaks are computed here ([`wrap`]) and written into the cells, with row
//! heights from them. The zone columns are folded into the address cells
//! ([`super::folded_columns`]), the zone names on top in bold (a rich-text run).

use rust_xlsxwriter::{
    Format, FormatAlign, FormatBorder, Table, TableColumn, TableStyle, Workbook, Worksheet,
    XlsxError,
};

use super::Report;
use super::wrap::{self, Kind};

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

/// Column width in units for these cells (header included): the widest line in the width
/// model of [`wrap`] plus a unit and a half of slack (the cell's padding, Excel's fonts).
fn column_width<'a>(cells: impl Iterator<Item = &'a str>) -> usize {
    let widest = cells
        .flat_map(|c| c.lines())
        .map(wrap::width)
        .fold(0.0, f32::max);
    ((widest + 1.5).ceil() as usize).clamp(MIN_WIDTH, MAX_WIDTH)
}

/// The lines a cell prints as in a column `width` wide: [`wrap::wrap`] with [`wrap::PAD`]
/// of the column left for the cell's padding.
fn cell_wrap(s: &str, width: usize, kind: Kind) -> Vec<String> {
    wrap::wrap(s, width as f32 - wrap::PAD, kind)
}

fn cell_lines(s: &str, width: usize, kind: Kind) -> usize {
    cell_wrap(s, width, kind).len().max(1)
}

/// Row height (points) for these printed lines: LibreOffice sets a line with Japanese in it
/// (Noto Sans CJK, 11 pt) 16 pt apart, a Latin-only line (DejaVu Sans) 12.8 pt; 3 pt for
/// the cell's padding.
fn lines_height<'a>(lines: impl Iterator<Item = &'a String>) -> f64 {
    lines
        .map(|l| {
            if l.chars().any(super::is_wide) {
                16.0
            } else {
                12.8
            }
        })
        .sum::<f64>()
        .max(12.8)
        + 3.0
}

/// Width in characters a printed page holds at 100 %: A4 and A3 landscape with 10 mm margins.
/// A character is 7 px at 96 dpi in Excel (11 pt Calibri) — 146 and 212 characters — but
/// LibreOffice without Calibri measures the unit in a wider font and prints about 0.75 of
/// that; these budgets hold in both.
const A4_CHARS: usize = 110;
const A3_CHARS: usize = 160;

/// The widest a sheet may be on its paper: fitting it to the page width scales the 11 pt text
/// by `page / width`, and the text must stay at 9 pt or more (9/11 of the page width).
fn fit_budget(page: usize) -> usize {
    page * 11 / 9
}

/// The narrowest a column's cells let it get: its widest label (zone, host, request number,
/// firewall, ports — [`wrap::LABEL_MAX`] columns at most, beyond that labels break) or
/// unbreakable piece of text, at most [`WORD_MAX`] units for running text.
fn min_width<'a>(cells: impl Iterator<Item = &'a str>, kind: Kind) -> usize {
    let cap = match kind {
        Kind::Labels => LABEL_MAX_UNITS,
        Kind::Text => WORD_MAX,
    };
    (cells
        .map(|c| wrap::min_width(c, kind))
        .fold(0.0, f32::max)
        .ceil() as usize)
        .clamp(MIN_WIDTH, cap)
}

/// A piece of running text longer than this wraps inside (URLs, long identifiers).
const WORD_MAX: usize = 22;

/// The widest a label makes its column (a label of [`wrap::LABEL_MAX`] display columns).
const LABEL_MAX_UNITS: usize = 30;

/// Bold text is about a tenth wider than [`wrap::width`] measures.
const HEADER_BOLD: f32 = 1.1;

/// A header's words, between which it may break (`送信元` `ゾーン`, `許可/` `拒否`,
/// `Destination` `port`): the breaks of [`super::svg::pieces`], a piece starting with `/` or
/// `)` joined to the one before.
fn header_words(h: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let one_char = |w: &str| w.trim_end().chars().count() == 1;
    for (space, piece) in super::svg::pieces(h) {
        match words.last_mut() {
            Some(last) if !space && piece.starts_with(['/', ')', '）']) => last.push_str(&piece),
            // No word of one character alone (`サービス` `名`).
            Some(last) if !space && one_char(&piece) => last.push_str(&piece),
            Some(last) if !space && last.ends_with('/') => words.push(piece),
            Some(last) if space => {
                // Keep the space with the word before it; a line never starts with one.
                last.push(' ');
                words.push(piece);
            }
            _ => words.push(piece),
        }
    }
    words
}

/// The narrowest column a header fits in, broken between its words.
fn head_min(h: &str) -> usize {
    header_words(h)
        .iter()
        .map(|w| (wrap::width(w) * HEADER_BOLD + 1.0).ceil() as usize)
        .max()
        .unwrap_or(0)
}

/// A header as the lines it prints in a column `width` wide: whole when it fits, else its
/// words ([`header_words`]) filled greedily — never broken inside a word (LibreOffice, left to
/// itself, would print 送信元ゾー/ン). The lines are written into the cell.
fn header_lines(h: &str, width: usize) -> Vec<String> {
    let max = width as f32 - wrap::PAD;
    let fits = |s: &str| wrap::width(s.trim_end()) * HEADER_BOLD <= max;
    if fits(h) {
        return vec![h.to_string()];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for w in header_words(h) {
        if !cur.is_empty() && !fits(&(cur.clone() + &w)) {
            lines.push(cur.trim_end().to_string());
            cur = String::new();
        }
        cur.push_str(&w);
    }
    if !cur.is_empty() {
        lines.push(cur.trim_end().to_string());
    }
    lines
}

/// Printed height of the rows, in lines, at these widths.
fn total_lines(rows: &[Vec<String>], widths: &[usize], kinds: &[Kind]) -> usize {
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(widths)
                .zip(kinds)
                .map(|((c, w), k)| cell_lines(c, *w, *k))
                .max()
                .unwrap_or(1)
        })
        .sum()
}

/// The columns' widths for these cells. When every column's content fits the widest page
/// (A3 landscape, scaled to at least 9 pt), each gets its content's width. Otherwise each
/// column starts at its longest word (headers are never broken: LibreOffice would break
/// 送信元ゾー/ン anywhere) and the rest of the budget goes, a few characters at a time, where
/// it saves the most printed lines over all rows — so the purposes, citations and address
/// lists that make rows tall get the room, and short columns (方向, tcp) stay narrow.
fn fit_widths(header: &[String], rows: &[Vec<String>], kinds: &[Kind]) -> Vec<usize> {
    let col = |i: usize| {
        std::iter::once(header[i].as_str()).chain(rows.iter().map(move |r| r[i].as_str()))
    };
    let desired: Vec<usize> = (0..header.len()).map(|i| column_width(col(i))).collect();
    let budget = fit_budget(A3_CHARS);
    if desired.iter().sum::<usize>() <= budget {
        return desired;
    }
    let min: Vec<usize> = (0..header.len())
        .map(|i| {
            // Headers are bold: a tenth wider.
            let head = head_min(&header[i]);
            min_width(rows.iter().map(|r| r[i].as_str()), kinds[i])
                .max(head)
                .min(desired[i])
        })
        .collect();
    let mut w = min;
    if w.iter().sum::<usize>() > budget {
        // The page cannot hold every label whole: labels may break between their words
        // (`DeviceLock` `管理` `コンソール`), and keeping them whole competes with the running
        // text for the room below, by the lines it saves — rather than squeezing the text
        // columns under their words (dates cut, `クラウドプロキ` `シ`).
        w = (0..header.len())
            .map(|i| match kinds[i] {
                Kind::Labels => {
                    let words = rows
                        .iter()
                        .map(|r| wrap::word_min_width(&r[i]))
                        .fold(0.0, f32::max)
                        .ceil() as usize;
                    words
                        .clamp(MIN_WIDTH, WORD_MAX)
                        .max(head_min(&header[i]))
                        .min(w[i])
                }
                Kind::Text => w[i],
            })
            .collect();
    }
    if w.iter().sum::<usize>() >= budget {
        // Even the words do not fit: squeeze the widest (it wraps inside words) so the
        // printed text keeps its size.
        // Running text gives way first; labels only when nothing else can.
        while w.iter().sum::<usize>() > budget {
            let widest = |want: Kind| {
                w.iter()
                    .copied()
                    .enumerate()
                    .filter(|(i, x)| kinds[*i] == want && *x > MIN_WIDTH + 2)
                    .max_by_key(|(_, x)| *x)
            };
            let Some((i, x)) = widest(Kind::Text).or_else(|| widest(Kind::Labels)) else {
                break;
            };
            if x <= MIN_WIDTH + 2 {
                break;
            }
            w[i] = x - 1;
        }
        return w;
    }
    // First the tallest row as low as the budget lets it be. Widening one column at a time
    // (below) saves nothing on a row whose height two columns set (a long purpose beside a
    // long citation), so alone it left such columns narrow and the row 13 lines tall.
    if let Some(h) = lowest_tallest_row(rows, &w, &desired, kinds, budget) {
        w = h;
    }
    let mut left = budget - w.iter().sum::<usize>();
    // Each cell's printed lines at the current widths (column-major): a trial width of one
    // column rewraps that column only.
    let cell = |i: usize, width: usize| -> Vec<usize> {
        rows.iter()
            .map(|r| cell_lines(&r[i], width, kinds[i]))
            .collect()
    };
    let mut at: Vec<Vec<usize>> = (0..w.len()).map(|i| cell(i, w[i])).collect();
    // Row heights with column `i`'s lines replaced by `col`.
    let lines_with = |at: &[Vec<usize>], i: usize, col: &[usize]| -> usize {
        (0..rows.len())
            .map(|r| {
                (0..at.len())
                    .map(|j| if j == i { col[r] } else { at[j][r] })
                    .max()
                    .unwrap_or(1)
            })
            .sum()
    };
    let mut lines = total_lines(rows, &w, kinds);
    // Greedy: the step (1 to 8 characters on one column) that saves the most lines per
    // character, until nothing saves a line.
    while left > 0 {
        // (column, step, saved, the column's lines at that width)
        let mut best: Option<(usize, usize, usize, Vec<usize>)> = None;
        for i in 0..w.len() {
            for step in 1..=8.min(left) {
                if w[i] + step > desired[i] {
                    break;
                }
                let col = cell(i, w[i] + step);
                let saved = lines.saturating_sub(lines_with(&at, i, &col));
                if saved == 0 {
                    continue;
                }
                let better = match &best {
                    None => true,
                    Some((_, bs, bsaved, _)) => saved * bs > bsaved * step,
                };
                if better {
                    best = Some((i, step, saved, col));
                }
            }
        }
        let Some((i, step, saved, col)) = best else {
            break;
        };
        w[i] += step;
        at[i] = col;
        left -= step;
        lines -= saved;
    }
    // What saves no line widens the columns still short of their content, in proportion.
    let want: usize = desired.iter().zip(&w).map(|(d, x)| d - x).sum();
    if left > 0 && want > 0 {
        let share = left.min(want);
        let add: Vec<usize> = desired
            .iter()
            .zip(&w)
            .map(|(d, x)| (d - x) * share / want)
            .collect();
        for (x, a) in w.iter_mut().zip(add) {
            *x += a;
        }
    }
    w
}

/// The widths, each between `min` and `desired`, that make the tallest row as low as
/// possible within `budget`: the smallest bound `h` on a row's printed lines for which every
/// column's narrowest width keeping its cells within `h` lines (or within the lines they have
/// at their full width, when that is more) sums to at most the budget. `None` when no bound
/// below the rows at `min` fits.
fn lowest_tallest_row(
    rows: &[Vec<String>],
    min: &[usize],
    desired: &[usize],
    kinds: &[Kind],
    budget: usize,
) -> Option<Vec<usize>> {
    // The narrowest width of column `i` whose cells print in at most `h` lines (or their
    // lines at full width); line counts fall as widths grow, so a binary search.
    // Each cell's lines at its column's full width, computed once.
    let full: Vec<Vec<usize>> = rows
        .iter()
        .map(|r| {
            (0..min.len())
                .map(|i| cell_lines(&r[i], desired[i], kinds[i]))
                .collect()
        })
        .collect();
    let column_for = |i: usize, h: usize| -> usize {
        let fits = |w: usize| {
            rows.iter()
                .zip(&full)
                .all(|(r, f)| cell_lines(&r[i], w, kinds[i]) <= h.max(f[i]))
        };
        let (mut lo, mut hi) = (min[i], desired[i].max(min[i]));
        if fits(lo) {
            return lo;
        }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if fits(mid) { hi = mid } else { lo = mid }
        }
        hi
    };
    let widths_for =
        |h: usize| -> Vec<usize> { (0..min.len()).map(|i| column_for(i, h)).collect() };
    let tallest = rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(min)
                .zip(kinds)
                .map(|((c, w), k)| cell_lines(c, *w, *k))
                .max()
                .unwrap_or(1)
        })
        .max()
        .unwrap_or(1);
    // `h = tallest` fits (the minimum widths); find the smallest that does.
    let (mut lo, mut hi) = (0, tallest);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if widths_for(mid).iter().sum::<usize>() <= budget {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let w = widths_for(hi);
    (hi < tallest && w.iter().sum::<usize>() <= budget).then_some(w)
}

/// Printable height of A4 landscape (210 mm less 0.6 inch margins), points.
const A4_HEIGHT_PT: f64 = 509.0;

/// A4 when the columns fit it at 9 pt or more and the rows (`height` points at 100 %) fit its
/// height at the scale the width needs, else A3 (landscape either way).
fn paper_for(widths: &[usize], height: f64) -> u8 {
    let sum = widths.iter().sum::<usize>();
    let scale = (A4_CHARS as f64 / sum.max(1) as f64).min(1.0);
    if sum <= fit_budget(A4_CHARS) && height * scale <= A4_HEIGHT_PT {
        9 // A4
    } else {
        8 // A3
    }
}

/// Page setup every sheet gets: landscape, the paper its width needs, one page wide, narrow
/// margins, page n / N in the footer, the header row (when there is one) repeated.
fn page_setup(
    ws: &mut Worksheet,
    widths: &[usize],
    height: f64,
    header_row: Option<u32>,
    report: &Report,
) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(paper_for(widths, height));
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    let title = report.title().replace('&', "&&");
    // 11 pt, like the cells: fitting to the page scales the header and footer too (to 9 pt
    // at the widest sheet).
    ws.set_header(format!("&L&11{}", clip_chars(&title, 200)));
    ws.set_footer("&R&11&P / &N");
    if let Some(r) = header_row {
        ws.set_repeat_rows(r, r)?;
    }
    Ok(())
}

fn clip_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Cell formats: wrapped with thin borders; the header bold on grey; labels bold.
struct Formats {
    cell: Format,
    /// Bold, for a part of a rich-text cell (the zone above an address list).
    bold: Format,
    header: Format,
    label: Format,
    title: Format,
    stamp: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin);
        Formats {
            header: cell.clone().set_bold().set_background_color(0xD9E1F2),
            label: cell.clone().set_bold().set_background_color(0xEDEDED),
            title: Format::new().set_bold().set_font_size(14),
            bold: Format::new().set_bold(),
            stamp: Format::new()
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center),
            cell,
        }
    }
}

/// A table's cells: the header, the rows, and per row and column how many of the cell's
/// first lines are its heading (the zone above an address list), set in bold.
#[derive(Clone, Copy)]
struct Rows<'a> {
    header: &'a [String],
    rows: &'a [Vec<String>],
    leads: &'a [Vec<usize>],
}

impl<'a> Rows<'a> {
    fn plain(header: &'a [String], rows: &'a [Vec<String>]) -> Rows<'a> {
        Rows {
            header,
            rows,
            leads: &[],
        }
    }
}

/// Like [`put`], with the text's first `lead` lines (the zone names) in bold: each part
/// wrapped on its own, as [`wrap::wrap`] wraps the whole.
fn put_led(
    ws: &mut Worksheet,
    (row, col): (u32, u16),
    text: &str,
    lead: usize,
    (width, kind): (usize, Kind),
    f: &Formats,
) -> Result<f64, XlsxError> {
    let mut parts = text.splitn(lead + 1, '\n');
    let head: Vec<&str> = parts.by_ref().take(lead).collect();
    let rest = parts.next().unwrap_or("");
    // Bold Latin is about a tenth wider; bold Japanese keeps its one-em advance.
    let head = head.join("\n");
    let plain = wrap::width(&head);
    let bold: f32 = head
        .chars()
        .map(|c| wrap::char_width(c) * if super::is_wide(c) { 1.0 } else { HEADER_BOLD })
        .sum();
    let scale = if bold > 0.0 { plain / bold } else { 1.0 };
    let head = wrap::wrap(&head, (width as f32 - wrap::PAD) * scale, kind);
    let body = if rest.is_empty() {
        vec![]
    } else {
        cell_wrap(rest, width, kind)
    };
    let mut head_text = head.join("\n");
    let body_text = clip(&body.join("\n"));
    if body_text.is_empty() {
        ws.write_string_with_format(row, col, clip(&head_text), &f.cell)?;
    } else {
        head_text.push('\n');
        let plain = Format::new();
        ws.write_rich_string_with_format(
            row,
            col,
            &[(&f.bold, head_text.as_str()), (&plain, body_text.as_str())],
            &f.cell,
        )?;
    }
    Ok(lines_height(head.iter().chain(&body)))
}

/// Write a table (header + rows) at `top` with the given widths; returns the next free row.
fn write_table(
    ws: &mut Worksheet,
    f: &Formats,
    top: u32,
    table: &Rows,
    widths: &[usize],
    kinds: &[Kind],
) -> Result<(u32, f64), XlsxError> {
    let Rows {
        header,
        rows,
        leads,
    } = *table;
    let mut total = 0.0;
    for (r, row) in rows.iter().enumerate() {
        let rn = top + 1 + r as u32;
        let mut height: f64 = 0.0;
        for (c, text) in row.iter().enumerate() {
            let lead = leads.get(r).and_then(|l| l.get(c)).copied().unwrap_or(0);
            let h = if lead > 0 {
                put_led(ws, (rn, c as u16), text, lead, (widths[c], kinds[c]), f)?
            } else {
                put(ws, rn, c as u16, text, widths[c], kinds[c], &f.cell)?
            };
            height = height.max(h);
        }
        ws.set_row_height(rn, height)?;
        total += height;
    }
    let header: Vec<Vec<String>> = header
        .iter()
        .zip(widths)
        .map(|(h, w)| header_lines(h, *w))
        .collect();
    let hheight = header
        .iter()
        .map(|l| lines_height(l.iter()))
        .fold(0.0, f64::max);
    ws.set_row_height(top, hheight)?;
    let columns: Vec<TableColumn> = header
        .iter()
        .map(|l| {
            TableColumn::new()
                .set_header(l.join("\n"))
                .set_header_format(&f.header)
        })
        .collect();
    let table = Table::new()
        .set_columns(&columns)
        .set_style(TableStyle::Light1);
    let last = top + (rows.len().max(1)) as u32;
    ws.add_table(top, 0, last, (header.len() - 1) as u16, &table)?;
    Ok((last + 1, total + hheight))
}

/// Write `text` wrapped for a column `width` wide (the line breaks written into the cell, so
/// every program prints this wrap); returns the row height it needs.
#[allow(clippy::too_many_arguments)]
fn put(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    width: usize,
    kind: Kind,
    format: &Format,
) -> Result<f64, XlsxError> {
    put_merged(ws, row, (col, col), text, width, kind, format)
}

/// Like [`put`] across the merged columns `first..=last`, `width` wide together (one column:
/// no merge).
#[allow(clippy::too_many_arguments)]
fn put_merged(
    ws: &mut Worksheet,
    row: u32,
    (first, last): (u16, u16),
    text: &str,
    width: usize,
    kind: Kind,
    format: &Format,
) -> Result<f64, XlsxError> {
    let lines = cell_wrap(text, width, kind);
    let value = clip(&lines.join("\n"));
    if first == last {
        ws.write_string_with_format(row, first, value, format)?;
    } else {
        ws.merge_range(row, first, row, last, &value, format)?;
    }
    Ok(lines_height(lines.iter()))
}

fn apply_widths(ws: &mut Worksheet, widths: &[usize]) -> Result<(), XlsxError> {
    for (i, w) in widths.iter().enumerate() {
        ws.set_column_width(i as u16, *w as f64)?;
    }
    Ok(())
}

/// Column-wise maximum of several tables' widths on one sheet.
fn merge_widths(a: &mut Vec<usize>, b: &[usize]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (i, w) in b.iter().enumerate() {
        a[i] = a[i].max(*w);
    }
}

fn build(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let lang = report.lang;
    let mut wb = Workbook::new();
    let mut names: Vec<String> = Vec::new();
    let f = Formats::new();

    // Summary: the request's paperwork, the approval boxes, the openings per point.
    {
        let name = sheet_name(lang.pick("Summary", "概要"), &names);
        names.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        ws.write_string_with_format(0, 0, clip(&report.title()), &f.title)?;
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
        let kinds = [Kind::Labels; 5];
        let mut widths = fit_widths(&header, &rows, &kinds);
        // The request fields: label in column A, value across the rest.
        let fields = report.request_fields();
        let label_w = fields
            .iter()
            .map(|(l, _)| column_width(std::iter::once(l.as_str())))
            .max()
            .unwrap_or(0);
        widths[0] = widths[0].max(label_w).max(14);
        let value_w: usize = widths[1..].iter().sum();
        let last_col = (header.len() - 1) as u16;
        let mut row = 2;
        for (label, value) in &fields {
            ws.write_string_with_format(row, 0, clip(label), &f.label)?;
            let h = put_merged(ws, row, (1, last_col), value, value_w, Kind::Text, &f.cell)?;
            ws.set_row_height(row, h)?;
            row += 1;
        }
        // 承認欄: one labelled box per reviewer, at the right, with room for a stamp.
        row += 1;
        let labels = report.request.approver_labels(lang);
        let first = (last_col + 1).saturating_sub(labels.len() as u16);
        // The box's own heading, so the printed page says what the stamps are for.
        let heading = lang.pick("Approval", "承認欄");
        if first < last_col {
            ws.merge_range(row, first, row, last_col, heading, &f.header)?;
        } else {
            ws.write_string_with_format(row, first, heading, &f.header)?;
        }
        row += 1;
        for (i, l) in labels.iter().enumerate() {
            let c = first + i as u16;
            ws.write_string_with_format(row, c, clip(l), &f.label)?;
            ws.write_blank(row + 1, c, &f.stamp)?;
        }
        ws.set_row_height(row + 1, 60.0)?;
        row += 3;
        write_table(ws, &f, row, &Rows::plain(&header, &rows), &widths, &kinds)?;
        apply_widths(ws, &widths)?;
        page_setup(ws, &widths, 0.0, None, report)?;
    }

    // Options, findings, warnings.
    {
        let name = sheet_name(lang.pick("Options", "オプション"), &names);
        names.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        ws.write_string_with_format(0, 0, lang.pick("Options", "オプション"), &f.title)?;
        let (header, rows) = report.options_table();
        let fheader: Vec<String> = [
            lang.pick("Severity", "重要度"),
            lang.pick("Requirement", "要件"),
            lang.pick("Finding", "内容"),
        ]
        .map(String::from)
        .to_vec();
        let frows: Vec<Vec<String>> = report
            .findings
            .iter()
            .map(|x| {
                vec![
                    x.severity_text.clone(),
                    x.requirement.clone(),
                    x.message.clone(),
                ]
            })
            .collect();
        let kinds = vec![Kind::Text; header.len()];
        let mut widths = fit_widths(&header, &rows, &kinds);
        let fwidths = fit_widths(&fheader, &frows, &[Kind::Labels, Kind::Labels, Kind::Text]);
        // The findings' message column shares the options' widths where it falls.
        let mut fw = widths.clone();
        merge_widths(&mut fw, &fwidths[..2.min(fwidths.len())]);
        let msg_w: usize = fw[2..].iter().sum::<usize>().max(fwidths[2]);
        widths = fw;
        let (next, mut height) =
            write_table(ws, &f, 1, &Rows::plain(&header, &rows), &widths, &kinds)?;
        // Titles and gaps: about 20 pt each.
        height += 6.0 * 20.0;
        let mut row = next + 1;
        ws.write_string_with_format(row, 0, lang.pick("Findings", "指摘事項"), &f.title)?;
        row += 1;
        let last_col = (widths.len() - 1) as u16;
        if frows.is_empty() {
            ws.write_string(row, 0, lang.pick("None.", "なし。"))?;
            row += 2;
        } else {
            for (i, h) in fheader.iter().enumerate().take(2) {
                ws.write_string_with_format(row, i as u16, clip(h), &f.header)?;
            }
            ws.merge_range(row, 2, row, last_col, &clip(&fheader[2]), &f.header)?;
            row += 1;
            for r in &frows {
                let h = [
                    put(ws, row, 0, &r[0], widths[0], Kind::Labels, &f.cell)?,
                    put(ws, row, 1, &r[1], widths[1], Kind::Labels, &f.cell)?,
                    put_merged(ws, row, (2, last_col), &r[2], msg_w, Kind::Text, &f.cell)?,
                ];
                let h = h.into_iter().fold(0.0, f64::max);
                ws.set_row_height(row, h)?;
                height += h;
                row += 1;
            }
            row += 1;
        }
        ws.write_string_with_format(
            row,
            0,
            lang.pick("Site warnings", "サイト定義の警告"),
            &f.title,
        )?;
        row += 1;
        let all_w: usize = widths.iter().sum();
        if report.warnings.is_empty() {
            ws.write_string(row, 0, lang.pick("None.", "なし。"))?;
        }
        for w in &report.warnings {
            let h = put_merged(ws, row, (0, last_col), w, all_w, Kind::Text, &f.cell)?;
            ws.set_row_height(row, h)?;
            height += h;
            row += 1;
        }
        apply_widths(ws, &widths)?;
        page_setup(ws, &widths, height, None, report)?;
    }

    // One request sheet per enforcement point.
    let shown = super::folded_columns(&report.columns());
    let header: Vec<String> = shown
        .iter()
        .map(|(c, _)| c.header(lang).to_string())
        .collect();
    for p in &report.points {
        let name = sheet_name(&p.id, &names);
        names.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        // Each zone heads its address cell, in bold.
        let mut leads: Vec<Vec<usize>> = Vec::new();
        let rows: Vec<Vec<String>> = p
            .rows
            .iter()
            .map(|r| {
                let (cells, lead): (Vec<String>, Vec<usize>) = shown
                    .iter()
                    .map(|(c, zone)| {
                        let text = r.cell(*c, lang);
                        match zone.map(|z| r.cell(z, lang)).filter(|z| !z.is_empty()) {
                            Some(z) => (format!("{z}\n{text}"), z.lines().count()),
                            None => (text, 0),
                        }
                    })
                    .unzip();
                leads.push(lead);
                cells
            })
            .collect();
        let kinds: Vec<Kind> = shown.iter().map(|(c, _)| c.wrap_kind()).collect();
        let widths = fit_widths(&header, &rows, &kinds);
        let table = Rows {
            header: &header,
            rows: &rows,
            leads: &leads,
        };
        let (_, height) = write_table(ws, &f, 0, &table, &widths, &kinds)?;
        apply_widths(ws, &widths)?;
        ws.set_freeze_panes(1, 0)?;
        page_setup(ws, &widths, height, Some(0), report)?;
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
        // 申請番号: four characters of 1.6 units and 1.5 of slack.
        assert_eq!(column_width(["申請番号"].into_iter()), 8);
        assert_eq!(column_width([&*"x".repeat(200)].into_iter()), MAX_WIDTH);
        assert_eq!(cell_lines("ab\ncd", 10, Kind::Text), 2);
        assert_eq!(cell_lines("aaaa bbbb", 6, Kind::Text), 2);
        // Labels are never split: the request number's column holds it whole.
        let no = "NET-2026-fw-core-001";
        let w = min_width(std::iter::once(no), Kind::Labels);
        assert_eq!(cell_wrap(no, w, Kind::Labels), vec![no.to_string()]);
    }

    #[test]
    fn wide_sheets_give_the_room_to_long_text() {
        let header: Vec<String> = ["方向", "プロトコル", "用途", "根拠", "備考", "製品"]
            .map(String::from)
            .to_vec();
        let long = "管理ツールが DeviceLock Service へ RPC で接続するための固定ポート。".repeat(3);
        let rows = vec![vec![
            "転送".to_string(),
            "tcp".into(),
            long.clone(),
            long.clone(),
            long.clone(),
            long,
        ]];
        let kinds = vec![Kind::Text; header.len()];
        let w = fit_widths(&header, &rows, &kinds);
        assert!(w.iter().sum::<usize>() <= fit_budget(A3_CHARS), "{w:?}");
        assert!(w[0] <= 8 && w[1] <= 13, "short columns stay narrow: {w:?}");
        assert!(
            w[2..].iter().all(|x| *x >= 30),
            "long text gets the room: {w:?}"
        );
        // Content that fits keeps its own widths.
        let small = vec![vec![
            "転送".to_string(),
            "tcp".into(),
            "短い".into(),
            "x".into(),
            String::new(),
            "DeviceLock".into(),
        ]];
        let own: Vec<usize> = (0..header.len())
            .map(|i| column_width([header[i].as_str(), small[0][i].as_str()].into_iter()))
            .collect();
        assert_eq!(fit_widths(&header, &small, &kinds), own);
    }

    #[test]
    fn the_tallest_row_is_as_low_as_the_budget_allows() {
        // Rows whose height two columns set, in different pairs: brute force over every
        // width triple within the budget finds the lowest tallest row; the search must too.
        let a = "管理ツールが DeviceLock Service へ RPC で接続するためのポート。";
        let b = "「テクニカルガイド: DeviceLock の通信で使用するポートについて」表 5 行目";
        let rows: Vec<Vec<String>> = vec![
            vec![a.repeat(2), b.into(), String::new()],
            vec![String::new(), b.repeat(2), a.into()],
            vec![a.into(), String::new(), b.repeat(2)],
        ];
        let kinds = [Kind::Text; 3];
        let min = [MIN_WIDTH; 3];
        let desired = [MAX_WIDTH; 3];
        let tallest = |w: &[usize]| {
            rows.iter()
                .map(|r| {
                    (0..3)
                        .map(|i| cell_lines(&r[i], w[i], kinds[i]))
                        .max()
                        .unwrap()
                })
                .max()
                .unwrap()
        };
        for budget in [30, 45, 60, 90] {
            let mut best = usize::MAX;
            for x in MIN_WIDTH..=MAX_WIDTH {
                for y in MIN_WIDTH..=MAX_WIDTH {
                    for z in MIN_WIDTH..=MAX_WIDTH {
                        if x + y + z <= budget {
                            best = best.min(tallest(&[x, y, z]));
                        }
                    }
                }
            }
            let w =
                lowest_tallest_row(&rows, &min, &desired, &kinds, budget).unwrap_or(min.to_vec());
            assert!(w.iter().sum::<usize>() <= budget, "{budget}: {w:?}");
            assert_eq!(tallest(&w), best, "budget {budget}: {w:?}");
        }
    }

    #[test]
    fn the_room_goes_where_it_saves_printed_lines() {
        // A request sheet's shape: short columns, address lists, long purposes and citations.
        let header: Vec<String> = [
            "申請番号",
            "方向",
            "送信元",
            "宛先",
            "プロトコル",
            "用途",
            "根拠",
            "備考",
        ]
        .map(String::from)
        .to_vec();
        let addrs = "DeviceLock 管理コンソール、DeviceLock Enterprise Server\n10.10.0.10/31";
        let purpose =
            "SMB (Active Directory と Windows 共有)\n管理ツール用の DeviceLock Service ポート";
        let cite = "「テクニカルガイド: DeviceLock の通信で使用するポートについて (2020-09-08)」\n表 5 行目 — devicelock/smb (常に)";
        let note =
            "サービスが動いているコンピューターに管理ツールから接続するためのポート。".repeat(4);
        let rows: Vec<Vec<String>> = (0..8)
            .map(|i| {
                vec![
                    format!("NET-2026-fw-core-00{i}"),
                    "転送".into(),
                    addrs.into(),
                    addrs.into(),
                    "tcp".into(),
                    purpose.into(),
                    cite.into(),
                    if i % 2 == 0 {
                        note.clone()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        let kinds = [
            Kind::Labels,
            Kind::Labels,
            Kind::Labels,
            Kind::Labels,
            Kind::Labels,
            Kind::Text,
            Kind::Text,
            Kind::Text,
        ];
        let w = fit_widths(&header, &rows, &kinds);
        let budget = fit_budget(A3_CHARS);
        assert!(w.iter().sum::<usize>() <= budget, "{w:?}");
        // No worse than sharing the page equally, and no address split inside.
        let even = vec![budget / header.len(); header.len()];
        assert!(
            total_lines(&rows, &w, &kinds) <= total_lines(&rows, &even, &kinds),
            "{w:?}: {} lines, even {}",
            total_lines(&rows, &w, &kinds),
            total_lines(&rows, &even, &kinds)
        );
        assert!(w[2] > "10.10.0.10/31".len() && w[3] >= 14, "{w:?}");
        assert!(
            cell_wrap("NET-2026-fw-core-000", w[0], Kind::Labels).len() == 1,
            "request numbers whole: {w:?}"
        );
        assert!(w[1] <= 8 && w[4] <= 13, "short columns stay narrow: {w:?}");
        // The tallest row is at most 8 printed lines.
        let tallest = rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&w)
                    .zip(&kinds)
                    .map(|((c, x), k)| cell_lines(c, *x, *k))
                    .max()
                    .unwrap()
            })
            .max()
            .unwrap();
        assert!(tallest <= 8, "{w:?}: tallest row {tallest} lines");
    }
}
