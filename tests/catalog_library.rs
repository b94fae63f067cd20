//! The catalog library (issue 15): every built-in catalog beyond the two seed catalogs follows
//! vendor documents whose rows are accounted for in a ledger, `catalogs/rows/<id>.yaml`
//! (format: `docs/catalog-conventions.md`).
//!
//! For every ledger: each vendor row is listed once, in order, and is either cited by at least
//! one requirement (the requirement exists and its `source` names that document and row) or
//! says why it is not a requirement; each requirement of the catalog is listed under the row
//! it cites; each document of the catalog has a ledger entry, with a URL, the product version
//! and the date read. Every catalog of the library has a ledger, and `catalog check` passes for
//! every file in `catalogs/`. The seed catalogs (tmws, devicelock) are checked row by row
//! against the seed files by `tests/seed_rows.rs` instead.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::portplan;
use portplan::catalog::{Catalog, Catalogs};
use serde::Deserialize;

/// Checked against their seed files in tests/seed_rows.rs.
const SEED_CATALOGS: &[&str] = &["tmws", "devicelock"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ledger {
    catalog: String,
    documents: Vec<LedgerDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerDoc {
    /// The catalog's `sources` id.
    doc: String,
    /// Where the text was read (a repository and commit of the published markdown, or "web").
    copy: String,
    /// How the rows are counted.
    numbering: String,
    rows: Vec<LedgerRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerRow {
    row: u32,
    label: String,
    #[serde(default)]
    requirements: Vec<String>,
    #[serde(default)]
    not_a_requirement: Option<String>,
    /// How a row that was hard to read was decided.
    #[serde(default)]
    decision: Option<String>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ledger_paths() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("catalogs/rows"))
        .expect("catalogs/rows exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

fn read_ledger(path: &Path) -> Ledger {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Everything wrong with `ledger` for `catalog`, one line each.
fn ledger_problems(ledger: &Ledger, catalog: &Catalog) -> Vec<String> {
    let mut p = Vec::new();
    let c = &catalog.id;
    if ledger.catalog != *c {
        p.push(format!(
            "ledger names catalog `{}`, not `{c}`",
            ledger.catalog
        ));
    }
    // (doc, row) → requirement ids listed there.
    let mut listed: BTreeMap<(String, u32), BTreeSet<String>> = BTreeMap::new();
    let mut docs = BTreeSet::new();
    for d in &ledger.documents {
        if !docs.insert(d.doc.clone()) {
            p.push(format!("document `{}` has two ledger entries", d.doc));
        }
        match catalog.sources.iter().find(|s| s.id == d.doc) {
            None => p.push(format!("document `{}` is not in {c}'s sources", d.doc)),
            Some(s) => {
                if s.url.as_deref().is_none_or(|u| !u.starts_with("https://")) {
                    p.push(format!("source `{}` has no https URL", s.id));
                }
                if s.version.as_deref().is_none_or(|v| v.trim().is_empty()) {
                    p.push(format!("source `{}` names no product version", s.id));
                }
                if s.read.is_none() {
                    p.push(format!("source `{}` has no date read", s.id));
                }
            }
        }
        if d.copy.trim().is_empty() || d.numbering.trim().is_empty() {
            p.push(format!(
                "document `{}`: copy and numbering must be said",
                d.doc
            ));
        }
        if d.rows.is_empty() {
            p.push(format!("document `{}` lists no rows", d.doc));
        }
        for (i, r) in d.rows.iter().enumerate() {
            let at = format!("{}#{}", d.doc, r.row);
            if r.row as usize != i + 1 {
                p.push(format!(
                    "{at}: rows must be numbered 1, 2, … in order (expected {})",
                    i + 1
                ));
            }
            if r.label.trim().is_empty() {
                p.push(format!("{at}: empty label"));
            }
            if r.decision.as_deref().is_some_and(|s| s.trim().is_empty()) {
                p.push(format!("{at}: empty decision"));
            }
            match (&r.requirements[..], &r.not_a_requirement) {
                ([], None) => p.push(format!(
                    "{at} ({}) is neither cited by a requirement nor marked not_a_requirement",
                    r.label
                )),
                ([_, ..], Some(_)) => p.push(format!(
                    "{at}: both requirements and not_a_requirement; say which"
                )),
                ([], Some(why)) if why.trim().is_empty() => {
                    p.push(format!("{at}: not_a_requirement needs a reason"))
                }
                _ => {}
            }
            for id in &r.requirements {
                match catalog.requirement(id) {
                    None => p.push(format!("{at} lists `{id}`, which {c} does not have")),
                    Some(req) if req.source.doc != d.doc || req.source.row != r.row => p.push(
                        format!("{at} lists `{id}`, but `{id}` cites {}", req.source),
                    ),
                    Some(_) => {}
                }
                let set = listed.entry((d.doc.clone(), r.row)).or_default();
                if !set.insert(id.clone()) {
                    p.push(format!("{at} lists `{id}` twice"));
                }
            }
        }
    }
    for s in &catalog.sources {
        if !docs.contains(&s.id) {
            p.push(format!("source `{}` has no ledger entry", s.id));
        }
    }
    for req in &catalog.requirements {
        let key = (req.source.doc.clone(), req.source.row);
        if !listed.get(&key).is_some_and(|s| s.contains(&req.id)) {
            p.push(format!(
                "requirement `{}` cites {} but that ledger row does not list it",
                req.id, req.source
            ));
        }
    }
    p
}

#[test]
fn every_ledger_accounts_for_every_row_and_requirement() {
    let catalogs = Catalogs::builtin();
    let mut problems = Vec::new();
    let paths = ledger_paths();
    assert!(!paths.is_empty(), "catalogs/rows holds no ledger");
    for path in &paths {
        let ledger = read_ledger(path);
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if stem != ledger.catalog {
            problems.push(format!(
                "{}: file name must be the catalog id `{}`",
                path.display(),
                ledger.catalog
            ));
        }
        let Some(c) = catalogs.iter().find(|c| c.id == ledger.catalog) else {
            problems.push(format!(
                "{}: `{}` is not a built-in catalog",
                path.display(),
                ledger.catalog
            ));
            continue;
        };
        for q in ledger_problems(&ledger, c) {
            problems.push(format!("{}: {q}", path.display()));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_library_catalog_has_a_ledger() {
    let ledgers: BTreeSet<String> = ledger_paths()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    let missing: Vec<String> = Catalogs::builtin()
        .iter()
        .filter(|c| !SEED_CATALOGS.contains(&c.id.as_str()) && !ledgers.contains(&c.id))
        .map(|c| c.id.clone())
        .collect();
    assert!(
        missing.is_empty(),
        "catalogs without catalogs/rows/<id>.yaml: {missing:?}"
    );
}

/// Every YAML file in catalogs/ passes `catalog check` and is built in under the same id.
#[test]
fn every_catalog_file_passes_catalog_check_and_is_built_in() {
    let builtin: BTreeSet<String> = Catalogs::builtin().iter().map(|c| c.id.clone()).collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("catalogs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    for f in &files {
        portplan()
            .args(["catalog", "check"])
            .arg(f)
            .assert()
            .success();
        let c = portplan::catalog::load_path(f).unwrap();
        assert!(
            builtin.contains(&c.id),
            "{} (id `{}`) is not registered in BUILTIN (src/catalog/mod.rs)",
            f.display(),
            c.id
        );
        assert_eq!(
            f.file_stem().unwrap().to_string_lossy(),
            c.id,
            "catalogs/<id>.yaml"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The check itself can fail: a small catalog and ledgers that get it wrong.
// ---------------------------------------------------------------------------------------------

const DEMO: &str = r#"
id: demo
name: {en: Demo, ja: デモ}
vendor: Acme
sources:
  - {id: d, title: {en: Doc, ja: 資料}, url: "https://example.com/d", version: "1.0", read: 2026-11-30}
roles:
  - {id: a, name: {en: A, ja: A}, zone: intranet}
  - {id: b, name: {en: B, ja: B}, zone: intranet}
requirements:
  - {id: one, purpose: {en: x, ja: x}, from: a, to: b, protocol: tcp, ports: [1], notes: {en: n, ja: n}, source: {doc: d, row: 1}}
  - {id: two, purpose: {en: x, ja: x}, from: a, to: b, protocol: tcp, ports: [2], notes: {en: n, ja: n}, source: {doc: d, row: 3}}
"#;

fn demo() -> Catalog {
    portplan::catalog::load(portplan::diag::SourceFile::new(
        "demo.yaml",
        DEMO.to_string(),
    ))
    .unwrap()
}

fn ledger(rows: &str) -> Ledger {
    serde_saphyr::from_str(&format!(
        "catalog: demo\ndocuments:\n  - doc: d\n    copy: web\n    numbering: table 1\n    rows:\n{rows}"
    ))
    .unwrap()
}

#[test]
fn the_check_accepts_a_complete_ledger() {
    let l = ledger(
        "      - {row: 1, label: a, requirements: [one]}\n      - {row: 2, label: b, not_a_requirement: internal}\n      - {row: 3, label: c, requirements: [two], decision: read as tcp}\n",
    );
    assert_eq!(ledger_problems(&l, &demo()), Vec::<String>::new());
}

#[test]
fn the_check_finds_each_kind_of_gap() {
    let cases = [
        // row 2 unaccounted for
        (
            "      - {row: 1, label: a, requirements: [one]}\n      - {row: 2, label: b}\n      - {row: 3, label: c, requirements: [two]}\n",
            "neither cited",
        ),
        // requirement `two` (row 3) missing from the ledger
        (
            "      - {row: 1, label: a, requirements: [one]}\n      - {row: 2, label: b, not_a_requirement: x}\n",
            "`two` cites d#3 but",
        ),
        // a row citing a requirement that cites another row
        (
            "      - {row: 1, label: a, requirements: [one, two]}\n      - {row: 2, label: b, not_a_requirement: x}\n      - {row: 3, label: c, requirements: [two]}\n",
            "but `two` cites d#3",
        ),
        // an unknown requirement
        (
            "      - {row: 1, label: a, requirements: [one, three]}\n      - {row: 2, label: b, not_a_requirement: x}\n      - {row: 3, label: c, requirements: [two]}\n",
            "`three`, which demo does not have",
        ),
        // a row skipped in the numbering
        (
            "      - {row: 1, label: a, requirements: [one]}\n      - {row: 3, label: c, requirements: [two]}\n",
            "numbered 1, 2",
        ),
        // both at once
        (
            "      - {row: 1, label: a, requirements: [one], not_a_requirement: x}\n      - {row: 2, label: b, not_a_requirement: x}\n      - {row: 3, label: c, requirements: [two]}\n",
            "say which",
        ),
    ];
    for (rows, expect) in cases {
        let problems = ledger_problems(&ledger(rows), &demo());
        assert!(
            problems.iter().any(|p| p.contains(expect)),
            "expected a problem containing {expect:?}, got {problems:?}"
        );
    }
}

#[test]
fn the_check_wants_url_version_and_date_for_each_document() {
    let bare = DEMO.replace(
        r#", url: "https://example.com/d", version: "1.0", read: 2026-11-30"#,
        "",
    );
    let c = portplan::catalog::load(portplan::diag::SourceFile::new("demo.yaml", bare)).unwrap();
    let l = ledger(
        "      - {row: 1, label: a, requirements: [one]}\n      - {row: 2, label: b, not_a_requirement: internal}\n      - {row: 3, label: c, requirements: [two]}\n",
    );
    let problems = ledger_problems(&l, &c).join("\n");
    for want in ["no https URL", "no product version", "no date read"] {
        assert!(problems.contains(want), "{want}: {problems}");
    }
}

#[test]
fn a_source_read_date_that_is_not_a_date_is_refused() {
    let bad = DEMO.replace("read: 2026-11-30", "read: 30.11.2026");
    let e = portplan::catalog::load(portplan::diag::SourceFile::new("demo.yaml", bad)).unwrap_err();
    let text = e.plain(portplan::i18n::Lang::En);
    assert!(text.contains("is not a date"), "{text}");
}
