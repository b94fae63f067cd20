use super::*;
use crate::i18n::Lang;

fn load_str(text: &str) -> Result<Catalog> {
    load(SourceFile::new("t.yaml", text.to_string()))
}

const MINIMAL: &str = r#"
id: demo
name: {en: Demo, ja: デモ}
vendor: Acme
sources: [{id: doc.txt, title: {en: Doc, ja: 資料}}]
options:
  - {id: mode, type: choice, values: [a, b], default: a, description: {en: m, ja: m}}
  - {id: port, type: port, default: 9000, description: {en: p, ja: p}}
roles:
  - {id: agent, name: {en: Agent, ja: エージェント}, zone: intranet}
  - {id: server, name: {en: Server, ja: サーバー}, zone: intranet}
requirements:
  - id: main
    purpose: {en: Main, ja: メイン}
    from: agent
    to: server
    protocol: tcp
    ports: [{option: port}]
    when: mode == b
    notes: {en: n, ja: n}
    source: {doc: doc.txt, row: 1}
"#;

#[test]
fn builtin_catalogs_load() {
    let c = Catalogs::builtin();
    let ids: Vec<&str> = c.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids[..2], ["tmws", "devicelock"]);
    assert_eq!(ids.len(), BUILTIN.len());
    let distinct: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "built-in ids are distinct: {ids:?}"
    );
}

#[test]
fn minimal_catalog_loads_and_resolves_option_ports() {
    let c = load_str(MINIMAL).unwrap();
    let r = c.requirement("main").unwrap();
    let mut v = c.default_options();
    assert!(!r.is_active(&v));
    v.set(&c.options, "mode", "b").unwrap();
    v.set(&c.options, "port", "9100").unwrap();
    assert!(r.is_active(&v));
    assert_eq!(r.ports(&v).0.to_strings(), ["9100"]);
}

fn errors(text: &str) -> Vec<String> {
    match load_str(text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.plain(Lang::En).lines().map(str::to_string).collect(),
    }
}

#[test]
fn unknown_role_is_reported_with_line_column_and_suggestion() {
    let bad = MINIMAL.replace("to: server", "to: sever");
    let errs = errors(&bad);
    assert_eq!(errs.len(), 1);
    let line = bad.lines().position(|l| l.contains("to: sever")).unwrap() + 1;
    assert_eq!(
        errs[0],
        format!("t.yaml:{line}:9: unknown role `sever` (did you mean `server`?)")
    );
}

#[test]
fn unknown_role_in_a_list_points_at_the_element() {
    let bad = MINIMAL.replace("to: server", "to: [server, agnt]");
    let errs = errors(&bad);
    let line = bad.lines().position(|l| l.contains("agnt")).unwrap() + 1;
    assert_eq!(
        errs[0],
        format!("t.yaml:{line}:18: unknown role `agnt` (did you mean `agent`?)")
    );
}

#[test]
fn bad_conditions_point_inside_the_condition() {
    let bad = MINIMAL.replace("when: mode == b", "when: mode == c and nope");
    let errs = errors(&bad);
    let line = bad.lines().position(|l| l.contains("mode == c")).unwrap() + 1;
    assert_eq!(
        errs,
        [
            format!("t.yaml:{line}:19: option `mode` can never be `c`"),
            format!("t.yaml:{line}:25: unknown option `nope`"),
        ]
    );
    let bad = MINIMAL.replace("when: mode == b", "when: \"mode = b\"");
    let errs = errors(&bad);
    assert!(
        errs[0].ends_with(":17: single `=` in a condition"),
        "{errs:?}"
    );
}

#[test]
fn every_kind_of_mistake_is_caught_at_once() {
    let bad = MINIMAL
        .replace(
            "ports: [{option: port}]",
            "ports: [0, \"90-80\", {option: mode}]",
        )
        .replace("protocol: tcp", "protocol: [tcp, icmp]")
        .replace("default: 9000", "default: 70000")
        .replace("doc: doc.txt, row: 1", "doc: other.txt, row: 0")
        .replace("id: server,", "id: agent,");
    let errs = errors(&bad).join("\n");
    for needle in [
        "default `70000` is not a value of option `port`",
        "duplicate role id `agent`",
        "unknown protocol `icmp`",
        "port 0 is outside 1-65535",
        "bad port spec `90-80`",
        "option `mode` does not hold a port number",
        "`other.txt` is not in this catalog's sources",
        "rows count from 1",
    ] {
        assert!(errs.contains(needle), "missing {needle:?} in\n{errs}");
    }
}

#[test]
fn malformed_yaml_and_unknown_fields_have_locations() {
    let e = load_str("id: demo\nname: [unclosed\n").unwrap_err();
    assert!(
        e.plain(Lang::En).starts_with("t.yaml:"),
        "{}",
        e.plain(Lang::En)
    );
    let bad = MINIMAL
        .replace("both_ways", "x")
        .replace("    notes: {en: n, ja: n}", "    notez: {en: n, ja: n}");
    let e = load_str(&bad).unwrap_err();
    let text = e.plain(Lang::En);
    let line = bad.lines().position(|l| l.contains("notez")).unwrap() + 1;
    assert!(text.starts_with(&format!("t.yaml:{line}:")), "{text}");
    assert!(text.contains("notez"), "{text}");
}

#[test]
fn japanese_messages_exist() {
    let bad = MINIMAL.replace("to: server", "to: sever");
    let e = load_str(&bad).unwrap_err();
    assert!(e.plain(Lang::Ja).contains("ロール `sever` はありません"));
}

#[test]
fn both_ways_expands_to_every_pair_once() {
    let c = Catalogs::builtin();
    let dl = c.get("devicelock").unwrap();
    let smb = dl.requirement("smb").unwrap();
    let pairs = smb.pairs();
    assert_eq!(pairs.len(), 10);
    assert_eq!(pairs[0], ("console", "service"));
    assert_eq!(pairs[5], ("service", "console"));
}

#[test]
fn schema_describes_the_format() {
    let s = schema();
    let text = s.to_string();
    for key in [
        "requirements",
        "both_ways",
        "when",
        "findings",
        "endpoints",
        "choice",
    ] {
        assert!(text.contains(key), "schema lacks {key}");
    }
}

#[test]
fn duplicate_ids_across_a_catalog_dir_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), MINIMAL).unwrap();
    let c = Catalogs::with_dir(dir.path()).unwrap();
    assert!(c.get("demo").is_ok());
    // Replacing a built-in is fine.
    std::fs::write(
        dir.path().join("b.yaml"),
        MINIMAL.replace("id: demo", "id: tmws"),
    )
    .unwrap();
    assert!(Catalogs::with_dir(dir.path()).is_ok());
    // Two files of the directory with one id: the second is located.
    std::fs::write(dir.path().join("c.yml"), MINIMAL).unwrap();
    let e = Catalogs::with_dir(dir.path()).unwrap_err();
    let en = e.plain(Lang::En);
    assert!(
        en.contains("c.yml:2:1: product id `demo` is already defined by") && en.contains("a.yaml"),
        "{en}"
    );
    assert!(e.plain(Lang::Ja).contains("すでに定義されています"));
}

#[test]
fn role_pairs_are_bounded() {
    let roles: String = (0..200)
        .map(|i| format!("  - {{id: r{i}, name: {{en: R, ja: R}}, zone: intranet}}\n"))
        .collect();
    let many = format!(
        "[{}]",
        (0..200)
            .map(|i| format!("r{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let text = MINIMAL
        .replace("roles:\n", &format!("roles:\n{roles}"))
        .replace(
            "    from: agent\n    to: server\n",
            &format!("    from: {many}\n    to: {many}\n"),
        );
    let t0 = std::time::Instant::now();
    let e = load_str(&text).unwrap_err().plain(Lang::En);
    assert!(e.contains("more than 20000 role pairs"), "{e}");
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
}

/// MINIMAL plus what the model gaps of issue 14 add.
fn with(extra_top: &str, req_extra: &str) -> String {
    format!(
        "{}{req_extra}{extra_top}",
        MINIMAL.trim_end_matches('\n').to_string() + "\n"
    )
}

#[test]
fn closed_ports_are_data_checked_like_requirements() {
    let text = with(
        r#"closed:
  - id: db-local
    purpose: {en: Database (local only), ja: データベース (ローカルのみ)}
    to: server
    protocol: tcp
    ports: [5432, {when: mode == b, ports: [5433]}]
    source: {doc: doc.txt, row: 2}
  - id: admin-from-agent
    purpose: {en: Admin port, ja: 管理ポート}
    from: agent
    to: server
    protocol: [tcp, udp]
    ports: ["8000-8010"]
    when: mode == a
    notes: {en: Keep closed, ja: 閉じたまま}
    source: {doc: doc.txt, row: 3}
"#,
        "",
    );
    let c = load_str(&text).unwrap();
    assert_eq!(c.closed.len(), 2);
    let db = c.closed_entry("db-local").unwrap();
    assert!(db.from.is_none());
    let mut v = c.default_options();
    assert_eq!(db.ports(&v).to_strings(), ["5432"]);
    v.set(&c.options, "mode", "b").unwrap();
    assert_eq!(db.ports(&v).to_strings(), ["5432-5433"]);
    assert!(!c.closed_entry("admin-from-agent").unwrap().is_active(&v));

    // Checked like requirements: roles, options, citations, ids shared with requirements.
    let bad = text
        .replace(
            "    to: server\n    protocol: tcp\n    ports: [5432",
            "    to: sever\n    protocol: tcp\n    ports: [5432",
        )
        .replace("id: admin-from-agent", "id: main")
        .replace("when: mode == a", "when: mode == z")
        .replace("row: 3", "row: 0");
    let errs = errors(&bad).join("\n");
    for needle in [
        "unknown role `sever`",
        "duplicate closed port id `main`",
        "option `mode` can never be `z`",
        "rows count from 1",
    ] {
        assert!(errs.contains(needle), "missing {needle:?} in\n{errs}");
    }
}

#[test]
fn a_catalog_may_name_the_service() {
    let text = with("", "    service: {en: Demo sync, ja: デモ同期}\n");
    let c = load_str(&text).unwrap();
    let name = c.requirement("main").unwrap().service.clone().unwrap();
    assert_eq!(name.get(Lang::Ja), "デモ同期");
    // One name for both languages.
    let text = with("", "    service: VMware heartbeat\n");
    let c = load_str(&text).unwrap();
    let name = c.requirement("main").unwrap().service.clone().unwrap();
    assert_eq!(
        (name.en.as_str(), name.ja.as_str()),
        ("VMware heartbeat", "VMware heartbeat")
    );
}
