//! The command line as a user meets it: outputs, exit codes, error messages.

mod common;

use common::{portplan, stdout};

use serde_json::Value;

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&stdout(args)).unwrap()
}

fn failure(args: &[&str], code: i32) -> String {
    let out = portplan()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty(), "nothing on stdout on error");
    String::from_utf8(out.stderr).unwrap()
}

fn ports_of(v: &Value, from: &str, to: &str, proto: &str) -> Vec<String> {
    v["openings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["from"] == from && o["to"] == to && o["protocol"] == proto)
        .flat_map(|o| {
            o["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
        })
        .collect()
}

fn all_ports(v: &Value) -> Vec<String> {
    v["openings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| {
            o["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn devicelock_minimum_with_fixed_ports_by_ip_without_netbios() {
    let v = json(&[
        "ports",
        "devicelock",
        "--set",
        "rpc_ports=fixed",
        "--set",
        "connect_by=ip",
        "--set",
        "netbios=false",
        "--format",
        "json",
    ]);
    let ports = all_ports(&v);
    for gone in ["135", "137", "138", "139", "1024-65535"] {
        assert!(
            !ports.iter().any(|p| p == gone),
            "{gone} must not be open: {ports:?}"
        );
    }
    assert_eq!(
        ports_of(&v, "console", "service", "tcp"),
        ["445", "9132-9133"]
    );
    assert!(ports_of(&v, "console", "service", "udp").is_empty());
    let opening = v["openings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["from"] == "console" && o["to"] == "service")
        .unwrap();
    assert_eq!(
        opening["requirements"],
        serde_json::json!([
            "devicelock/server-port",
            "devicelock/service-port",
            "devicelock/smb"
        ])
    );
    assert_eq!(v["products"][0]["options"]["rpc_ports"], "fixed");
    assert_eq!(v["products"][0]["options"]["service_port"], 9132);
    assert_eq!(v["products"][0]["options"]["netbios"], false);
    // No wide-range warning once fixed ports are used.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["requirement"] != "devicelock/rpc-dynamic")
    );
}

#[test]
fn devicelock_defaults_open_the_dynamic_range_with_a_finding() {
    let v = json(&["ports", "devicelock", "--format", "json"]);
    let tcp = ports_of(&v, "console", "service", "tcp");
    assert_eq!(tcp, ["135", "139", "445", "1024-65535"]);
    assert_eq!(
        ports_of(&v, "service", "console", "tcp"),
        ["135", "139", "445", "1024-65535"]
    );
    assert_eq!(ports_of(&v, "console", "service", "udp"), ["137-138"]);
    // gpm receives 138/udp from nobody but sends it; 139 only service -> gpm.
    assert_eq!(ports_of(&v, "service", "gpm", "udp"), ["137"]);
    assert_eq!(
        ports_of(&v, "gpm", "service", "tcp"),
        ["135", "445", "1024-65535"]
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["requirement"] == "devicelock/rpc-dynamic")
        .expect("finding for the dynamic range");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"]["en"]
            .as_str()
            .unwrap()
            .contains("rpc_ports=fixed")
    );
    assert!(f["message"]["ja"].as_str().unwrap().contains("固定"));
}

#[test]
fn json_flows_follow_spec_6_1() {
    let v = json(&[
        "ports",
        "devicelock",
        "--set",
        "rpc_ports=fixed",
        "--format",
        "json",
    ]);
    let smb = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["requirement"] == "smb" && f["from"] == "console" && f["to"] == "service")
        .unwrap();
    assert_eq!(smb["product"], "devicelock");
    assert_eq!(smb["protocol"], "tcp");
    assert_eq!(smb["ports"], serde_json::json!(["445"]));
    assert_eq!(smb["because"], serde_json::json!(["always"]));
    assert_eq!(smb["source"], "003_d7d660b22b450e18.txt#5");
    assert!(smb["purpose"]["en"].is_string() && smb["purpose"]["ja"].is_string());
    let epmap = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["requirement"] == "netbios-name")
        .unwrap();
    assert_eq!(epmap["because"], serde_json::json!(["connect_by == name"]));
}

#[test]
fn tmws_options_change_the_answer() {
    let v = json(&["ports", "tmws", "--format", "json"]);
    assert_eq!(ports_of(&v, "client", "cloud_console", "tcp"), ["443"]);
    assert_eq!(ports_of(&v, "client", "cloud_proxy", "tcp"), ["8080"]);
    assert_eq!(
        v["flows"].as_array().unwrap().len(),
        2,
        "defaults need only console and proxy"
    );

    let v = json(&[
        "ports",
        "tmws",
        "--set",
        "pac_file=true",
        "--set",
        "proxy_port=80",
        "--set",
        "guest_users=true",
        "--set",
        "auth=direct",
        "--set",
        "ldap_ssl=true",
        "--format",
        "json",
    ]);
    assert_eq!(
        ports_of(&v, "client", "cloud_console", "tcp"),
        ["80", "443"]
    );
    assert_eq!(ports_of(&v, "client", "cloud_proxy", "tcp"), ["80", "8081"]);
    assert_eq!(ports_of(&v, "cloud", "ad", "tcp"), ["636", "3269"]);
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["requirement"], "tmws/direct-ldap");

    let v = json(&[
        "ports",
        "tmws",
        "--set",
        "syslog_tool=true",
        "--set",
        "syslog_protocol=tcp",
        "--set",
        "syslog_port=6514",
        "--set",
        "syslog_via_proxy=true",
        "--format",
        "json",
    ]);
    assert_eq!(
        ports_of(&v, "syslog_tool", "syslog_server", "tcp"),
        ["6514"]
    );
    assert!(ports_of(&v, "syslog_tool", "syslog_server", "udp").is_empty());
    assert_eq!(ports_of(&v, "syslog_tool", "proxy", "tcp"), ["443"]);
    assert!(ports_of(&v, "syslog_tool", "cloud", "tcp").is_empty());
    assert_eq!(ports_of(&v, "syslog_tool", "dns", "udp"), ["53"]);
    assert_eq!(ports_of(&v, "syslog_tool", "dns", "tcp"), ["53"]);
}

#[test]
fn roles_filter_drops_requirements_touching_undeployed_roles() {
    let v = json(&[
        "ports",
        "devicelock",
        "--roles",
        "service,console",
        "--set",
        "rpc_ports=fixed",
        "--format",
        "json",
    ]);
    for o in v["openings"].as_array().unwrap() {
        let pair = (o["from"].as_str().unwrap(), o["to"].as_str().unwrap());
        assert!(
            matches!(pair, ("console", "service") | ("service", "console")),
            "{pair:?}"
        );
    }
}

#[test]
fn qualified_set_and_two_products() {
    let v = json(&[
        "ports",
        "devicelock",
        "tmws",
        "--set",
        "devicelock.rpc_ports=fixed",
        "--set",
        "auth=agent",
        "--format",
        "json",
    ]);
    assert_eq!(v["products"].as_array().unwrap().len(), 2);
    assert_eq!(v["products"][0]["options"]["rpc_ports"], "fixed");
    assert_eq!(v["products"][1]["options"]["auth"], "agent");
}

#[test]
fn bad_input_gets_exit_2_and_a_useful_message() {
    let e = failure(&["ports", "devicelok"], 2);
    assert!(
        e.contains("unknown product `devicelok` (did you mean `devicelock`?)"),
        "{e}"
    );
    assert!(e.contains("devicelock"), "{e}");

    let e = failure(&["ports", "devicelock", "--set", "rpc_port=fixed"], 2);
    assert!(
        e.contains("`--set rpc_port=fixed`: unknown option `rpc_port` (did you mean `rpc_ports`?)"),
        "{e}"
    );

    let e = failure(&["ports", "devicelock", "--set", "rpc_ports=static"], 2);
    assert!(
        e.contains("`static` is not a valid value for option `rpc_ports`"),
        "{e}"
    );
    assert!(e.contains("dynamic, fixed"), "{e}");

    let e = failure(&["ports", "devicelock", "--set", "service_port=70000"], 2);
    assert!(e.contains("service_port"), "{e}");
    assert!(e.contains("1-65535"), "{e}");

    let e = failure(&["ports", "devicelock", "--set", "service_port=0"], 2);
    assert!(e.contains("1-65535"), "{e}");

    let e = failure(&["ports", "devicelock", "--set", "netbios"], 2);
    assert!(e.contains("OPTION=VALUE"), "{e}");

    let e = failure(&["ports", "devicelock", "--roles", "consle"], 2);
    assert!(
        e.contains("unknown role `consle` (did you mean `console`?)"),
        "{e}"
    );

    let e = failure(&["ports", "devicelock", "tmws", "--set", "ad=1"], 2);
    assert!(e.contains("unknown option"), "{e}");

    let e = failure(&["ports", "devicelock", "--format", "xml"], 2);
    assert!(e.contains("xml"), "{e}");

    let e = failure(
        &[
            "--lang",
            "ja",
            "ports",
            "devicelock",
            "--set",
            "rpc_ports=static",
        ],
        2,
    );
    assert!(e.contains("オプション `rpc_ports`"), "{e}");
}

#[test]
fn catalog_check_reports_file_line_column() {
    let dir = std::env::temp_dir().join(format!("portplan-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, include_str!("../catalogs/devicelock.yaml")).unwrap();
    let out = stdout(&["catalog", "check", good.to_str().unwrap()]);
    assert!(out.starts_with("ok "), "{out}");

    let bad = dir.join("bad.yaml");
    let text = include_str!("../catalogs/devicelock.yaml")
        .replace("when: connect_by == name", "when: connect_by == nmae");
    std::fs::write(&bad, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("connect_by == nmae"))
        .unwrap()
        + 1;
    let e = failure(&["catalog", "check", bad.to_str().unwrap()], 2);
    assert!(
        e.contains(&format!(
            "bad.yaml:{line}:25: option `connect_by` can never be `nmae`"
        )),
        "{e}"
    );
    assert!(e.contains("name, ip"), "{e}");

    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "id: x\nroles: [\n").unwrap();
    let e = failure(&["catalog", "check", broken.to_str().unwrap()], 2);
    assert!(e.contains("broken.yaml:"), "{e}");

    let e = failure(
        &[
            "catalog",
            "check",
            dir.join("missing.yaml").to_str().unwrap(),
        ],
        2,
    );
    assert!(e.contains("missing.yaml"), "{e}");

    // --catalog-dir with a broken file is also bad input.
    let e = failure(
        &["--catalog-dir", dir.to_str().unwrap(), "catalog", "list"],
        2,
    );
    assert!(e.contains("bad.yaml") || e.contains("broken.yaml"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn catalog_dir_adds_products() {
    let dir = std::env::temp_dir().join(format!("portplan-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text =
        include_str!("../catalogs/devicelock.yaml").replace("id: devicelock", "id: devicelock-lab");
    std::fs::write(dir.join("lab.yaml"), text).unwrap();
    let v = json(&[
        "--catalog-dir",
        dir.to_str().unwrap(),
        "catalog",
        "list",
        "--format",
        "json",
    ]);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    // The built-in products, in BUILTIN order, then the directory's.
    let builtin: Vec<&str> = portplan::catalog::BUILTIN
        .iter()
        .map(|(f, _)| f.trim_end_matches(".yaml"))
        .collect();
    assert_eq!(ids[..builtin.len()], builtin[..]);
    assert_eq!(ids[builtin.len()..], ["devicelock-lab"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn schema_in_repository_is_current() {
    let printed = stdout(&["catalog", "schema"]);
    let committed = include_str!("../schema/catalog.schema.json");
    assert_eq!(
        printed, committed,
        "schema/catalog.schema.json is stale: run `cargo run -- catalog schema > schema/catalog.schema.json`"
    );
}

#[test]
fn site_schema_in_repository_is_current() {
    let printed = stdout(&["site-schema"]);
    let committed = include_str!("../schema/site.schema.json");
    assert_eq!(
        printed, committed,
        "schema/site.schema.json is stale: run `cargo run -- site-schema > schema/site.schema.json`"
    );
}

#[test]
fn language_follows_the_locale() {
    let out = portplan()
        .env("LANG", "ja_JP.UTF-8")
        .args(["ports", "tmws"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("送信元"));
    let out = portplan()
        .env("LANG", "ja_JP.UTF-8")
        .args(["--lang", "en", "ports", "tmws"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("From"));
}

#[test]
fn snapshots_of_what_admins_read() {
    let fixed = [
        "ports",
        "devicelock",
        "--set",
        "rpc_ports=fixed",
        "--set",
        "connect_by=ip",
        "--set",
        "netbios=false",
    ];
    insta::assert_snapshot!("ports_devicelock_fixed_en", stdout(&fixed));
    insta::assert_snapshot!(
        "ports_devicelock_fixed_ja",
        stdout(&[&fixed[..], &["--lang", "ja"]].concat())
    );
    let agent = [
        "ports",
        "tmws",
        "--set",
        "auth=agent",
        "--set",
        "captive_portal=true",
        "--set",
        "pac_file=true",
    ];
    insta::assert_snapshot!(
        "ports_tmws_agent_md_ja",
        stdout(&[&agent[..], &["--format", "md", "--lang", "ja"]].concat())
    );
    insta::assert_snapshot!(
        "ports_tmws_agent_csv",
        stdout(&[&agent[..], &["--format", "csv"]].concat())
    );
    insta::assert_snapshot!(
        "ports_devicelock_default_json",
        stdout(&["ports", "devicelock", "--format", "json"])
    );
    insta::assert_snapshot!("catalog_show_tmws_en", stdout(&["catalog", "show", "tmws"]));
    insta::assert_snapshot!(
        "catalog_list_ja",
        stdout(&["catalog", "list", "--lang", "ja"])
    );
}
