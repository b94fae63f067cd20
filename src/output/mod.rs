//! Presentation: turning typed results into tables, Markdown, CSV and JSON.
//!
//! Nothing here computes an answer; every function takes a finished result (for example a
//! [`crate::flows::PortsReport`]) and a [`Lang`]. Tables use ASCII borders on purpose: box-drawing
//! characters are "ambiguous width" in East Asian fonts and misalign in Japanese terminals.

pub mod audit;
pub mod catalog;
pub mod explain;
pub mod plan;
pub mod ports;
pub mod verify;

use std::io::IsTerminal;

use comfy_table::{ContentArrangement, Table, presets};

use crate::i18n::Lang;

/// Output format of data-printing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
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

/// A table with the project's style; wraps to the terminal width only on a terminal.
pub fn new_table(header: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
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

/// `Always`/`常に` for the trivial condition, else the conditions joined with `and`.
pub fn because_text(because: &[String], lang: Lang) -> String {
    if because.len() == 1 && because[0] == "always" {
        lang.pick("always", "常に").to_string()
    } else {
        because.join(" and ")
    }
}

/// Severity label.
pub fn severity_text(s: crate::catalog::Severity, lang: Lang) -> &'static str {
    use crate::catalog::Severity::*;
    match s {
        Info => lang.pick("info", "情報"),
        Warning => lang.pick("WARNING", "警告"),
        Critical => lang.pick("CRITICAL", "重大"),
    }
}
