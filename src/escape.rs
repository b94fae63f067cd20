//! Making untrusted text safe to show: terminal control characters and spreadsheet formulas.
//!
//! Names, comments and purposes come from files anyone can write (catalogs, sites, rulesets).
//! Printed raw, an ESC sequence in a role name clears the screen or erases a table line, a
//! carriage return overwrites what came before, and a bidirectional override makes text read
//! differently from what it is. Every text output escapes them at the point where the value
//! is placed ([`escape_controls`] for a table, Markdown, CSV or DOT cell; [`escape_line`] for
//! a name in a title line, an error message, or a configuration comment, where a line break
//! would forge a line or end the comment); the CLI also passes whole documents through
//! [`terminal_safe`] before printing. CSV cells also go through [`csv_cell`], so a spreadsheet does not run them as
//! formulas. HTML, SVG and XLSX have their own escaping and need none of this.
//!
//! Escapes are one-way and readable: `\x1b`, `\r`, `\t`, `\u{202e}`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a document as it is: C0 controls, DEL, C1
/// controls, and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), plus the line and paragraph separators that some viewers break on.
fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

fn escape_with(s: &str, keep: impl Fn(&str, usize, char) -> bool) -> Cow<'_, str> {
    let first = s
        .char_indices()
        .find(|&(i, c)| dangerous(c) && !keep(s, i, c));
    let Some((start, _)) = first else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..start]);
    for (i, c) in s[start..].char_indices() {
        let i = i + start;
        if !dangerous(c) || keep(s, i, c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// A value for a table cell, a Markdown cell, a CSV field, a DOT label or a message: every
/// control character except the line break becomes a visible escape (tab included, as it
/// breaks table alignment). Line breaks stay: each format deals with them (a table cell grows
/// a line, Markdown writes `<br>`, CSV quotes the field).
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    escape_with(s, |_, _, c| c == '\n')
}

/// A value that must stay on one line (a comment in a firewall configuration, where a line
/// break would end the comment and start a command): line breaks are escaped too.
pub fn escape_line(s: &str) -> Cow<'_, str> {
    escape_with(s, |_, _, _| false)
}

/// A whole document about to be printed: line breaks, tabs and CRLF line ends stay (they are
/// layout, not commands); every other control character becomes a visible escape. A safety
/// net behind the per-value escaping, which keeps tables aligned.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    escape_with(s, |s, i, c| {
        c == '\n' || c == '\t' || (c == '\r' && s.as_bytes().get(i + 1) == Some(&b'\n'))
    })
}

/// A CSV field: [`escape_controls`], and a field that a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`, which
/// spreadsheets show as text (OWASP's advice for CSV injection). A lone `-`, the placeholder
/// for "none", cannot be a formula and stays as it is.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let risky = s != "-" && s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    match (risky, escape_controls(s)) {
        (false, e) => e,
        (true, e) => Cow::Owned(format!("'{e}")),
    }
}

/// Replace each dangerous character with characters of the same byte length (`?`, or U+FFFD
/// for three-byte ones), so byte spans into the text stay valid: for source snippets in error
/// reports. Tabs, line feeds and CRLF line ends stay.
pub fn same_length_safe(s: &str) -> Cow<'_, str> {
    let bad = |i: usize, c: char| {
        dangerous(c)
            && c != '\n'
            && c != '\t'
            && !(c == '\r' && s.as_bytes().get(i + 1) == Some(&b'\n'))
    };
    if !s.char_indices().any(|(i, c)| bad(i, c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if !bad(i, c) {
            out.push(c);
            continue;
        }
        match c.len_utf8() {
            3 => out.push('\u{fffd}'),
            n => out.extend(std::iter::repeat_n('?', n)),
        }
    }
    Cow::Owned(out)
}

/// Text for XML content and attribute values (the JUnit reports of `probe` and `fleet merge`):
/// the five predefined entities; a control character XML 1.0 cannot carry becomes `?`.
pub fn xml_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        for s in [
            "",
            "devicelock/smb",
            "クライアント LAN",
            "a\nb",
            "10.0.0.0/8",
        ] {
            assert!(matches!(escape_controls(s), Cow::Borrowed(_)), "{s}");
            assert!(matches!(csv_cell(s), Cow::Borrowed(_)), "{s}");
        }
        assert!(matches!(terminal_safe("a\tb\r\nc\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_become_visible() {
        assert_eq!(escape_controls("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape_controls("x\ry"), "x\\ry");
        assert_eq!(escape_controls("x\ty\nz"), "x\\ty\nz");
        assert_eq!(escape_controls("\u{7f}\u{9b}"), "\\x7f\\u{9b}");
        assert_eq!(escape_controls("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape_controls("\x07bell"), "\\x07bell");
        assert_eq!(escape_line("a\nb\rc"), "a\\nb\\rc");
        assert_eq!(
            terminal_safe("a\tb\r\nc\rd\x1b[K\n"),
            "a\tb\r\nc\\rd\\x1b[K\n"
        );
        // Nothing dangerous survives any of them.
        let nasty: String = (0u32..0xa0)
            .chain(0x2020..0x2070)
            .filter_map(char::from_u32)
            .collect();
        for out in [
            escape_controls(&nasty),
            escape_line(&nasty),
            terminal_safe(&nasty),
        ] {
            assert!(
                !out.contains(|c: char| dangerous(c) && !matches!(c, '\n' | '\t' | '\r')),
                "{out:?}"
            );
            assert!(!out.contains('\x1b'));
        }
        assert!(!terminal_safe("\r").contains('\r'));
    }

    #[test]
    fn csv_formulas_are_neutralised() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "'=HYPERLINK(\"http://x\",\"y\")"
        );
        assert_eq!(csv_cell("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\t=1"), "'\\t=1");
        assert_eq!(csv_cell("\r=1"), "'\\r=1");
        assert_eq!(csv_cell("-"), "-");
        assert_eq!(csv_cell("a=b"), "a=b");
        assert_eq!(csv_cell("445"), "445");
    }

    #[test]
    fn same_length_keeps_offsets() {
        let s = "a\x1b[2J\u{9b}\u{202e}b\r\nc\rd";
        let t = same_length_safe(s);
        assert_eq!(t.len(), s.len());
        assert_eq!(t, "a?[2J??\u{fffd}b\r\nc?d");
        for (i, _) in s.char_indices() {
            assert!(t.is_char_boundary(i));
        }
    }
}
