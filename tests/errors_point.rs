//! Issue 16, errors that point the right way: a tab or a mis-indentation in a site or catalog
//! names its line and column and what is wrong; `-o` into a missing directory says the output
//! directory is missing; a Shift_JIS file says so and how to save it as UTF-8; a mistyped
//! address is called a malformed address. Also `explain` of a packet nothing involves, and
//! option values keeping their catalog type in JSON.

mod common;

use common::portplan;

fn tmp(test: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("portplan-errpt-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Exit code 2 and stderr, for `args` in `lang`.
fn fails(args: &[&str], lang: &str) -> String {
    let out = portplan()
        .args(args)
        .args(["--lang", lang])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty(), "nothing on stdout");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const SITE: &str = "\
name: t
zones:
  - id: office
    cidrs: [192.168.10.0/24]
  - id: servers
    cidrs: [192.168.20.0/24]
products:
  - product: devicelock
    options: {rpc_ports: fixed, connect_by: ip, netbios: false}
    roles:
      service: 192.168.10.0/24
      console: 192.168.20.5
      ad: []
      enterprise_server: []
      enterprise_manager: []
      gpm: []
firewalls:
  - id: fw
    between: [office, servers]
    target: nftables
";

#[test]
fn a_tab_in_the_indentation_is_named_with_its_line_and_column() {
    let dir = tmp("tab");
    let site = dir.join("site.yaml");
    // Line 5: a tab before `cidrs`.
    std::fs::write(
        &site,
        SITE.replacen(
            "    cidrs: [192.168.10.0/24]",
            "  \tcidrs: [192.168.10.0/24]",
            1,
        ),
    )
    .unwrap();
    let s = site.to_str().unwrap();
    let en = fails(&["plan", s], "en");
    assert!(en.contains("site.yaml:4:3"), "{en}");
    assert!(en.contains("tab character is used for indentation"), "{en}");
    let ja = fails(&["plan", s], "ja");
    assert!(
        ja.contains("site.yaml:4:3") && ja.contains("タブ文字"),
        "{ja}"
    );
    // The same in a catalog.
    let cat = dir.join("cat.yaml");
    let builtin = portplan()
        .args(["catalog", "show", "devicelock", "--format", "yaml"])
        .output()
        .unwrap();
    let text = if builtin.status.success() && !builtin.stdout.is_empty() {
        String::from_utf8(builtin.stdout).unwrap()
    } else {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/catalogs/devicelock.yaml"
        ))
        .unwrap()
    };
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| {
            l.starts_with("  ") && !l.trim_start().starts_with('#') && !l.trim().is_empty()
        })
        .unwrap();
    let tabbed: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == n {
                format!("\t{}", &line[2..])
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&cat, tabbed.join("\n") + "\n").unwrap();
    let c = cat.to_str().unwrap();
    let en = fails(&["catalog", "check", c], "en");
    assert!(en.contains(&format!("cat.yaml:{}:1", n + 1)), "{en}");
    assert!(en.contains("tab character"), "{en}");
    let ja = fails(&["catalog", "check", c], "ja");
    assert!(ja.contains("タブ文字"), "{ja}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_misindented_line_is_named_with_what_is_wrong() {
    let dir = tmp("indent");
    let site = dir.join("site.yaml");
    // Line 4 indented by 5 instead of 4.
    std::fs::write(
        &site,
        SITE.replacen(
            "    cidrs: [192.168.10.0/24]",
            "     cidrs: [192.168.10.0/24]",
            1,
        ),
    )
    .unwrap();
    let s = site.to_str().unwrap();
    let en = fails(&["plan", s], "en");
    assert!(en.contains("site.yaml:4:6"), "{en}");
    assert!(en.contains("indentation"), "{en}");
    let ja = fails(&["plan", s], "ja");
    assert!(
        ja.contains("site.yaml:4:6") && ja.contains("インデント"),
        "{ja}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_into_a_missing_directory_names_the_output_directory() {
    let dir = tmp("outdir");
    let site = dir.join("site.yaml");
    std::fs::write(&site, SITE).unwrap();
    let s = site.to_str().unwrap();
    let missing = dir.join("no-such-dir");
    let out = |name: &str| missing.join(name).to_str().unwrap().to_string();
    let cases: Vec<Vec<String>> = vec![
        vec!["render".into(), s.into(), "-o".into(), out("fw.nft")],
        vec!["report".into(), s.into(), "-o".into(), out("r.md")],
        vec!["report".into(), s.into(), "-o".into(), out("r.xlsx")],
        vec![
            "init".into(),
            "--products".into(),
            "devicelock".into(),
            "-o".into(),
            out("site.yaml"),
        ],
        vec!["fleet".into(), s.into(), "-o".into(), out("fleet")],
    ];
    for args in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let en = fails(&args, "en");
        assert!(
            en.contains("output directory") && en.contains("no-such-dir"),
            "{args:?}: {en}"
        );
        let ja = fails(&args, "ja");
        assert!(ja.contains("出力先のディレクトリ"), "{args:?}: {ja}");
        assert!(!missing.exists(), "{args:?} created the directory");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_shift_jis_site_is_named_as_such_with_how_to_save_it() {
    let dir = tmp("sjis");
    let site = dir.join("honsha.yaml");
    let text = SITE.replacen("name: t", "name: 本社ファイアウォール", 1);
    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!bad);
    std::fs::write(&site, &bytes).unwrap();
    let s = site.to_str().unwrap();
    let en = fails(&["plan", s], "en");
    assert!(en.contains("honsha.yaml:1:7: not UTF-8"), "{en}");
    assert!(en.contains("Shift_JIS") && en.contains("UTF-8"), "{en}");
    let ja = fails(&["plan", s], "ja");
    assert!(ja.contains("UTF-8 のテキストではありません"), "{ja}");
    assert!(
        ja.contains("Shift_JIS") && ja.contains("保存し直す"),
        "{ja}"
    );
    // Latin-1 is not called Shift_JIS.
    std::fs::write(&site, b"name: caf\xe9 \n").unwrap();
    let en = fails(&["plan", s], "en");
    assert!(
        en.contains("not UTF-8") && !en.contains("looks like Shift_JIS"),
        "{en}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_mistyped_address_is_called_malformed_not_a_host_name() {
    let dir = tmp("addr");
    let site = dir.join("site.yaml");
    for (typo, line, col, en_want, ja_want) in [
        // Letter O for zero, in a role: not steered to `fqdn:`.
        (
            "      console: 172.16.100.1O",
            12,
            16,
            "number 4 `1O` holds the letter O",
            "英字の O",
        ),
        (
            "      console: 10.0.0.256",
            12,
            16,
            "`256` is larger than 255",
            "255 を超えています",
        ),
        (
            "    cidrs: [192.168.2O.0/24]",
            6,
            13,
            "malformed address",
            "アドレスの形が正しくありません",
        ),
    ] {
        let text = if typo.contains("cidrs") {
            SITE.replacen("    cidrs: [192.168.20.0/24]", typo, 1)
        } else {
            SITE.replacen("      console: 192.168.20.5", typo, 1)
        };
        std::fs::write(&site, text).unwrap();
        let s = site.to_str().unwrap();
        let en = fails(&["plan", s], "en");
        assert!(
            en.contains(&format!("site.yaml:{line}:{col}")),
            "{typo}: {en}"
        );
        assert!(
            en.contains("malformed") && en.contains(en_want),
            "{typo}: {en}"
        );
        assert!(!en.contains("fqdn"), "{typo}: {en}");
        let ja = fails(&["plan", s], "ja");
        assert!(ja.contains(ja_want), "{typo}: {ja}");
        assert!(!ja.contains("fqdn"), "{typo}: {ja}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_says_when_no_requirement_involves_a_packet() {
    let dir = tmp("explain");
    let site = dir.join("site.yaml");
    std::fs::write(&site, SITE).unwrap();
    let s = site.to_str().unwrap();
    let run = |q: &str, lang: &str, format: &str| {
        String::from_utf8(
            portplan()
                .args(["explain", s, q, "--lang", lang, "--format", format])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .unwrap()
    };
    // Remote desktop to the internet: nothing of DeviceLock involves it.
    let en = run("192.168.10.5 -> 8.8.8.8 tcp/3389", "en", "table");
    assert!(
        en.contains("No requirement of the site's products targets 8.8.8.8"),
        "{en}"
    );
    assert!(en.contains("8.8.8.8 is in no role"), "{en}");
    assert!(
        !en.contains("condition") && !en.contains("devicelock/"),
        "nothing unrelated: {en}"
    );
    let ja = run("192.168.10.5 -> 8.8.8.8 tcp/3389", "ja", "table");
    assert!(
        ja.contains("要件はありません") && ja.contains("8.8.8.8"),
        "{ja}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run("192.168.10.5 -> 8.8.8.8 tcp/3389", "en", "json")).unwrap();
    assert_eq!(json["not_open"].as_array().unwrap().len(), 0, "{json}");
    assert_eq!(
        json["no_requirement"]["unknown"][0]["address"], "8.8.8.8",
        "{json}"
    );
    // A packet between the product's endpoints is still explained by the product.
    let json: serde_json::Value =
        serde_json::from_str(&run("192.168.10.5 -> 192.168.20.5 tcp/9132", "en", "json")).unwrap();
    assert!(json.get("no_requirement").is_none(), "{json}");
    assert!(
        !json["open"].as_array().unwrap().is_empty()
            || !json["not_open"].as_array().unwrap().is_empty(),
        "{json}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn option_values_keep_their_catalog_type_in_json() {
    let dir = tmp("json");
    let site = dir.join("site.yaml");
    std::fs::write(
        &site,
        SITE.replacen(
            "options: {rpc_ports: fixed, connect_by: ip, netbios: false}",
            "options: {rpc_ports: fixed, connect_by: ip, netbios: true}",
            1,
        ),
    )
    .unwrap();
    let s = site.to_str().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let out = portplan()
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };
    // Every option value anywhere in these outputs: booleans and numbers stay so.
    fn scan(v: &serde_json::Value, found: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if let (true, serde_json::Value::Object(o)) =
                        (k == "options" || k == "values", x)
                    {
                        for (ok, ov) in o {
                            found.push((ok.clone(), ov.clone()));
                        }
                    }
                    scan(x, found);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| scan(x, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    scan(&json(&["plan", s, "--format", "json"]), &mut found);
    scan(&json(&["ports", "tmws", "--format", "json"]), &mut found);
    scan(
        &json(&[
            "ports",
            "devicelock",
            "--set",
            "netbios=true",
            "--format",
            "json",
        ]),
        &mut found,
    );
    let get = |k: &str| found.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("netbios"), Some(serde_json::json!(true)), "{found:?}");
    assert!(get("proxy_port").is_some_and(|v| v.is_u64()), "{found:?}");
    for (k, v) in &found {
        if let Some(s) = v.as_str() {
            assert!(
                s.parse::<f64>().is_err() && s != "true" && s != "false",
                "option {k} printed as the string {s:?}"
            );
        }
    }
    // explain cites the option values of a false condition with their type as well.
    let out = portplan()
        .args(["explain", s, "tcp/139", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.contains("\"true\"") && !text.contains("\"false\""),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
