//! The catalog model's additions of issue 14, as users see them: `ports`, `plan`, `catalog
//! show`, `listen` and `probe` on the synthetic product `tests/fixtures/model/gaps.yaml`.

mod common;

use common::stdout;
use serde_json::Value;

const CATS: &str = "tests/fixtures/model";
const SITE: &str = "tests/fixtures/model/sites/gaps-site.yaml";

fn json(args: &[&str]) -> Value {
    let mut all = vec!["--catalog-dir", CATS];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    serde_json::from_str(&stdout(&all)).unwrap()
}

fn text(args: &[&str]) -> String {
    let mut all = vec!["--catalog-dir", CATS];
    all.extend_from_slice(args);
    stdout(&all)
}

#[test]
fn closed_ports_are_shown_by_ports_and_catalog_show() {
    let v = json(&["ports", "gaps"]);
    let closed = v["closed"].as_array().unwrap();
    assert_eq!(closed.len(), 1, "{v:#}");
    assert_eq!(closed[0]["requirement"], "db-local");
    assert_eq!(closed[0]["from"], Value::Null);
    assert_eq!(closed[0]["to"], "server");
    assert_eq!(closed[0]["ports"], serde_json::json!(["5432"]));
    let t = text(&["ports", "gaps"]);
    assert!(
        t.contains("Must stay closed") && t.contains("any source -> Server  tcp 5432"),
        "{t}"
    );
    let t = text(&["ports", "gaps", "--lang", "ja"]);
    assert!(t.contains("すべての送信元 -> サーバー  tcp 5432"), "{t}");
    let t = text(&["catalog", "show", "gaps"]);
    assert!(
        t.contains("db-local") && t.contains("Must stay closed"),
        "{t}"
    );
    let v = json(&["catalog", "show", "gaps"]);
    assert_eq!(v["closed"][0]["id"], "db-local");
    // Built-in catalogs have none: their JSON is unchanged.
    let v: Value =
        serde_json::from_str(&stdout(&["ports", "devicelock", "--format", "json"])).unwrap();
    assert!(v.get("closed").is_none());
}

#[test]
fn closed_ports_reach_the_plan_point_and_the_probe() {
    let v = json(&["plan", SITE]);
    let fw = &v["enforcement_points"][0];
    let closed = fw["must_stay_closed"].as_array().unwrap();
    assert_eq!(closed.len(), 1, "{fw:#}");
    assert_eq!(closed[0]["requirement"], "gaps/db-local");
    assert_eq!(closed[0]["to"], serde_json::json!(["10.72.0.10/32"]));
    assert_eq!(closed[0]["ports"], serde_json::json!(["5432"]));
    assert_eq!(closed[0]["direction"], "forward");
    let t = text(&["plan", SITE]);
    assert!(t.contains("Must stay closed here"), "{t}");

    // probe checks it closed, listen opens a canary on it.
    let v = json(&["probe", SITE, "--from", "10.71.0.5", "--dry-run"]);
    let checks = v["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["expect"] == "closed" && c["port"] == 5432 && c["protocol"] == "tcp"),
        "{v:#}"
    );
    let v = json(&["listen", SITE, "--as", "10.72.0.10", "--dry-run"]);
    assert!(
        v["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["port"] == 5432 && p["kind"] == "canary"),
        "{v:#}"
    );
}

#[test]
fn a_catalog_service_name_replaces_the_iana_name() {
    // 902 is `ideafarm-door` in the IANA registry.
    let t = text(&["ports", "gaps"]);
    assert!(
        t.contains("VMware heartbeat") && !t.contains("ideafarm"),
        "{t}"
    );
    let t = text(&["ports", "gaps", "--lang", "ja"]);
    assert!(t.contains("VMware ハートビート"), "{t}");
    let v = json(&["ports", "gaps"]);
    assert_eq!(v["flows"][0]["service"]["en"], "VMware heartbeat");
    let t = text(&["plan", SITE]);
    assert!(t.contains("[VMware heartbeat]"), "{t}");
    let md = text(&["report", SITE, "--format", "md"]);
    assert!(md.contains("902 VMware heartbeat"), "{md}");
}

fn ssl_site_plan() -> portplan::plan::Plan {
    let cats = portplan::catalog::Catalogs::with_dir(std::path::Path::new(CATS)).unwrap();
    let site = portplan::site::load_path(std::path::Path::new(SITE_SSL), &cats).unwrap();
    portplan::plan::plan(&site, &cats)
}

const SITE_SSL: &str = "tests/fixtures/model/sites/gaps-site-ssl.yaml";

/// Gap 1: 3268 is needed always, 3269 only with SSL: each port names its own condition.
#[test]
fn provenance_is_per_port() {
    let v = json(&["ports", "gaps", "--set", "ldap_ssl=true"]);
    let ldap: Vec<&Value> = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["requirement"] == "ldap")
        .collect();
    assert_eq!(ldap.len(), 2, "{ldap:#?}");
    assert_eq!(ldap[0]["ports"], serde_json::json!(["3268"]));
    assert_eq!(ldap[0]["because"], serde_json::json!(["always"]));
    assert_eq!(ldap[1]["ports"], serde_json::json!(["3269"]));
    assert_eq!(ldap[1]["because"], serde_json::json!(["ldap_ssl"]));
    // Without SSL, one flow, always.
    let v = json(&["ports", "gaps"]);
    let n = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["requirement"] == "ldap")
        .count();
    assert_eq!(n, 1);

    // The plan merges both ports into one opening with one provenance entry per condition.
    let plan = ssl_site_plan();
    let o = plan.enforcement_points[0]
        .openings
        .iter()
        .find(|o| o.ports.contains(3268))
        .unwrap();
    let ldap: Vec<_> = o
        .provenance
        .iter()
        .filter(|p| p.requirement == "gaps/ldap")
        .collect();
    assert_eq!(ldap.len(), 2, "{ldap:#?}");
    for p in ldap {
        if p.ports.contains(3269) {
            assert_eq!(p.because, ["ldap_ssl"]);
            assert!(!p.ports.contains(3268));
        } else {
            assert_eq!(p.because, ["always"]);
            assert_eq!(p.ports.to_strings(), ["3268"]);
        }
    }
}

/// Gap 2: findings with their own condition; the product's own findings and notes.
#[test]
fn findings_have_conditions_and_products_have_findings_and_notes() {
    let msgs = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}", f["requirement"], f["message"]["en"]))
            .collect()
    };
    let v = json(&["ports", "gaps"]);
    let m = msgs(&v);
    assert_eq!(m, ["\"gaps\" \"Product-wide advice.\""], "{m:?}");
    assert_eq!(v["notes"][0]["product"], "gaps");
    let v = json(&[
        "ports",
        "gaps",
        "--set",
        "ldap_ssl=true",
        "--set",
        "database=mysql",
    ]);
    let m = msgs(&v).join("\n");
    assert!(
        m.contains("\"gaps\" \"Check the LDAP certificates.\""),
        "{m}"
    );
    assert!(m.contains("\"gaps/database\" \"MySQL X protocol"), "{m}");
    let t = text(&["ports", "gaps", "--lang", "ja"]);
    assert!(
        t.contains("エージェント側には別のポート表があります。"),
        "{t}"
    );
    assert!(t.contains("製品全体の助言。"), "{t}");
    // The plan carries them.
    let plan = ssl_site_plan();
    assert!(
        plan.findings
            .iter()
            .any(|f| f.requirement == "gaps/database")
    );
    assert!(plan.findings.iter().any(|f| f.requirement == "gaps"));
}

/// Gap 3: a choice maps its values to ports.
#[test]
fn choice_values_map_to_ports() {
    let ports_of = |set: &[&str]| -> Option<Value> {
        let mut args = vec!["ports", "gaps"];
        args.extend_from_slice(set);
        let v = json(&args);
        v["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["requirement"] == "database")
            .map(|f| f["ports"].clone())
    };
    assert_eq!(ports_of(&[]), Some(serde_json::json!(["5432"])));
    assert_eq!(
        ports_of(&["--set", "database=mysql"]),
        Some(serde_json::json!(["3306", "33060"]))
    );
    // A value left out of the map opens nothing.
    assert_eq!(ports_of(&["--set", "database=embedded"]), None);
    let t = text(&["catalog", "show", "gaps"]);
    assert!(
        t.contains("postgresql → 5432, mysql → 3306,33060, embedded → no port"),
        "{t}"
    );
}

/// Gap 4: closed entries give per-point checks, disjoint from what the point opens.
#[test]
fn closed_checks_per_point() {
    let plan = ssl_site_plan();
    let checks = plan.closed_checks();
    assert_eq!(checks.len(), 1, "{checks:#?}");
    let c = &checks[0];
    assert_eq!(c.point, "fw");
    assert_eq!(c.requirement, "gaps/db-local");
    assert_eq!(c.source, "gaps.txt#2");
    assert_eq!(c.ports.to_strings(), ["5432"]);
    assert_eq!(c.to.cidrs(), ["10.72.0.10/32"]);
    // From the lan side only (the firewall sees nothing else going to the server).
    assert!(c.from.contains("10.71.0.99".parse().unwrap()));
    assert!(!c.from.contains("10.72.0.20".parse().unwrap()));
    // Never a packet the plan opens.
    for o in &plan.enforcement_points[0].openings {
        if o.protocol == c.protocol && o.direction == c.direction {
            assert!(
                o.ports.intersection(&c.ports).is_empty()
                    || o.from.intersection(&c.from).is_empty()
                    || o.to.intersection(&c.to).is_empty()
            );
        }
    }
}

/// Gap 5: a port option holds a range.
#[test]
fn port_options_hold_ranges() {
    let rpc = |set: &[&str]| -> Value {
        let mut args = vec!["ports", "gaps"];
        args.extend_from_slice(set);
        let v = json(&args);
        v["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["requirement"] == "rpc")
            .unwrap()["ports"]
            .clone()
    };
    assert_eq!(rpc(&[]), serde_json::json!(["49152-65535"]));
    assert_eq!(
        rpc(&["--set", "rpc_ports=5000-5100"]),
        serde_json::json!(["5000-5100"])
    );
    assert_eq!(rpc(&["--set", "rpc_ports=135"]), serde_json::json!(["135"]));
    let v = json(&["ports", "gaps"]);
    assert_eq!(v["products"][0]["options"]["rpc_ports"], "49152-65535");
    for bad in ["rpc_ports=5100-5000", "rpc_ports=0-10", "rpc_ports=1-70000"] {
        common::portplan()
            .args(["--catalog-dir", CATS, "ports", "gaps", "--set", bad])
            .assert()
            .code(2);
    }
    // From a site file too.
    let plan = ssl_site_plan();
    assert!(
        plan.flows
            .iter()
            .any(|f| f.requirement == "rpc" && f.ports.to_strings() == ["5000-5100"])
    );
}

/// Gap 6: the catalog's service name reaches render comments.
#[test]
fn service_names_reach_render_comments() {
    let out = text(&["render", SITE, "--for", "fw", "--target", "nftables"]);
    assert!(out.contains("#     services: VMware heartbeat"), "{out}");
}

/// Gap 7: folded Japanese text has no space at the line breaks; English keeps its spaces.
#[test]
fn folded_japanese_joins_without_spaces() {
    let v = json(&["catalog", "show", "gaps"]);
    let rpc = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "rpc")
        .unwrap()
        .clone();
    assert_eq!(
        rpc["notes"]["ja"],
        "動的 RPC ポートの範囲で、レジストリで狭められます。"
    );
    assert_eq!(
        rpc["notes"]["en"],
        "The dynamic RPC range, narrowed by registry."
    );
}

/// Gap 8: `catalog show --lang ja` speaks Japanese: role names, words for types, zones and
/// `always`; notes and service names appear in the text.
#[test]
fn catalog_show_in_japanese_uses_names() {
    let t = text(&["catalog", "show", "gaps", "--lang", "ja"]);
    for word in [
        "エージェント",
        "サーバー",
        "選択",
        "真偽値",
        "社内ネットワーク",
        "常に",
        "注記",
        "VMware ハートビート",
        "3269 は SSL のときだけ",
    ] {
        assert!(t.contains(word), "missing {word} in\n{t}");
    }
    for word in ["choice", "intranet", "always"] {
        assert!(!t.contains(word), "{word} in\n{t}");
    }
    // Requirements name roles (the roles table keeps the ids sites use).
    let row = t.lines().find(|l| l.contains("| heartbeat")).unwrap();
    assert!(
        row.contains("エージェント") && !row.contains(" agent "),
        "{row}"
    );
    let t = text(&["catalog", "show", "gaps"]);
    assert!(
        t.contains("3269 only with SSL") && t.contains("heartbeat [service: VMware heartbeat]"),
        "{t}"
    );
    assert!(
        t.contains("Note: The agent side has its own port table."),
        "{t}"
    );
}

fn check(yaml: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = common::portplan()
        .args(["catalog", "check", path.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn gaps_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string("tests/fixtures/model/gaps.yaml").unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

/// Gap 9: a condition that can never hold is warned about (with its line); `false` is not.
#[test]
fn unsatisfiable_conditions_warn() {
    let (code, err) = check(&gaps_with(
        "    ports: [3268, {when: ldap_ssl, ports: [3269]}]\n",
        "    ports: [3268, {when: ldap_ssl, ports: [3269]}]\n    when: ldap_ssl and not ldap_ssl\n",
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(":53:")
            && err.contains("warning")
            && err.contains("ldap_ssl and not ldap_ssl"),
        "{err}"
    );
    // A port group that contradicts its requirement's condition.
    let (code, err) = check(&gaps_with(
        "    ports: [3268, {when: ldap_ssl, ports: [3269]}]\n",
        "    ports: [3268, {when: ldap_ssl, ports: [3269]}]\n    when: not ldap_ssl\n",
    ));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("port group of `ldap`"), "{err}");
    // A finding whose condition contradicts: choice values.
    let (_, err) = check(&gaps_with(
        "        when: database == mysql\n",
        "        when: database == mysql and database == embedded\n",
    ));
    assert!(err.contains("finding of requirement `database`"), "{err}");
    // `false` is deliberate.
    let (code, err) = check(&gaps_with(
        "    source: {doc: gaps.txt, row: 3}\n",
        "    source: {doc: gaps.txt, row: 3}\n    when: \"false\"\n",
    ));
    assert_eq!((code, err.as_str()), (0, ""));
    // Japanese.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(
        &path,
        gaps_with(
            "    source: {doc: gaps.txt, row: 3}\n",
            "    source: {doc: gaps.txt, row: 3}\n    when: ldap_ssl and not ldap_ssl\n",
        ),
    )
    .unwrap();
    let out = common::portplan()
        .args(["--lang", "ja", "catalog", "check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("警告"));
}

/// Gap 10: an unquoted comma inside `{en: …, ja: …}` says to quote the text.
#[test]
fn unquoted_comma_in_flow_text_hints_at_quotes() {
    let (code, err) = check(&gaps_with(
        "    purpose: {en: Directory, ja: ディレクトリ}\n",
        "    purpose: {en: Directory (Netlogon, and more), ja: ディレクトリ}\n",
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown field") && err.contains("in quotes"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(
        &path,
        gaps_with(
            "    purpose: {en: Directory, ja: ディレクトリ}\n",
            "    purpose: {en: Directory (Netlogon, and more), ja: ディレクトリ}\n",
        ),
    )
    .unwrap();
    let out = common::portplan()
        .args(["--lang", "ja", "catalog", "check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("引用符"));
}

/// Bad maps are errors with their location.
#[test]
fn bad_choice_port_maps_are_errors() {
    let (code, err) = check(&gaps_with(
        "    ports: {postgresql: 5432, mysql: \"3306,33060\"}\n",
        "    ports: {postgres: 5432, mysql: \"3306,x\"}\n",
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`postgres` is not a value of option `database`"),
        "{err}"
    );
    assert!(err.contains("did you mean `postgresql`"), "{err}");
    assert!(err.contains("bad port spec `3306,x`"), "{err}");
    let (code, err) = check(&gaps_with(
        "    default: false\n",
        "    default: false\n    ports: {true: 1}\n",
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("only choice options map their values to ports"),
        "{err}"
    );
    let (code, err) = check(&gaps_with(
        "    default: \"49152-65535\"\n",
        "    default: \"65535-49152\"\n",
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is not a value of option `rpc_ports`"),
        "{err}"
    );
}

/// Runs portplan in this crate's directory and returns (exit code, stdout).
fn run(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portplan"))
        .args(args)
        .output()
        .expect("portplan");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A port the catalog says must stay closed fails the audit when the ruleset accepts it, even
/// with excess allowed, citing the vendor's row and saying what the port is for; the rendered
/// ruleset, and one that drops it, pass.
#[test]
fn audit_reports_a_must_stay_closed_port_the_ruleset_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let audit = |ruleset: &str, extra: &[&str]| {
        let mut a = vec![
            "--catalog-dir",
            CATS,
            "audit",
            SITE,
            "--for",
            "fw",
            "--ruleset",
            ruleset,
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    // Accepts everything: the database port is open.
    let open = write(
        "open.rules",
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
    );
    let (code, out) = audit(&open, &["--allow-excess", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let closed = v["closed"].as_array().unwrap();
    assert_eq!(closed.len(), 1, "{v:#}");
    assert_eq!(closed[0]["requirement"], "gaps/db-local");
    assert_eq!(closed[0]["source"], "gaps.txt#2");
    assert_eq!(closed[0]["certain"], true);
    assert_eq!(closed[0]["witness"]["dport"], 5432);
    assert_eq!(closed[0]["witness"]["dst"], "10.72.0.10");
    assert_eq!(v["ok"], false);
    let (_, t) = audit(&open, &["--allow-excess", "--lang", "ja"]);
    assert!(
        t.contains("閉じておくべきポートが許可されている") && t.contains("データベース (内部専用)"),
        "{t}"
    );
    let (_, csv) = audit(&open, &["--format", "csv"]);
    assert!(
        csv.lines().any(|l| l.starts_with("closed,yes,forward")),
        "{csv}"
    );

    // The same, but the database port dropped first: excess remains, nothing must-be-closed.
    let dropped = write(
        "dropped.rules",
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -d 10.72.0.10/32 -p tcp -m tcp --dport 5432 -j DROP\nCOMMIT\n",
    );
    let (code, out) = audit(&dropped, &["--allow-excess", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("closed").is_none(), "{v:#}");
    assert_eq!(code, 0, "{v:#}");

    // A rate limit in front of the drop: it may or may not match, so the port is possibly open.
    let limited = write(
        "limited.rules",
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -d 10.72.0.10/32 -p tcp -m tcp --dport 5432 -m limit --limit 5/min -j DROP\nCOMMIT\n",
    );
    let (code, out) = audit(&limited, &["--allow-excess", "--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["closed"][0]["certain"], false, "{v:#}");
    assert_eq!(code, 1);

    // The rendered ruleset implements the plan: nothing closed is accepted.
    let (code, rendered) = run(&[
        "--catalog-dir",
        CATS,
        "render",
        SITE,
        "--for",
        "fw",
        "--target",
        "iptables",
        "--mode",
        "replace",
    ]);
    assert_eq!(code, 0, "{rendered}");
    let r = write("rendered.rules", &rendered);
    let (code, out) = audit(&r, &["--format", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("closed").is_none(), "{v:#}");
    assert_eq!(code, 0, "{v:#}");
}
