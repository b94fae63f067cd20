//! Bilingual text (English and Japanese) and the choice of output language.
//!
//! Every user-facing string in portplan exists in both languages. Catalog text arrives as
//! [`Text`] (both languages side by side); program text is written inline with [`Lang::pick`]
//! or [`tr!`](crate::tr), so both languages sit next to each other in the source and a missing
//! translation is a compile error rather than a silent fallback.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Output language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// 日本語.
    Ja,
}

impl Lang {
    /// The language the locale asks for: the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is
    /// set and non-empty decides; `ja*` selects Japanese, anything else English.
    pub fn from_env() -> Lang {
        Self::from_locale_vars(|k| std::env::var(k).ok())
    }

    /// [`Lang::from_env`] over an arbitrary variable source (for tests).
    pub fn from_locale_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(v) = get(key).filter(|v| !v.is_empty()) {
                return if v.to_ascii_lowercase().starts_with("ja") {
                    Lang::Ja
                } else {
                    Lang::En
                };
            }
        }
        Lang::En
    }

    /// Pick the string for this language.
    pub fn pick<'a>(self, en: &'a str, ja: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }

    /// The language code (`en`, `ja`).
    pub fn code(self) -> &'static str {
        self.pick("en", "ja")
    }
}

/// A text in both languages, as catalogs and messages carry it.
///
/// In a file it is either `{en: …, ja: …}` or one plain string, used for both languages (a
/// site written in one language needs no translation of its own names).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(with = "TextSchema")]
pub struct Text {
    /// English.
    pub en: String,
    /// Japanese.
    pub ja: String,
}

/// The written forms of a [`Text`] (schema only).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum TextSchema {
    /// One language, used for both.
    Plain(String),
    /// Both languages.
    Both {
        /// English.
        en: String,
        /// Japanese.
        ja: String,
    },
}

/// `{en, ja}` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BothLangs {
    en: String,
    ja: String,
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or {en: ..., ja: ...}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::new(v, v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                let b = BothLangs::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Text::new(b.en, b.ja))
            }
        }
        d.deserialize_any(V)
    }
}

impl Text {
    /// A text from its two languages.
    pub fn new(en: impl Into<String>, ja: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            ja: ja.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.en, &self.ja)
    }
}

/// Build a [`Text`] from two format strings with the same arguments:
/// `tr!("unknown option {name}", "不明なオプション {name}")`.
#[macro_export]
macro_rules! tr {
    ($en:literal, $ja:literal $(,)?) => {
        $crate::i18n::Text::new(format!($en), format!($ja))
    };
    ($en:literal, $ja:literal, $($arg:tt)*) => {
        $crate::i18n::Text::new(format!($en, $($arg)*), format!($ja, $($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_decides_language() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_locale_vars(env(&[])), Lang::En);
        assert_eq!(
            Lang::from_locale_vars(env(&[("LANG", "ja_JP.UTF-8")])),
            Lang::Ja
        );
        assert_eq!(
            Lang::from_locale_vars(env(&[("LC_ALL", "C"), ("LANG", "ja_JP.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_locale_vars(env(&[("LC_ALL", ""), ("LC_MESSAGES", "ja_JP")])),
            Lang::Ja
        );
    }

    #[test]
    fn text_is_a_plain_string_or_both_languages() {
        let t: Text = serde_json::from_str("\"本社\"").unwrap();
        assert_eq!(t, Text::new("本社", "本社"));
        let t: Text = serde_json::from_str(r#"{"en": "HQ", "ja": "本社"}"#).unwrap();
        assert_eq!(t, Text::new("HQ", "本社"));
        assert!(serde_json::from_str::<Text>(r#"{"en": "HQ"}"#).is_err());
        assert!(serde_json::from_str::<Text>(r#"{"en": "a", "ja": "b", "fr": "c"}"#).is_err());
        assert!(serde_json::from_str::<Text>("3").is_err());
    }

    #[test]
    fn tr_formats_both_languages() {
        let name = "x";
        let t = tr!("unknown {name}", "不明な {name}");
        assert_eq!(t.get(Lang::En), "unknown x");
        assert_eq!(t.get(Lang::Ja), "不明な x");
    }
}
