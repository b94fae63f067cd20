//! Hostile and careless input (issue 17): nothing overwritten, nothing injected, nothing that
//! hangs. Every hostile file is made here, in a temporary directory.
//!
//! Device nodes need root (`mknod`); the Ctrl-C and failed-rename cases need `strace` (its
//! syscall fault injection delays or fails exactly one `rename`). Outside CI a missing
//! requirement skips the test loudly; in CI (`CI=true`) it fails it.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{portplan, require_root_and, require_tool, stdout};

const HQ: &str = "examples/hq.yaml";
const DUAL: &str = "tests/fixtures/dualstack.yaml";

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("portplan-hostile-")
        .tempdir()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// (exit code, stdout, stderr) of a run.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = portplan().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn failure(args: &[&str]) -> String {
    let (code, _, err) = run(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    err
}

// ---- 1. -o never replaces a device, FIFO or link --------------------------------------------

#[test]
fn output_to_devices_fifos_links_and_stdout() {
    let dir = tempdir();
    let d = dir.path();
    let expected = stdout(&["render", DUAL, "--for", "fw-dc", "--target", "iptables"]);
    let args = |o: &str| {
        vec![
            "render".to_string(),
            DUAL.into(),
            "--for".into(),
            "fw-dc".into(),
            "--target".into(),
            "iptables".into(),
            "-o".into(),
            o.into(),
        ]
    };
    // `-` and /dev/stdout (a pipe here) print what no -o prints, both parts, no `.v6` file.
    for o in ["-", "/dev/stdout"] {
        let out = portplan().args(args(o)).output().unwrap();
        assert!(out.status.success(), "{o}");
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected, "{o}");
    }
    assert!(!Path::new("/dev/stdout.v6").exists() && !Path::new("-.v6").exists());
    // A FIFO gets the same, and stays a FIFO.
    let fifo = d.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    portplan()
        .args(args(fifo.to_str().unwrap()))
        .assert()
        .success();
    assert_eq!(reader.join().unwrap(), expected);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // A symbolic link is written through (like `>`), not replaced by a file.
    let target = d.join("real.rules");
    std::fs::write(&target, "old").unwrap();
    let link = d.join("link.rules");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    portplan()
        .args(args(link.to_str().unwrap()))
        .assert()
        .success();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected);
    assert_eq!(names(d), ["fifo", "link.rules", "real.rules"]);
    // A directory is refused.
    let err = failure(&["render", HQ, "--for", "fw-core", "-o", d.to_str().unwrap()]);
    assert!(err.contains("it is a directory"), "{err}");
}

#[test]
fn device_nodes_stay_devices() {
    if !require_root_and(&["mknod"], "device_nodes_stay_devices") {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    for (name, minor) in [("null", "3"), ("full", "7")] {
        let p = d.join(name);
        let ok = Command::new("mknod")
            .args([p.to_str().unwrap(), "c", "1", minor])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let null = d.join("null");
    let full = d.join("full");
    for target in ["nftables", "iptables"] {
        portplan()
            .args([
                "render",
                DUAL,
                "--for",
                "fw-dc",
                "--target",
                target,
                "-o",
                null.to_str().unwrap(),
            ])
            .assert()
            .success();
    }
    portplan()
        .args(["report", HQ, "--format", "md", "-o", null.to_str().unwrap()])
        .assert()
        .success();
    let err = failure(&[
        "render",
        HQ,
        "--for",
        "fw-core",
        "-o",
        full.to_str().unwrap(),
    ]);
    assert!(err.to_lowercase().contains("no space left"), "{err}");
    for p in [&null, &full] {
        assert!(std::fs::metadata(p).unwrap().file_type().is_char_device());
    }
    assert_eq!(names(d), ["full", "null"], "no .v6, no temporaries");
}

// ---- 2. overlapping CIDRs: bounded ----------------------------------------------------------

#[test]
fn one_cidr_repeated_ten_thousand_times_is_quick_and_bounded() {
    let dir = tempdir();
    let mut text = String::from("name: t\nzones:\n  - id: a\n    cidrs:\n");
    for _ in 0..10_000 {
        text.push_str("      - 10.0.0.0/8\n");
    }
    text.push_str("products: []\n");
    let p = dir.path().join("rep.yaml");
    std::fs::write(&p, text).unwrap();
    let t0 = Instant::now();
    let err = failure(&["plan", p.to_str().unwrap()]);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let located = err
        .lines()
        .filter(|l| l.contains("rep.yaml:") && l.contains("overlaps 10.0.0.0/8 of zone `a`"))
        .count();
    assert_eq!(located, 20, "{err}");
    assert!(
        err.contains("… and 9979 more zone CIDR(s) overlap an earlier one"),
        "{err}"
    );
}

// ---- 3. temporaries: unpredictable, exclusive, mode kept ------------------------------------

#[test]
fn planted_links_at_the_old_temporary_names_are_not_followed() {
    let dir = tempdir();
    let d = dir.path();
    let victim = d.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    // The old name was `.NAME.portplan-PID.tmp`: plant it for the PIDs the children will get.
    let me = std::process::id();
    for pid in me.saturating_sub(100)..me + 3000 {
        let _ = std::os::unix::fs::symlink(&victim, d.join(format!(".out.md.portplan-{pid}.tmp")));
    }
    let out = d.join("out.md");
    let expected = stdout(&["report", HQ]);
    for _ in 0..3 {
        portplan()
            .args(["report", HQ, "-o", out.to_str().unwrap()])
            .assert()
            .success();
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert!(
        !names(d)
            .iter()
            .any(|n| n.ends_with(".portplan.tmp") || n.ends_with(".portplan.bak"))
    );
}

#[test]
fn concurrent_writers_never_mix_and_the_mode_is_kept() {
    let dir = tempdir();
    let out = dir.path().join("fw.nft");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    let expected = stdout(&["render", HQ, "--for", "fw-core"]);
    let bin = assert_cmd::cargo::cargo_bin("portplan");
    let children: Vec<_> = (0..6)
        .map(|_| {
            Command::new(&bin)
                .args([
                    "render",
                    HQ,
                    "--for",
                    "fw-core",
                    "-o",
                    out.to_str().unwrap(),
                ])
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(names(dir.path()), ["fw.nft"]);
}

// ---- 4 and 5. nothing raw on a terminal, no formulas in CSV ---------------------------------

/// A catalog and a site full of terminal escapes and spreadsheet formulas.
fn hostile_inputs(d: &Path) -> (PathBuf, PathBuf) {
    let cats = d.join("cats");
    std::fs::create_dir(&cats).unwrap();
    std::fs::write(
        cats.join("evil.yaml"),
        r#"id: evil
name: {en: "Evil\e[2J\e[H", ja: "悪\e[2J"}
vendor: "Acme\a"
summary: {en: "sum\u202eeht", ja: "概要\r"}
sources: [{id: "+cmd|' /C calc'!A0", title: {en: "Doc\e]0;pwned\a", ja: "資料"}}]
options:
  - {id: mode, type: choice, values: [a, b], default: a, description: {en: "m\e[1A\e[2K", ja: "m"}}
roles:
  - {id: agent, name: {en: "=HYPERLINK(\"http://evil\",\"agent\")", ja: "\e[2Kエージェント"}, zone: intranet}
  - {id: server, name: {en: "Server\r\e[2K", ja: "サーバー\u009b"}, zone: intranet}
requirements:
  - id: main
    purpose: {en: "@SUM(1+1)\e[31m", ja: "目的\e[31m"}
    from: agent
    to: server
    protocol: tcp
    ports: [445]
    notes: {en: "-2+3\u202e", ja: "注\t記"}
    source: {doc: "+cmd|' /C calc'!A0", row: 1}
"#,
    )
    .unwrap();
    let site = d.join("site.yaml");
    std::fs::write(
        &site,
        r#"name: "site\e[2J\nFAKE: forged line"
description: {en: "d\e[2K", ja: "d"}
zones:
  - {id: lan, name: {en: "LAN\e[2K", ja: "LAN\r"}, cidrs: [10.20.0.0/16]}
  - {id: srv, name: {en: "-cmd", ja: "srv"}, cidrs: [10.10.0.0/24]}
products:
  - product: evil
    roles: {agent: zone:lan, server: 10.10.0.5}
firewalls:
  - {id: "fw\e]0;title\a\nFAKE: forged line", between: [lan, srv], target: nftables}
"#,
    )
    .unwrap();
    (cats, site)
}

fn assert_clean(what: &str, bytes: &str) {
    for (i, c) in bytes.char_indices() {
        let bad = match c {
            '\n' | '\t' => false,
            '\r' => bytes.as_bytes().get(i + 1) != Some(&b'\n'),
            c => c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c),
        };
        assert!(
            !bad,
            "{what}: raw {c:?} at byte {i}: {:?}",
            &bytes[i.saturating_sub(40)..(i + 20).min(bytes.len())]
        );
    }
}

#[test]
fn no_output_carries_terminal_escapes() {
    let dir = tempdir();
    let (cats, site) = hostile_inputs(dir.path());
    let (cats, site) = (cats.to_str().unwrap(), site.to_str().unwrap());
    let rs = dir.path().join("rs.json");
    std::fs::write(
        &rs,
        r#"{"nftables": [{"table": {"family": "inet", "name": "t\u001b[2J", "handle": 1}}, {"chain": {"family": "inet", "table": "t\u001b[2J", "name": "fwd\u001b[2K", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}, {"rule": {"family": "inet", "table": "t\u001b[2J", "chain": "fwd\u001b[2K", "handle": 2, "comment": "\u001b[2J\u001b[H plan matches \u0007", "expr": [{"accept": null}]}}]}"#,
    )
    .unwrap();
    let rs = rs.to_str().unwrap();
    let mut runs: Vec<Vec<&str>> = Vec::new();
    for f in ["table", "md", "csv", "json"] {
        runs.push(vec!["catalog", "list", "--format", f]);
        runs.push(vec!["catalog", "show", "evil", "--format", f]);
        runs.push(vec!["ports", "evil", "--format", f]);
        runs.push(vec!["plan", site, "--format", f]);
        runs.push(vec!["explain", site, "tcp/445", "--format", f]);
        runs.push(vec!["explain", site, "evil/main", "--format", f]);
        runs.push(vec!["diff", HQ, site, "--format", f]);
    }
    for t in ["nftables", "iptables", "windows", "cisco-ios", "firewalld"] {
        runs.push(vec!["render", site, "--target", t]);
    }
    for f in ["md", "dot", "html", "svg"] {
        runs.push(vec!["report", site, "--format", f]);
    }
    for f in ["table", "json"] {
        runs.push(vec![
            "probe",
            site,
            "--from",
            "10.20.1.5",
            "--dry-run",
            "--format",
            f,
        ]);
        runs.push(vec![
            "listen",
            site,
            "--as",
            "10.10.0.5",
            "--dry-run",
            "--format",
            f,
        ]);
    }
    runs.push(vec!["audit", site, "--ruleset", rs]);
    // Errors quoting what the user gave.
    runs.push(vec!["ports", "evil\x1b[2J"]);
    runs.push(vec!["ports", "evil", "--set", "mode=\x1b[2J"]);
    runs.push(vec!["plan", site, "--for", "fw\x1b[2K"]);
    runs.push(vec!["catalog", "show", "\u{9b}31m"]);
    for lang in ["en", "ja"] {
        for r in &runs {
            let mut args = vec!["--lang", lang, "--catalog-dir", cats];
            args.extend(r.iter().copied());
            let out = portplan().args(&args).output().unwrap();
            let (o, e) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            assert!(out.status.code().is_some(), "{args:?} crashed: {e}");
            assert_clean(&format!("{args:?} stdout"), &o);
            assert_clean(&format!("{args:?} stderr"), &e);
            // A line break in a site name or point id cannot forge a line of its own (CSV may
            // quote it across lines, in HTML and SVG it is blank space; the audit output is
            // not covered here).
            if !["csv", "html", "svg", "audit"]
                .iter()
                .any(|f| args.contains(f))
            {
                for l in o.lines().chain(e.lines()) {
                    assert!(!l.trim_start().starts_with("FAKE:"), "{args:?}: {l}");
                }
            }
        }
    }
    // Broken files are reported without their escapes too.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: t\nproducts:\n  - product: \"dev\\e[2Jlock\"\n  - product: devicelock\n    roles: {console: \"10.0.0.1\\e[2K\"}\n",
    )
    .unwrap();
    for lang in ["en", "ja"] {
        let (_, o, e) = run(&["--lang", lang, "plan", bad.to_str().unwrap()]);
        assert_clean("bad site", &(o + &e));
    }
    // Tables stay aligned: escapes are made visible before the widths are measured.
    let table = stdout(&["--catalog-dir", cats, "ports", "evil"]);
    let widths: Vec<usize> = table
        .lines()
        .filter(|l| l.starts_with('+') || l.starts_with('|'))
        .map(|l| l.chars().count())
        .collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
    assert!(table.contains("\\x1b[2K"), "{table}");
}

#[test]
fn csv_cells_are_never_formulas() {
    let dir = tempdir();
    let (cats, site) = hostile_inputs(dir.path());
    let (cats, site) = (cats.to_str().unwrap(), site.to_str().unwrap());
    for args in [
        vec!["ports", "evil", "--format", "csv"],
        vec!["catalog", "list", "--format", "csv"],
        vec!["plan", site, "--format", "csv"],
        vec!["explain", site, "tcp/445", "--format", "csv"],
        vec!["diff", HQ, site, "--format", "csv"],
    ] {
        let mut all = vec!["--catalog-dir", cats];
        all.extend(args.iter().copied());
        let out = stdout(&all);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(out.as_bytes());
        let mut fields = 0;
        for rec in r.records() {
            for f in rec.unwrap().iter() {
                fields += 1;
                let risky = f != "-" && f.starts_with(['=', '+', '-', '@', '\t', '\r']);
                assert!(!risky, "{args:?}: formula cell {f:?}");
            }
        }
        assert!(fields > 0, "{args:?}");
        if args[0] == "ports" {
            assert!(out.contains("'=HYPERLINK("), "{out}");
            assert!(out.contains("'+cmd|"), "{out}");
            assert!(out.contains("'@SUM(1+1)"), "{out}");
        }
    }
}

// ---- 6. endpoints are unicast hosts ---------------------------------------------------------

#[test]
fn non_unicast_endpoints_are_refused_where_they_are_written() {
    let dir = tempdir();
    let hq = std::fs::read_to_string(HQ).unwrap();
    for (ep, why, ja) in [
        ("0.0.0.0", "the unspecified address", "未指定アドレス"),
        ("224.0.0.1", "a multicast address", "マルチキャスト"),
        (
            "255.255.255.255",
            "the limited broadcast address",
            "ブロードキャスト",
        ),
        ("\"::\"", "the unspecified address", "未指定アドレス"),
        ("\"ff02::1\"", "a multicast address", "マルチキャスト"),
        (
            "10.10.0.255",
            "the broadcast address of 10.10.0.0/24 (zone `servers`)",
            "ブロードキャストアドレス",
        ),
    ] {
        let text = hq.replace("console: 10.10.0.10", &format!("console: {ep}"));
        let line = text.lines().position(|l| l.contains("console: ")).unwrap() + 1;
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, text).unwrap();
        let err = failure(&["plan", p.to_str().unwrap()]);
        assert!(
            err.contains(&format!("s.yaml:{line}:16: `")) && err.contains(why),
            "{ep}: {err}"
        );
        let err = failure(&["--lang", "ja", "plan", p.to_str().unwrap()]);
        assert!(err.contains(ja), "{ep}: {err}");
    }
    for args in [
        vec!["listen", HQ, "--as", "0.0.0.0", "--dry-run"],
        vec!["listen", HQ, "--as", "ff02::1", "--dry-run"],
        vec!["probe", HQ, "--from", "224.0.0.1", "--dry-run"],
        vec![
            "probe",
            HQ,
            "--from",
            "10.20.1.5",
            "--to",
            "224.0.0.1",
            "--dry-run",
        ],
        vec![
            "probe",
            HQ,
            "--from",
            "10.20.1.5",
            "--to",
            "255.255.255.255",
            "--dry-run",
        ],
        vec![
            "probe",
            HQ,
            "--from",
            "10.20.1.5",
            "--to",
            "10.10.0.255",
            "--dry-run",
        ],
    ] {
        let err = failure(&args);
        assert!(err.contains("is not one host's address"), "{args:?}: {err}");
    }
}

#[test]
fn public_addresses_get_no_must_be_closed_probes_even_when_zones_cover_everything() {
    let dir = tempdir();
    let hq = std::fs::read_to_string(HQ).unwrap();
    // The servers zone claims every address that is not a client's.
    let cover = "[0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/1, 10.0.0.0/12, 10.16.0.0/14, 10.21.0.0/16, 10.22.0.0/15, 10.24.0.0/13, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9]";
    let text = hq
        .replace("cidrs: [10.10.0.0/24]", &format!("cidrs: {cover}"))
        .replace("zone:internet", "zone:servers")
        .replace(
            "    between: [[clients, servers], internet]\n",
            "    between: [clients, servers]\n",
        );
    let p = dir.path().join("cover.yaml");
    std::fs::write(&p, text).unwrap();
    let out = stdout(&[
        "probe",
        p.to_str().unwrap(),
        "--from",
        "10.20.1.5",
        "--to",
        "8.8.8.8",
        "--dry-run",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let checks = v["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    assert!(checks.iter().all(|c| c["expect"] == "open"), "{out}");
    assert_eq!(v["internet"], serde_json::json!(["8.8.8.8"]));
}

// ---- 7. all or nothing, even on a failed rename or Ctrl-C -----------------------------------

/// The process strace runs (its only child).
fn tracee(strace: u32) -> Option<i32> {
    let dir = std::fs::read_dir(format!("/proc/{strace}/task")).ok()?;
    for t in dir.flatten() {
        let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        if let Some(pid) = kids.split_whitespace().next() {
            return pid.parse().ok();
        }
    }
    None
}

fn strace_portplan(inject: &str, args: &[&str]) -> Command {
    let mut c = Command::new("strace");
    c.args([
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        "trace=rename,renameat,renameat2",
        "-e",
        inject,
    ])
    .arg(assert_cmd::cargo::cargo_bin("portplan"))
    .args(args)
    .env("LANG", "C")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

#[test]
fn a_failed_second_rename_leaves_both_files_as_they_were() {
    if !require_tool(
        &["strace"],
        "a_failed_second_rename_leaves_both_files_as_they_were",
    ) {
        return;
    }
    let dir = tempdir();
    let rules = dir.path().join("rules");
    let v6 = dir.path().join("rules.v6");
    std::fs::write(&rules, "old v4").unwrap();
    std::fs::write(&v6, "old v6").unwrap();
    let out = strace_portplan(
        "inject=rename,renameat,renameat2:error=EIO:when=2",
        &[
            "render",
            DUAL,
            "--for",
            "fw-dc",
            "--target",
            "iptables",
            "-o",
            rules.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rules.v6"), "{err}");
    assert_eq!(std::fs::read_to_string(&rules).unwrap(), "old v4");
    assert_eq!(std::fs::read_to_string(&v6).unwrap(), "old v6");
    assert_eq!(names(dir.path()), ["rules", "rules.v6"]);
    // Without the fault both are replaced.
    portplan()
        .args([
            "render",
            DUAL,
            "--for",
            "fw-dc",
            "--target",
            "iptables",
            "-o",
            rules.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert_ne!(std::fs::read_to_string(&v6).unwrap(), "old v6");
}

#[test]
fn ctrl_c_while_writing_leaves_no_temporary() {
    if !require_tool(&["strace"], "ctrl_c_while_writing_leaves_no_temporary") {
        return;
    }
    let dir = tempdir();
    let rules = dir.path().join("rules");
    let args = [
        "render",
        DUAL,
        "--for",
        "fw-dc",
        "--target",
        "iptables",
        "-o",
        rules.to_str().unwrap(),
    ];
    // Every rename waits 1.5 s: the temporaries sit there when Ctrl-C comes.
    let mut child = strace_portplan(
        "inject=rename,renameat,renameat2:delay_enter=1500000",
        &args,
    )
    .spawn()
    .unwrap();
    let t0 = Instant::now();
    while !names(dir.path())
        .iter()
        .any(|n| n.ends_with(".portplan.tmp"))
    {
        assert!(t0.elapsed() < Duration::from_secs(30), "no temporary seen");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = tracee(child.id()).expect("portplan under strace");
    // SAFETY: kill(2) on a process id we spawned (through strace).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    child.wait().unwrap();
    // The signal took effect once the files were in place: complete files, no leftovers.
    assert_eq!(names(dir.path()), ["rules", "rules.v6"]);
    let expected = stdout(&["render", DUAL, "--for", "fw-dc", "--target", "iptables"]);
    let v4 = std::fs::read_to_string(&rules).unwrap();
    let v6 = std::fs::read_to_string(dir.path().join("rules.v6")).unwrap();
    assert_eq!(format!("{v4}\n# ---- .v6 ----\n{v6}"), expected);
}

// ---- 8. the smaller ones --------------------------------------------------------------------

#[test]
fn duplicate_catalog_ids_in_a_catalog_dir_are_an_error() {
    let dir = tempdir();
    let (cats, _) = hostile_inputs(dir.path());
    std::fs::copy(cats.join("evil.yaml"), cats.join("evil2.yml")).unwrap();
    let err = failure(&["--catalog-dir", cats.to_str().unwrap(), "catalog", "list"]);
    assert!(
        err.contains("evil2.yml:1:1: product id `evil` is already defined by")
            && err.contains("evil.yaml"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_is_located_and_explained() {
    let dir = tempdir();
    let site = dir.path().join("sjis.yaml");
    let mut bytes = b"name: hq\nproducts:\n  - product: devicelock\n# ".to_vec();
    bytes.extend([0x96, 0x7b, 0x8e, 0xd0]); // 本社 in Shift_JIS
    bytes.push(b'\n');
    std::fs::write(&site, &bytes).unwrap();
    let err = failure(&["plan", site.to_str().unwrap()]);
    assert!(
        err.contains("sjis.yaml:4:3: not UTF-8 text (byte 45 is 0x96)")
            && err.contains("saved as UTF-8"),
        "{err}"
    );
    let err = failure(&["--lang", "ja", "plan", site.to_str().unwrap()]);
    assert!(err.contains("UTF-8 で保存してください"), "{err}");
    let err = failure(&["catalog", "check", site.to_str().unwrap()]);
    assert!(err.contains("sjis.yaml:4:3:"), "{err}");
    let err = failure(&[
        "audit",
        HQ,
        "--for",
        "fw-core",
        "--ruleset",
        site.to_str().unwrap(),
    ]);
    assert!(err.contains("sjis.yaml:4:3:"), "{err}");
}

#[test]
fn parser_messages_are_in_user_words() {
    let dir = tempdir();
    let dup = dir.path().join("dup.yaml");
    std::fs::write(&dup, "name: a\nname: b\nproducts: []\n").unwrap();
    let multi = dir.path().join("multi.yaml");
    std::fs::write(
        &multi,
        "name: a\nproducts: []\n---\nname: b\nproducts: []\n",
    )
    .unwrap();
    let null = dir.path().join("null.yaml");
    std::fs::write(&null, "name: ~\nproducts: []\n").unwrap();
    for (f, en, ja) in [
        (
            &dup,
            "the key `name` appears twice",
            "キー `name` がこのマッピングに 2 回あります",
        ),
        (&multi, "several YAML documents", "YAML 文書が複数あります"),
        (&null, "a value is missing here", "ここに値がありません"),
    ] {
        let e_en = failure(&["plan", f.to_str().unwrap()]);
        let e_ja = failure(&["--lang", "ja", "plan", f.to_str().unwrap()]);
        assert!(e_en.contains(en), "{e_en}");
        assert!(e_ja.contains(ja), "{e_ja}");
        for e in [&e_en, &e_ja] {
            for internal in ["Policy", "Options", "from_str", "Option<", "RawSite"] {
                assert!(!e.contains(internal), "{internal} in {e}");
            }
        }
    }
}

#[test]
fn snippets_never_echo_a_file_that_is_not_a_site() {
    let dir = tempdir();
    let secret = dir.path().join("shadow");
    std::fs::write(
        &secret,
        "root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nkey = hunter2 [\n",
    )
    .unwrap();
    let notyaml = dir.path().join("id_rsa");
    std::fs::write(
        &notyaml,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    for f in [&secret, &notyaml] {
        for cmd in [vec!["plan"], vec!["catalog", "check"]] {
            let mut args = cmd.clone();
            args.push(f.to_str().unwrap());
            let err = failure(&args);
            for l in [
                "hashhash",
                "daemon",
                "hunter2",
                "b3BlbnNzaC1rZXkt",
                "BEGIN OPENSSH",
            ] {
                assert!(!err.contains(l), "{l} echoed: {err}");
            }
            assert!(
                err.contains(f.file_name().unwrap().to_str().unwrap()),
                "{err}"
            );
        }
    }
    // A site with a mistake shows only the offending line.
    let hq = std::fs::read_to_string(HQ).unwrap();
    let p = dir.path().join("typo.yaml");
    std::fs::write(
        &p,
        hq.replace("console: 10.10.0.10", "console: 10.10.0.1000"),
    )
    .unwrap();
    let err = failure(&["plan", p.to_str().unwrap()]);
    assert!(err.contains("console: 10.10.0.1000"), "{err}");
    assert!(
        !err.contains("rpc_ports") && !err.contains("enterprise_server"),
        "{err}"
    );
}

#[test]
fn probe_timeout_below_a_millisecond_is_refused() {
    let err = failure(&[
        "probe",
        HQ,
        "--from",
        "10.20.1.5",
        "--timeout",
        "0.5ms",
        "--dry-run",
    ]);
    assert!(err.contains("--timeout is out of bounds"), "{err}");
    let ok = run(&[
        "probe",
        HQ,
        "--from",
        "10.20.1.5",
        "--timeout",
        "1ms",
        "--dry-run",
    ]);
    assert_eq!(ok.0, 0, "{}", ok.2);
}
