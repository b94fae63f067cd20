//! `portplan import`: a vendor's port table (Markdown, CSV/TSV, XLSX, HTML, flattened text) to
//! a draft catalog in the current schema, and a review list of every guess made on the way.
//!
//! Stages: [`read`] decodes the bytes and reads a grid of cells per format ([`flat`] for text
//! copied from a web page without separators); [`table`] finds the header's columns and the
//! records (continuation rows, ditto marks); [`build`] turns records into the literal draft
//! ([`draft`]) and proposes interpretations as review items ([`review`]) whose edits
//! `--apply-review` applies. Cells go through [`cells`], [`portspec`] and [`direction`].
//! Importing is deterministic: the same bytes give the same draft and the same item ids.

pub mod build;
pub mod cells;
pub mod direction;
pub mod draft;
pub mod flat;
pub mod portspec;
pub mod read;
pub mod review;
pub mod table;

use crate::diag::{Error, SourceFile};
use crate::i18n::Text;
use crate::tr;

pub use review::{Decision, Item, Review};

/// Words conditions reserve; never an id.
pub const RESERVED: [&str; 7] = ["and", "or", "not", "in", "always", "true", "false"];

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// From the content and the file name.
    Auto,
    /// Markdown pipe table.
    Md,
    /// Comma-separated.
    Csv,
    /// Tab-separated.
    Tsv,
    /// Excel workbook.
    Xlsx,
    /// HTML page.
    Html,
    /// Flattened text (`|`-separated lines, or cells on lines).
    Text,
}

/// Why an input cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// Binary or undecodable content at a byte offset.
    NotText {
        /// Byte offset.
        offset: usize,
    },
    /// Nothing to read.
    Empty,
    /// No table with a port column.
    NoTable,
    /// The format's parser failed.
    Malformed {
        /// Line (0 when unknown).
        line: u32,
        /// The parser's message.
        what: String,
    },
    /// `--sheet` names no sheet.
    NoSheet {
        /// Asked for.
        sheet: String,
        /// Present.
        sheets: Vec<String>,
    },
    /// Beyond the importer's bounds.
    TooLarge,
}

impl ImportError {
    /// The message, naming the file.
    pub fn to_error(&self, name: &str) -> Error {
        let (msg, help): (Text, Option<Text>) = match self {
            ImportError::NotText { offset } => (
                tr!(
                    "{name}: not a text table (binary or unknown encoding at byte {offset})",
                    "{name}: テキストの表ではありません ({offset} バイト目がバイナリか不明な文字コード)"
                ),
                Some(tr!(
                    "give a Markdown, CSV/TSV (UTF-8 or Shift_JIS), HTML or XLSX file, or --format",
                    "Markdown・CSV/TSV (UTF-8 か Shift_JIS)・HTML・XLSX のファイルを指定するか、--format を指定してください"
                )),
            ),
            ImportError::Empty => (
                tr!("{name}: the file is empty", "{name}: ファイルが空です"),
                None,
            ),
            ImportError::NoTable => (
                tr!(
                    "{name}: no port table found: no header row names a port column",
                    "{name}: ポートの表が見つかりません: ポートの列を示すヘッダー行がありません"
                ),
                Some(tr!(
                    "the header needs a column such as `ポート`/`port` and one such as `接続元`, `接続先`, `プロトコル` or `備考`",
                    "ヘッダーには `ポート`/`port` のような列と、`接続元`・`接続先`・`プロトコル`・`備考` のような列が必要です"
                )),
            ),
            ImportError::Malformed { line, what } => (
                if *line > 0 {
                    tr!(
                        "{name}:{line}: cannot read the table: {what}",
                        "{name}:{line}: 表を読めません: {what}"
                    )
                } else {
                    tr!(
                        "{name}: cannot read the table: {what}",
                        "{name}: 表を読めません: {what}"
                    )
                },
                None,
            ),
            ImportError::NoSheet { sheet, sheets } => {
                let list = sheets.join(", ");
                (
                    tr!(
                        "{name}: no sheet `{sheet}`",
                        "{name}: シート `{sheet}` がありません"
                    ),
                    Some(tr!("sheets: {list}", "シート: {list}")),
                )
            }
            ImportError::TooLarge => (
                tr!(
                    "{name}: the table is too large to import",
                    "{name}: 表が大きすぎます"
                ),
                None,
            ),
        };
        Error::usage(msg, help)
    }
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The file's name (for messages and the source citation).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Format (`Auto` detects).
    pub format: Format,
    /// Product id of the draft.
    pub product: Option<String>,
    /// XLSX sheet.
    pub sheet: Option<String>,
    /// The table's subject, for 受信/送信 (default: found in the text above the table).
    pub subject: Option<String>,
    /// A review whose accepted items to apply.
    pub apply: Option<Review>,
}

/// The result.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The draft catalog's YAML (it passes `catalog check`).
    pub yaml: String,
    /// The review list of the literal draft.
    pub review: Review,
    /// How many review items were applied.
    pub applied: usize,
}

/// Import a table.
pub fn import(req: &ImportRequest) -> Result<Imported, Error> {
    let name = crate::escape::escape_line(&req.name).into_owned();
    let doc = std::path::Path::new(&req.name)
        .file_name()
        .map_or_else(|| "stdin".to_string(), |f| f.to_string_lossy().to_string());
    let err = |e: ImportError| e.to_error(&name);
    if req.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(err(ImportError::Empty));
    }
    let format = match req.format {
        Format::Auto => read::detect(&req.name, &req.bytes),
        f => f,
    };
    let grid = match format {
        Format::Xlsx => read::xlsx(&req.bytes, req.sheet.as_deref()).map_err(err)?,
        f => {
            let text = read::decode(&req.bytes).map_err(err)?;
            match f {
                Format::Csv => read::csv(&text, b',').map_err(err)?,
                Format::Tsv => read::csv(&text, b'\t').map_err(err)?,
                Format::Html => read::html(&text).map_err(err)?,
                Format::Md => read::pipes(&text),
                _ => {
                    let piped = text.lines().filter(|l| l.matches('|').count() >= 2).count();
                    if piped >= 2 {
                        read::pipes(&text)
                    } else {
                        flat::read(&text).ok_or_else(|| err(ImportError::NoTable))?
                    }
                }
            }
        }
    };
    let (h, kinds) = table::find_header(&grid).ok_or_else(|| err(ImportError::NoTable))?;
    let (recs, remarks) = table::records(&grid, h, &kinds);
    if recs.is_empty() {
        return Err(err(ImportError::NoTable));
    }
    let guesses: Vec<(u32, String, Text)> = grid
        .guesses
        .iter()
        .filter_map(|(gi, q, t)| {
            let lines = grid.rows.get(*gi)?.lines;
            let rec = recs.iter().find(|r| r.lines == lines)?;
            Some((rec.row, q.clone(), t.clone()))
        })
        .collect();
    let product = match &req.product {
        Some(p) => p.clone(),
        None => "imported".to_string(),
    };
    let preamble: Vec<String> = grid
        .preamble
        .iter()
        .chain(grid.rows[..h].iter().flat_map(|r| r.cells.iter()))
        .cloned()
        .collect();
    let input = build::BuildInput {
        product,
        doc,
        preamble: &preamble,
        subject: req.subject.clone(),
    };
    let (mut draft, items) = build::build(&recs, &remarks, &guesses, &input);
    let digest = review::digest(&req.bytes);
    let review = Review {
        source: input.doc.clone(),
        digest: digest.clone(),
        items,
    };
    let mut applied = 0;
    if let Some(r) = &req.apply {
        if r.digest != digest {
            return Err(Error::usage(
                tr!(
                    "{name}: the review list was made for another version of this file",
                    "{name}: この確認リストは別の版のファイルのものです"
                ),
                Some(tr!(
                    "import the file again with --review to get a fresh list",
                    "--review を付けて取り込み直し、新しい確認リストを作ってください"
                )),
            ));
        }
        for it in r.items.iter().filter(|i| i.decision == Decision::Accept) {
            for e in &it.edits {
                draft.apply(e).map_err(|m| {
                    let id = &it.id;
                    Error::usage(tr!("review item {id}: {m}", "確認項目 {id}: {m}"), None)
                })?;
            }
            applied += 1;
        }
    }
    let header = format!(
        "Draft imported by `portplan import` from {} ({} rows); review {} item(s) before use.",
        input.doc,
        recs.len(),
        review.items.len()
    );
    let yaml = draft.to_yaml(&header);
    // The draft must be a valid catalog; a failure here is an importer bug or a conflicting
    // review edit, reported with the catalog's own messages.
    crate::catalog::load(SourceFile::new(format!("{name} (draft)"), yaml.clone()))?;
    Ok(Imported {
        yaml,
        review,
        applied,
    })
}
