//! `listen` and `probe` across a real router: a client and a server namespace, each running
//! `portplan listen`, with the rendered nftables ruleset on the router between them.
//!
//! Each round changes the router or the server and checks that `probe` reports exactly what
//! changed: all pass; one rule deleted → exactly its flows `blocked` (a UDP rule, then a TCP
//! rule); the server's listener stopped → required flows `refused` (TCP reset, ICMP port
//! unreachable); an extra accept → exactly those must-be-closed ports `unexpected-open` (TCP
//! and UDP). Both directions, both protocols, IPv4 and IPv6.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use common::netns::{Lab, SideSpec};
use common::{require_root_and, stdout};
use portplan::catalog::{Catalogs, Protocol};
use portplan::plan::{Opening, plan};
use serde_json::Value;

const SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/verify.yaml");
const BIN: &str = env!("CARGO_BIN_EXE_portplan");
const CLIENT: &str = "10.61.0.5,2001:db8:61::5";
const SERVER: &str = "10.62.0.10,10.62.0.30,2001:db8:62::10";
const TABLE: &str = "portplan-fw";

type Key = (IpAddr, IpAddr, String, u16);

/// One probe run: exit code and (src, dst, proto, port) → (expect, result).
struct Run {
    code: i32,
    results: BTreeMap<Key, (String, String)>,
}

fn probe(lab: &Lab, ns: &str, from: &str, extra: &[&str]) -> Run {
    let mut cmd = vec![
        BIN,
        "probe",
        SITE,
        "--from",
        from,
        "--format",
        "json",
        "--timeout",
        "400ms",
    ];
    cmd.extend_from_slice(extra);
    let (code, out, err) = lab.run_in(ns, &cmd);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let mut results = BTreeMap::new();
    for r in v["results"].as_array().unwrap() {
        let key = (
            r["src"].as_str().unwrap().parse().unwrap(),
            r["dst"].as_str().unwrap().parse().unwrap(),
            r["protocol"].as_str().unwrap().to_string(),
            r["port"].as_u64().unwrap() as u16,
        );
        let val = (
            r["expect"].as_str().unwrap().to_string(),
            r["result"].as_str().unwrap().to_string(),
        );
        assert!(results.insert(key, val).is_none(), "duplicate check");
    }
    Run { code, results }
}

/// Every result is `pass` except those `odd` names, which have `want`.
fn expect_only(run: &Run, what: &str, want: &str, odd: impl Fn(&Key, &str) -> bool) {
    let mut wrong = Vec::new();
    let mut n_odd = 0;
    for (k, (expect, got)) in &run.results {
        let w = if odd(k, expect) {
            n_odd += 1;
            want
        } else {
            "pass"
        };
        if got != w {
            wrong.push(format!(
                "{} -> {} {}/{} ({expect}): want {w}, got {got}",
                k.0, k.1, k.2, k.3
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} results wrong:\n{}",
        wrong.len(),
        run.results.len(),
        wrong.join("\n")
    );
    assert!(
        n_odd > 0 || want == "pass",
        "{what}: the round changed nothing"
    );
    let fail = want != "pass" && n_odd > 0;
    assert_eq!(run.code, if fail { 1 } else { 0 }, "{what}: exit code");
}

fn count(run: &Run, expect: &str, proto: &str, v6: bool) -> usize {
    run.results
        .iter()
        .filter(|(k, (e, _))| e == expect && k.2 == proto && k.1.is_ipv6() == v6)
        .count()
}

/// The handle of rule `rN` in the router's forward chain.
fn handle(lab: &Lab, n: usize) -> String {
    let list = lab.output(
        &lab.router,
        &["nft", "-a", "list", "chain", "inet", TABLE, "forward"],
    );
    let tag = format!("\"portplan r{n}:");
    let line = list
        .lines()
        .find(|l| l.contains(&tag))
        .unwrap_or_else(|| panic!("no rule r{n} in\n{list}"));
    line.rsplit("# handle ").next().unwrap().trim().to_string()
}

fn delete_rule(lab: &Lab, n: usize) {
    let h = handle(lab, n);
    lab.output(
        &lab.router,
        &[
            "nft", "delete", "rule", "inet", TABLE, "forward", "handle", &h,
        ],
    );
}

fn permits(o: &Opening, k: &Key) -> bool {
    let proto = if k.2 == "tcp" {
        Protocol::Tcp
    } else {
        Protocol::Udp
    };
    o.permits(k.0, k.1, proto, k.3)
}

fn start_listener(lab: &mut Lab, ns: &str, host: &str) -> usize {
    let (id, line) = lab.start(
        ns,
        &[
            BIN,
            "listen",
            SITE,
            "--as",
            host,
            "--duration",
            "5m",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(v["event"], "ready");
    let statuses = v["status"].as_array().unwrap();
    assert!(statuses.len() >= 20, "{host}: too few responders: {line}");
    for (p, s) in v["ports"].as_array().unwrap().iter().zip(statuses) {
        assert_eq!(s["status"], "bound", "{host}: {p} not bound: {s}");
    }
    id
}

#[test]
fn probe_tells_pass_blocked_refused_and_unexpected_open() {
    if !require_root_and(
        &["ip", "nft"],
        "probe_tells_pass_blocked_refused_and_unexpected_open",
    ) {
        return;
    }
    let cats = Catalogs::builtin();
    let site = portplan::site::load_path(std::path::Path::new(SITE), &cats).unwrap();
    let p = plan(&site, &cats);
    let fw = p.point("fw").unwrap();

    let mut lab = Lab::new(
        "v",
        SideSpec {
            router: vec!["10.61.0.1/24", "2001:db8:61::1/64"],
            hosts: vec!["10.61.0.5/24", "2001:db8:61::5/64"],
        },
        SideSpec {
            router: vec!["10.62.0.1/24", "2001:db8:62::1/64"],
            hosts: vec!["10.62.0.10/24", "10.62.0.30/24", "2001:db8:62::10/64"],
        },
    );
    let (cns, sns) = (lab.client.clone(), lab.server.clone());
    let nft = stdout(&["render", SITE, "--for", "fw", "--mode", "replace"]);
    lab.load_nft(&nft);
    start_listener(&mut lab, &cns, CLIENT);
    let server = start_listener(&mut lab, &sns, SERVER);

    // 1. As planned: every check passes, from both ends, and the run is big enough to mean
    //    something: TCP and UDP required both ways, IPv4 and IPv6, closed checks too.
    let dir = std::env::temp_dir().join(format!("portplan-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("probe.xml");
    let up = probe(&lab, &cns, CLIENT, &[]);
    expect_only(&up, "client, as planned", "pass", |_, _| false);
    let down = probe(&lab, &sns, SERVER, &[]);
    expect_only(&down, "server, as planned", "pass", |_, _| false);
    for (run, who) in [(&up, "client"), (&down, "server")] {
        for proto in ["tcp", "udp"] {
            for v6 in [false, true] {
                assert!(
                    count(run, "open", proto, v6) >= 2,
                    "{who}: few required {proto} v6={v6}"
                );
                assert!(
                    count(run, "closed", proto, v6) >= 4,
                    "{who}: few closed {proto} v6={v6}"
                );
            }
        }
    }

    // JUnit for CI: well-formed, one test case per check, no failures.
    let (code, _, err) = lab.run_in(
        &cns,
        &[
            BIN,
            "probe",
            SITE,
            "--from",
            CLIENT,
            "--timeout",
            "400ms",
            "--format",
            "junit",
            "-o",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let check = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); \
             print(len(r.findall('.//testcase')), len(r.findall('.//failure')), len(r.findall('.//error')))",
            junit.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(check.status.success(), "JUnit XML does not parse:\n{xml}");
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        format!("{} 0 0", up.results.len())
    );

    // 2. One rule deleted: exactly the flows of that rule are blocked. First the UDP rule of
    //    the syslog forwarding (r9), then a TCP rule (r3: the IPv4 client to the console).
    for n in [9, 3] {
        lab.load_nft(&nft);
        delete_rule(&lab, n);
        let gone = &fw.openings[n - 1];
        let run = probe(&lab, &cns, CLIENT, &[]);
        expect_only(&run, &format!("rule r{n} deleted"), "blocked", |k, e| {
            e == "open" && permits(gone, k)
        });
    }

    // 3. The server's listener stopped: the firewall still lets the required flows through and
    //    the server answers with a reset / port unreachable: `refused`, not `blocked`.
    lab.load_nft(&nft);
    lab.stop(server);
    let run = probe(&lab, &cns, CLIENT, &[]);
    expect_only(&run, "server listener stopped", "refused", |_, e| {
        e == "open"
    });
    assert!(count(&run, "open", "udp", false) >= 2);

    // 4. Extra accepts on the router for a TCP and a UDP must-be-closed port: exactly those are
    //    `unexpected-open`.
    start_listener(&mut lab, &sns, SERVER);
    for rule in [
        "ip daddr 10.62.0.10 tcp dport 23 accept",
        "ip6 daddr 2001:db8:62::10 udp dport 161 accept",
    ] {
        let mut args = vec!["nft", "insert", "rule", "inet", TABLE, "forward"];
        args.extend(rule.split(' '));
        lab.output(&lab.router, &args);
    }
    let run = probe(&lab, &cns, CLIENT, &[]);
    let extra: [(IpAddr, &str, u16); 2] = [
        ("10.62.0.10".parse().unwrap(), "tcp", 23),
        ("2001:db8:62::10".parse().unwrap(), "udp", 161),
    ];
    expect_only(&run, "extra accepts", "unexpected-open", |k, e| {
        e == "closed" && extra.contains(&(k.1, k.2.as_str(), k.3))
    });

    // 5. `--to` narrows to one destination.
    let run = probe(&lab, &cns, CLIENT, &["--to", "tmws.syslog_server"]);
    assert!(run.results.keys().all(|k| k.1.to_string() == "10.62.0.30"));
    assert!(run.results.values().any(|(e, _)| e == "open"));
    std::fs::remove_dir_all(&dir).unwrap();
}
