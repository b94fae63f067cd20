//! From a [`Grid`] to table records: the header's columns, rows whose leading cells are
//! missing (continuations of the row above), ditto marks.

use std::collections::BTreeMap;

use crate::i18n::Text;
use crate::tr;

use super::cells::{fold_width, is_ditto};
use super::read::Grid;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Col {
    /// What the connection is for.
    Purpose,
    /// Initiating side.
    From,
    /// Accepting side.
    To,
    /// The other host, when the table is about one subject (`通信先ホスト`).
    Peer,
    /// Protocol.
    Protocol,
    /// Port(s), possibly with the protocol.
    Port,
    /// Direction words.
    Direction,
    /// Notes.
    Notes,
}

/// The column a header cell names, if any.
pub fn classify(header: &str) -> Option<Col> {
    let h = fold_width(header).to_lowercase().replace([' ', '\n'], "");
    let has = |ws: &[&str]| ws.iter().any(|w| h.contains(w));
    if h.is_empty() || h.chars().count() > 24 {
        return None;
    }
    if has(&["ポート", "port"]) {
        return Some(Col::Port);
    }
    if has(&["プロトコル", "protocol", "proto"]) {
        return Some(Col::Protocol);
    }
    if has(&[
        "受/送信",
        "送受信",
        "方向",
        "direction",
        "受信/送信",
        "in/out",
    ]) {
        return Some(Col::Direction);
    }
    if has(&[
        "接続元",
        "送信元",
        "通信元",
        "発信元",
        "source",
        "from",
        "src",
        "initiator",
    ]) {
        return Some(Col::From);
    }
    if has(&["通信先ホスト", "相手", "peer", "remote", "対向", "host"]) {
        return Some(Col::Peer);
    }
    if has(&[
        "接続先",
        "送信先",
        "宛先",
        "通信先",
        "destination",
        "dest",
        "to",
        "dst",
        "target",
    ]) {
        return Some(Col::To);
    }
    if has(&[
        "備考",
        "補足",
        "注記",
        "注意",
        "note",
        "remark",
        "comment",
        "条件",
        "condition",
    ]) {
        return Some(Col::Notes);
    }
    if has(&[
        "内容",
        "用途",
        "目的",
        "機能",
        "purpose",
        "service",
        "description",
        "説明",
        "name",
        "名称",
        "usage",
        "function",
    ]) {
        return Some(Col::Purpose);
    }
    None
}

/// The header row: its index and each column's kind. A header names a port column and at
/// least one other known column.
pub fn find_header(grid: &Grid) -> Option<(usize, Vec<Option<Col>>)> {
    for (i, row) in grid.rows.iter().enumerate().take(200) {
        let kinds: Vec<Option<Col>> = row.cells.iter().map(|c| classify(c)).collect();
        let known = kinds.iter().flatten().count();
        if kinds.contains(&Some(Col::Port))
            && known >= 2
            && known * 2 >= row.cells.iter().filter(|c| !c.is_empty()).count()
        {
            return Some((i, kinds));
        }
    }
    None
}

/// One data row of the table.
#[derive(Debug, Clone)]
pub struct Record {
    /// Data row number, from 1.
    pub row: u32,
    /// Source lines.
    pub lines: Option<(u32, u32)>,
    /// Cell text per column kind (several notes columns joined).
    pub cells: BTreeMap<Col, String>,
    /// The row whose leading cells this one continues (itself when complete).
    pub group: u32,
    /// Columns copied from the row above (missing or ditto).
    pub inherited: Vec<Col>,
}

impl Record {
    /// The text of a column ("" when absent).
    pub fn get(&self, c: Col) -> &str {
        self.cells.get(&c).map_or("", String::as_str)
    }
}

/// A remark on how a row was read, for the review list.
#[derive(Debug, Clone)]
pub struct Remark {
    /// Data row.
    pub row: u32,
    /// Source lines.
    pub lines: Option<(u32, u32)>,
    /// Kind id (`ditto`, `continuation`).
    pub kind: &'static str,
    /// The text read.
    pub quote: String,
    /// What to check.
    pub check: Text,
}

const INHERITED: [Col; 7] = [
    Col::Purpose,
    Col::From,
    Col::To,
    Col::Peer,
    Col::Protocol,
    Col::Port,
    Col::Direction,
];

/// Records of the grid under its header.
pub fn records(grid: &Grid, header: usize, kinds: &[Option<Col>]) -> (Vec<Record>, Vec<Remark>) {
    let port_col = kinds
        .iter()
        .position(|k| *k == Some(Col::Port))
        .unwrap_or(0);
    let mut out: Vec<Record> = Vec::new();
    let mut remarks = Vec::new();
    for gr in &grid.rows[header + 1..] {
        let mut cells: Vec<String> = gr.cells.clone();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        // A row whose port cell sits left of the header's port column lacks leading cells.
        let found = if cells.get(port_col).is_some_and(|c| looks_like_ports(c)) {
            Some(port_col)
        } else {
            cells.iter().position(|c| looks_like_ports(c))
        };
        let filled = cells.iter().filter(|c| !c.is_empty()).count();
        let found = match found {
            Some(f) if f <= port_col => f,
            // A row as wide as the header whose port cell did not parse: kept, so the builder
            // reports the cell.
            _ if filled >= 2 && cells.len() + 1 >= kinds.len() => port_col,
            _ => {
                remarks.push(Remark {
                    row: out.len() as u32,
                    lines: gr.lines,
                    kind: "skipped",
                    quote: cells.join(" | "),
                    check: tr!(
                        "a line under the header without a port was skipped",
                        "ヘッダーの下にあるポートのない行を読み飛ばしました"
                    ),
                });
                continue;
            }
        };
        let shift = port_col.saturating_sub(found);
        let mut aligned = vec![String::new(); shift];
        aligned.extend(cells);
        let row = out.len() as u32 + 1;
        let mut rec = Record {
            row,
            lines: gr.lines,
            cells: BTreeMap::new(),
            group: row,
            inherited: Vec::new(),
        };
        for (i, text) in aligned.iter().enumerate() {
            let Some(Some(kind)) = kinds.get(i) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            let entry = rec.cells.entry(*kind).or_default();
            if !entry.is_empty() {
                entry.push('\n');
            }
            entry.push_str(text);
        }
        let prev = out.last();
        let mut missing_leading = false;
        for col in INHERITED {
            if !kinds.contains(&Some(col)) {
                continue;
            }
            let text = rec.get(col).to_string();
            let Some(p) = prev else { continue };
            if is_ditto(&text) {
                rec.cells.insert(col, p.get(col).to_string());
                rec.inherited.push(col);
                remarks.push(Remark {
                    row,
                    lines: gr.lines,
                    kind: "ditto",
                    quote: text.clone(),
                    check: tr!(
                        "`{text}` read as the cell above: `{}`",
                        "`{text}` を上のセルと同じ `{}` と読みました",
                        p.get(col).replace('\n', " / ")
                    ),
                });
            } else if text.is_empty() && !p.get(col).is_empty() {
                rec.cells.insert(col, p.get(col).to_string());
                rec.inherited.push(col);
                if col == Col::Purpose {
                    missing_leading = true;
                }
            }
        }
        if missing_leading {
            rec.group = prev.map_or(row, |p| p.group);
        }
        out.push(rec);
    }
    // One remark per run of continuation rows.
    let mut i = 0;
    while i < out.len() {
        let g = out[i].group;
        let mut j = i;
        while j + 1 < out.len() && out[j + 1].group == g && out[j + 1].row != g {
            j += 1;
        }
        if j > i || out[i].row != g {
            let first = out[i].row.max(g + 1);
            let last = out[j].row;
            if first <= last {
                let cols: Vec<&str> = out[j].inherited.iter().map(|c| col_name(*c)).collect();
                remarks.push(Remark {
                    row: first,
                    lines: out[(first - 1) as usize].lines,
                    kind: "continuation",
                    quote: out[(g - 1) as usize].get(Col::Purpose).to_string(),
                    check: if first == last {
                        tr!(
                            "row {first} lacks cells; read as continuing row {g} ({})",
                            "{first} 行目はセルが欠けているため、{g} 行目の続き ({}) と読みました",
                            cols.join(", ")
                        )
                    } else {
                        tr!(
                            "rows {first}-{last} lack their leading cells; read as continuing row {g} ({})",
                            "{first}～{last} 行目は先頭のセルがないため、{g} 行目の続き ({}) と読みました",
                            cols.join(", ")
                        )
                    },
                });
            }
        }
        i = j + 1;
    }
    (out, remarks)
}

fn col_name(c: Col) -> &'static str {
    match c {
        Col::Purpose => "purpose",
        Col::From => "from",
        Col::To => "to",
        Col::Peer => "peer",
        Col::Protocol => "protocol",
        Col::Port => "port",
        Col::Direction => "direction",
        Col::Notes => "notes",
    }
}

/// Whether a cell holds a port spec (at least one port, or `any`).
pub fn looks_like_ports(cell: &str) -> bool {
    super::portspec::parse(cell).is_ok_and(|s| s.has_ports())
}
