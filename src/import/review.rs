//! The review list: every guess the importer made, with the source line, what to check and,
//! where it proposes a change, the edits that make it. Written as YAML (`--review FILE`) and
//! printed; `--apply-review FILE` applies the items marked `decision: accept`.

use serde::{Deserialize, Serialize};

use crate::i18n::{Lang, Text};

use super::draft::Edit;

/// What the reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Not decided: not applied.
    #[default]
    Pending,
    /// Apply the item's edits.
    Accept,
    /// Leave the draft as read.
    Reject,
}

/// One guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable id (import is deterministic).
    pub id: String,
    /// Kind: `condition`, `choice`, `variant`, `alternatives`, `port-note`, `default-port`,
    /// `exclusive`, `transport`, `legacy`, `no-opening`, `ditto`, `continuation`, `direction`,
    /// `subject`, `roles`, `zones`, `protocol`, `unparsed`, `wide`, `note-split`, `texts`, `skipped`.
    pub kind: String,
    /// Data row of the table, when the guess is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u32>,
    /// Source line(s): `"14"`, `"24-30"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<String>,
    /// The text the guess reads.
    pub quote: String,
    /// What to check.
    pub check: Text,
    /// The proposed change (empty: the draft already reads it this way; check it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
    /// `pending`, `accept` or `reject`.
    #[serde(default)]
    pub decision: Decision,
}

/// The review file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The imported file's name.
    pub source: String,
    /// FNV-1a 64 of its bytes, so a review is applied to the document it was made for.
    pub digest: String,
    /// The guesses, in table order.
    pub items: Vec<Item>,
}

/// FNV-1a 64-bit, hex (an identity check, not security; hand-written: eight lines).
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Review {
    /// YAML text.
    pub fn to_yaml(&self) -> String {
        let head = "# portplan import review list. Set `decision: accept` on the items to apply, then run\n\
                    # `portplan import SOURCE --apply-review THIS_FILE -o DRAFT.yaml`.\n";
        format!(
            "{head}{}",
            serde_saphyr::to_string(self).unwrap_or_default()
        )
    }

    /// The list for a terminal.
    pub fn to_text(&self, lang: Lang) -> String {
        let mut o = String::new();
        let n = self.items.len();
        o.push_str(crate::tr!("{n} item(s) to review\n", "確認項目 {n} 件\n").get(lang));
        for it in &self.items {
            let at = match (&it.lines, it.row) {
                (Some(l), Some(r)) => lang
                    .pick(
                        &format!("line {l}, row {r}"),
                        &format!("{l} 行目 ({r} 行目のデータ)"),
                    )
                    .to_string(),
                (Some(l), None) => lang
                    .pick(&format!("line {l}"), &format!("{l} 行目"))
                    .to_string(),
                (None, Some(r)) => lang
                    .pick(&format!("row {r}"), &format!("{r} 行目のデータ"))
                    .to_string(),
                (None, None) => String::new(),
            };
            let change = if it.edits.is_empty() {
                lang.pick("check", "確認")
            } else {
                lang.pick("suggest", "提案")
            };
            let quote: String = it.quote.replace('\n', " / ").chars().take(100).collect();
            o.push_str(&format!(
                "- [{}] {} {} ({at}): {}\n    `{quote}`\n",
                it.id,
                it.kind,
                change,
                it.check.get(lang)
            ));
        }
        o
    }
}
