//! Audit through the CLI: rendered rulesets audit clean; deleting one rule yields exactly the
//! missing opening it served; adding `tcp dport 135 accept` yields exactly that excess.

mod common;

use common::{portplan, stdout};
use serde_json::Value;

fn points(site: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(&stdout(&["plan", site, "--format", "json"])).unwrap();
    v["enforcement_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("portplan-audit-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Run an audit; returns (exit code, report).
fn audit(site: &str, point: &str, ruleset: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let out = portplan()
        .args([
            "audit",
            site,
            "--for",
            point,
            "--ruleset",
            ruleset.to_str().unwrap(),
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "audit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn render_iptables(site: &str, point: &str) -> (std::path::PathBuf, Option<std::path::PathBuf>) {
    let f = tmp(&format!("{}-{point}.rules", site.replace('/', "_")));
    portplan()
        .args([
            "render",
            site,
            "--for",
            point,
            "--target",
            "iptables",
            "--mode",
            "replace",
            "--allow-partial",
            "-o",
            f.to_str().unwrap(),
        ])
        .assert()
        .success();
    let v6 = std::path::PathBuf::from(format!("{}.v6", f.display()));
    let v6 = v6.exists().then_some(v6);
    (f, v6)
}

#[test]
fn rendered_rulesets_audit_clean() {
    for site in [
        "examples/hq.yaml",
        "examples/minimal.yaml",
        "tests/fixtures/dualstack.yaml",
    ] {
        for point in points(site) {
            let (v4, v6) = render_iptables(site, &point);
            let (code, r) = audit(site, &point, &v4, &[]);
            assert_eq!(code, 0, "{site} {point}: {r:#}");
            assert!(r["ok"].as_bool().unwrap());
            if let Some(v6) = v6 {
                let (code, r) = audit(site, &point, &v6, &["--kind", "ip6tables-save"]);
                assert_eq!(code, 0, "{site} {point} v6: {r:#}");
            }
        }
    }
}

#[test]
fn deleting_a_rule_yields_exactly_the_opening_it_served() {
    for (site, point) in [
        ("examples/hq.yaml", "fw-core"),
        ("examples/hq.yaml", "dl-agents"),
        ("tests/fixtures/dualstack.yaml", "fw-dc"),
    ] {
        let (v4, _) = render_iptables(site, point);
        let text = std::fs::read_to_string(&v4).unwrap();
        let rule_lines: Vec<&str> = text.lines().filter(|l| l.contains("portplan r")).collect();
        assert!(rule_lines.len() >= 4);
        for (i, line) in rule_lines.iter().enumerate() {
            let without: String = text
                .lines()
                .filter(|l| l != line)
                .map(|l| format!("{l}\n"))
                .collect();
            let f = tmp(&format!("del-{point}-{i}.rules"));
            std::fs::write(&f, without).unwrap();
            let (code, r) = audit(site, point, &f, &[]);
            assert_eq!(code, 1, "{line}");
            assert!(r["excess"].as_array().unwrap().is_empty(), "{line}: {r:#}");
            let missing = r["missing"].as_array().unwrap();
            assert_eq!(missing.len(), 1, "{line}: {r:#}");
            let m = &missing[0];
            // The missing opening is the one the rule's comment names, and the witness is a packet
            // the deleted line used to accept.
            let reqs: Vec<&str> = m["requirements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            for req in &reqs {
                assert!(line.contains(req), "{line} vs {reqs:?}");
            }
            let w = &m["witness"];
            for (flag, key) in [(" -s ", "src"), (" -d ", "dst")] {
                if let Some(rest) = line.split(flag).nth(1) {
                    let net: ipnet::IpNet =
                        rest.split_whitespace().next().unwrap().parse().unwrap();
                    let ip: std::net::IpAddr = w[key].as_str().unwrap().parse().unwrap();
                    assert!(
                        net.contains(&ip),
                        "{line}: witness {key} {ip} outside {net}"
                    );
                }
            }
            assert!(m["certain"].as_bool().unwrap());
        }
    }
}

#[test]
fn an_extra_accept_is_exactly_the_excess() {
    let (v4, _) = render_iptables("examples/hq.yaml", "fw-core");
    let text = std::fs::read_to_string(&v4)
        .unwrap()
        .replace("COMMIT", "-A FORWARD -p tcp --dport 135 -j ACCEPT\nCOMMIT");
    let f = tmp("extra135.rules");
    std::fs::write(&f, &text).unwrap();
    let (code, r) = audit("examples/hq.yaml", "fw-core", &f, &[]);
    assert_eq!(code, 1);
    assert!(r["missing"].as_array().unwrap().is_empty());
    let ex = r["excess"].as_array().unwrap();
    assert_eq!(ex.len(), 1, "{r:#}");
    assert_eq!(ex[0]["dports"], serde_json::json!(["135"]));
    assert_eq!(ex[0]["protocols"], serde_json::json!(["6"]));
    assert!(
        ex[0]["rule"]["text"]
            .as_str()
            .unwrap()
            .contains("--dport 135")
    );
    assert_eq!(ex[0]["witness"]["dport"], 135);
    // Reachability-only audits pass.
    let (code, _) = audit("examples/hq.yaml", "fw-core", &f, &["--allow-excess"]);
    assert_eq!(code, 0);
    // Text report, both languages.
    let out = portplan()
        .args([
            "audit",
            "examples/hq.yaml",
            "--for",
            "fw-core",
            "--ruleset",
            f.to_str().unwrap(),
            "--lang",
            "ja",
        ])
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("過剰: 要件のない新規接続が許可されている (1)") && t.contains("dport 135"),
        "{t}"
    );
}

#[test]
fn shadowed_and_unreadable_rules_are_reported() {
    let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
-A FORWARD -s 10.20.0.0/16 -d 10.10.0.0/24 -p tcp -j ACCEPT\n\
-A FORWARD -s 10.20.0.0/16 -d 10.10.0.4/32 -p tcp --dport 445 -j ACCEPT\n\
-A FORWARD -m recent --name scan --rcheck -j ACCEPT\n\
COMMIT\n";
    let f = tmp("shadow.rules");
    std::fs::write(&f, text).unwrap();
    let (code, r) = audit("examples/hq.yaml", "fw-core", &f, &[]);
    assert_eq!(code, 1);
    let shadowed = r["shadowed"].as_array().unwrap();
    assert_eq!(shadowed.len(), 1, "{r:#}");
    assert_eq!(shadowed[0]["origin"], "line 7");
    let na: Vec<String> = r["not_analysed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.to_string())
        .collect();
    assert!(
        na.iter()
            .any(|x| x.contains("line 8") && x.contains("-m recent")),
        "{na:?}"
    );
    // The -m recent accept could match anything: excess it adds is only "possible".
    assert!(
        r["excess"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["certain"] == false)
    );
    // Line 7 is shadowed (line 6 already accepts all tcp to the servers). No rule is claimed
    // redundant: that could only be proven if line 8 were readable.
    assert!(r["redundant"].as_array().unwrap().is_empty(), "{r:#}");
    assert!(
        na.iter().any(|x| x.contains("redundancy not computed")),
        "{na:?}"
    );
    // Everything from servers to clients is missing (no such rule).
    assert!(
        r["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["from"] == serde_json::json!(["10.10.0.10/31"]))
    );
}

#[test]
fn redundant_rules_are_found() {
    // Line 7 decides nothing the policy would not: dropping what the drop policy drops anyway.
    // Line 8 accepts what line 9 accepts anyway.
    let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
-A FORWARD -s 10.20.0.0/16 -d 10.10.0.4/32 -p tcp --dport 445 -j ACCEPT\n\
-A FORWARD -p udp --dport 9999 -j DROP\n\
-A FORWARD -s 10.20.0.0/16 -d 10.10.0.10/32 -p tcp --dport 445 -j ACCEPT\n\
-A FORWARD -s 10.20.0.0/16 -d 10.10.0.10/31 -p tcp -m multiport --dports 445,9132:9133 -j ACCEPT\n\
COMMIT\n";
    let f = tmp("redundant.rules");
    std::fs::write(&f, text).unwrap();
    let (_, r) = audit("examples/hq.yaml", "fw-core", &f, &[]);
    let red: Vec<&str> = r["redundant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["origin"].as_str().unwrap())
        .collect();
    assert_eq!(red, ["line 7", "line 8"], "{r:#}");
}

#[test]
fn bad_rulesets_are_bad_input() {
    let f = tmp("bad.json");
    std::fs::write(&f, "{\"nftables\": [").unwrap();
    let out = portplan()
        .args([
            "audit",
            "examples/hq.yaml",
            "--for",
            "fw-core",
            "--ruleset",
            f.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1, column 14") && err.contains("ends early"),
        "{err}"
    );
    let out = portplan()
        .args([
            "audit",
            "examples/hq.yaml",
            "--for",
            "fw-core",
            "--ruleset",
            "/nonexistent/x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
