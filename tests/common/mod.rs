//! Shared test support: running the binary, requiring root or a system tool, the netns lab.
#![allow(dead_code)]

pub mod differential;
pub mod evaluate;
pub mod netns;
pub mod oracle;
pub mod rulegen;
pub mod sample;

use std::io::Write as _;
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;

/// The binary with a neutral locale.
pub fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("PORTPLAN_LANG");
    c.env("NO_COLOR", "1");
    c
}

/// stdout of a successful run.
pub fn stdout(args: &[&str]) -> String {
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

/// Whether we run under CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the process is root.
pub fn is_root() -> bool {
    Std::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// True when `tool` is on PATH and we are root. Outside CI a missing requirement skips the test
/// with a loud message; in CI it fails the test.
pub fn require_root_and(tools: &[&str], test: &str) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            Std::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .collect();
    let root = is_root();
    if missing.is_empty() && root {
        return true;
    }
    let why = if root {
        format!("missing tools: {}", missing.join(", "))
    } else {
        "not root".to_string()
    };
    if in_ci() {
        panic!("{test}: cannot run in CI ({why}); .ci/run must install the tools and run as root");
    }
    eprintln!("\n!!!!! SKIPPED {test}: {why} (runs in CI) !!!!!\n");
    false
}

/// True when every tool is on PATH (no root needed). Outside CI a missing tool skips the test
/// with a loud message; in CI it fails the test.
pub fn require_tool(tools: &[&str], test: &str) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            Std::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("missing tools: {}", missing.join(", "));
    if in_ci() {
        panic!("{test}: cannot run in CI ({why}); .ci/run must install the tools");
    }
    eprintln!("\n!!!!! SKIPPED {test}: {why} (runs in CI) !!!!!\n");
    false
}

/// Whether `tool` (a checking command such as `nft -c -f -`) accepts `text` on stdin; its
/// stderr when not.
#[allow(dead_code)]
pub fn check_with(tool: &[&str], text: &str) -> Result<(), String> {
    let mut child = Std::new(tool[0])
        .args(&tool[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
