//! Issue 16, first steps: `init` writes a site that plans, completions and the man page come
//! from the clap definitions, names may be plain strings, cloud roles default to the internet.

mod common;

use common::portplan;

fn tmp(test: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("portplan-first-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn init_writes_a_commented_site_that_plans() {
    let dir = tmp("init");
    for lang in ["en", "ja"] {
        let site = dir.join(format!("site-{lang}.yaml"));
        portplan()
            .args([
                "init",
                "--products",
                "devicelock,tmws",
                "--lang",
                lang,
                "-o",
            ])
            .arg(&site)
            .assert()
            .success();
        let text = std::fs::read_to_string(&site).unwrap();
        assert!(text.contains("product: devicelock") && text.contains("product: tmws"));
        assert!(text.contains("rpc_ports:"), "options with defaults");
        assert!(
            text.contains("cloud: zone:internet"),
            "cloud roles on the internet"
        );
        assert!(text.contains("firewalls:") && text.contains("request:"));
        if lang == "ja" {
            assert!(text.contains("既定値"), "comments in Japanese");
        }
        // It is a valid site as it is.
        portplan()
            .args(["plan", site.to_str().unwrap(), "--format", "json"])
            .assert()
            .success();
    }
    // Unknown product: exit 2 with the list.
    let out = portplan()
        .args(["init", "--products", "devicelok"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("devicelock"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn completions_and_man_page_come_from_the_commands() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef portplan"),
        ("fish", "complete -c portplan"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = portplan()
            .args(["completions", shell])
            .assert()
            .success()
            .get_output()
            .clone();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}");
        assert!(
            text.contains("report") && text.contains("init"),
            "{shell}: subcommands"
        );
    }
    portplan().args(["completions", "tcsh"]).assert().code(2);
    let man = portplan()
        .arg("man")
        .assert()
        .success()
        .get_output()
        .clone();
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH portplan"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(man.contains("report"));
}

#[test]
fn plain_string_names_and_cloud_roles_on_the_internet() {
    let dir = tmp("plain");
    let site = dir.join("s.yaml");
    std::fs::write(
        &site,
        "name: plain\ndescription: 支店のサイト\nzones:\n  - id: lan\n    name: 支店 LAN\n    cidrs: [10.1.0.0/16]\nproducts:\n  - product: tmws\n    options: {auth: agent}\n    roles:\n      client: zone:lan\nfirewalls:\n  - id: fw\n    between: [lan, internet]\n    target: nftables\n",
    )
    .unwrap();
    let out = portplan()
        .args(["plan", site.to_str().unwrap(), "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let openings = v["enforcement_points"][0]["openings"].as_array().unwrap();
    assert!(
        openings.iter().any(|o| o["to_roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.starts_with("tmws.cloud")))),
        "clients reach the unmapped cloud roles: {openings:?}"
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let warnings = v["warnings"].to_string() + &err;
    assert!(
        warnings.contains("tmws.cloud"),
        "a note says so: {warnings}"
    );
    // The plain name is used in both languages.
    let md = portplan()
        .args([
            "report",
            site.to_str().unwrap(),
            "--format",
            "md",
            "--lang",
            "en",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(
        md.contains("支店 LAN") && md.contains("支店のサイト"),
        "{md}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn minimal_example_has_no_warnings() {
    let out = portplan()
        .args(["plan", "examples/minimal.yaml"])
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.trim().is_empty(), "no warnings: {err}");
    let json = portplan()
        .args(["plan", "examples/minimal.yaml", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["warnings"], serde_json::json!([]), "{}", v["warnings"]);
}
