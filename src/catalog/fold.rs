//! Folded block scalars (`>` / `>-`) and Japanese (gap 7 of issue 14).
//!
//! YAML folds each line break of a `>` scalar into a space. Between Latin words that is what
//! the writer wants; inside Japanese text, which has no spaces between words, it inserts a
//! space at every line break (`…を使用\n する` reads `…を使用 する`). The YAML parser does not say
//! which scalars were folded or where, so this module reads the folds off the source: for each
//! `>` block, every pair of adjacent lines folded into one where the first ends and the next
//! begins with a CJK character gives the text as folded (`A B`) and as it should read (`AB`);
//! every catalog text then has those folds undone. A space the writer typed inside a line is
//! never touched (the pair includes the whole of both lines), nor one between Latin and CJK.
//! Hand-written: no YAML crate offers a folding hook.

use crate::i18n::Text;

use super::raw::{RawCatalog, ServiceName};

/// Characters of scripts written without spaces between words: kana, CJK ideographs, CJK
/// punctuation and full-width forms. Hangul is not among them (Korean spaces words).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F   // CJK symbols and punctuation (、。「」)
        | 0x3040..=0x30FF // hiragana, katakana
        | 0x31F0..=0x31FF // katakana phonetic extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0xFF00..=0xFFEF // full-width and half-width forms (（）、ｱ)
        | 0x20000..=0x3134F)
}

/// `(as folded, as meant)` for every fold of a `>` block of `source` between two CJK
/// characters.
pub fn cjk_folds(source: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if !is_folded_header(line) {
            continue;
        }
        let header_indent = indent(line);
        // The block: the following lines indented deeper than the header, and blank lines.
        let mut base: Option<usize> = None;
        let mut prev: Option<&str> = None;
        while i < lines.len() {
            let l = lines[i];
            if l.trim().is_empty() {
                // A blank line is kept as a line break: no fold across it.
                prev = None;
                i += 1;
                continue;
            }
            let n = indent(l);
            if n <= header_indent {
                break;
            }
            let b = *base.get_or_insert(n);
            i += 1;
            if n != b {
                // More-indented lines keep their line breaks.
                prev = None;
                continue;
            }
            let content = &l[b..];
            if let Some(p) = prev {
                let (last, first) = (p.chars().last(), content.chars().next());
                if last.is_some_and(is_cjk) && first.is_some_and(is_cjk) {
                    out.push((format!("{p} {content}"), format!("{p}{content}")));
                }
            }
            prev = Some(content);
        }
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `key: >`, `key: >-`, `- >+2`, `ja: >- # comment`.
fn is_folded_header(line: &str) -> bool {
    let code = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    let code = code.trim_end();
    let Some(pos) = code.rfind('>') else {
        return false;
    };
    let (before, after) = (&code[..pos], &code[pos + 1..]);
    let before = before.trim_end();
    (before.ends_with(':') || before.ends_with('-'))
        && after
            .chars()
            .all(|c| c == '-' || c == '+' || c.is_ascii_digit())
}

fn undo(s: &mut String, folds: &[(String, String)]) {
    for (folded, meant) in folds {
        if s.contains(folded.as_str()) {
            *s = s.replace(folded.as_str(), meant);
        }
    }
}

fn text(t: &mut Text, folds: &[(String, String)]) {
    undo(&mut t.en, folds);
    undo(&mut t.ja, folds);
}

/// Undo the CJK folds of `source` in every text of `raw`.
pub fn unfold_cjk(source: &str, raw: &mut RawCatalog) {
    let folds = cjk_folds(source);
    if folds.is_empty() {
        return;
    }
    let f = &folds[..];
    let service = |s: &mut Option<ServiceName>| match s {
        Some(ServiceName::One(x)) => undo(x, f),
        Some(ServiceName::Both(t)) => text(t, f),
        None => {}
    };
    text(&mut raw.name, f);
    raw.summary.iter_mut().for_each(|t| text(t, f));
    raw.notes.iter_mut().for_each(|t| text(t, f));
    raw.findings
        .iter_mut()
        .for_each(|x| text(&mut x.message, f));
    for s in &mut raw.sources {
        text(&mut s.title, f);
    }
    for o in &mut raw.options {
        text(&mut o.description, f);
    }
    for r in &mut raw.roles {
        text(&mut r.name, f);
        r.description.iter_mut().for_each(|t| text(t, f));
    }
    for r in &mut raw.requirements {
        text(&mut r.purpose, f);
        text(&mut r.notes, f);
        r.findings.iter_mut().for_each(|x| text(&mut x.message, f));
        service(&mut r.service);
    }
    for c in &mut raw.closed {
        text(&mut c.purpose, f);
        c.notes.iter_mut().for_each(|t| text(t, f));
        service(&mut c.service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_between_cjk_are_found_and_latin_ones_kept() {
        let src = "notes:\n  ja: >-\n    管理コンソールは\n    サービスに接続し、\n    Windows\n    ファイアウォールを使う。\n  en: >-\n    The console\n    connects.\n";
        let folds = cjk_folds(src);
        assert_eq!(
            folds,
            [(
                "管理コンソールは サービスに接続し、".to_string(),
                "管理コンソールはサービスに接続し、".to_string()
            )]
        );
        let mut s =
            "管理コンソールは サービスに接続し、 Windows ファイアウォールを使う。".to_string();
        undo(&mut s, &folds);
        assert_eq!(
            s,
            "管理コンソールはサービスに接続し、 Windows ファイアウォールを使う。"
        );
    }

    #[test]
    fn only_folded_blocks_count() {
        // A literal block keeps its line breaks; a plain multi-line scalar is not touched either.
        let src = "a: |\n  日本語\n  です\nb: >\n  日本語\n\n  です\nc: >-\n  一\n    二\n  三\n";
        assert!(cjk_folds(src).is_empty(), "{:?}", cjk_folds(src));
        assert!(is_folded_header("  - >+2"));
        assert!(is_folded_header("    ja: > # note"));
        assert!(!is_folded_header("    ja: a > b"));
    }
}
