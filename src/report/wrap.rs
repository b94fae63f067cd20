//! Line breaking for the XLSX cells: where a cell's text goes onto the next line, computed
//! here and written into the cell as line breaks, so the printed wrap (LibreOffice or Excel)
//! is this one and the row heights fit it exactly.
//!
//! Hand-written because neither spreadsheet program lets a file choose its line breaking and
//! no crate does Japanese line breaking with these rules (textwrap and unicode-linebreak
//! follow UAX #14, which breaks inside katakana words and has no label or orphan rules):
//!
//! - **Labels** (zone names, role and host names, request numbers, firewall names,
//!   protocols, each port) are never broken inside when at most [`LABEL_MAX`] display
//!   columns; a cell of labels breaks only between them (after `、` or `, `).
//! - Japanese breaks between characters, with basic 禁則処理 (JIS X 4051): no line starts with
//!   [`NO_START`] characters or ends with [`NO_END`] ones; a katakana word of at most
//!   [`KATAKANA_RUN`] characters (コンソール, サーバーセグメント) stays together, and so does a
//!   run of kanji (管理, 転送).
//! - A label wider than its column (only on a sheet too tight for every label) breaks
//!   between its words: at spaces, between kanji and kana, never inside a word.
//! - Latin text breaks at spaces and after `/` or `-` before a letter (`devicelock/` `smb`),
//!   never inside an address or a number.
//! - No line of one character ends a cell when taking one more piece down avoids it.
//!
//! Widths are in spreadsheet column units (the width of `0` in the sheet's font, 11 pt).
//! LibreOffice without Calibri sets the cells in DejaVu Sans and measures the unit in it: the
//! Latin widths below are DejaVu Sans advances divided by its `0` (0.636 em); Japanese is set
//! in Noto Sans CJK at one em, 1.57 units (1.6 here). Measured in the LibreOffice PDF: a
//! column of 10.71 units is 58.5 pt at a scale where a Japanese character is 8.6 pt.
//! Excel with Calibri has a narrower `0` (Japanese about 2.1 units), so there a long Japanese
//! line may wrap once more than here.

/// What a cell's padding takes of its column (units); [`min_width`] includes it.
pub const PAD: f32 = 0.7;

/// A label wider than this (display columns, wide characters two) may break inside.
pub const LABEL_MAX: usize = 24;

/// Katakana words up to this many characters are kept on one line.
pub const KATAKANA_RUN: usize = 10;

/// Characters that never start a line.
pub const NO_START: &str =
    "、。，．・：；？！ゝゞー）」』】〕］｝〉》ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ)]},.:;";

/// Characters that never end a line.
pub const NO_END: &str = "（「『【〔［｛〈《([{";

/// How a cell's text may break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Running text: Japanese between characters, Latin at spaces.
    Text,
    /// A list of labels separated by `、`, `, ` or line breaks: broken only between them.
    Labels,
}

/// DejaVu Sans advances of ASCII 0x20..=0x7E in widths of its `0`.
const ASCII: [f32; 95] = [
    0.5, 0.63, 0.72, 1.32, 1.0, 1.49, 1.23, 0.43, 0.61, 0.61, 0.79, 1.32, 0.5, 0.57, 0.5, 0.53,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.53, 0.53, 1.32, 1.32, 1.32, 0.83, 1.57,
    1.08, 1.08, 1.1, 1.21, 0.99, 0.9, 1.22, 1.18, 0.46, 0.46, 1.03, 0.88, 1.36, 1.18, 1.24, 0.95,
    1.24, 1.09, 1.0, 0.96, 1.15, 1.08, 1.55, 1.08, 0.96, 1.08, 0.61, 0.53, 0.61, 1.32, 0.79, 0.79,
    0.96, 1.0, 0.86, 1.0, 0.97, 0.55, 1.0, 1.0, 0.44, 0.44, 0.91, 0.44, 1.53, 1.0, 0.96, 1.0, 1.0,
    0.65, 0.82, 0.62, 1.0, 0.93, 1.29, 0.93, 0.93, 0.83, 1.0, 0.53, 1.0, 1.32,
];

/// Printed width of one character in column units.
pub fn char_width(c: char) -> f32 {
    match c as u32 {
        0x20..=0x7E => ASCII[c as usize - 0x20],
        _ if super::is_wide(c) => 1.6,
        // Dashes, ellipses, accented Latin: an em at most.
        _ => 1.6,
    }
}

/// Printed width of `s` in column units.
pub fn width(s: &str) -> f32 {
    s.chars().map(char_width).sum()
}

/// Width of `s` without its trailing spaces (a line's end).
fn trimmed_width(s: &str) -> f32 {
    width(s.trim_end_matches(' '))
}

fn is_katakana(c: char) -> bool {
    // Katakana, the prolonged sound mark; not the middle dot (a break point).
    matches!(c as u32, 0x30A1..=0x30FA | 0x30FC..=0x30FF)
}

/// The pieces of running text between which a line may break (before kinsoku).
fn text_pieces(line: &str) -> Vec<String> {
    pieces_of(line, true)
}

/// The words of a label too wide for its column: at spaces and between scripts (kanji runs
/// and katakana words whole, [`kanji_runs`]), never inside a Latin word — `NET-2026-fw-core-001`,
/// `microsoft-ds` and `10.10.0.10/31` stay whole.
fn label_words(label: &str) -> Vec<String> {
    kinsoku(kanji_runs(pieces_of(label, false)))
}

/// [`text_pieces`]; `split_latin`: also after `/` or `-` before a letter.
fn pieces_of(line: &str, split_latin: bool) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' {
            // Spaces stay with the piece before them (a line never starts with one).
            match out.last_mut() {
                Some(p) => p.push(c),
                None => out.push(c.to_string()),
            }
            i += 1;
        } else if is_katakana(c) {
            let start = i;
            while i < chars.len() && is_katakana(chars[i]) {
                i += 1;
            }
            if i - start <= KATAKANA_RUN {
                out.push(chars[start..i].iter().collect());
            } else {
                out.extend(chars[start..i].iter().map(|c| c.to_string()));
            }
        } else if c.is_ascii() {
            // A Latin word: up to a space or a non-ASCII character, split after `/` or `-`
            // before a letter.
            let mut cur = String::new();
            while i < chars.len() && chars[i].is_ascii() && chars[i] != ' ' {
                let c = chars[i];
                cur.push(c);
                i += 1;
                let next_letter = chars.get(i).is_some_and(|n| n.is_ascii_alphabetic());
                if split_latin && (c == '/' || c == '-') && next_letter {
                    out.push(std::mem::take(&mut cur));
                }
            }
            if !cur.is_empty() {
                out.push(cur);
            }
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// The labels of one line of a label list, each with the separator after it.
fn label_pieces(line: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        let sep = c == '、' || (c == ',' && chars.peek() == Some(&' '));
        if sep {
            while chars.peek() == Some(&' ') {
                cur.push(chars.next().unwrap_or(' '));
            }
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    // A label too long to keep whole breaks as running text, but between words only: a run
    // of kanji (管理, 転送) stays together, so `DeviceLock 管理コンソール` breaks at the space or
    // before コンソール, never 管/理.
    out.into_iter()
        .flat_map(|p| {
            if super::text_width(p.trim_end()) <= LABEL_MAX {
                vec![p]
            } else {
                label_words(&p)
            }
        })
        .collect()
}

fn is_kanji(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x3005)
}

/// Running-text pieces with consecutive kanji pieces joined (up to [`KATAKANA_RUN`]
/// characters, like katakana words).
fn kanji_runs(pieces: Vec<String>) -> Vec<String> {
    let single_kanji = |p: &str| {
        let mut cs = p.chars();
        matches!((cs.next(), cs.next()), (Some(c), None) if is_kanji(c))
    };
    let mut out: Vec<String> = Vec::new();
    let mut run = false;
    for p in pieces {
        let k = single_kanji(&p);
        match out.last_mut() {
            Some(last) if k && run && last.chars().count() < KATAKANA_RUN => last.push_str(&p),
            _ => out.push(p),
        }
        run = k;
    }
    out
}

/// Kinsoku: a piece starting with a [`NO_START`] character joins the one before it; a piece
/// ending with a [`NO_END`] character joins the one after it.
fn kinsoku(pieces: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut carry = String::new();
    for p in pieces {
        let mut p = carry + &p;
        carry = String::new();
        let starts_bad = p.chars().next().is_some_and(|c| NO_START.contains(c));
        if starts_bad && let Some(prev) = out.pop() {
            p = prev + &p;
        }
        let ends_bad = p
            .trim_end_matches(' ')
            .chars()
            .last()
            .is_some_and(|c| NO_END.contains(c))
            && !p.ends_with(' ');
        if ends_bad {
            carry = p;
        } else {
            out.push(p);
        }
    }
    if !carry.is_empty() {
        out.push(carry);
    }
    out
}

/// `text` broken into lines of at most `max` column units (a piece wider than that — a long
/// URL — is cut at the character where it fills a line). Line breaks in `text` are kept.
pub fn wrap(text: &str, max: f32, kind: Kind) -> Vec<String> {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let pieces = match kind {
            Kind::Text => text_pieces(line),
            Kind::Labels => label_pieces(line),
        };
        let mut pieces = kinsoku(pieces);
        if kind == Kind::Labels && pieces.iter().any(|p| trimmed_width(p) > max) {
            // A label wider than the column: between its words rather than anywhere.
            pieces = pieces
                .into_iter()
                .flat_map(|p| {
                    if trimmed_width(&p) > max {
                        label_words(&p)
                    } else {
                        vec![p]
                    }
                })
                .collect();
        }
        let mut cell_lines: Vec<Vec<String>> = vec![Vec::new()];
        let mut cur = 0.0f32;
        for p in pieces {
            let pw = trimmed_width(&p);
            let last = cell_lines.last_mut().expect("one line at least");
            if (last.is_empty() || cur + pw <= max) && (!last.is_empty() || pw <= max) {
                last.push(p.clone());
                cur += width(&p);
                continue;
            }
            if pw <= max {
                cell_lines.push(vec![p.clone()]);
                cur = width(&p);
                continue;
            }
            // Wider than a line: cut it by characters.
            let mut piece = String::new();
            let mut pwid = 0.0;
            if !cell_lines.last().is_some_and(Vec::is_empty) {
                cell_lines.push(Vec::new());
            }
            for c in p.chars() {
                let cw = char_width(c);
                if pwid + cw > max && !piece.is_empty() {
                    // Kinsoku inside the cut: what may not start a line takes the
                    // character before it down; what may not end one goes down too.
                    let mut down = String::new();
                    let mut next = c;
                    while piece.chars().count() > 1 && down.chars().count() < 3 {
                        let last = piece.chars().last().unwrap_or(' ');
                        if NO_START.contains(next) || NO_END.contains(last) {
                            piece.pop();
                            down.insert(0, last);
                            next = last;
                        } else {
                            break;
                        }
                    }
                    cell_lines
                        .last_mut()
                        .expect("a line")
                        .push(std::mem::take(&mut piece));
                    cell_lines.push(Vec::new());
                    pwid = width(&down);
                    piece = down;
                }
                piece.push(c);
                pwid += cw;
            }
            cell_lines.last_mut().expect("a line").push(piece);
            cur = pwid;
        }
        // No lone character on the last line: take one more piece down when that leaves
        // the line above something and the last line still fits.
        let n = cell_lines.len();
        if n >= 2 {
            let lone = cell_lines[n - 1].concat().trim_end().chars().count() == 1;
            if lone && cell_lines[n - 2].len() >= 2 {
                let moved = cell_lines[n - 2].last().cloned().unwrap_or_default();
                let tail = moved.clone() + &cell_lines[n - 1].concat();
                if trimmed_width(&tail) <= max {
                    cell_lines[n - 2].pop();
                    cell_lines[n - 1].insert(0, moved);
                }
            }
        }
        lines.extend(
            cell_lines
                .into_iter()
                .map(|l| l.concat().trim_end_matches(' ').to_string()),
        );
    }
    lines
}

/// The pieces of one line of `text` between which it may break, after kinsoku: what the
/// HTML report marks as break opportunities, so a browser breaks where [`wrap`] would.
pub fn pieces(line: &str, kind: Kind) -> Vec<String> {
    kinsoku(match kind {
        Kind::Text => text_pieces(line),
        Kind::Labels => label_pieces(line),
    })
}

/// The narrowest column (units, [`PAD`] included) that holds every label of `text`
/// whole, and every unbreakable piece of its running text.
pub fn min_width(text: &str, kind: Kind) -> f32 {
    text.split('\n')
        .flat_map(|l| match kind {
            Kind::Text => kinsoku(text_pieces(l)),
            Kind::Labels => kinsoku(label_pieces(l)),
        })
        .map(|p| trimmed_width(&p))
        .fold(0.0, f32::max)
        + PAD
}

/// The narrowest column (units, [`PAD`] included) that holds every *word* of the labels of
/// `text` ([`label_words`]: what a label breaks into when its column is narrower than it):
/// what a label column may shrink to when the page cannot hold every label whole.
pub fn word_min_width(text: &str) -> f32 {
    text.split('\n')
        .flat_map(|l| label_pieces(l).into_iter().flat_map(|p| label_words(&p)))
        .map(|p| trimmed_width(&p))
        .fold(0.0, f32::max)
        + PAD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str, max: f32) -> Vec<String> {
        wrap(s, max, Kind::Text)
    }

    /// Every line of every wrap of `s` at widths 3..40 obeys kinsoku.
    fn obeys_kinsoku(s: &str) {
        for max in 10..40 {
            let lines = w(s, max as f32);
            assert_eq!(lines.concat().replace(' ', ""), s.replace([' ', '\n'], ""));
            for (i, l) in lines.iter().enumerate() {
                if i > 0 {
                    let first = l.chars().next().unwrap();
                    assert!(
                        !NO_START.contains(first),
                        "{max}: {lines:?} starts with {first}"
                    );
                }
                if i + 1 < lines.len() {
                    let last = l.chars().last().unwrap();
                    assert!(!NO_END.contains(last), "{max}: {lines:?} ends with {last}");
                }
            }
        }
    }

    #[test]
    fn kinsoku_no_line_starts_or_ends_with_the_wrong_character() {
        obeys_kinsoku("表 5 行目 — devicelock/smb (常に)");
        obeys_kinsoku(
            "「テクニカルガイド: DeviceLock の通信で使用するポートについて (2020-09-08)」",
        );
        obeys_kinsoku(
            "インターネットからクライアントを利用する場合、認証エージェントには（グローバル IP アドレス）が必要です。",
        );
        obeys_kinsoku(
            "ちょっと待ってください。「設定」を（必ず）確認すること！キャッシュ・サーバー、ちぇっ。ゝあ：",
        );
        // The lone bracket of 「(常に/)」 stays with 常に.
        let lines = w("devicelock/smb (常に)", 12.0);
        assert!(lines.iter().all(|l| !l.starts_with(')')), "{lines:?}");
        assert!(lines.iter().all(|l| !l.ends_with('(')), "{lines:?}");
    }

    #[test]
    fn katakana_words_stay_together() {
        // 「管理コ/ンソー/ル」 was printed; コンソール is one piece.
        let lines = w(
            "DeviceLock 管理コンソール、DeviceLock Enterprise Server",
            12.0,
        );
        assert!(lines.iter().any(|l| l.contains("コンソール")), "{lines:?}");
        // セグメント is not broken; a longer run may be.
        let lines = w("サーバー セグメント", 12.0);
        assert_eq!(lines, vec!["サーバー", "セグメント"]);
        let long = "アイウエオカキクケコサシス";
        assert!(w(long, 8.0).len() > 1);
    }

    #[test]
    fn long_labels_break_between_words() {
        // Too long to keep whole (27 columns), so it breaks — at the space or before the
        // katakana word, never between 管 and 理.
        let l = "DeviceLock 管理コンソール、10.10.0.10/31";
        for max in [8.0, 10.0, 12.0, 14.0, 16.0, 20.0] {
            let lines = wrap(l, max, Kind::Labels);
            assert!(
                !lines
                    .iter()
                    .any(|x| x.ends_with('管') || x.starts_with('理')),
                "{max}: {lines:?}"
            );
            assert_eq!(
                lines.concat().replace(' ', ""),
                l.replace(' ', ""),
                "{lines:?}"
            );
        }
        assert_eq!(
            kanji_runs(text_pieces("管理用端末の転送")),
            ["管理用端末", "の", "転送"]
        );
    }

    #[test]
    fn labels_are_never_broken_inside() {
        for label in [
            "NET-2026-fw-core-001",
            "サーバーセグメント",
            "dl-agents",
            "クライアント LAN",
            "445, 9132-9133",
        ] {
            let min = min_width(label, Kind::Labels);
            for extra in [0.0, 0.5, 3.0] {
                let lines = wrap(label, min - PAD + 0.01 + extra, Kind::Labels);
                if label.contains(", ") {
                    // Port lists break only after a comma.
                    assert!(
                        lines
                            .iter()
                            .all(|l| l == "445," || l == "9132-9133" || l == "445, 9132-9133"),
                        "{lines:?}"
                    );
                } else {
                    assert_eq!(lines, vec![label.to_string()], "{label} at {min}");
                }
            }
        }
        // A list of labels breaks between them.
        let lines = wrap("クライアント LAN、サーバーセグメント", 20.0, Kind::Labels);
        assert_eq!(lines, vec!["クライアント LAN、", "サーバーセグメント"]);
        // Wider than LABEL_MAX: breaks like text.
        let long = "DeviceLock Enterprise Server Extra";
        assert!(wrap(long, 20.0, Kind::Labels).len() > 1);
        // The zone name's column minimum holds it.
        assert!(min_width("サーバーセグメント", Kind::Labels) >= 9.0 * 1.6);
    }

    #[test]
    fn no_single_character_alone_on_the_last_line() {
        // 「サーバーセグメン/ト」: never a lone ト; and in running text one more piece
        // moves down.
        let s = "通信を許可する設定です。";
        for max in 4..30 {
            let lines = w(s, max as f32);
            let last = lines.last().unwrap();
            if lines.len() > 1 {
                assert!(last.chars().count() > 1, "{max}: {lines:?}");
            }
        }
        let lines = w("管理ツール用の DeviceLock Service ポート", 20.0);
        assert!(lines.last().unwrap().chars().count() > 1, "{lines:?}");
    }

    #[test]
    fn lines_fit_and_text_is_kept() {
        let s = "SMB (Active Directory と Windows 共有)\n管理ツール用の DeviceLock Service ポート";
        for max in 6..40 {
            let lines = w(s, max as f32);
            for l in &lines {
                // One piece may exceed only when it is wider than the line by itself.
                assert!(
                    width(l) <= max as f32 + 0.01 || !l.contains(' '),
                    "{max}: {l:?} {}",
                    width(l)
                );
            }
            assert_eq!(lines.concat().replace(' ', ""), s.replace([' ', '\n'], ""));
        }
        // Addresses whole.
        let lines = w("10.10.0.10/31 10.20.0.0/16", 14.0);
        assert_eq!(lines, vec!["10.10.0.10/31", "10.20.0.0/16"]);
    }

    proptest::proptest! {
        // Any text a site or catalog may carry (names, purposes: any script, control
        // characters, lone kinsoku characters, long runs), at any width: no panic, nothing
        // lost or invented but the spaces at the breaks, a line for every source line, and
        // no line wider than the column unless one unbreakable character is.
        #[test]
        fn any_text_wraps_without_loss(
            text in "([a-zA-Z0-9 /\\-.,:()]|[ァ-ヺー]|[一-龥]|[ぁ-ゖ]|[、。「」（）・]|\\n|[\\u{1F300}-\\u{1F64F}]|\\t){0,80}",
            max in 0.5f32..60.0,
            labels in proptest::bool::ANY,
        ) {
            let kind = if labels { Kind::Labels } else { Kind::Text };
            let lines = wrap(&text, max, kind);
            proptest::prop_assert!(lines.len() > text.matches('\n').count());
            proptest::prop_assert_eq!(
                lines.concat().replace(' ', ""),
                text.replace([' ', '\n'], "")
            );
            for l in &lines {
                // Wider than the column only when the line is one unbreakable piece (a
                // character cut of a longer one), or kinsoku kept up to four characters.
                let one_piece = match kind {
                    Kind::Text => pieces(l, Kind::Text).len() <= 1,
                    Kind::Labels => label_words(l).len() <= 1,
                };
                proptest::prop_assert!(
                    width(l) <= max + 0.01 || one_piece || l.chars().count() <= 4,
                    "{:?} at {}: {:?}", l, max, lines
                );
            }
            let _ = min_width(&text, kind);
            let _ = word_min_width(&text);
            let _ = pieces(&text, kind);
        }
    }
}
