//! `report --template FORM.xlsx --map MAP.yaml`: the report written into a company's own Excel
//! request form.
//!
//! Japanese companies each have their own FW申請書. The form is filled, not rebuilt: its
//! formatting, logos, merged cells, print setup, other sheets and everything portplan does not
//! write stay byte for byte. rust_xlsxwriter only creates new workbooks and calamine only
//! reads, and no maintained crate edits an existing XLSX in place, so this module edits the
//! package directly — the `zip` crate copies every part unchanged (raw, without recompressing)
//! except the filled sheet and `xl/workbook.xml`, and `quick-xml` reads the sheet's XML.
//!
//! The map names single cells (`C3: applicant`) and a table: `rows.start` is the form's
//! template row; one row per opening is written from there, each a copy of the template row's
//! cell styles, merged cells and height (taller for multi-line cells); the form's rows below
//! move down, with their merged cells and the sheet's print area. Values are written as inline
//! strings, so the shared-string table is untouched. Drawings (logos) keep their anchors:
//! a picture placed below the table would not move with the rows, nor do conditional formats,
//! data validations or formulas referring to the moved rows.
//!
//! ```yaml
//! sheet: 申請書           # default: the first sheet
//! cells: {C3: applicant, C4: department, H3: date, H4: planned_date, C5: purpose, H5: kind}
//! rows:
//!   start: A9
//!   columns: {A: request_no, B: firewall, C: direction, D: action, E: from, F: to,
//!             G: protocol, H: ports, I: purpose, J: valid_until, K: basis}
//! ```

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Column, Report};
use crate::diag::{Error, Problem, Result, SourceFile, span_of};
use crate::i18n::Text;
use crate::suggest::closest;
use crate::tr;

/// The single-cell fields a map can name.
pub const CELL_FIELDS: [&str; 12] = [
    "title",
    "kind",
    "applicant",
    "department",
    "date",
    "planned_date",
    "valid_until",
    "purpose",
    "site",
    "description",
    "diff_from",
    "count",
];

/// The map file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    #[serde(default)]
    sheet: Option<String>,
    #[serde(default)]
    cells: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    rows: Option<RawRows>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRows {
    start: Spanned<String>,
    columns: BTreeMap<String, Spanned<String>>,
}

/// A checked map: where each field goes.
#[derive(Debug, Clone)]
pub struct Map {
    /// The sheet to fill (the first when `None`).
    pub sheet: Option<String>,
    /// `(column, row)` (both from 1) → field.
    pub cells: Vec<((u32, u32), String)>,
    /// The template row and its columns.
    pub rows: Option<(u32, Vec<(u32, Column)>)>,
}

/// `AB12` → (28, 12).
pub fn parse_ref(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().replace('$', "");
    let split = s.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = s.split_at(split);
    let col = parse_col(letters)?;
    let row: u32 = digits
        .parse()
        .ok()
        .filter(|r| (1..=1_048_576).contains(r))?;
    Some((col, row))
}

/// `AB` → 28 (at most `XFD`).
pub fn parse_col(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 3 || !s.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let n = s
        .to_ascii_uppercase()
        .bytes()
        .fold(0u32, |n, b| n * 26 + u32::from(b - b'A' + 1));
    (n <= 16_384).then_some(n)
}

/// 28 → `AB`.
pub fn col_name(mut n: u32) -> String {
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn cell_ref(col: u32, row: u32) -> String {
    format!("{}{row}", col_name(col))
}

/// Read and check a map file.
pub fn load_map(file: SourceFile) -> Result<Map> {
    let raw: RawMap = serde_saphyr::from_str_with_options(&file.text, crate::diag::yaml_options())
        .map_err(|e| Error::Yaml {
            file: file.clone(),
            error: Box::new(e),
        })?;
    let mut problems: Vec<Problem> = Vec::new();
    let mut cells = Vec::new();
    let mut problems2 = Vec::new();
    for (at, field) in &raw.cells {
        let loc = span_of(&file, &field.referenced);
        let Some(pos) = parse_ref(at) else {
            problems2.push(Problem::at(
                loc,
                tr!(
                    "`{at}` is not a cell reference",
                    "`{at}` はセル番地ではありません"
                ),
                Some(tr!("write it like C3", "C3 のように書いてください")),
            ));
            continue;
        };
        if !CELL_FIELDS.contains(&field.value.as_str()) {
            problems2.push(unknown(&field.value, loc, &CELL_FIELDS));
            continue;
        }
        cells.push((pos, field.value.clone()));
    }
    let ids: Vec<&str> = Column::ALL.iter().map(|c| c.id()).collect();
    let rows = match raw.rows {
        None => None,
        Some(r) => {
            let start = parse_ref(&r.start.value);
            if start.is_none() {
                let v = &r.start.value;
                problems2.push(Problem::at(
                    span_of(&file, &r.start.referenced),
                    tr!(
                        "`{v}` is not a cell reference",
                        "`{v}` はセル番地ではありません"
                    ),
                    Some(tr!(
                        "write the first cell of the table's template row, like A9",
                        "表のひな形行の先頭セルを A9 のように書いてください"
                    )),
                ));
            }
            let mut cols = Vec::new();
            for (letter, field) in &r.columns {
                let loc = span_of(&file, &field.referenced);
                let Some(c) = parse_col(letter) else {
                    problems2.push(Problem::at(
                        loc,
                        tr!(
                            "`{letter}` is not a column",
                            "`{letter}` は列ではありません"
                        ),
                        Some(tr!(
                            "write a column letter like K",
                            "K のように列の文字を書いてください"
                        )),
                    ));
                    continue;
                };
                match Column::ALL.iter().find(|x| x.id() == field.value) {
                    Some(col) => cols.push((c, *col)),
                    None => problems2.push(unknown(&field.value, loc, &ids)),
                }
            }
            start.map(|(_, row)| (row, cols))
        }
    };
    problems.append(&mut problems2);
    if raw.cells.is_empty()
        && rows.as_ref().is_none_or(|(_, c)| c.is_empty())
        && problems.is_empty()
    {
        problems.push(Problem::at(
            None,
            tr!(
                "the map fills nothing: give `cells` or `rows`",
                "マップに書き込む項目がありません: `cells` か `rows` を書いてください"
            ),
            None,
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid { file, problems });
    }
    Ok(Map {
        sheet: raw.sheet,
        cells,
        rows,
    })
}

fn unknown(value: &str, loc: Option<std::ops::Range<usize>>, known: &[&str]) -> Problem {
    let list = known.join(", ");
    let help = match closest(value, known.iter().copied()) {
        Some(c) => tr!(
            "did you mean `{c}`? fields: {list}",
            "`{c}` の誤りですか? 項目: {list}"
        ),
        None => tr!("fields: {list}", "項目: {list}"),
    };
    Problem::at(
        loc,
        tr!("unknown field `{value}`", "不明な項目 `{value}`"),
        Some(help),
    )
}

/// The value of a single-cell field.
fn cell_value(report: &Report, field: &str) -> String {
    let lang = report.lang;
    let r = &report.request;
    let text = |t: &Option<Text>| t.as_ref().map(|t| super::strip_markdown(t.get(lang)));
    match field {
        "title" => Some(report.title()),
        "kind" => Some(report.kind.text(lang).to_string()),
        "applicant" => text(&r.applicant),
        "department" => text(&r.department),
        "date" => r.date.clone(),
        "planned_date" => r.planned_date.clone(),
        "valid_until" => r.valid_until.clone(),
        "purpose" => text(&r.purpose),
        "site" => Some(report.site.clone()),
        "description" => report.description.clone(),
        "diff_from" => report.diff_from.clone(),
        "count" => Some(report.rows().count().to_string()),
        _ => None,
    }
    .unwrap_or_default()
}

fn bad_form(name: &str, why: Text) -> Error {
    let why_en = why.en;
    let why_ja = why.ja;
    Error::usage(
        tr!(
            "{name}: not a usable Excel form: {why_en}",
            "{name}: 使える Excel の様式ではありません: {why_ja}"
        ),
        Some(tr!(
            "give an .xlsx workbook (Excel 2007 or later; save .xls forms as .xlsx first)",
            ".xlsx のブックを指定してください (Excel 2007 以降。.xls の様式は .xlsx で保存し直してください)"
        )),
    )
}

/// One cell as the sheet has it.
#[derive(Debug, Clone)]
struct Cell {
    col: u32,
    /// Attributes other than `r`, raw (still escaped).
    attrs: Vec<(String, String)>,
    /// The XML between `<c …>` and `</c>`; `None` for `<c …/>`.
    inner: Option<String>,
}

impl Cell {
    fn style(&self) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == "s")
            .map(|(_, v)| v.as_str())
    }

    fn with_text(col: u32, style: Option<&str>, text: &str) -> Cell {
        let mut attrs = Vec::new();
        if let Some(s) = style {
            attrs.push(("s".to_string(), s.to_string()));
        }
        attrs.push(("t".to_string(), "inlineStr".to_string()));
        Cell {
            col,
            attrs,
            inner: Some(format!(
                "<is><t xml:space=\"preserve\">{}</t></is>",
                escape(xml_safe(text))
            )),
        }
    }

    fn write(&self, row: u32, out: &mut String) {
        out.push_str(&format!("<c r=\"{}\"", cell_ref(self.col, row)));
        for (k, v) in &self.attrs {
            out.push_str(&format!(" {k}=\"{v}\""));
        }
        match &self.inner {
            None => out.push_str("/>"),
            Some(i) => {
                out.push('>');
                out.push_str(i);
                out.push_str("</c>");
            }
        }
    }
}

/// Text without the characters XML 1.0 cannot hold (control characters other than tab and
/// line feed), shown as `\x1b` instead.
fn xml_safe(s: &str) -> String {
    let s = s.replace('\r', "");
    if s.chars().all(|c| c == '\t' || c == '\n' || !c.is_control()) {
        return s;
    }
    s.chars()
        .map(|c| {
            if c == '\t' || c == '\n' || !c.is_control() {
                c.to_string()
            } else {
                format!("\\x{:02x}", c as u32)
            }
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Row {
    r: u32,
    /// Attributes other than `r` and `spans`.
    attrs: Vec<(String, String)>,
    cells: Vec<Cell>,
}

impl Row {
    fn write(&self, out: &mut String) {
        out.push_str(&format!("<row r=\"{}\"", self.r));
        for (k, v) in &self.attrs {
            out.push_str(&format!(" {k}=\"{v}\""));
        }
        if self.cells.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        let mut cells = self.cells.clone();
        cells.sort_by_key(|c| c.col);
        for c in &cells {
            c.write(self.r, out);
        }
        out.push_str("</row>");
    }

    fn set(&mut self, cell: Cell) {
        match self.cells.iter_mut().find(|c| c.col == cell.col) {
            Some(c) => *c = cell,
            None => self.cells.push(cell),
        }
    }

    fn set_attr(&mut self, k: &str, v: String) {
        match self.attrs.iter_mut().find(|(a, _)| a == k) {
            Some(a) => a.1 = v,
            None => self.attrs.push((k.to_string(), v)),
        }
    }
}

fn raw_attrs(e: &BytesStart, skip: &[&str]) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let k = a.key.as_ref().to_string();
        if skip.contains(&k.as_str()) {
            continue;
        }
        let v = a.value.to_string();
        out.push((k, v));
    }
    Ok(out)
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            quick_xml::escape::unescape(&a.value)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The parts of a worksheet around its rows and merged cells.
struct Sheet {
    /// Everything before `<sheetData>` (the `<dimension>` element dropped).
    head: String,
    rows: Vec<Row>,
    /// Between `</sheetData>` and `<mergeCells>` (or the end when there are none).
    middle: String,
    merges: Vec<((u32, u32), (u32, u32))>,
    /// After `</mergeCells>`.
    tail: String,
}

fn parse_sheet(xml: &str) -> std::result::Result<Sheet, String> {
    let mut reader = Reader::from_str(xml);
    let mut rows: Vec<Row> = Vec::new();
    let mut merges = Vec::new();
    let (mut data_start, mut data_end) = (None, None);
    let (mut merge_start, mut merge_end) = (None, None);
    let mut dimension: Option<(usize, usize)> = None;
    let mut current: Option<Row> = None;
    let mut cell: Option<(Cell, usize)> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| e.to_string())?;
        let after = reader.buffer_position() as usize;
        let is_start = matches!(ev, Event::Start(_));
        match ev {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e)
                if e.name().as_ref() == "dimension" && data_start.is_none() =>
            {
                dimension = Some((before, after));
            }
            Event::Start(e) if e.name().as_ref() == "sheetData" => data_start = Some(before),
            Event::Empty(e) if e.name().as_ref() == "sheetData" => {
                data_start = Some(before);
                data_end = Some(after);
            }
            Event::End(e) if e.name().as_ref() == "sheetData" => data_end = Some(after),
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "mergeCells" => {
                merge_start = Some(before);
                merge_end = Some(after);
            }
            Event::End(e) if e.name().as_ref() == "mergeCells" => merge_end = Some(after),
            Event::Empty(e) if e.name().as_ref() == "mergeCell" => {
                if let Some(r) = attr(&e, "ref")
                    && let Some((a, b)) = r.split_once(':')
                    && let (Some(a), Some(b)) = (parse_ref(a), parse_ref(b))
                {
                    merges.push((a, b));
                }
            }
            Event::Start(e) | Event::Empty(e)
                if e.name().as_ref() == "row" && data_start.is_some() && data_end.is_none() =>
            {
                let r = attr(&e, "r")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or_else(|| rows.last().map_or(1, |x| x.r + 1));
                let row = Row {
                    r,
                    attrs: raw_attrs(&e, &["r", "spans"])?,
                    cells: Vec::new(),
                };
                if is_start {
                    current = Some(row);
                } else {
                    rows.push(row);
                }
            }
            Event::End(e) if e.name().as_ref() == "row" => {
                if let Some(r) = current.take() {
                    rows.push(r);
                }
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "c" && current.is_some() => {
                let row = current.as_ref().map_or(1, |r| r.r);
                let col = attr(&e, "r")
                    .and_then(|r| parse_ref(&r))
                    .filter(|(_, r)| *r == row)
                    .map(|(c, _)| c)
                    .unwrap_or_else(|| {
                        current
                            .as_ref()
                            .and_then(|r| r.cells.last())
                            .map_or(1, |c| c.col + 1)
                    });
                let c = Cell {
                    col,
                    attrs: raw_attrs(&e, &["r"])?,
                    inner: None,
                };
                if is_start {
                    cell = Some((c, after));
                } else if let Some(r) = current.as_mut() {
                    r.cells.push(c);
                }
            }
            Event::End(e) if e.name().as_ref() == "c" => {
                if let Some((mut c, start)) = cell.take() {
                    c.inner = Some(xml[start..before].to_string());
                    if let Some(r) = current.as_mut() {
                        r.cells.push(c);
                    }
                }
            }
            _ => {}
        }
    }
    let (Some(ds), Some(de)) = (data_start, data_end) else {
        return Err("the sheet has no <sheetData>".into());
    };
    let head = match dimension {
        Some((a, b)) => format!("{}{}", &xml[..a], &xml[b..ds]),
        None => xml[..ds].to_string(),
    };
    let (middle, tail) = match (merge_start, merge_end) {
        (Some(a), Some(b)) if a >= de => (xml[de..a].to_string(), xml[b..].to_string()),
        _ => (xml[de..].to_string(), String::new()),
    };
    rows.sort_by_key(|r| r.r);
    Ok(Sheet {
        head,
        rows,
        middle,
        merges,
        tail,
    })
}

/// Shift row numbers above `after` by `by` in a formula-like reference text
/// (`'申請書'!$A$1:$K$30`): every `$?LETTERS$?DIGITS` token not inside quotes.
fn shift_refs(text: &str, after: u32, by: u32) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            quoted = !quoted;
            out.push(c);
            i += 1;
            continue;
        }
        let prev_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if !quoted && prev_ok && (c == '$' || c.is_ascii_alphabetic()) {
            let mut j = i;
            if chars[j] == '$' {
                j += 1;
            }
            let ls = j;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            let le = j;
            if j < chars.len() && chars[j] == '$' {
                j += 1;
            }
            let ds = j;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let next_ok = j >= chars.len() || !(chars[j].is_alphanumeric() || chars[j] == '_');
            if (1..=3).contains(&(le - ls)) && j > ds && next_ok {
                let row: u32 = chars[ds..j].iter().collect::<String>().parse().unwrap_or(0);
                out.extend(&chars[i..ds]);
                let row = if row > after { row + by } else { row };
                out.push_str(&row.to_string());
                i = j;
                continue;
            }
            out.extend(&chars[i..j.max(i + 1)]);
            i = j.max(i + 1);
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The sheet's part path and its index among the sheets, from `workbook.xml` and its rels.
fn find_sheet(
    workbook: &str,
    rels: &str,
    wanted: Option<&str>,
) -> std::result::Result<(String, usize, String), Text> {
    let mut names = Vec::new();
    let mut reader = Reader::from_str(workbook);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Empty(e)) | Ok(Event::Start(e)) if e.name().as_ref() == "sheet" => {
                let name = attr(&e, "name").unwrap_or_default();
                let rid = attr(&e, "r:id").unwrap_or_default();
                names.push((name, rid));
            }
            Ok(_) => {}
            Err(e) => return Err(tr!("workbook.xml: {e}", "workbook.xml: {e}")),
        }
    }
    let index = match wanted {
        None => 0,
        Some(w) => match names.iter().position(|(n, _)| n == w) {
            Some(i) => i,
            None => {
                let list = names
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(tr!(
                    "it has no sheet `{w}` (sheets: {list})",
                    "シート `{w}` がありません (シート: {list})"
                ));
            }
        },
    };
    let Some((name, rid)) = names.get(index).cloned() else {
        return Err(tr!("it has no sheets", "シートがありません"));
    };
    let mut reader = Reader::from_str(rels);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Empty(e)) | Ok(Event::Start(e)) if e.name().as_ref() == "Relationship" => {
                if attr(&e, "Id").as_deref() == Some(rid.as_str()) {
                    let target = attr(&e, "Target").unwrap_or_default();
                    let path = match target.strip_prefix('/') {
                        Some(abs) => abs.to_string(),
                        None => format!("xl/{target}"),
                    };
                    return Ok((path, index, name));
                }
            }
            Ok(_) => {}
            Err(e) => return Err(tr!("workbook.xml.rels: {e}", "workbook.xml.rels: {e}")),
        }
    }
    Err(tr!(
        "sheet `{name}` has no part",
        "シート `{name}` の本体がありません"
    ))
}

/// Shift the print area and other names local to sheet `index` (or naming it).
fn shift_defined_names(workbook: &str, index: usize, sheet: &str, after: u32, by: u32) -> String {
    if by == 0 {
        return workbook.to_string();
    }
    let mut out = String::new();
    let mut rest = workbook;
    while let Some(i) = rest.find("<definedName ") {
        let Some(gt) = rest[i..].find('>') else { break };
        let Some(end) = rest[i..].find("</definedName>") else {
            break;
        };
        let open = &rest[i..i + gt + 1];
        let body = &rest[i + gt + 1..i + end];
        let local = open.contains(&format!("localSheetId=\"{index}\""));
        let names_it = body.contains(&format!("{sheet}!")) || body.contains(&format!("{sheet}'!"));
        out.push_str(&rest[..i]);
        out.push_str(open);
        if local || names_it {
            out.push_str(&shift_refs(body, after, by));
        } else {
            out.push_str(body);
        }
        rest = &rest[i + end..];
    }
    out.push_str(rest);
    out
}

/// Fill the form `template` (the bytes of an .xlsx, named `name` in messages) from `report`.
pub fn fill(template: &[u8], name: &str, map: &Map, report: &Report) -> Result<Vec<u8>> {
    let bad = |why: Text| bad_form(name, why);
    let mut zip = zip::ZipArchive::new(Cursor::new(template)).map_err(|e| {
        bad(tr!(
            "not a ZIP package ({e})",
            "ZIP パッケージではありません ({e})"
        ))
    })?;
    let mut read = |path: &str| -> Result<String> {
        let mut f = zip
            .by_name(path)
            .map_err(|_| bad(tr!("it has no {path}", "{path} がありません")))?;
        if f.size() > 64 << 20 {
            return Err(bad(tr!("{path} is too large", "{path} が大きすぎます")));
        }
        let mut s = String::new();
        f.read_to_string(&mut s)
            .map_err(|e| bad(tr!("{path}: {e}", "{path}: {e}")))?;
        Ok(s)
    };
    let workbook = read("xl/workbook.xml")?;
    let rels = read("xl/_rels/workbook.xml.rels")?;
    let (sheet_path, index, sheet_name) =
        find_sheet(&workbook, &rels, map.sheet.as_deref()).map_err(&bad)?;
    let sheet_xml = read(&sheet_path)?;
    let mut sheet = parse_sheet(&sheet_xml).map_err(|e| {
        bad(tr!(
            "{sheet_path} is not a worksheet ({e})",
            "{sheet_path} はワークシートではありません ({e})"
        ))
    })?;

    // Single cells first (their rows may move below).
    for ((col, row), field) in &map.cells {
        let value = cell_value(report, field);
        let i = match sheet.rows.iter().position(|r| r.r == *row) {
            Some(i) => i,
            None => {
                sheet.rows.push(Row {
                    r: *row,
                    attrs: Vec::new(),
                    cells: Vec::new(),
                });
                sheet.rows.len() - 1
            }
        };
        let r = &mut sheet.rows[i];
        let style = r
            .cells
            .iter()
            .find(|c| c.col == *col)
            .and_then(|c| c.style().map(str::to_string));
        r.set(Cell::with_text(*col, style.as_deref(), &value));
        let lines = value.lines().count().max(1);
        if lines > 1 {
            let ht = r
                .attrs
                .iter()
                .find(|(k, _)| k == "ht")
                .and_then(|(_, v)| v.parse::<f64>().ok())
                .unwrap_or(15.0);
            r.set_attr("ht", format!("{}", ht.max(lines as f64 * 15.0)));
            r.set_attr("customHeight", "1".into());
        }
    }
    sheet.rows.sort_by_key(|r| r.r);

    let mut workbook_out = workbook.clone();
    if let Some((start, cols)) = &map.rows {
        let start = *start;
        let data: Vec<&super::Row> = report.rows().collect();
        let n = data.len() as u32;
        let extra = n.saturating_sub(1);
        let template_row = sheet
            .rows
            .iter()
            .find(|r| r.r == start)
            .cloned()
            .unwrap_or(Row {
                r: start,
                attrs: Vec::new(),
                cells: Vec::new(),
            });
        let row_merges: Vec<((u32, u32), (u32, u32))> = sheet
            .merges
            .iter()
            .filter(|(a, b)| a.1 == start && b.1 == start)
            .copied()
            .collect();
        // Move the form's rows below the template row down.
        let mut rows: Vec<Row> = Vec::new();
        for mut r in std::mem::take(&mut sheet.rows) {
            if r.r == start {
                continue;
            }
            if r.r > start {
                r.r += extra;
            }
            rows.push(r);
        }
        let mut merges = Vec::new();
        for (a, b) in &sheet.merges {
            if a.1 == start && b.1 == start {
                continue;
            }
            let shift = |p: (u32, u32)| if p.1 > start { (p.0, p.1 + extra) } else { p };
            merges.push((shift(*a), shift(*b)));
        }
        let base_ht = template_row
            .attrs
            .iter()
            .find(|(k, _)| k == "ht")
            .and_then(|(_, v)| v.parse::<f64>().ok());
        let lang = report.lang;
        for i in 0..n.max(1) {
            let rn = start + i;
            let mut row = template_row.clone();
            row.r = rn;
            // Cells of the template row keep their style and lose their value.
            for c in &mut row.cells {
                let keep: Vec<(String, String)> =
                    c.attrs.iter().filter(|(k, _)| k == "s").cloned().collect();
                c.attrs = keep;
                c.inner = None;
            }
            let mut lines = 1;
            if let Some(d) = data.get(i as usize) {
                for (col, column) in cols {
                    let text = d.cell(*column, lang);
                    lines = lines.max(text.lines().count());
                    let style = row
                        .cells
                        .iter()
                        .find(|c| c.col == *col)
                        .and_then(|c| c.style().map(str::to_string));
                    row.set(Cell::with_text(*col, style.as_deref(), &text));
                }
            }
            if lines > 1 {
                row.set_attr(
                    "ht",
                    format!("{}", base_ht.unwrap_or(15.0).max(lines as f64 * 15.0)),
                );
                row.set_attr("customHeight", "1".into());
            }
            rows.push(row);
            for (a, b) in &row_merges {
                merges.push(((a.0, rn), (b.0, rn)));
            }
        }
        rows.sort_by_key(|r| r.r);
        sheet.rows = rows;
        sheet.merges = merges;
        workbook_out = shift_defined_names(&workbook, index, &sheet_name, start, extra);
    }

    // The sheet again.
    let mut xml = sheet.head.clone();
    xml.push_str("<sheetData>");
    for r in &sheet.rows {
        r.write(&mut xml);
    }
    xml.push_str("</sheetData>");
    xml.push_str(&sheet.middle);
    if !sheet.merges.is_empty() {
        xml.push_str(&format!("<mergeCells count=\"{}\">", sheet.merges.len()));
        for (a, b) in &sheet.merges {
            xml.push_str(&format!(
                "<mergeCell ref=\"{}:{}\"/>",
                cell_ref(a.0, a.1),
                cell_ref(b.0, b.1)
            ));
        }
        xml.push_str("</mergeCells>");
    }
    xml.push_str(&sheet.tail);
    let xml = fix_merge_position(xml, !sheet.merges.is_empty());

    // A new package: every other part copied raw; the sheet and the workbook replaced;
    // the calculation chain (cell positions of formulas) dropped, Excel rebuilds it.
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let werr = |e: zip::result::ZipError| {
        Error::usage(
            tr!(
                "cannot write the filled form: {e}",
                "記入した様式を書き出せません: {e}"
            ),
            None,
        )
    };
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| {
            bad(tr!(
                "damaged package ({e})",
                "パッケージが壊れています ({e})"
            ))
        })?;
        let path = f.name().map(|n| n.to_string()).unwrap_or_default();
        if path == sheet_path || path == "xl/workbook.xml" || path == "xl/calcChain.xml" {
            continue;
        }
        out.raw_copy_file(f).map_err(werr)?;
    }
    out.start_file(&sheet_path, opts).map_err(werr)?;
    out.write_all(xml.as_bytes()).map_err(|e| werr(e.into()))?;
    out.start_file("xl/workbook.xml", opts).map_err(werr)?;
    out.write_all(workbook_out.as_bytes())
        .map_err(|e| werr(e.into()))?;
    let bytes = out.finish().map_err(werr)?.into_inner();
    // Drop calcChain's references when it was there.
    drop_calc_chain(bytes)
}

/// `<mergeCells>` sits right after `</sheetData>` plus the elements the schema puts between
/// (sheetCalcPr, sheetProtection, protectedRanges, scenarios, autoFilter, sortState,
/// dataConsolidate, customSheetViews); when the form had none, ours goes after those.
fn fix_merge_position(xml: String, has_merges: bool) -> String {
    if !has_merges {
        return xml;
    }
    let Some(ms) = xml.find("<mergeCells ") else {
        return xml;
    };
    let Some(me) = xml[ms..]
        .find("</mergeCells>")
        .map(|e| ms + e + "</mergeCells>".len())
    else {
        return xml;
    };
    let merges = xml[ms..me].to_string();
    let without = format!("{}{}", &xml[..ms], &xml[me..]);
    let Some(de) = without
        .find("</sheetData>")
        .map(|i| i + "</sheetData>".len())
    else {
        return xml;
    };
    // Elements allowed between sheetData and mergeCells, in order.
    const BEFORE: [&str; 8] = [
        "sheetCalcPr",
        "sheetProtection",
        "protectedRanges",
        "scenarios",
        "autoFilter",
        "sortState",
        "dataConsolidate",
        "customSheetViews",
    ];
    let mut reader = Reader::from_str(&without[de..]);
    let mut depth = 0;
    let pos;
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 && !BEFORE.contains(&local(e.name().as_ref()).as_str()) {
                    pos = de + before;
                    break;
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => {
                if depth == 0 && !BEFORE.contains(&local(e.name().as_ref()).as_str()) {
                    pos = de + before;
                    break;
                }
            }
            Ok(Event::End(_)) => {
                if depth == 0 {
                    // </worksheet>
                    pos = de + before;
                    break;
                }
                depth -= 1;
            }
            Ok(Event::Eof) | Err(_) => {
                pos = without.len();
                break;
            }
            Ok(_) => {}
        }
    }
    format!("{}{}{}", &without[..pos], merges, &without[pos..])
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or_default().to_string()
}

/// Remove `xl/calcChain.xml` from `[Content_Types].xml` and the workbook's rels (the part
/// itself was not copied).
fn drop_calc_chain(bytes: Vec<u8>) -> Result<Vec<u8>> {
    let mut zip = match zip::ZipArchive::new(Cursor::new(bytes.clone())) {
        Ok(z) => z,
        Err(_) => return Ok(bytes),
    };
    let mut needs = false;
    for name in ["[Content_Types].xml", "xl/_rels/workbook.xml.rels"] {
        if let Ok(mut f) = zip.by_name(name) {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            needs |= s.contains("calcChain");
        }
    }
    if !needs {
        return Ok(bytes);
    }
    let werr = |e: zip::result::ZipError| {
        Error::usage(
            tr!(
                "cannot write the filled form: {e}",
                "記入した様式を書き出せません: {e}"
            ),
            None,
        )
    };
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zip.len() {
        let name = zip
            .by_index_raw(i)
            .map_err(werr)?
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        if name == "[Content_Types].xml" || name == "xl/_rels/workbook.xml.rels" {
            let mut s = String::new();
            zip.by_index(i)
                .map_err(werr)?
                .read_to_string(&mut s)
                .map_err(|e| werr(e.into()))?;
            let s = remove_elements_with(&s, "calcChain");
            out.start_file(&name, opts).map_err(werr)?;
            out.write_all(s.as_bytes()).map_err(|e| werr(e.into()))?;
        } else {
            out.raw_copy_file(zip.by_index_raw(i).map_err(werr)?)
                .map_err(werr)?;
        }
    }
    Ok(out.finish().map_err(werr)?.into_inner())
}

/// `xml` without the empty elements (`<… />`) that mention `word`.
fn remove_elements_with(xml: &str, word: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        let Some(e) = rest[i..].find('>') else { break };
        let el = &rest[i..i + e + 1];
        out.push_str(&rest[..i]);
        if !(el.ends_with("/>") && el.contains(word)) {
            out.push_str(el);
        }
        rest = &rest[i + e + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_print() {
        assert_eq!(parse_ref("A1"), Some((1, 1)));
        assert_eq!(parse_ref("$AB$12"), Some((28, 12)));
        assert_eq!(parse_ref("XFD1048576"), Some((16_384, 1_048_576)));
        assert_eq!(parse_ref("XFE1"), None);
        assert_eq!(parse_ref("A0"), None);
        assert_eq!(parse_ref("12"), None);
        assert_eq!(col_name(28), "AB");
        assert_eq!(col_name(16_384), "XFD");
    }

    #[test]
    fn print_area_rows_below_the_table_move() {
        assert_eq!(
            shift_refs("'申請書'!$A$1:$K$30", 9, 5),
            "'申請書'!$A$1:$K$35"
        );
        assert_eq!(shift_refs("申請書!$A$1:$K$9", 9, 5), "申請書!$A$1:$K$9");
        assert_eq!(shift_refs("'A1 sheet'!B20", 9, 1), "'A1 sheet'!B21");
    }

    #[test]
    fn sheet_xml_round_trips_cells_and_merges() {
        let xml = r#"<?xml version="1.0"?><worksheet xmlns="x"><dimension ref="A1:C3"/><sheetData><row r="1" spans="1:3" ht="20" customHeight="1"><c r="A1" s="3" t="s"><v>0</v></c><c r="B1" s="4"/></row><row r="3"><c r="C3" s="5"><f>A1</f><v>1</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="A3:B3"/></mergeCells><pageSetup paperSize="9"/></worksheet>"#;
        let s = parse_sheet(xml).unwrap();
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[0].cells[0].inner.as_deref(), Some("<v>0</v>"));
        assert_eq!(s.rows[0].cells[1].style(), Some("4"));
        assert_eq!(s.merges, [((1, 3), (2, 3))]);
        assert!(s.tail.contains("pageSetup"));
        assert!(!s.head.contains("dimension"));
    }
}
