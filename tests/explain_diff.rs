//! `explain` and `diff` on the examples, as an admin would ask.

mod common;

use common::portplan;

use serde_json::Value;

fn run(args: &[&str]) -> String {
    String::from_utf8(
        portplan()
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run(&[args, &["--format", "json"]].concat())).unwrap()
}

/// A variant of hq written to a temp file.
fn hq_variant(name: &str, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portplan-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, edit(include_str!("../examples/hq.yaml").to_string())).unwrap();
    p
}

#[test]
fn why_is_139_not_open_on_hq_in_both_languages() {
    let en = run(&["explain", "examples/hq.yaml", "tcp/139"]);
    assert!(en.contains("Nothing opens it."), "{en}");
    for r in [
        "devicelock/netbios-session-in",
        "devicelock/netbios-session-out",
    ] {
        assert!(
            en.contains(&format!(
                "{r} (003_d7d660b22b450e18.txt#4): its condition `netbios` is false (netbios=false)"
            )),
            "{en}"
        );
    }
    let ja = run(&["explain", "examples/hq.yaml", "139/tcp", "--lang", "ja"]);
    assert!(ja.contains("開放しているものはありません。"), "{ja}");
    assert!(
        ja.contains("条件 `netbios` が成り立ちません (netbios=false)"),
        "{ja}"
    );
    let v = json(&["explain", "examples/hq.yaml", "tcp/139"]);
    assert!(v["open"].as_array().unwrap().is_empty());
    assert_eq!(v["not_open"].as_array().unwrap().len(), 2);
    assert_eq!(v["not_open"][0]["reason"]["reason"], "condition");
}

#[test]
fn why_is_139_open_when_netbios_is_on() {
    let site = hq_variant("netbios.yaml", |s| {
        s.replace("netbios: false", "netbios: true")
    });
    let site = site.to_str().unwrap();
    let v = json(&["explain", site, "tcp/139"]);
    let open = v["open"].as_array().unwrap();
    // fw-core both ways and the agents' host firewall in and out.
    let points: Vec<(&str, &str)> = open
        .iter()
        .map(|o| {
            (
                o["point"].as_str().unwrap(),
                o["direction"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        points,
        [
            ("fw-core", "forward"),
            ("fw-core", "forward"),
            ("dl-agents", "in"),
            ("dl-agents", "out")
        ]
    );
    for o in open {
        let reqs: Vec<&str> = o["provenance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["requirement"].as_str().unwrap())
            .collect();
        assert_eq!(
            reqs.len(),
            1,
            "only the NetBIOS session requirement explains 139: {reqs:?}"
        );
        assert!(reqs[0].starts_with("devicelock/netbios-session-"));
        assert_eq!(o["provenance"][0]["source"], "003_d7d660b22b450e18.txt#4");
        assert_eq!(
            o["provenance"][0]["because"],
            serde_json::json!(["netbios"])
        );
    }
    let ja = run(&["explain", site, "tcp/139", "--lang", "ja"]);
    assert!(
        ja.contains("開放されている理由")
            && ja.contains("条件: netbios — 根拠: 003_d7d660b22b450e18.txt#4"),
        "{ja}"
    );
}

#[test]
fn packet_queries_name_the_points_on_the_path() {
    let v = json(&[
        "explain",
        "examples/hq.yaml",
        "10.20.1.5 -> 10.10.0.4 tcp/445",
    ]);
    let crossings: Vec<(&str, bool)> = v["crossings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["point"].as_str().unwrap(),
                c["permitted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(crossings, [("fw-core", true), ("dl-agents", true)]);
    assert_eq!(
        v["open"][0]["provenance"][0]["requirement"],
        "devicelock/smb"
    );

    // A client asking AD for LDAP: only the sync and auth agents may.
    let v = json(&[
        "explain",
        "examples/hq.yaml",
        "10.20.1.5",
        "to",
        "10.10.0.4",
        "tcp/389",
    ]);
    assert!(
        v["crossings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["permitted"] == false)
    );
    let reasons: Vec<(&str, &str)> = v["not_open"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["requirement"].as_str().unwrap(),
                n["reason"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        reasons.contains(&("tmws/agent-sync-ldap", "not_an_endpoint")),
        "{reasons:?}"
    );
    // direct-ldap is also off (auth != direct), but a client is not its source either way:
    // the endpoints come first, so no unrelated condition is cited (issue 16).
    assert!(
        reasons.contains(&("tmws/direct-ldap", "not_an_endpoint")),
        "{reasons:?}"
    );
    assert!(
        !reasons.iter().any(|(_, r)| *r == "condition"),
        "{reasons:?}"
    );

    // Inside one zone no enforcement point is crossed.
    let text = run(&[
        "explain",
        "examples/hq.yaml",
        "10.10.0.21 -> 10.10.0.4 tcp/389",
    ]);
    assert!(
        text.contains("No enforcement point of the site lies on its path."),
        "{text}"
    );
    assert!(text.contains("tmws/agent-sync-ldap (000_d0cc64e4443bab03.txt#12): required, but no enforcement point lies between its endpoints"), "{text}");
}

#[test]
fn requirement_queries_and_port_conditions() {
    let v = json(&["explain", "examples/hq.yaml", "devicelock/service-port"]);
    assert_eq!(v["open"].as_array().unwrap().len(), 4);
    let v = json(&["explain", "examples/hq.yaml", "tcp/636"]);
    let sync = v["not_open"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["requirement"] == "tmws/agent-sync-ldap")
        .unwrap();
    assert_eq!(sync["reason"]["reason"], "port_condition");
    assert_eq!(sync["reason"]["when"], "ldap_ssl");
    let v = json(&["explain", "examples/hq.yaml", "tcp/135"]);
    let epmap = v["not_open"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["requirement"] == "devicelock/rpc-epmap")
        .unwrap();
    assert_eq!(
        epmap["reason"]["values"],
        serde_json::json!([["rpc_ports", "fixed"]])
    );
}

#[test]
fn explain_rejects_nonsense_with_exit_2() {
    let e = portplan()
        .args(["explain", "examples/hq.yaml", "tcp/99999"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(e)
            .unwrap()
            .contains("cannot read the query")
    );
    let e = portplan()
        .args(["explain", "examples/hq.yaml", "nosuch"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(e)
            .unwrap()
            .contains("no deployed product has a requirement `nosuch`")
    );
}

#[test]
fn diff_switching_tmws_from_direct_to_agent_authentication() {
    let direct = hq_variant("direct.yaml", |s| s.replace("auth: agent", "auth: direct"));
    let v = json(&["diff", direct.to_str().unwrap(), "examples/hq.yaml"]);
    let points = v["enforcement_points"].as_array().unwrap();
    let edge = points.iter().find(|p| p["id"] == "fw-edge").unwrap();
    // Direct authentication needed the internet to reach AD (389, 3268): that goes away.
    let removed = edge["remove"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{removed:#?}");
    assert_eq!(removed[0]["to"], serde_json::json!(["10.10.0.4/32"]));
    assert_eq!(removed[0]["from_zones"], serde_json::json!(["internet"]));
    assert_eq!(removed[0]["ports"], serde_json::json!(["389", "3268"]));
    assert_eq!(
        removed[0]["requirements"],
        serde_json::json!(["tmws/direct-ldap"])
    );
    // The sync agent now talks to the TMWS cloud.
    let added = edge["add"].as_array().unwrap();
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(added[0]["from"], serde_json::json!(["10.10.0.21/32"]));
    assert_eq!(added[0]["ports"], serde_json::json!(["443"]));
    assert_eq!(
        added[0]["requirements"],
        serde_json::json!(["tmws/agent-sync-cloud"])
    );
    // Clients reach the authentication agent's captive portal through fw-core.
    let core = points.iter().find(|p| p["id"] == "fw-core").unwrap();
    assert_eq!(
        core["add"][0]["requirements"],
        serde_json::json!(["tmws/agent-captive-portal"])
    );
    assert!(core["remove"].as_array().unwrap().is_empty());

    let same = run(&["diff", "examples/hq.yaml", "examples/hq.yaml"]);
    assert_eq!(same, "No changes.\n");
    let ja = run(&[
        "diff",
        direct.to_str().unwrap(),
        "examples/hq.yaml",
        "--lang",
        "ja",
    ]);
    assert!(ja.contains("追加") && ja.contains("削除"), "{ja}");
}

#[test]
fn bad_site_files_get_line_and_column_and_exit_2() {
    let bad = hq_variant("bad.yaml", |s| {
        s.replace(
            "ad: 10.10.0.4\n      enterprise_manager",
            "ad: 10.10.0.400\n      enterprise_manager",
        )
    });
    let text = std::fs::read_to_string(&bad).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("10.10.0.400"))
        .unwrap()
        + 1;
    let out = portplan()
        .args(["plan", bad.to_str().unwrap()])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.contains(&format!(
            "bad.yaml:{line}:11: `10.10.0.400` is a malformed address: number 4 `400` is larger than 255"
        )),
        "{e}"
    );
    assert!(out.stdout.is_empty());

    let bad = hq_variant("bad2.yaml", |s| {
        s.replace("between: [clients, servers]", "between: [clients, server]")
    });
    let e = String::from_utf8(
        portplan()
            .args(["plan", bad.to_str().unwrap()])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone(),
    )
    .unwrap();
    assert!(e.contains("unknown zone `server`"), "{e}");

    let bad = hq_variant("bad3.yaml", |s| s.replace("zones:", "zonez:"));
    let line = include_str!("../examples/hq.yaml")
        .lines()
        .position(|l| l.starts_with("zones:"))
        .unwrap()
        + 1;
    let e = String::from_utf8(
        portplan()
            .args(["plan", bad.to_str().unwrap()])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone(),
    )
    .unwrap();
    assert!(
        e.contains(&format!("bad3.yaml:{line}:1: cannot read this YAML"))
            && e.contains("unknown field `zonez`"),
        "{e}"
    );

    let e = String::from_utf8(
        portplan()
            .args(["plan", "examples/hq.yaml", "--for", "fw-cor"])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone(),
    )
    .unwrap();
    assert!(
        e.contains("site has no enforcement point `fw-cor` (did you mean `fw-core`?)"),
        "{e}"
    );
}

#[test]
fn minimal_example_plans_the_minimum() {
    let v = json(&["plan", "examples/minimal.yaml"]);
    let ops = v["enforcement_points"][0]["openings"].as_array().unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0]["from"], serde_json::json!(["192.168.20.5/32"]));
    assert_eq!(ops[0]["to"], serde_json::json!(["192.168.10.0/24"]));
    assert_eq!(ops[0]["ports"], serde_json::json!(["445", "9132-9133"]));
    assert_eq!(ops[1]["from"], serde_json::json!(["192.168.10.0/24"]));
}
