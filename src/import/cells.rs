//! Cell text: width folding, whitespace, ditto marks and zone hints.
//!
//! Width folding is hand-written: it is the fixed Unicode block mapping of full-width ASCII
//! (U+FF01..U+FF5E → U+0021..U+007E) and the ideographic space, nothing a normalisation crate
//! would add for these tables (NFKC would also rewrite half-width katakana and ㍻-style
//! ligatures, which vendor tables use verbatim in names).

use crate::catalog::ZoneHint;

/// Full-width ASCII and the ideographic space to their ASCII forms; `～`/`〜` to `~`.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '\u{301C}' => '~',
            '\u{2212}' | '\u{2010}' | '\u{2013}' | '\u{2014}' => '-',
            _ => c,
        })
        .collect()
}

/// Fold width, turn `<br>` into line breaks, trim each line and drop empty lines.
pub fn clean(s: &str) -> String {
    let s = fold_width(s);
    let mut out = String::new();
    let lower = s.to_ascii_lowercase();
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        if lower[i..].starts_with("<br")
            && let Some(end) = lower[i..].find('>')
        {
            out.push('\n');
            i += end + 1;
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a cell says "same as the cell above".
pub fn is_ditto(s: &str) -> bool {
    let t = s.trim().trim_end_matches(['。', '.']);
    matches!(
        t.to_ascii_lowercase().as_str(),
        "同上" | "〃" | "\"" | "”" | "ditto" | "same as above" | "same" | "上に同じ" | "同左"
    )
}

/// A role name without its zone hint, and the hint: `TMWS (インターネット)` →
/// (`TMWS`, internet).
pub fn split_zone(name: &str) -> (String, Option<ZoneHint>) {
    let name = name.trim();
    let Some(open) = name.rfind(['(', '（']) else {
        return (name.to_string(), None);
    };
    let inner = name[open..]
        .trim_start_matches(['(', '（'])
        .trim_end_matches([')', '）'])
        .to_lowercase();
    let inet = [
        "インターネット",
        "internet",
        "クラウド",
        "cloud",
        "外部",
        "wan",
    ]
    .iter()
    .any(|w| inner.contains(w));
    let intra = [
        "イントラネット",
        "intranet",
        "社内",
        "lan",
        "内部",
        "オンプレミス",
        "on-prem",
    ]
    .iter()
    .any(|w| inner.contains(w));
    let zone = match (inet, intra) {
        (true, true) => Some(ZoneHint::Any),
        (true, false) => Some(ZoneHint::Internet),
        (false, true) => Some(ZoneHint::Intranet),
        (false, false) => None,
    };
    match zone {
        Some(z) => (name[..open].trim().to_string(), Some(z)),
        None => (name.to_string(), None),
    }
}

/// Split text into sentences at `。`, `・` bullets, `. ` and line breaks.
pub fn sentences(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let split_before = c == '・' || c == '•' || c == '\n';
        if split_before {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
            if c == '\n' {
                continue;
            }
            continue;
        }
        cur.push(c);
        let end = c == '。' || (c == '.' && chars.get(i + 1).is_none_or(|n| n.is_whitespace()));
        if end {
            out.push(cur.trim().to_string());
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Ids from names: ASCII words and a small glossary of common Japanese IT words, e.g.
/// `TMWSクラウド管理サービス` → `tmws_cloud_management_service`. Empty when nothing is known.
pub fn slug(s: &str) -> String {
    const GLOSSARY: &[(&str, &str)] = &[
        ("クライアント", "client"),
        ("端末", "terminal"),
        ("サーバー", "server"),
        ("サーバ", "server"),
        ("管理", "management"),
        ("クラウド", "cloud"),
        ("プロキシ", "proxy"),
        ("同期", "sync"),
        ("認証", "auth"),
        ("エージェント", "agent"),
        ("環境", "env"),
        ("サービス", "service"),
        ("画面", "console"),
        ("コンソール", "console"),
        ("転送", "forward"),
        ("ツール", "tool"),
        ("マネージャー", "manager"),
        ("マネージャ", "manager"),
        ("グループポリシー", "group_policy"),
        ("直接", "direct"),
        ("方式", "method"),
        ("動的", "dynamic"),
        ("固定", "fixed"),
        ("ポート", "port"),
        ("接続", "connect"),
        ("コンピューター名", "computer_name"),
        ("コンピュータ名", "computer_name"),
        ("名前解決", "name_resolution"),
        ("ファイル", "file"),
        ("利用", "use"),
        ("ゲスト", "guest"),
        ("ユーザー", "user"),
        ("ユーザ", "user"),
        ("透過", "transparent"),
        ("キャプティブポータル", "captive_portal"),
        ("データベース", "database"),
        ("ファイアウォール", "firewall"),
        ("ゲートウェイ", "gateway"),
        ("ドメインコントローラ", "domain_controller"),
        ("ログ", "log"),
        ("監視", "monitoring"),
        ("通信", "traffic"),
        ("設定した", ""),
    ];
    let folded = fold_width(s);
    let mut words: Vec<String> = Vec::new();
    let mut rest = folded.as_str();
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_alphanumeric() {
            let end = rest
                .find(|ch: char| !ch.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            words.push(rest[..end].to_ascii_lowercase());
            rest = &rest[end..];
            continue;
        }
        if let Some((k, v)) = GLOSSARY.iter().find(|(k, _)| rest.starts_with(k)) {
            if !v.is_empty() && words.last().is_none_or(|w| w != v) {
                words.push((*v).to_string());
            }
            rest = &rest[k.len()..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
    }
    let mut out = words.join("_");
    if out.len() > 40 {
        out.truncate(40);
        out = out.trim_end_matches('_').to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit())
        || crate::import::RESERVED.contains(&out.as_str())
    {
        out = format!("x_{out}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_cleans() {
        assert_eq!(fold_width("ＴＣＰ：９３８９～"), "TCP:9389~");
        assert_eq!(clean(" a <br/> b<BR>c  d "), "a\nb\nc d");
        assert!(is_ditto("同上"));
        assert!(is_ditto("Same as above."));
        assert!(!is_ditto("server"));
    }

    #[test]
    fn zones_and_slugs() {
        assert_eq!(
            split_zone("TMWSクラウド環境 (インターネット)"),
            ("TMWSクラウド環境".into(), Some(ZoneHint::Internet))
        );
        assert_eq!(
            split_zone("端末 (イントラネット、インターネット)").1,
            Some(ZoneHint::Any)
        );
        assert_eq!(split_zone("NetBIOS (legacy)").1, None);
        assert_eq!(
            slug("TMWSクラウド管理サービス"),
            "tmws_cloud_management_service"
        );
        assert_eq!(slug("設定したDNSサーバ"), "dns_server");
        assert_eq!(slug("あいう"), "");
    }

    #[test]
    fn splits_sentences() {
        assert_eq!(sentences("・A です。 ・B。C"), vec!["A です。", "B。", "C"]);
    }
}
