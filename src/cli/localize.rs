//! The command line's own texts in the user's language: `--help` and clap's errors.
//!
//! Help texts are written once, in both languages, in the clap definitions: a short help is
//! `English / 日本語`, a long one has its English paragraphs, then its Japanese ones. This
//! module keeps the half of each that the language asks for, and gives clap's fixed words
//! (`Usage:`, `Options:`, `Print help`, `[default: …]`, its error sentences) in Japanese.
//! clap has no translation support of its own (clap-rs/clap#380), so the fixed words are set
//! through its builder (headings, help of the built-in flags and `help` subcommand) and, for
//! the few that only exist inside its renderer (`Usage:`, `[OPTIONS]`, value annotations), by
//! replacing them in the rendered help.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command};

use crate::i18n::Lang;

/// Whether `c` is a Japanese character (kana, kanji, full-width forms and punctuation).
fn is_ja(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0xff00..=0xffef)
}

fn has_ja(s: &str) -> bool {
    s.chars().any(is_ja)
}

/// The `lang` half of a one-line `English / 日本語` text: split at the last ` / ` whose left
/// side holds no Japanese (the English may itself contain ` / `, the Japanese too). A text
/// without a Japanese half is returned whole.
pub fn pick_line(s: &str, lang: Lang) -> String {
    let split = s
        .match_indices(" / ")
        .map(|(i, _)| i)
        .filter(|&i| !has_ja(&s[..i]) && has_ja(&s[i + 3..]))
        .last();
    match split {
        Some(i) => lang.pick(s[..i].trim(), s[i + 3..].trim()).to_string(),
        None => s.to_string(),
    }
}

/// The `lang` part of a help text: its first line split as [`pick_line`], then the paragraphs
/// of that language (Japanese paragraphs are those with Japanese characters; an example
/// paragraph without words of either is kept in both).
pub fn pick_text(s: &str, lang: Lang) -> String {
    let mut paras = s.split("\n\n").peekable();
    let mut out = vec![];
    // A first line with both halves; otherwise it is a paragraph like the others.
    if let Some(first) = paras.next_if(|f| pick_line(f, Lang::En) != pick_line(f, Lang::Ja)) {
        out.push(pick_line(first, lang));
    }
    for p in paras {
        if has_ja(p) == (lang == Lang::Ja) || !p.chars().any(|c| c.is_alphabetic()) {
            out.push(p.to_string());
        }
    }
    out.join("\n\n")
}

/// The command with every help text in `lang` (recursively), built so that clap's own
/// arguments and `help` subcommand exist and can be given Japanese help too.
pub fn command(mut cmd: Command, lang: Lang) -> Command {
    cmd.build();
    localize(cmd, lang)
}

fn localize(mut cmd: Command, lang: Lang) -> Command {
    let ja = lang == Lang::Ja;
    if let Some(a) = cmd.get_about().map(|a| a.to_string()) {
        let mut about = pick_line(&a, lang);
        // An about without a Japanese half whose long text has Japanese paragraphs (the
        // top-level command): the first of them.
        if ja
            && !has_ja(&about)
            && let Some(p) = cmd.get_long_about().and_then(|l| {
                l.to_string()
                    .split("\n\n")
                    .find(|p| has_ja(p))
                    .map(str::to_string)
            })
        {
            about = p;
        }
        cmd = cmd.about(about);
    }
    if let Some(a) = cmd.get_long_about().map(|a| a.to_string()) {
        cmd = cmd.long_about(pick_text(&a, lang));
    }
    if cmd.get_name() == "help" && cmd.get_about().is_some() && ja {
        cmd = cmd.about("このヘルプ、または指定したサブコマンドのヘルプを表示");
    }
    if ja {
        cmd = cmd.subcommand_help_heading("コマンド");
    }
    let ids: Vec<clap::Id> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
    for id in ids {
        cmd = cmd.mut_arg(id, |a| localize_arg(a, lang));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for n in names {
        cmd = cmd.mut_subcommand(n, |s| localize(s, lang));
    }
    cmd
}

fn localize_arg(mut a: Arg, lang: Lang) -> Arg {
    let ja = lang == Lang::Ja;
    if let Some(h) = a.get_help().map(|h| h.to_string()) {
        a = a.help(pick_line(&h, lang));
    }
    if let Some(h) = a.get_long_help().map(|h| h.to_string()) {
        a = a.long_help(pick_text(&h, lang));
    }
    if !ja {
        return a;
    }
    match a.get_id().as_str() {
        "help" => {
            a = a
                .help("ヘルプを表示 (--help で詳細)")
                .long_help("ヘルプを表示 (-h で要約)");
        }
        "version" => a = a.help("バージョンを表示"),
        _ => {}
    }
    if a.get_help_heading().is_none() {
        let heading = if a.is_positional() {
            "引数"
        } else {
            "オプション"
        };
        a = a.help_heading(heading);
    }
    a
}

/// clap's fixed words that exist only inside its renderer, in Japanese.
const RENDERED: &[(&str, &str)] = &[
    ("Usage:", "使い方:"),
    ("[OPTIONS]", "[オプション]"),
    ("<COMMAND>", "<コマンド>"),
    ("[COMMAND]", "[コマンド]"),
    ("[default: ", "[既定値: "),
    ("[possible values: ", "[指定できる値: "),
    ("[env: ", "[環境変数: "),
    ("[aliases: ", "[別名: "),
    ("[alias: ", "[別名: "),
    ("Possible values:", "指定できる値:"),
];

/// Rendered help in `lang`: clap's fixed words, and the help of the possible values (the doc
/// comments of the value enums, `- text: Human-readable table / 表`, which clap keeps inside
/// the value parser where the builder cannot change them).
pub fn help_text(rendered: &str, lang: Lang) -> String {
    let lines: Vec<&str> = rendered.split('\n').collect();
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        i += 1;
        match body.strip_prefix("- ").and_then(|b| b.split_once(": ")) {
            Some((name, help)) if !name.contains(' ') => {
                // clap wraps long value help onto more indented lines: join them first.
                let mut help = help.trim_end().to_string();
                while i < lines.len()
                    && !lines[i].trim().is_empty()
                    && indent_of(lines[i]) > indent.len()
                    && !lines[i].trim_start().starts_with("- ")
                {
                    let more = lines[i].trim();
                    let cjk = |c: Option<char>| c.is_some_and(is_ja);
                    if !(cjk(help.chars().last()) && cjk(more.chars().next())) {
                        help.push(' ');
                    }
                    help.push_str(more);
                    i += 1;
                }
                out.push(format!("{indent}- {name}: {}", pick_line(&help, lang)));
            }
            _ => out.push(line.to_string()),
        }
    }
    let mut s = out.join("\n");
    // `[possible values: …]` wrapped between its two words.
    let mut from = 0;
    while let Some(found) = s[from..].find("[possible") {
        let at = from + found;
        from = at + "[possible".len();
        let rest = &s[from..];
        let gap = rest.len() - rest.trim_start().len();
        if rest.trim_start().starts_with("values: ") && gap > 0 {
            s.replace_range(from..from + gap, " ");
        }
    }
    if lang == Lang::Ja {
        for (en, ja) in RENDERED {
            s = s.replace(en, ja);
        }
    }
    s
}

/// A clap error in Japanese: what is wrong with which argument, then where to find help.
/// (English keeps clap's own wording.)
pub fn error_text(e: &clap::Error, lang: Lang) -> Option<String> {
    if lang != Lang::Ja {
        return None;
    }
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => v
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let arg = ctx(ContextKind::InvalidArg);
    let value = ctx(ContextKind::InvalidValue);
    let valid = ctx(ContextKind::ValidValue);
    let sub = ctx(ContextKind::InvalidSubcommand);
    let suggested = {
        let s = ctx(ContextKind::SuggestedArg);
        let c = ctx(ContextKind::SuggestedSubcommand);
        if !s.is_empty() { s } else { c }
    };
    let msg = match e.kind() {
        ErrorKind::InvalidValue => {
            if valid.is_empty() {
                format!("{arg} の値 '{value}' は使えません")
            } else {
                format!("{arg} の値 '{value}' は使えません (指定できる値: {valid})")
            }
        }
        ErrorKind::UnknownArgument => format!("不明な引数 '{arg}' があります"),
        ErrorKind::InvalidSubcommand => format!("不明なサブコマンド '{sub}' です"),
        ErrorKind::NoEquals => format!("{arg} には '=' で値を指定してください"),
        ErrorKind::ValueValidation => format!("{arg} の値 '{value}' は正しくありません"),
        ErrorKind::TooManyValues => format!("{arg} の値 '{value}' が多すぎます"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("{arg} の値の数が正しくありません")
        }
        ErrorKind::ArgumentConflict => {
            let other = ctx(ContextKind::PriorArg);
            format!("{arg} は {other} と同時には指定できません")
        }
        ErrorKind::MissingRequiredArgument => {
            format!("必要な引数が指定されていません: {arg}")
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "サブコマンドを指定してください".to_string()
        }
        ErrorKind::InvalidUtf8 => "引数が UTF-8 ではありません".to_string(),
        _ => "コマンドラインを解釈できません".to_string(),
    };
    let tip = if suggested.is_empty() {
        String::new()
    } else {
        format!("\n  ヒント: '{suggested}' のことですか?")
    };
    let usage = ctx(ContextKind::Usage);
    let usage = if usage.is_empty() {
        String::new()
    } else {
        format!("\n\n{}", help_text(usage.trim(), lang))
    };
    Some(format!(
        "エラー: {msg}{tip}{usage}\n\n詳しくは '--help' を参照してください。\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_are_split_at_the_language_boundary() {
        let s = "Output language (default: from LC_ALL / LC_MESSAGES / LANG) / 出力言語";
        assert_eq!(
            pick_line(s, Lang::En),
            "Output language (default: from LC_ALL / LC_MESSAGES / LANG)"
        );
        assert_eq!(pick_line(s, Lang::Ja), "出力言語");
        assert_eq!(pick_line("開放 / 閉鎖", Lang::En), "開放 / 閉鎖");
        assert_eq!(
            pick_line("Allow / Deny / 許可 / 拒否", Lang::Ja),
            "許可 / 拒否"
        );
        assert_eq!(pick_line("no translation", Lang::Ja), "no translation");
        let long = "Short / 短い\n\nEnglish paragraph.\n\n日本語の段落。\n\n  10.0.0.0/8";
        assert_eq!(
            pick_text(long, Lang::En),
            "Short\n\nEnglish paragraph.\n\n  10.0.0.0/8"
        );
        assert_eq!(
            pick_text(long, Lang::Ja),
            "短い\n\n日本語の段落。\n\n  10.0.0.0/8"
        );
        let two = "Only English first.\n\n日本語だけ。";
        assert_eq!(pick_text(two, Lang::En), "Only English first.");
        assert_eq!(pick_text(two, Lang::Ja), "日本語だけ。");
        let wrapped =
            "  --mode <MODE>  既存 [possible\n       values: a, b]\n  [possible values: c]";
        assert_eq!(
            help_text(wrapped, Lang::Ja),
            "  --mode <MODE>  既存 [指定できる値: a, b]\n  [指定できる値: c]"
        );
    }
}
