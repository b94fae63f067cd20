//! The one mapping of [`crate::diag::Error`] to a page: the CLI's located problems (the same
//! text `Error::located` gives the terminal), each next to its line of the file; status 422
//! for a file that is wrong, 400 for a wrong request. Never a backtrace.

use std::fmt::Write as _;

use axum::http::StatusCode;

use super::page::esc;
use crate::diag::{Error, Located};
use crate::i18n::Lang;

/// The status for an error: a file's content (422) or the request itself (400).
pub fn status(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } | Error::Yaml { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Usage { .. } | Error::Io { .. } => StatusCode::BAD_REQUEST,
    }
}

/// The problems of `e` as HTML: a list, and for each located one the line of the file (with
/// the one before) and the message right under it.
pub fn problems(e: &Error, text: Option<&str>, lang: Lang) -> String {
    let located = e.located(lang);
    let name = match e {
        Error::Invalid { file, .. } | Error::Yaml { file, .. } => Some(file.name.as_str()),
        _ => None,
    };
    let mut out = String::from("<div class=\"problems\" id=\"problems\" role=\"alert\">");
    let _ = write!(
        out,
        "<p class=\"error\">{}</p><ul>",
        esc(&match name {
            Some(n) => format!(
                "{n}: {} {}",
                located.len(),
                lang.pick("problem(s)", "件の問題")
            ),
            None => lang
                .pick("The request is wrong:", "要求に誤りがあります:")
                .to_string(),
        })
    );
    let lines: Vec<&str> = text.map(|t| t.lines().collect()).unwrap_or_default();
    for l in &located {
        out.push_str(&item(l, &lines, name, lang));
    }
    out.push_str("</ul></div>");
    out
}

fn item(l: &Located, lines: &[&str], name: Option<&str>, lang: Lang) -> String {
    let mut out = String::new();
    match (l.line, l.column) {
        (Some(line), col) => {
            let _ = write!(
                out,
                "<li class=\"err-line\" data-line=\"{line}\"><span class=\"where\">{}:{line}:{}</span> {}",
                esc(name.unwrap_or("")),
                col.unwrap_or(1),
                esc(&l.message)
            );
            if let Some(h) = &l.help {
                let _ = write!(out, "<br><span class=\"help\">{}</span>", esc(h));
            }
            if line >= 1 && line <= lines.len() {
                out.push_str("<pre class=\"snippet\">");
                for n in line.saturating_sub(1).max(1)..=line {
                    let text: String = lines[n - 1].chars().take(400).collect();
                    let _ = writeln!(
                        out,
                        "<span class=\"ln{}\">{n:>5} | {}</span>",
                        if n == line { " bad" } else { "" },
                        esc(&text)
                    );
                }
                let col = col.unwrap_or(1).min(400);
                let _ = write!(
                    out,
                    "{}^ {}</pre>",
                    " ".repeat(8 + col - 1),
                    esc(lang.pick("here", "ここ"))
                );
            }
            out.push_str("</li>");
        }
        _ => {
            let _ = write!(out, "<li>{}", esc(&l.message));
            if let Some(h) = &l.help {
                let _ = write!(out, "<br><span class=\"help\">{}</span>", esc(h));
            }
            out.push_str("</li>");
        }
    }
    out
}
