//! `listen` and `probe` without root: dry runs, errors, and a real exchange on loopback.
//!
//! The loopback site declares a firewall between 127.0.0.2 and 127.0.0.3 that does not exist,
//! so the must-be-closed ports answer: `probe` must report them `unexpected-open` (or `refused`
//! where an unprivileged listener could not open a port below 1024) and fail, while every
//! required flow passes with its token echoed. With the listener gone, required flows are
//! `refused` (TCP reset, ICMP port unreachable), never `blocked`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{portplan, stdout};
use serde_json::Value;

const LOOP: &str = "tests/fixtures/loopback.yaml";
const CATS: &str = "tests/fixtures/catalogs";

#[test]
fn probe_dry_run_lists_required_and_closed_checks_and_sends_nothing() {
    let out = stdout(&[
        "probe",
        "examples/hq.yaml",
        "--from",
        "10.20.1.5",
        "--dry-run",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let checks = v["checks"].as_array().unwrap();
    let smb = checks
        .iter()
        .find(|c| c["dst"] == "10.10.0.4" && c["port"] == 445)
        .unwrap();
    assert_eq!(smb["expect"], "open");
    assert_eq!(smb["because"][0], "devicelock/smb");
    assert!(
        checks
            .iter()
            .any(|c| c["expect"] == "closed" && c["port"] == 3389)
    );
    assert!(
        v["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["requirement"] == "tmws/proxy")
    );
    insta::assert_snapshot!(
        "probe_dry_run_hq_client",
        stdout(&[
            "probe",
            "examples/hq.yaml",
            "--from",
            "10.20.1.5",
            "--dry-run"
        ])
    );
    insta::assert_snapshot!(
        "listen_dry_run_hq_ad_ja",
        stdout(&[
            "--lang",
            "ja",
            "listen",
            "examples/hq.yaml",
            "--as",
            "10.10.0.4",
            "--dry-run"
        ])
    );
}

#[test]
fn bad_hosts_and_limits_are_usage_errors() {
    for (args, want) in [
        (
            vec!["probe", "examples/hq.yaml", "--from", "10.10.0.99"],
            "plays no role",
        ),
        (
            vec!["probe", "examples/hq.yaml", "--from", "devicelock.service"],
            "not one host",
        ),
        (
            vec!["listen", "examples/hq.yaml", "--as", "ad"],
            "ambiguous",
        ),
        (
            vec![
                "probe",
                "examples/hq.yaml",
                "--from",
                "10.20.1.5",
                "--to",
                "10.10.0.99",
            ],
            "no flow",
        ),
        (
            vec![
                "probe",
                "examples/hq.yaml",
                "--from",
                "10.20.1.5",
                "--concurrency",
                "0",
            ],
            "--concurrency",
        ),
        (
            vec![
                "listen",
                "examples/hq.yaml",
                "--as",
                "10.10.0.4",
                "--duration",
                "3 fortnights",
            ],
            "duration",
        ),
        // This machine is not 10.20.1.5: refuse rather than probe from some other address.
        (
            vec!["probe", "examples/hq.yaml", "--from", "10.20.1.5"],
            "does not have the address",
        ),
        (
            vec!["listen", "examples/hq.yaml", "--as", "10.10.0.4"],
            "does not have the address",
        ),
    ] {
        let out = portplan().args(&args).assert().code(2).get_output().clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

fn probe(extra: &[&str]) -> (i32, Value) {
    let out = portplan()
        .args(["--catalog-dir", CATS, "probe", LOOP, "--from", "127.0.0.2"])
        .args(["--format", "json", "--timeout", "500ms"])
        .args(extra)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

fn results<'a>(v: &'a Value, expect: &str) -> Vec<&'a Value> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["expect"] == expect)
        .collect()
}

#[test]
fn listen_and_probe_on_loopback() {
    let bin = env!("CARGO_BIN_EXE_portplan");
    let mut listener = Command::new(bin)
        .args([
            "--catalog-dir",
            CATS,
            "listen",
            LOOP,
            "--as",
            "looptest.manager",
        ])
        .args(["--duration", "60s", "--format", "json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(listener.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(ready["event"], "ready");
    let required: Vec<(&Value, &Value)> = ready["ports"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ready["status"].as_array().unwrap())
        .filter(|(p, _)| p["kind"] != "canary")
        .collect();
    assert_eq!(required.len(), 5, "{line}");
    for (p, s) in &required {
        assert_eq!(s["status"], "bound", "{p}");
    }

    // Everything required passes with the nonce echoed; the closed ports answer (no real
    // firewall on loopback), so the run fails.
    let (code, v) = probe(&[]);
    assert_eq!(code, 1);
    let req = results(&v, "open");
    assert_eq!(req.len(), 5);
    for r in &req {
        assert_eq!(r["result"], "pass", "{r}");
        assert_eq!(r["observed"]["detail"]["token"], true, "{r}");
        assert!(r["rtt_ms"].as_f64().unwrap() >= 0.0);
    }
    let closed = results(&v, "closed");
    assert!(closed.len() >= 10);
    for r in &closed {
        assert!(
            r["result"] == "unexpected-open" || r["result"] == "refused",
            "{r}"
        );
    }
    for port in [18079, 18081, 18442, 18446, 15513, 15515] {
        let r = closed.iter().find(|r| r["port"] == port).unwrap();
        assert_eq!(r["result"], "unexpected-open", "{r}");
    }
    let (code, v) = probe(&["--required-only"]);
    assert_eq!(code, 0, "{v}");
    assert!(results(&v, "closed").is_empty());

    // Stopped with SIGTERM, the listener reports what reached it: the required ports with
    // their tokens, and the canaries flagged.
    Command::new("kill")
        .args(["-TERM", &listener.id().to_string()])
        .status()
        .unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    let done: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(done["event"], "done");
    assert_eq!(done["stop"], "signal");
    let hits = done["hits"].as_array().unwrap();
    let hit = |port: u64| hits.iter().find(|h| h["port"] == port).unwrap();
    assert!(hit(18080)["tokens"].as_u64().unwrap() >= 2, "{line}");
    assert_eq!(hit(18080)["canary"], false);
    assert_eq!(hit(18081)["canary"], true);
    assert_eq!(hit(15514)["from"][0], "127.0.0.2");
    assert!(listener.wait().unwrap().success());

    // Nothing listens now: refused (a reset / port unreachable), not blocked.
    let (code, v) = probe(&["--required-only"]);
    assert_eq!(code, 1);
    for r in results(&v, "open") {
        assert_eq!(r["result"], "refused", "{r}");
    }
}

#[test]
fn probe_junit_and_table_on_loopback_without_listener() {
    let out = portplan()
        .args(["--catalog-dir", CATS, "probe", LOOP, "--from", "127.0.0.2"])
        .args(["--required-only", "--timeout", "300ms", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase ").count(), 5);
    assert_eq!(xml.matches("<failure type=\"refused\"").count(), 5);
    assert!(xml.contains("failures=\"5\""));
    let out = portplan()
        .args(["--catalog-dir", CATS, "probe", LOOP, "--from", "127.0.0.2"])
        .args(["--required-only", "--timeout", "300ms"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("FAIL"), "{text}");
    assert!(text.contains("0 pass, 0 blocked, 5 refused"), "{text}");
}

#[test]
fn large_runs_are_split_across_threads_and_keep_plan_order() {
    // 300 separate ports (every other one, so none is sampled): enough for probe to split the
    // run over its per-CPU runtimes. Nothing listens on 127.0.0.5, so every one is `refused`.
    let dir = std::env::temp_dir().join(format!("portplan-many-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cats")).unwrap();
    let ports: Vec<String> = (0..300).map(|i| (31000 + 2 * i).to_string()).collect();
    let cat = std::fs::read_to_string(format!("{CATS}/looptest.yaml"))
        .unwrap()
        .replace("[18080, 18443-18445]", &format!("[{}]", ports.join(", ")));
    std::fs::write(dir.join("cats/looptest.yaml"), cat).unwrap();
    let site = std::fs::read_to_string(LOOP)
        .unwrap()
        .replace("127.0.0.3", "127.0.0.5");
    std::fs::write(dir.join("site.yaml"), site).unwrap();
    let out = portplan()
        .args(["--catalog-dir", dir.join("cats").to_str().unwrap()])
        .args([
            "probe",
            dir.join("site.yaml").to_str().unwrap(),
            "--from",
            "127.0.0.2",
        ])
        .args(["--required-only", "--protocol", "tcp", "--format", "json"])
        .args(["--timeout", "500ms", "--rate", "20000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["result"], "refused", "{r}");
            r["port"].as_u64().unwrap()
        })
        .collect();
    let want: Vec<u64> = (0..300).map(|i| 31000 + 2 * i).collect();
    assert_eq!(got, want);
    std::fs::remove_dir_all(&dir).unwrap();
}
