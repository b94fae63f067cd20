//! The change request's paperwork: the site's `request:` block, or a file of the same fields
//! given with `report --request FILE` (which wins). Every Japanese FW申請書 asks for these:
//! 申請番号, 申請区分, 申請者, 所属, 申請日, 実施予定日, 利用期間 / 有効期限, 目的 and the
//! 承認欄 (the boxes reviewers stamp).
//!
//! Dates are `YYYY-MM-DD` and checked; a validity entry is keyed by a deployed product
//! (`tmws`) or one of its requirements (`tmws/pac`), the most specific key winning.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::catalog::raw::SpStr;
use crate::diag::{Error, Problem, Result, SourceFile, span_of};
use crate::i18n::{Lang, Text};
use crate::tr;

/// The `request:` block as written.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    /// 申請番号 prefix: rows are numbered `<prefix><firewall>-001` (default `FW-`).
    #[serde(default)]
    pub number_prefix: Option<String>,
    /// 申請区分: `new` (新規), `change` (変更) or `delete` (削除); `report --diff-from` makes it
    /// `change` unless given.
    #[serde(default)]
    pub kind: Option<RequestKind>,
    /// 申請者.
    #[serde(default)]
    pub applicant: Option<Text>,
    /// 所属 (department).
    #[serde(default)]
    pub department: Option<Text>,
    /// 申請日, `YYYY-MM-DD`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub date: Option<SpStr>,
    /// 実施予定日, `YYYY-MM-DD`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub planned_date: Option<SpStr>,
    /// 有効期限 of every opening, `YYYY-MM-DD` (default: none, permanent).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub valid_until: Option<SpStr>,
    /// 有効期限 per product (`tmws: 2027-03-31`) or requirement (`tmws/pac: 2026-12-31`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub validity: BTreeMap<String, SpStr>,
    /// 目的 (why the change is needed).
    #[serde(default)]
    pub purpose: Option<Text>,
    /// 承認欄: the boxes reviewers sign, left to right (default 承認, 確認, 作成).
    #[serde(default)]
    pub approvers: Vec<Text>,
}

/// 申請区分.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// 新規.
    New,
    /// 変更.
    Change,
    /// 削除.
    Delete,
}

impl RequestKind {
    /// 新規 / 変更 / 削除.
    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            RequestKind::New => lang.pick("New", "新規"),
            RequestKind::Change => lang.pick("Change", "変更"),
            RequestKind::Delete => lang.pick("Removal", "削除"),
        }
    }
}

/// The checked request metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// 申請番号 prefix.
    pub number_prefix: Option<String>,
    /// 申請区分 as given.
    pub kind: Option<RequestKind>,
    /// 申請者.
    pub applicant: Option<Text>,
    /// 所属.
    pub department: Option<Text>,
    /// 申請日.
    pub date: Option<String>,
    /// 実施予定日.
    pub planned_date: Option<String>,
    /// Default 有効期限.
    pub valid_until: Option<String>,
    /// 有効期限 per `product` or `product/requirement`.
    pub validity: BTreeMap<String, String>,
    /// 目的.
    pub purpose: Option<Text>,
    /// 承認欄 labels.
    pub approvers: Vec<Text>,
}

impl Request {
    /// Whether nothing was given.
    pub fn is_empty(&self) -> bool {
        *self == Request::default()
    }

    /// The 有効期限 of requirement `product/requirement`: its own, else its product's, else the
    /// default.
    pub fn valid_until_of(&self, requirement: &str) -> Option<&str> {
        let product = requirement.split_once('/').map_or(requirement, |(p, _)| p);
        self.validity
            .get(requirement)
            .or_else(|| self.validity.get(product))
            .or(self.valid_until.as_ref())
            .map(String::as_str)
    }

    /// The 承認欄 labels (the given ones, or 承認 / 確認 / 作成).
    pub fn approver_labels(&self, lang: Lang) -> Vec<String> {
        if self.approvers.is_empty() {
            vec![
                lang.pick("Approved", "承認").to_string(),
                lang.pick("Reviewed", "確認").to_string(),
                lang.pick("Prepared", "作成").to_string(),
            ]
        } else {
            self.approvers
                .iter()
                .map(|t| t.get(lang).to_string())
                .collect()
        }
    }
}

/// Whether `s` is a calendar date `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        s.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Check a written request: dates, validity keys (`known(key)` says whether a product or
/// requirement of the site has that id). Problems are pushed, located in `file`.
pub fn check(
    raw: RawRequest,
    file: &SourceFile,
    known: &dyn Fn(&str) -> bool,
    problems: &mut Vec<Problem>,
) -> Request {
    let date = |s: Option<SpStr>, problems: &mut Vec<Problem>| -> Option<String> {
        let s = s?;
        if !is_date(&s.value) {
            let v = &s.value;
            problems.push(Problem::at(
                span_of(file, &s.referenced),
                tr!(
                    "`{v}` is not a date: write YYYY-MM-DD",
                    "`{v}` は日付ではありません: YYYY-MM-DD の形で書いてください"
                ),
                Some(tr!("e.g. 2026-12-15", "例: 2026-12-15")),
            ));
            return None;
        }
        Some(s.value)
    };
    let d = date(raw.date, problems);
    let planned = date(raw.planned_date, problems);
    let valid = date(raw.valid_until, problems);
    let mut validity = BTreeMap::new();
    for (k, v) in raw.validity {
        if !known(&k) {
            let key = &k;
            problems.push(Problem::at(
                span_of(file, &v.referenced),
                tr!(
                    "`{key}` is neither a deployed product nor one of its requirements",
                    "`{key}` は配備された製品でもその要件でもありません"
                ),
                Some(tr!(
                    "write a product id (`tmws`) or PRODUCT/REQUIREMENT (`tmws/pac`)",
                    "製品 ID (`tmws`) か 製品/要件 (`tmws/pac`) を書いてください"
                )),
            ));
            continue;
        }
        if let Some(v) = date(Some(v), problems) {
            validity.insert(k, v);
        }
    }
    Request {
        number_prefix: raw.number_prefix,
        kind: raw.kind,
        applicant: raw.applicant,
        department: raw.department,
        date: d,
        planned_date: planned,
        valid_until: valid,
        validity,
        purpose: raw.purpose,
        approvers: raw.approvers,
    }
}

/// A request file (`report --request FILE`): the fields of the `request:` block at its top
/// level.
pub fn load(file: SourceFile, known: &dyn Fn(&str) -> bool) -> Result<Request> {
    if file.text.trim().is_empty() {
        return Err(Error::Invalid {
            file,
            problems: vec![Problem::at(
                None,
                tr!("the request file is empty", "申請情報ファイルが空です"),
                Some(tr!(
                    "write the fields of a site's `request:` block, e.g. `applicant: 山田 太郎`",
                    "サイトの `request:` ブロックの項目を書いてください (例: `applicant: 山田 太郎`)"
                )),
            )],
        });
    }
    let raw: RawRequest =
        serde_saphyr::from_str_with_options(&file.text, crate::diag::yaml_options()).map_err(
            |e| Error::Yaml {
                file: file.clone(),
                error: Box::new(e),
            },
        )?;
    let mut problems = Vec::new();
    let req = check(raw, &file, known, &mut problems);
    if problems.is_empty() {
        Ok(req)
    } else {
        Err(Error::Invalid { file, problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_calendar_dates() {
        assert!(is_date("2026-12-15"));
        assert!(is_date("2028-02-29"));
        assert!(!is_date("2027-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-1-01"));
        assert!(!is_date("2026/12/15"));
        assert!(!is_date("２０２６-12-15"));
    }

    #[test]
    fn validity_most_specific_wins() {
        let r = Request {
            valid_until: Some("2030-01-01".into()),
            validity: [
                ("tmws".to_string(), "2027-03-31".to_string()),
                ("tmws/pac".to_string(), "2026-12-31".to_string()),
            ]
            .into(),
            ..Request::default()
        };
        assert_eq!(r.valid_until_of("tmws/pac"), Some("2026-12-31"));
        assert_eq!(r.valid_until_of("tmws/sync"), Some("2027-03-31"));
        assert_eq!(r.valid_until_of("devicelock/smb"), Some("2030-01-01"));
    }

    #[test]
    fn a_request_file_is_checked_with_locations() {
        let f = SourceFile::new(
            "req.yaml",
            "applicant: 山田\ndate: 2026-02-30\nvalidity:\n  nope: 2026-01-01\n".to_string(),
        );
        let Err(Error::Invalid { problems, .. }) = load(f, &|k| k == "tmws") else {
            panic!("invalid");
        };
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.ja.contains("日付ではありません"));
        assert!(problems[1].message.en.contains("`nope`"));
        assert!(problems.iter().all(|p| p.span.is_some()));
        let empty = SourceFile::new("req.yaml", "\n".to_string());
        assert!(load(empty, &|_| true).is_err());
    }
}
