//! Errors on user input, and how they are shown.
//!
//! Library code returns [`Error`], which carries both languages and byte spans into the
//! offending file; the CLI turns it into a [`miette::Report`] in the chosen language with
//! [`Error::to_report`]. Every message also starts with `file:line:column`, so the location
//! survives when the report is printed without colours or snippets (CI logs, `2>file`).
//! All user-input errors exit with code 2 ([`EXIT_BAD_INPUT`]).

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource};

use crate::i18n::{Lang, Text};
use crate::tr;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the answer is "not as required".
pub const EXIT_NOT_AS_REQUIRED: u8 = 1;
/// Exit code: bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// A file being read, kept for error reports.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Name to show (path, or `builtin:tmws.yaml`).
    pub name: String,
    /// Its text.
    pub text: Arc<str>,
}

impl SourceFile {
    /// A source from its name and text.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// Byte offset of a 1-based line and column (in characters); clamps to the text.
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let mut off = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let within: usize = l
                    .chars()
                    .take(col.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum();
                return off + within;
            }
            off += l.len();
        }
        self.text.len()
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One problem at one place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte span in the file, when known.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: Text,
    /// How to fix it.
    pub help: Option<Text>,
}

impl Problem {
    /// A problem at `span`.
    pub fn at(span: Option<Range<usize>>, message: Text, help: Option<Text>) -> Problem {
        Problem {
            span,
            message,
            help,
        }
    }
}

/// An error on user input. Every variant exits with code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file parsed as YAML but its content is wrong (one or more problems).
    #[error("{}: {} problem(s)", file.name, problems.len())]
    Invalid {
        /// The file.
        file: SourceFile,
        /// What is wrong, in file order.
        problems: Vec<Problem>,
    },
    /// The file is not valid YAML, or does not have the expected shape.
    #[error("{}: {error}", file.name)]
    Yaml {
        /// The file.
        file: SourceFile,
        /// The parser's error.
        error: Box<serde_saphyr::Error>,
    },
    /// A command-line argument is wrong (unknown product, bad `--set`, …).
    #[error("{}", message.en)]
    Usage {
        /// What is wrong.
        message: Text,
        /// The valid alternatives.
        help: Option<Text>,
    },
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
struct Rendered {
    message: String,
    #[source_code]
    src: Option<NamedSource<Arc<str>>>,
    #[label(collection)]
    labels: Vec<LabeledSpan>,
    #[help]
    help: Option<String>,
    #[related]
    related: Vec<Rendered>,
}

impl Rendered {
    fn plain(message: String, help: Option<String>) -> Rendered {
        Rendered {
            message,
            src: None,
            labels: vec![],
            help,
            related: vec![],
        }
    }
}

impl Error {
    /// Shorthand for a usage error.
    pub fn usage(message: Text, help: Option<Text>) -> Error {
        Error::Usage { message, help }
    }

    /// Shorthand for an I/O error.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            error,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        EXIT_BAD_INPUT
    }

    /// Plain one-line-per-problem text (`file:line:col: message`), for logs and tests.
    pub fn plain(&self, lang: Lang) -> String {
        match self {
            Error::Invalid { file, problems } => problems
                .iter()
                .map(|p| format!("{}: {}", locate(file, p.span.as_ref()), p.message.get(lang)))
                .collect::<Vec<_>>()
                .join("\n"),
            Error::Yaml { file, error } => {
                format!("{}: {}", yaml_location(file, error), error)
            }
            Error::Usage { message, .. } => message.get(lang).to_string(),
            Error::Io { path, error } => {
                let p = path.display();
                tr!(
                    "cannot access {p}: {error}",
                    "{p} にアクセスできません: {error}"
                )
                .get(lang)
                .to_string()
            }
        }
    }

    /// A report in `lang` for the terminal.
    pub fn to_report(&self, lang: Lang) -> miette::Report {
        match self {
            Error::Invalid { file, problems } => {
                let named = NamedSource::new(file.name.clone(), file.text.clone());
                let mut rendered: Vec<Rendered> = problems
                    .iter()
                    .map(|p| Rendered {
                        message: format!(
                            "{}: {}",
                            locate(file, p.span.as_ref()),
                            p.message.get(lang)
                        ),
                        src: Some(named.clone()),
                        labels: p
                            .span
                            .iter()
                            .map(|s| LabeledSpan::new_primary_with_span(None, s.clone()))
                            .collect(),
                        help: p.help.as_ref().map(|h| h.get(lang).to_string()),
                        related: vec![],
                    })
                    .collect();
                if rendered.len() == 1 {
                    miette::Report::new(rendered.remove(0))
                } else {
                    let (name, n) = (&file.name, rendered.len());
                    let mut top = Rendered::plain(
                        tr!("{name}: {n} problems", "{name}: {n} 件の問題があります")
                            .get(lang)
                            .to_string(),
                        None,
                    );
                    top.related = rendered;
                    miette::Report::new(top)
                }
            }
            Error::Yaml { file, error } => {
                let loc = yaml_location(file, error);
                let report = serde_saphyr::miette::to_miette_report(error, &file.text, &file.name);
                let what = tr!(
                    "{loc}: cannot read this YAML",
                    "{loc}: この YAML を読み込めません"
                );
                report.wrap_err(what.get(lang).to_string())
            }
            Error::Usage { message, help } => miette::Report::new(Rendered::plain(
                message.get(lang).to_string(),
                help.as_ref().map(|h| h.get(lang).to_string()),
            )),
            Error::Io { .. } => miette::Report::new(Rendered::plain(self.plain(lang), None)),
        }
    }
}

fn locate(file: &SourceFile, span: Option<&Range<usize>>) -> String {
    match span {
        Some(s) => {
            let (l, c) = file.line_col(s.start);
            format!("{}:{l}:{c}", file.name)
        }
        None => file.name.clone(),
    }
}

fn yaml_location(file: &SourceFile, error: &serde_saphyr::Error) -> String {
    match error.location() {
        Some(loc) if loc.line() > 0 => format!("{}:{}:{}", file.name, loc.line(), loc.column()),
        _ => file.name.clone(),
    }
}

/// Parser options for every YAML input: no snippets (miette draws them) and a budget large
/// enough for real sites (hundreds of thousands of hosts) yet bounded against hostile input.
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_events: 50_000_000,
            max_nodes: 20_000_000,
            max_total_scalar_bytes: 1 << 30,
        },
    }
}

/// Byte span of a YAML node from its location, if known.
pub fn span_of(file: &SourceFile, loc: &serde_saphyr::Location) -> Option<Range<usize>> {
    if loc.line() == 0 {
        return None;
    }
    let span = loc.span();
    let start = match span.byte_offset() {
        Some(b) => usize::try_from(b).ok()?,
        None => file.offset_of(loc.line() as usize, loc.column() as usize),
    };
    let len = span
        .byte_len()
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0);
    let end = (start + len).min(file.text.len());
    Some(start.min(end)..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_round_trips() {
        let f = SourceFile::new("x.yaml", "a: 1\nbé: [x, y]\n");
        let off = f.text.find('[').unwrap();
        assert_eq!(f.line_col(off), (2, 5));
        assert_eq!(f.offset_of(2, 5), off);
        assert_eq!(f.line_col(10_000), (3, 1));
    }
}
