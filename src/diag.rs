//! Errors on user input, and how they are shown.
//!
//! Library code returns [`Error`], which carries both languages and byte spans into the
//! offending file; the CLI turns it into a [`miette::Report`] in the chosen language with
//! [`Error::to_report`]. Every message also starts with `file:line:column`, so the location
//! survives when the report is printed without colours or snippets (CI logs, `2>file`).
//! All user-input errors exit with code 2 ([`EXIT_BAD_INPUT`]).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan};

use crate::escape::{escape_line, same_length_safe};

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

/// A problem as [`Error::located`] gives it: where (1-based, when known) and what, in one
/// language, control characters made visible.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    /// Line, from 1.
    pub line: Option<usize>,
    /// Column in characters, from 1.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
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
    src: Option<Snippet>,
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

    /// Plain one-line-per-problem text (`file:line:col: message`), for logs and tests; at most
    /// [`MAX_SHOWN`] problems, then how many more there are.
    pub fn plain(&self, lang: Lang) -> String {
        match self {
            Error::Invalid { file, problems } => {
                let mut lines: Vec<String> = problems
                    .iter()
                    .take(MAX_SHOWN)
                    .map(|p| {
                        format!(
                            "{}: {}",
                            locate(file, p.span.as_ref()),
                            escape_line(p.message.get(lang))
                        )
                    })
                    .collect();
                if let Some(more) = more_problems(problems.len()) {
                    lines.push(format!("{}: {}", safe_name(&file.name), more.get(lang)));
                }
                lines.join("\n")
            }
            Error::Yaml { file, error } => yaml_plain(
                file,
                error,
                parses_as_mapping(&file.text) == Some(true),
                lang,
            ),
            Error::Usage { message, .. } => escape_line(message.get(lang)).into_owned(),
            Error::Io { path, error } => {
                let p = safe_name(&path.display().to_string());
                let why = io_text(error);
                tr!(
                    "cannot access {p}: {}",
                    "{p} にアクセスできません: {}",
                    why.get(lang)
                )
                .get(lang)
                .to_string()
            }
        }
    }

    /// Each problem with its 1-based line and column (when known), its message and help in
    /// `lang`: what [`Error::plain`] prints, as data, so a page can put a message next to its
    /// line. At most [`MAX_SHOWN`] problems, then one unlocated entry with how many more.
    pub fn located(&self, lang: Lang) -> Vec<Located> {
        let one =
            |line_col: Option<(usize, usize)>, message: String, help: Option<String>| Located {
                line: line_col.map(|l| l.0),
                column: line_col.map(|l| l.1),
                message,
                help,
            };
        match self {
            Error::Invalid { file, problems } => {
                let mut out: Vec<Located> = problems
                    .iter()
                    .take(MAX_SHOWN)
                    .map(|p| {
                        one(
                            p.span.as_ref().map(|s| file.line_col(s.start)),
                            escape_line(p.message.get(lang)).into_owned(),
                            p.help
                                .as_ref()
                                .map(|h| escape_line(h.get(lang)).into_owned()),
                        )
                    })
                    .collect();
                if let Some(more) = more_problems(problems.len()) {
                    out.push(one(None, more.get(lang).to_string(), None));
                }
                out
            }
            Error::Yaml { file, error } => {
                let quote = parses_as_mapping(&file.text) == Some(true);
                let layout = yaml_layout(file, error, quote);
                let (at, cause) = (layout.at, layout.message);
                let message = tr!(
                    "cannot read this YAML: {}",
                    "この YAML を読み込めません: {}",
                    escape_line(cause.get(lang))
                );
                vec![one(at, message.get(lang).to_string(), None)]
            }
            Error::Usage { message, help } => vec![one(
                None,
                escape_line(message.get(lang)).into_owned(),
                help.as_ref().map(|h| escape_line(h.get(lang)).into_owned()),
            )],
            Error::Io { .. } => vec![one(None, self.plain(lang), None)],
        }
    }

    /// The report in `lang` as text, ending with a line break: formatted in memory, so the
    /// caller writes it at once (miette writes character by character, which on unbuffered
    /// stderr is one system call each).
    pub fn report_text(&self, lang: Lang) -> String {
        format!("{:?}\n", self.to_report(lang))
    }

    /// A report in `lang` for the terminal.
    pub fn to_report(&self, lang: Lang) -> miette::Report {
        match self {
            Error::Invalid { file, problems } => {
                let snippet = Snippet::of(file);
                let mut rendered: Vec<Rendered> = problems
                    .iter()
                    .take(MAX_SHOWN)
                    .map(|p| Rendered {
                        message: format!(
                            "{}: {}",
                            locate(file, p.span.as_ref()),
                            escape_line(p.message.get(lang))
                        ),
                        src: snippet_span(&file.text, p.span.as_ref()).map(|_| snippet.clone()),
                        labels: snippet_span(&file.text, p.span.as_ref())
                            .map(|s| LabeledSpan::new_primary_with_span(None, s))
                            .into_iter()
                            .collect(),
                        help: p
                            .help
                            .as_ref()
                            .map(|h| escape_line(h.get(lang)).into_owned()),
                        related: vec![],
                    })
                    .collect();
                if let Some(more) = more_problems(problems.len()) {
                    rendered.push(Rendered::plain(
                        format!("{}: {}", safe_name(&file.name), more.get(lang)),
                        None,
                    ));
                }
                if rendered.len() == 1 {
                    miette::Report::new(rendered.remove(0))
                } else {
                    let (name, n) = (safe_name(&file.name), problems.len());
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
                // A file that is not YAML, or whose top level is not a mapping, is probably not
                // a site or catalog at all (a key file, a log): none of its lines are shown.
                // Otherwise only the offending line.
                let mapping = parses_as_mapping(&file.text);
                let message = yaml_plain(file, error, mapping == Some(true), lang);
                let layout = yaml_layout(file, error, mapping == Some(true));
                let span = match (layout.specific, layout.at) {
                    (true, Some((l, c))) => {
                        let at = file.offset_of(l, c);
                        Some(at..at + 1)
                    }
                    _ => error
                        .location()
                        .and_then(|l| span_of(file, &l))
                        .filter(|_| mapping == Some(true)),
                };
                let help = layout
                    .help
                    .or_else(|| yaml_help(error, mapping))
                    .or_else(|| flow_comma_help(file, error))
                    .map(|h| h.get(lang).to_string());
                let span = snippet_span(&file.text, span.as_ref());
                miette::Report::new(Rendered {
                    message,
                    src: span.as_ref().map(|_| Snippet::of(file)),
                    labels: span
                        .into_iter()
                        .map(|s| LabeledSpan::new_primary_with_span(None, s))
                        .collect(),
                    help,
                    related: vec![],
                })
            }
            Error::Usage { message, help } => miette::Report::new(Rendered::plain(
                escape_line(message.get(lang)).into_owned(),
                help.as_ref().map(|h| escape_line(h.get(lang)).into_owned()),
            )),
            Error::Io { .. } => miette::Report::new(Rendered::plain(self.plain(lang), None)),
        }
    }
}

/// An operating-system error in words of both languages: the usual kinds by name, the rest
/// by their OS error number (the OS's own text is English only).
fn io_text(error: &std::io::Error) -> Text {
    use std::io::ErrorKind as K;
    let code = error
        .raw_os_error()
        .map(|c| format!(" (errno {c})"))
        .unwrap_or_default();
    match error.kind() {
        K::NotFound => tr!(
            "no such file or directory",
            "ファイルまたはディレクトリがありません"
        ),
        K::PermissionDenied => tr!("permission denied", "アクセス権がありません"),
        K::IsADirectory => tr!("it is a directory", "ディレクトリです"),
        K::NotADirectory => tr!(
            "a part of the path is not a directory",
            "パスの途中がディレクトリではありません"
        ),
        K::AlreadyExists => tr!("it already exists", "すでに存在します"),
        K::StorageFull => tr!("no space left on the device", "ディスクの空きがありません"),
        K::ReadOnlyFilesystem => tr!(
            "the file system is read-only",
            "ファイルシステムが読み取り専用です"
        ),
        K::InvalidFilename => tr!(
            "the file name is too long or not valid",
            "ファイル名が長すぎるか、使えない名前です"
        ),
        K::WouldBlock | K::TimedOut => tr!(
            "no data arrived in time",
            "時間内にデータが届きませんでした"
        ),
        K::Interrupted => tr!("interrupted", "中断されました"),
        K::InvalidData => tr!("the data is not valid", "データが正しくありません"),
        K::UnexpectedEof => tr!("the file ended early", "ファイルが途中で終わっています"),
        _ => {
            let en = error.to_string();
            Text::new(en, format!("入出力エラー{code}"))
        }
    }
}

/// At most this many problems of one file are shown; then how many more there are.
pub const MAX_SHOWN: usize = 50;

fn more_problems(total: usize) -> Option<Text> {
    let more = total.checked_sub(MAX_SHOWN).filter(|m| *m > 0)?;
    Some(tr!(
        "… and {more} more problem(s) (the first {MAX_SHOWN} are shown)",
        "… ほか {more} 件の問題があります (最初の {MAX_SHOWN} 件を表示しています)"
    ))
}

/// A file name as shown: control characters made visible.
fn safe_name(name: &str) -> String {
    escape_line(name).into_owned()
}

fn locate(file: &SourceFile, span: Option<&Range<usize>>) -> String {
    match span {
        Some(s) => {
            let (l, c) = file.line_col(s.start);
            format!("{}:{l}:{c}", safe_name(&file.name))
        }
        None => safe_name(&file.name),
    }
}

/// A snippet line longer than this is not shown (the message still says where): a
/// megabyte-long line would be printed once per problem.
const MAX_SNIPPET_LINE: usize = 400;

/// The span a snippet labels: `span` cut at the end of its first line, or nothing when that
/// line is longer than [`MAX_SNIPPET_LINE`] bytes.
fn snippet_span(text: &str, span: Option<&Range<usize>>) -> Option<Range<usize>> {
    let s = first_line(text, span?);
    let from = text[..s.start].rfind('\n').map_or(0, |i| i + 1);
    let to = text[s.end..].find('\n').map_or(text.len(), |i| s.end + i);
    (to - from <= MAX_SNIPPET_LINE).then_some(s)
}

/// `span` cut at the end of its first line: a report shows at most the offending line.
fn first_line(text: &str, span: &Range<usize>) -> Range<usize> {
    // On character boundaries, whatever the span says: slicing must not panic.
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
    let end = text
        .get(start..end)
        .and_then(|t| t.find('\n'))
        .map_or(end, |i| start + i);
    start..end
}

/// The source of a report's snippet: control characters replaced (same byte length, so spans
/// stay valid), and only the lines a label covers, never the lines around them.
#[derive(Debug, Clone)]
struct Snippet {
    name: String,
    text: Arc<str>,
}

impl Snippet {
    fn of(file: &SourceFile) -> Snippet {
        let text = match same_length_safe(&file.text) {
            std::borrow::Cow::Borrowed(_) => file.text.clone(),
            std::borrow::Cow::Owned(t) => Arc::from(t),
        };
        Snippet {
            name: safe_name(&file.name),
            text,
        }
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> std::result::Result<Box<dyn miette::SpanContents<'a> + 'a>, MietteError> {
        let text: &str = &self.text;
        let inner = if context_lines_before == 0 && context_lines_after == 0 {
            // Where the span is (miette asks this way for the `[file:line:col]` header).
            text.read_span(span, 0, 0)?
        } else {
            // For the snippet: whole lines from the start of the span's line to the end of its
            // last line, and no lines around them.
            let start = span.offset().min(text.len());
            let end = (start + span.len()).min(text.len());
            let from = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let to = text[end..].find('\n').map_or(text.len(), |i| end + i);
            text.read_span(&(from..to).into(), 0, 0)?
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// A YAML error as shown: where (1-based line and column), what, and what to do.
struct YamlLayout {
    at: Option<(usize, usize)>,
    message: Text,
    help: Option<Text>,
    /// Found by looking at the text (a tab, an indentation): the place is ours, not the
    /// parser's, and the line is shown even when the file does not parse.
    specific: bool,
}

fn yaml_layout(file: &SourceFile, error: &serde_saphyr::Error, quote: bool) -> YamlLayout {
    let blank = |l: &str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    };
    if file.text.lines().all(blank) {
        return YamlLayout {
            at: None,
            message: tr!(
                "the file is empty (or holds only comments)",
                "ファイルが空です (またはコメントだけです)"
            ),
            help: Some(tr!(
                "is it the right file? `portplan init` writes a starter site",
                "ファイルは正しいですか? `portplan init` でサイト定義のひな形を作成できます"
            )),
            specific: true,
        };
    }
    if let Some(at) = tab_indent(file, error) {
        return YamlLayout {
            at: Some(at),
            message: tr!(
                "a tab character is used for indentation: YAML allows only spaces there",
                "インデントにタブ文字が使われています: YAML のインデントには空白 (スペース) だけが使えます"
            ),
            help: Some(tr!(
                "replace the tab with spaces, indenting like the lines around it (most editors have \"convert tabs to spaces\")",
                "タブを空白に置き換え、前後の行とインデントをそろえてください (多くのエディタに「タブを空白に変換」があります)"
            )),
            specific: true,
        };
    }
    if let Some((line, col, found, fits)) = misindented(file, error) {
        let fits = fits
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" / ");
        return YamlLayout {
            at: Some((line, col)),
            message: tr!(
                "indentation inconsistent: this line is indented by {found} space(s), which lines up with no line above it ({fits} would)",
                "インデントがそろっていません: この行の字下げは空白 {found} 個で、上のどの行ともそろっていません ({fits} 個ならそろいます)"
            ),
            help: Some(tr!(
                "indent a key like the other keys of its mapping, a list item (`- `) like the other items of its list",
                "同じマッピングのキー同士、同じリストの項目 (`- `) 同士で字下げをそろえてください"
            )),
            specific: true,
        };
    }
    YamlLayout {
        at: error
            .location()
            .filter(|l| l.line() > 0)
            .map(|l| (l.line() as usize, l.column() as usize)),
        message: yaml_message(error, quote),
        help: None,
        specific: false,
    }
}

/// The first tab in the indentation of a line, up to the line after the one of `error` (the
/// whole file when the parser gives no line): 1-based line and column. YAML indents with
/// spaces only, and the parser's complaint about a tab is often about a neighbouring token
/// ("while scanning a plain scalar"), so the tab itself is what to point at.
fn tab_indent(file: &SourceFile, error: &serde_saphyr::Error) -> Option<(usize, usize)> {
    let last = error
        .location()
        .map(|l| l.line() as usize)
        .filter(|l| *l > 0)
        .map_or(usize::MAX, |l| l + 1);
    let at = file
        .text
        .lines()
        .take(last)
        .enumerate()
        .find_map(|(i, l)| {
            let indent = &l[..l.len() - l.trim_start_matches([' ', '\t']).len()];
            indent
                .find('\t')
                .map(|c| (i + 1, indent[..c].chars().count() + 1))
        })?;
    // Only for what is YAML but for its tabs: the parser names a tab, or the text parses as a
    // mapping once tabs are spaces (a tab-indented log is not a site with a tab in it).
    let named = error.to_string().to_ascii_lowercase().contains("tab");
    (named || parses_as_mapping(&file.text.replace('\t', "  ")) == Some(true)).then_some(at)
}

/// The parser's structural complaints that a wrong indentation causes.
fn structural(error: &serde_saphyr::Error) -> bool {
    let m = error.to_string().to_ascii_lowercase();
    [
        "not allowed in this context",
        "did not find expected",
        "invalid indentation",
        "wrongly indented",
        "while parsing a block",
        "simple key",
    ]
    .iter()
    .any(|k| m.contains(k))
}

/// For a structural error: the line at or just before the error whose indentation lines up
/// with no line above it (a key under a key, a list item under a list item). Returns its line,
/// the column of its first character, its indentation and the indentations that would fit
/// (those of the lines it can belong to: the previous line's, its content's after `- `, and
/// their parents').
fn misindented(
    file: &SourceFile,
    error: &serde_saphyr::Error,
) -> Option<(usize, usize, usize, Vec<usize>)> {
    if !structural(error) {
        return None;
    }
    let line = error
        .location()
        .map(|l| l.line() as usize)
        .filter(|l| *l > 0)?;
    let lines: Vec<&str> = file.text.lines().collect();
    let content = |l: &str| {
        let t = l.trim_start_matches(' ');
        !(t.is_empty() || t.starts_with('#'))
    };
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    // The levels open above line `n` (1-based): walking up, each line less indented than the
    // last one kept, with its `- ` content level.
    let levels = |n: usize| -> Vec<usize> {
        let mut v = Vec::new();
        let mut limit = usize::MAX;
        for l in lines[..n - 1].iter().rev().filter(|l| content(l)) {
            let i = indent(l);
            if i < limit || (i == limit && v.is_empty()) {
                let mut rest = &l[i..];
                let mut at = i;
                v.push(at);
                while let Some(r) = rest.strip_prefix("- ") {
                    let r2 = r.trim_start_matches(' ');
                    at += 2 + (r.len() - r2.len());
                    rest = r2;
                    v.push(at);
                }
                limit = i;
                if i == 0 {
                    break;
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    };
    let candidates = (line.saturating_sub(1)..=line).rev();
    for n in candidates.filter(|n| *n >= 2 && *n <= lines.len()) {
        let l = lines[n - 1];
        if !content(l) {
            continue;
        }
        let found = indent(l);
        let fits = levels(n);
        // The lines above must read as YAML, or this is not a YAML file with a bad line
        // (whose lines are then not shown or discussed).
        if !fits.is_empty()
            && !fits.contains(&found)
            && parses_as_mapping(&lines[..n - 1].join("\n")) == Some(true)
        {
            return Some((n, found + 1, found, fits));
        }
    }
    None
}

fn yaml_plain(file: &SourceFile, error: &serde_saphyr::Error, quote: bool, lang: Lang) -> String {
    let layout = yaml_layout(file, error, quote);
    let loc = match layout.at {
        Some((l, c)) => format!("{}:{l}:{c}", safe_name(&file.name)),
        None => safe_name(&file.name),
    };
    let cause = layout.message;
    tr!(
        "{loc}: cannot read this YAML: {}",
        "{loc}: この YAML を読み込めません: {}",
        escape_line(cause.get(lang))
    )
    .get(lang)
    .to_string()
}

/// Files larger than this are not parsed a second time to tell YAML from anything else: they
/// are treated as not YAML (no snippet, no quoted values). Real sites and catalogs are far
/// smaller; a 48 MB one-line file took seconds more.
const MAX_PROBE_BYTES: usize = 16 << 20;

/// Whether `text` is well-formed YAML whose top level is a mapping (duplicate keys allowed):
/// a file that at least looks like a site or catalog. `None` when it is too large to tell.
fn parses_as_mapping(text: &str) -> Option<bool> {
    if text.len() > MAX_PROBE_BYTES {
        return None;
    }
    struct TopLevel(bool);
    impl<'de> serde::Deserialize<'de> for TopLevel {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = TopLevel;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("anything")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> std::result::Result<TopLevel, A::Error> {
                    while map
                        .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                        .is_some()
                    {}
                    Ok(TopLevel(true))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> std::result::Result<TopLevel, A::Error> {
                    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                    Ok(TopLevel(false))
                }
                fn visit_str<E>(self, _: &str) -> std::result::Result<TopLevel, E> {
                    Ok(TopLevel(false))
                }
                fn visit_bool<E>(self, _: bool) -> std::result::Result<TopLevel, E> {
                    Ok(TopLevel(false))
                }
                fn visit_i64<E>(self, _: i64) -> std::result::Result<TopLevel, E> {
                    Ok(TopLevel(false))
                }
                fn visit_u64<E>(self, _: u64) -> std::result::Result<TopLevel, E> {
                    Ok(TopLevel(false))
                }
                fn visit_f64<E>(self, _: f64) -> std::result::Result<TopLevel, E> {
                    Ok(TopLevel(false))
                }
                fn visit_unit<E>(self) -> std::result::Result<TopLevel, E> {
                    Ok(TopLevel(false))
                }
                fn visit_none<E>(self) -> std::result::Result<TopLevel, E> {
                    Ok(TopLevel(false))
                }
            }
            d.deserialize_any(V)
        }
    }
    let mut opts = yaml_options();
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    Some(serde_saphyr::from_str_with_options::<TopLevel>(text, opts).is_ok_and(|t| t.0))
}

/// The parser's complaint in the user's words, in both languages; no library wording such as
/// option or function names. Values from the file (a key, a scalar) are quoted only when
/// `quote`: not for a file that is not YAML or not a mapping, which may be anything.
fn yaml_message(error: &serde_saphyr::Error, quote: bool) -> Text {
    use serde_saphyr::Error as E;
    let clip = |s: &str| -> String {
        if !quote {
            return "…".to_string();
        }
        let s = s.trim();
        if s.chars().count() <= 60 {
            s.to_string()
        } else {
            format!("{}…", s.chars().take(60).collect::<String>())
        }
    };
    let expected_list = |v: &[&str]| {
        if v.is_empty() {
            "(none)".to_string()
        } else {
            v.join(", ")
        }
    };
    // serde's names for what it wanted: `struct RawSite`, `a sequence`, `mapping start`.
    let what = |s: &str| -> Text {
        if s.starts_with("struct ") || s.contains("mapping") || s.starts_with("map") {
            tr!(
                "a mapping (`key: value` lines)",
                "マッピング (`キー: 値` の行)"
            )
        } else if s.contains("sequence") {
            tr!("a list", "リスト")
        } else if s.contains("string") {
            tr!("a text", "文字列")
        } else if s.contains("scalar") {
            tr!("a single value", "単一の値")
        } else {
            let s = clip(s);
            Text::new(s.clone(), s)
        }
    };
    match error {
        E::WithSnippet { error, .. } => yaml_message(error, quote),
        E::DuplicateMappingKey { key: Some(k), .. } => {
            let k = clip(k);
            tr!(
                "the key `{k}` appears twice in this mapping: keep one",
                "キー `{k}` がこのマッピングに 2 回あります: 1 つにしてください"
            )
        }
        E::DuplicateMappingKey { key: None, .. } => tr!(
            "a key appears twice in this mapping: keep one",
            "このマッピングに同じキーが 2 回あります: 1 つにしてください"
        ),
        E::MultipleDocuments { .. } => tr!(
            "the file holds several YAML documents (separated by `---`); it must hold one",
            "ファイルに YAML 文書が複数あります (`---` 区切り): 1 つにしてください"
        ),
        E::SerdeUnknownField {
            field, expected, ..
        } => {
            let (f, list) = (clip(field), expected_list(expected));
            tr!(
                "unknown field `{f}`, expected one of {list}",
                "不明なフィールド `{f}` です。使えるのは {list} です"
            )
        }
        E::SerdeMissingField { field, .. } => tr!(
            "missing field `{field}`",
            "フィールド `{field}` がありません"
        ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let (v, list) = (clip(variant), expected_list(expected));
            tr!(
                "unknown value `{v}`, expected one of {list}",
                "値 `{v}` は使えません。使えるのは {list} です"
            )
        }
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => {
            let (w, u) = (what(expected), clip(unexpected));
            Text::new(
                format!("expected {}, found {u}", w.en),
                format!("{} が必要ですが、{u} があります", w.ja),
            )
        }
        E::SerdeInvalidLength { len, expected, .. } => {
            let w = what(expected);
            Text::new(
                format!("{len} item(s), expected {}", w.en),
                format!("要素が {len} 個あります ({} が必要です)", w.ja),
            )
        }
        E::Unexpected { expected, .. } => {
            let w = what(expected);
            Text::new(
                format!("expected {} here", w.en),
                format!("ここには {} が必要です", w.ja),
            )
        }
        E::NullIntoString { .. } | E::InvalidCharNull { .. } => tr!(
            "a value is missing here (empty or `~`)",
            "ここに値がありません (空、または `~`)"
        ),
        E::BinaryNotUtf8 { .. } | E::BytesNotSupportedMissingBinaryTag { .. } => tr!(
            "binary (`!!binary`) values are not supported: write text",
            "バイナリ (`!!binary`) の値は使えません: テキストで書いてください"
        ),
        E::TaggedScalarCannotDeserializeIntoString { .. }
        | E::UnsupportedTag { .. }
        | E::TaggedStructFieldName { .. }
        | E::TaggedEnumMismatch { .. } => tr!(
            "YAML tags (`!name`) are not supported here: remove the tag",
            "ここでは YAML のタグ (`!name`) は使えません: タグを外してください"
        ),
        E::CannotBorrowTransformedString { .. } | E::QuotingRequired { .. } => tr!(
            "write this value as plain text",
            "この値は通常のテキストとして書いてください"
        ),
        E::InvalidBooleanStrict { .. } => tr!(
            "expected true or false",
            "true または false を指定してください"
        ),
        E::Eof { .. } => tr!(
            "the file ends in the middle of a value",
            "値の途中でファイルが終わっています"
        ),
        E::InvalidUtf8Input => tr!(
            "the file is not UTF-8 text: save it as UTF-8",
            "ファイルが UTF-8 ではありません: UTF-8 で保存してください"
        ),
        E::IndentationError {
            required, actual, ..
        } => {
            let r = format!("{required:?}");
            tr!(
                "incorrect indentation: expected {r}, found {actual} spaces",
                "インデントが正しくありません: {r} のところ、{actual} 文字です"
            )
        }
        E::MergeKeyNotAllowed { .. } | E::MergeValueNotMapOrSeqOfMaps { .. } => tr!(
            "a merge key (`<<`) must merge a mapping or a list of mappings",
            "マージキー (`<<`) にはマッピングかマッピングのリストを指定してください"
        ),
        E::UnknownAnchor { .. } => tr!(
            "this alias (`*name`) refers to no anchor (`&name`) before it",
            "このエイリアス (`*name`) に対応するアンカー (`&name`) が前にありません"
        ),
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::RecursiveReferencesRequireWeakTypes { .. } => tr!(
            "the YAML is too large or too deeply nested (anchors and aliases count each time they are used)",
            "YAML が大きすぎるか、入れ子が深すぎます (アンカーとエイリアスは使うたびに数えます)"
        ),
        E::Message { msg, .. } => {
            let m = clip_long(msg);
            Text::new(m.clone(), syntax_ja(&m).to_string())
        }
        other => {
            let m = clip_long(&other.render_with_formatter(&serde_saphyr::UserMessageFormatter));
            Text::new(m.clone(), syntax_ja(&m).to_string())
        }
    }
}

/// The parser's syntax complaints (English only) in Japanese: the usual ones by what they
/// mean, the rest as a syntax error (the line and column still say where).
fn syntax_ja(m: &str) -> &'static str {
    let m = m.to_ascii_lowercase();
    const TABLE: &[(&[&str], &str)] = &[
        (
            &["tab"],
            "タブ文字は使えません: 空白 (スペース) にしてください",
        ),
        (
            &["mapping values are not allowed"],
            "ここに `キー: 値` は書けません: インデントか、値の中のコロン (値にコロンを含めるなら引用符で囲む) を確認してください",
        ),
        (
            &[
                "block sequence entries are not allowed",
                "expected '-' indicator",
            ],
            "ここにリストの項目 (`- `) は書けません: インデントを確認してください",
        ),
        (
            &["did not find expected key", "mapping keys are not allowed"],
            "ここにキーは書けません: インデントを確認してください",
        ),
        (
            &[
                "unclosed bracket",
                "expected ',' or ']'",
                "expected ',' or '}'",
                "flow sequence",
                "flow mapping",
            ],
            "括弧 ([ ] または { }) が閉じられていないか、区切りのカンマがありません",
        ),
        (&["bracket"], "括弧の対応が正しくありません"),
        (
            &["quote", "quoted scalar"],
            "引用符が閉じられていないか、引用符の中身が正しくありません",
        ),
        (
            &["expected ':'", "simple key"],
            "`キー: 値` の `:` がありません",
        ),
        (&["':' must be followed"], "`:` の後には空白が必要です"),
        (&["'-' must be followed"], "`-` の後には空白が必要です"),
        (&["indentation", "indented"], "インデントが正しくありません"),
        (&["comment"], "コメント (#) の前には空白が必要です"),
        (
            &["anchor", "alias"],
            "アンカー (&) かエイリアス (*) の名前が正しくありません",
        ),
        (&["tag"], "タグ (!) が正しくありません"),
        (
            &["end of stream", "unexpected end"],
            "値の途中でファイルが終わっています",
        ),
        (&["character"], "ここでは使えない文字があります"),
        (&["bom"], "文書の途中に BOM があります"),
        (&["directive"], "YAML のディレクティブ (%) は使えません"),
        (
            &["document"],
            "文書の区切り (`---`、`...`) の位置が正しくありません",
        ),
    ];
    TABLE
        .iter()
        .find(|(keys, _)| keys.iter().any(|k| m.contains(k)))
        .map_or("YAML の書き方が正しくありません", |(_, ja)| ja)
}

fn clip_long(s: &str) -> String {
    // The first line only; location suffixes are ours to add.
    let line = s.lines().next().unwrap_or_default().trim();
    let line = line
        .split_once(" at line ")
        .map_or(line, |(head, _)| head)
        .trim();
    if line.chars().count() <= 200 {
        line.to_string()
    } else {
        format!("{}…", line.chars().take(200).collect::<String>())
    }
}

/// What to do about a YAML error, when there is advice beyond the message. `mapping`: whether
/// the file is a YAML mapping (`None`: too large to tell).
/// An unknown field on a line with a flow mapping of texts (`{en: a, b, ja: …}`) is most
/// likely an unquoted comma that ended the text: say so, since "unknown field `b`" does not.
fn flow_comma_help(file: &SourceFile, error: &serde_saphyr::Error) -> Option<Text> {
    if !error.to_string().contains("unknown field") {
        return None;
    }
    let loc = error.location()?;
    let line = file.text.lines().nth(loc.line().checked_sub(1)? as usize)?;
    let flow = line.contains('{') && (line.contains("en:") || line.contains("ja:"));
    flow.then(|| {
        tr!(
            "a comma inside `{{en: …, ja: …}}` ends the text: put text that holds a comma in quotes, e.g. `{{en: \"Netlogon, and more\", ja: …}}`",
            "`{{en: …, ja: …}}` の中のカンマは文の終わりとみなされます: カンマを含む文は引用符で囲んでください (例: `{{en: \"Netlogon, and more\", ja: …}}`)"
        )
    })
}

fn yaml_help(error: &serde_saphyr::Error, mapping: Option<bool>) -> Option<Text> {
    if let serde_saphyr::Error::MultipleDocuments { .. } = error {
        return Some(tr!(
            "put each site or catalog in its own file",
            "サイトやカタログは 1 ファイルに 1 つずつ書いてください"
        ));
    }
    if mapping == Some(false) {
        return Some(tr!(
            "the file must be YAML whose top level is a mapping (`name: …` lines); is it the right file?",
            "ファイルは最上位がマッピング (`name: …` の行) の YAML である必要があります。ファイルは正しいですか?"
        ));
    }
    match error {
        serde_saphyr::Error::WithSnippet { error, .. } => yaml_help(error, mapping),
        _ => None,
    }
}

/// Inputs larger than this are refused: real sites, catalogs and rulesets are far smaller,
/// and `/dev/zero` given by mistake must not fill the memory.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// Read an input file as UTF-8 text. A file that is not UTF-8 is an error naming the line,
/// column and byte offset of the first bad byte; a file over [`MAX_INPUT_BYTES`] is refused.
pub fn read_text(path: &Path) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    let name = safe_name(&path.display().to_string());
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        let mib = MAX_INPUT_BYTES >> 20;
        return Err(Error::usage(
            tr!(
                "{name}: larger than {mib} MiB: not read",
                "{name}: {mib} MiB を超えているため読み込みません"
            ),
            Some(tr!(
                "is it the right file? sites, catalogs and rulesets are far smaller",
                "ファイルは正しいですか? サイト・カタログ・ルールセットはずっと小さいはずです"
            )),
        ));
    }
    String::from_utf8(bytes).map_err(|e| not_utf8(&name, e))
}

/// Bytes received some other way (a web upload) as UTF-8 text, with the same located error as
/// [`read_text`] when they are not.
pub fn text_from_bytes(name: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| not_utf8(&safe_name(name), e))
}

fn not_utf8(name: &str, e: std::string::FromUtf8Error) -> Error {
    let offset = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    let good = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
    let line = good.matches('\n').count() + 1;
    let col = good[good.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    let byte = bytes.get(offset).copied().unwrap_or_default();
    let utf16 = bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]);
    // Shift_JIS (Windows' CP932, as Excel and Notepad save it) when the whole file decodes as
    // it without error and holds Japanese: encoding_rs has no detector, but a text in another
    // legacy encoding rarely decodes cleanly as Shift_JIS into kana or kanji. Only said, never
    // converted: the file is the user's to save.
    let sjis = !utf16
        && encoding_rs::SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(bytes)
            .is_some_and(|t| {
                t.chars()
                    .any(|c| matches!(c as u32, 0x3040..=0x30ff | 0x4e00..=0x9fff))
            });
    Error::usage(
        tr!(
            "{name}:{line}:{col}: not UTF-8 text (byte {offset} is 0x{byte:02x}): the file must be saved as UTF-8",
            "{name}:{line}:{col}: UTF-8 のテキストではありません ({offset} バイト目が 0x{byte:02x}): ファイルは UTF-8 で保存してください"
        ),
        Some(if utf16 {
            tr!(
                "it looks like UTF-16: save it as UTF-8 in your editor",
                "UTF-16 のようです: エディタで UTF-8 を選んで保存し直してください"
            )
        } else if sjis {
            tr!(
                "it looks like Shift_JIS (CP932, as Excel and Notepad save it): save it again as UTF-8 (Notepad: Save As, Encoding UTF-8), or convert it: iconv -f CP932 -t UTF-8 {name} > new.yaml",
                "Shift_JIS (CP932、Excel やメモ帳の保存形式) のようです: UTF-8 で保存し直すか (メモ帳: 名前を付けて保存 → 文字コード UTF-8)、変換してください: iconv -f CP932 -t UTF-8 {name} > new.yaml"
            )
        } else {
            tr!(
                "a file saved as Shift_JIS or Latin-1 must be saved again as UTF-8",
                "Shift_JIS などで保存されている場合は、UTF-8 を選んで保存し直してください"
            )
        }),
    )
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

    fn shown(e: &Error, lang: Lang) -> String {
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(200)
            .render_report(&mut out, e.to_report(lang).as_ref())
            .unwrap();
        out
    }

    fn yaml_error(text: &str) -> Error {
        let file = SourceFile::new("f.yaml", text.to_string());
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Shape {
            name: String,
            items: Vec<String>,
        }
        let error = serde_saphyr::from_str_with_options::<Shape>(text, yaml_options()).unwrap_err();
        Error::Yaml {
            file,
            error: Box::new(error),
        }
    }

    #[test]
    fn yaml_errors_are_in_user_words_in_both_languages() {
        for (text, en, ja) in [
            (
                "name: a\nname: b\nitems: []\n",
                "the key `name` appears twice",
                "キー `name` がこのマッピングに 2 回あります",
            ),
            (
                "name: a\nitems: []\n---\nname: b\nitems: []\n",
                "several YAML documents",
                "YAML 文書が複数あります",
            ),
            (
                "name: a\nitems: ~\n",
                "expected a list",
                "リスト が必要です",
            ),
            (
                "name: a\n",
                "missing field `items`",
                "フィールド `items` がありません",
            ),
            ("- a\n- b\n", "expected a mapping", "マッピング"),
        ] {
            let e = yaml_error(text);
            for (lang, want) in [(Lang::En, en), (Lang::Ja, ja)] {
                let (plain, report) = (e.plain(lang), shown(&e, lang));
                assert!(plain.contains(want), "{plain}");
                assert!(plain.starts_with("f.yaml"), "{plain}");
                for internal in ["Options", "Policy", "from_str", "Option<", "struct "] {
                    assert!(!report.contains(internal), "{internal} in {report}");
                }
            }
        }
    }

    #[test]
    fn snippets_show_at_most_the_offending_line() {
        // Parsed as YAML: the offending line only, not its neighbours.
        let e = yaml_error("name: a\nitems: [secret1]\nname: b\nitems2: [secret2]\n");
        let r = shown(&e, Lang::En);
        assert!(r.contains("name: b"), "{r}");
        assert!(!r.contains("secret"), "{r}");
        // Not YAML, or not a mapping (a key file, a log): no line at all.
        for text in [
            "root:$6$hash\nline two [unclosed\nline three\n",
            "just some text\nmore text\n",
            "- a\n- b\n",
        ] {
            let e = yaml_error(text);
            let r = shown(&e, Lang::En);
            for l in text.lines() {
                assert!(!r.contains(l), "{l:?} shown in {r}");
            }
            assert!(r.contains("f.yaml:"), "{r}");
        }
        // Problems of a checked file: the offending line only.
        let file = SourceFile::new("s.yaml", "a: 1\nbad: 2\nc: 3\n");
        let off = file.text.find("bad").unwrap();
        let e = Error::Invalid {
            file,
            problems: vec![Problem::at(Some(off..off + 8), tr!("x", "x"), None)],
        };
        let r = shown(&e, Lang::En);
        assert!(
            r.contains("bad: 2") && !r.contains("a: 1") && !r.contains("c: 3"),
            "{r}"
        );
    }

    #[test]
    fn messages_and_snippets_carry_no_control_characters() {
        let text = "name: a\nbad: \"\x1b[2J\u{9b}x\"\n";
        let file = SourceFile::new("s\x1b[1m.yaml", text);
        let off = text.find("bad").unwrap();
        let e = Error::Invalid {
            file,
            problems: vec![Problem::at(
                Some(off..text.len() - 1),
                Text::new("role `\x1b[2K`", "ロール `\x1b[2K`"),
                Some(tr!("\rhelp", "\rhelp")),
            )],
        };
        for lang in [Lang::En, Lang::Ja] {
            for out in [e.plain(lang), shown(&e, lang)] {
                assert!(!out.contains(['\x1b', '\r', '\u{9b}']), "{out:?}");
            }
        }
        let u = Error::usage(tr!("unknown product `\x1b]0;x\x07`", "x"), None);
        assert!(!shown(&u, Lang::En).contains('\x1b'));
    }

    #[test]
    fn many_problems_are_counted_not_all_shown() {
        let text = "x\n".repeat(10_000);
        let file = SourceFile::new("s.yaml", text);
        let problems = (0..10_000)
            .map(|i| Problem::at(Some(i * 2..i * 2 + 1), tr!("bad", "bad"), None))
            .collect();
        let e = Error::Invalid { file, problems };
        let plain = e.plain(Lang::En);
        assert_eq!(plain.lines().count(), MAX_SHOWN + 1);
        assert!(plain.contains("… and 9950 more problem(s)"), "{plain}");
        assert!(shown(&e, Lang::Ja).contains("ほか 9950 件"));
    }

    #[test]
    fn non_utf8_input_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sjis.yaml");
        // "name: " then Shift_JIS for 本社 on line 2.
        std::fs::write(&p, b"zones: []\nname: \x96\x7b\x8e\xd0\n").unwrap();
        let e = read_text(&p).unwrap_err();
        let en = e.plain(Lang::En);
        assert!(
            en.contains("sjis.yaml:2:7: not UTF-8 text (byte 16 is 0x96)")
                && en.contains("saved as UTF-8"),
            "{en}"
        );
        assert!(e.plain(Lang::Ja).contains("UTF-8 で保存してください"));
        assert!(shown(&e, Lang::Ja).contains("Shift_JIS"));
        std::fs::write(&p, b"\xff\xfen\x00").unwrap();
        assert!(shown(&read_text(&p).unwrap_err(), Lang::En).contains("UTF-16"));
    }

    #[test]
    fn line_col_round_trips() {
        let f = SourceFile::new("x.yaml", "a: 1\nbé: [x, y]\n");
        let off = f.text.find('[').unwrap();
        assert_eq!(f.line_col(off), (2, 5));
        assert_eq!(f.offset_of(2, 5), off);
        assert_eq!(f.line_col(10_000), (3, 1));
    }
}
