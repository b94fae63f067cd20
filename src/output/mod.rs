//! Presentation: turning typed results into tables, Markdown, CSV and JSON.
//!
//! Nothing here computes an answer; every function takes a finished result (for example a
//! [`crate::flows::PortsReport`]) and a [`Lang`](crate::i18n::Lang). Tables use ASCII borders on
//! purpose: box-drawing characters are "ambiguous width" in East Asian fonts and misalign in
//! Japanese terminals. Wording shared with the report model is in [`crate::text`].

pub mod audit;
pub mod catalog;
pub mod explain;
pub mod plan;
pub mod ports;
pub mod verify;

use comfy_table::{ContentArrangement, Table, presets};

/// Output format of data-printing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable table.
    #[default]
    Table,
    /// JSON (stable schema, see README).
    Json,
    /// CSV, one row per port range.
    Csv,
    /// Markdown, for tickets and wikis.
    Md,
}

/// A table with the project's style. `wrap`: fit it to the terminal's width, which the front
/// end decides (the CLI: when stdout is a terminal); otherwise rows never wrap.
pub fn new_table(header: Vec<String>, wrap: bool) -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_FULL_CONDENSED);
    if wrap {
        t.set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    t.set_header(header);
    t
}

/// Escape a cell for a Markdown table (control characters made visible, see
/// [`crate::escape`]).
pub fn md_cell(s: &str) -> String {
    crate::escape::escape_controls(s)
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

/// A table row with every cell's control characters made visible ([`crate::escape`]), so a
/// name cannot move the cursor, clear the screen or break the table's alignment.
pub fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> Vec<String> {
    cells
        .into_iter()
        .map(|c| crate::escape::escape_controls(c.as_ref()).into_owned())
        .collect()
}

/// A Markdown table.
pub fn md_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "| {} |\n",
        header
            .iter()
            .map(|h| md_cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for r in rows {
        out.push_str(&format!(
            "| {} |\n",
            r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out
}

/// CSV text from a header and rows. Every field goes through [`crate::escape::csv_cell`]:
/// control characters made visible, and a field a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@`, tab, CR first) starts with `'`.
pub fn csv_text(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let safe = |r: &[String]| -> Vec<String> {
        r.iter()
            .map(|c| crate::escape::csv_cell(c).into_owned())
            .collect()
    };
    // Writing to a Vec cannot fail.
    let _ = w.write_record(safe(header));
    for r in rows {
        let _ = w.write_record(safe(r));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
