//! The seven ways the audit used to be wrong (issue "Audit you can trust"), each a named test
//! through the CLI. The site (`tests/fixtures/trust.yaml`): clients 10.1.0.0/24 behind eth0
//! need tcp/443 to 10.2.0.10 and udp/53 to 10.2.0.53 behind eth1. The kernel's view of the
//! same rulesets is checked in `tests/netns_corpus.rs`.

mod common;

use common::portplan;
use serde_json::{Value, json};

const SITE: &str = "tests/fixtures/trust.yaml";
const CATS: &str = "tests/fixtures/trust";

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("portplan-trust-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Audit `text` (written to a file): (exit code, JSON report or Null, stderr).
fn audit_text(name: &str, text: &str, extra: &[&str]) -> (i32, Value, String) {
    let f = tmp(name);
    std::fs::write(&f, text).unwrap();
    let out = portplan()
        .args(["--catalog-dir", CATS, "audit", SITE, "--ruleset"])
        .arg(&f)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, v, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn ipt(filter_rules: &str) -> String {
    format!(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n{filter_rules}COMMIT\n"
    )
}

const REQUIRED: &str = "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
-A FORWARD -s 10.1.0.0/24 -d 10.2.0.10/32 -p tcp -m tcp --dport 443 -j ACCEPT\n\
-A FORWARD -s 10.1.0.0/24 -d 10.2.0.53/32 -p udp -m udp --dport 53 -j ACCEPT\n";

fn excess_ports(r: &Value) -> Vec<(String, bool)> {
    r["excess"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                format!(
                    "{}:{}{}",
                    e["protocols"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(","),
                    e["dports"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(","),
                    e["icmp"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                e["certain"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn missing_reqs(r: &Value) -> Vec<(String, bool)> {
    r["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["requirements"][0].as_str().unwrap().to_string(),
                m["certain"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_plan_itself_audits_clean() {
    let (code, r, err) = audit_text("ok.rules", &ipt(REQUIRED), &[]);
    assert_eq!(code, 0, "{r:#} {err}");
}

/// Case 1: nothing that filters nothing may pass.
#[test]
fn case1_no_false_pass_on_empty_or_foreign_files() {
    for (name, text, what) in [
        ("empty.rules", "", "empty"),
        ("blank.rules", "\n  \n", "empty"),
        (
            "site.rules",
            &std::fs::read_to_string(SITE).unwrap() as &str,
            "not the start of a ruleset",
        ),
        (
            "list.rules",
            "Chain INPUT (policy ACCEPT)\ntarget prot opt source destination\n",
            "iptables -L",
        ),
        (
            "text.nft",
            "table inet filter {\n chain input { type filter hook input priority 0; }\n}\n",
            "nft -j list ruleset",
        ),
        (
            "cut.rules",
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n-A FORWARD -j ACCEPT\n",
            "truncated",
        ),
        (
            "cut.json",
            "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}}, {\"table\": {\"family\": \"inet\"",
            "ends early",
        ),
        ("bin.rules", "\u{0}\u{1}\u{2}ELF", "binary"),
    ] {
        let (code, _, err) = audit_text(name, text, &[]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(what), "{name}: {err}");
        assert!(
            err.contains(name),
            "{name}: the message names the file: {err}"
        );
    }
    // Valid but empty: the kernel forwards everything.
    let (code, r, _) = audit_text("empty.json", r#"{"nftables": []}"#, &[]);
    assert_eq!(code, 1, "{r:#}");
    let ex = r["excess"].as_array().unwrap();
    assert!(
        !ex.is_empty()
            && ex
                .iter()
                .all(|e| e["no_chain"] == true && e["certain"] == true),
        "{r:#}"
    );
    // A real dump with only an input chain: forwarding is not filtered.
    let only_input = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
 {"table": {"family": "inet", "name": "filter", "handle": 1}},
 {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
 {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}]}}]}"#;
    let (code, r, _) = audit_text("input-only.json", only_input, &["--allow-excess"]);
    assert_eq!(code, 0, "reachability holds: {r:#}");
    let (code, r, _) = audit_text("input-only.json", only_input, &[]);
    assert_eq!(code, 1, "{r:#}");
    assert!(
        r["excess"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["no_chain"] == true)
    );
    // An iptables-save with only a nat table: the filter does not exist, everything passes.
    let (code, r, _) = audit_text(
        "nat-only.rules",
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n",
        &[],
    );
    assert_eq!(code, 1, "{r:#}");
}

fn nft_doc(items: &[Value]) -> String {
    let mut all = vec![json!({"metainfo": {"version": "1.0.6", "json_schema_version": 1}})];
    all.extend(items.iter().cloned());
    json!({ "nftables": all }).to_string()
}

fn chain(fam: &str, table: &str, name: &str, hook: Option<(&str, i64, &str)>) -> Value {
    let mut c = json!({"family": fam, "table": table, "name": name, "handle": 1});
    if let Some((h, prio, policy)) = hook {
        c["type"] = json!("filter");
        c["hook"] = json!(h);
        c["prio"] = json!(prio);
        c["policy"] = json!(policy);
    }
    json!({ "chain": c })
}

fn rule(fam: &str, table: &str, chain: &str, handle: i64, expr: Value) -> Value {
    json!({"rule": {"family": fam, "table": table, "chain": chain, "handle": handle, "expr": expr}})
}

fn dport(proto: &str, port: u16) -> Value {
    json!({"match": {"op": "==", "left": {"payload": {"protocol": proto, "field": "dport"}}, "right": port}})
}

/// Case 2: verdict maps whose verdicts jump to dropping chains drop what they drop.
#[test]
fn case2_verdict_maps_that_jump_to_drops_are_missing() {
    let t = |c: &str, h: i64, e: Value| rule("inet", "f", c, h, e);
    let doc = nft_doc(&[
        json!({"table": {"family": "inet", "name": "f", "handle": 1}}),
        chain("inet", "f", "forward", Some(("forward", 0, "accept"))),
        chain("inet", "f", "new_conn", None),
        chain("inet", "f", "tcp_chk", None),
        chain("inet", "f", "udp_chk", None),
        t(
            "forward",
            2,
            json!([{"vmap": {"key": {"ct": {"key": "state"}}, "data": {"set": [
            ["established", {"accept": null}], ["related", {"accept": null}],
            ["invalid", {"drop": null}], ["new", {"jump": {"target": "new_conn"}}]]}}}]),
        ),
        t(
            "new_conn",
            3,
            json!([{"vmap": {"key": {"meta": {"key": "l4proto"}}, "data": {"set": [
            ["tcp", {"jump": {"target": "tcp_chk"}}], ["udp", {"goto": {"target": "udp_chk"}}]]}}}]),
        ),
        t("tcp_chk", 4, json!([dport("tcp", 443), {"drop": null}])),
        t("udp_chk", 5, json!([dport("udp", 53), {"drop": null}])),
    ]);
    let (code, r, err) = audit_text("vmap.json", &doc, &["--allow-excess"]);
    assert_eq!(code, 1, "{r:#} {err}");
    let mut m = missing_reqs(&r);
    m.sort();
    assert_eq!(
        m,
        [
            ("webdns/dns".to_string(), true),
            ("webdns/https".to_string(), true)
        ],
        "{r:#}"
    );
}

/// Case 3: a rule with an unreadable part, whatever its verdict, bounds both ways: traffic the
/// kernel may accept is reported (possible), never silently passed.
#[test]
fn case3_unreadable_parts_never_hide_excess() {
    let text = ipt(&format!(
        ":ufw-before-forward - [0:0]\n:ufw-user-forward - [0:0]\n:limit-chk - [0:0]\n\
{REQUIRED}-A FORWARD -j ufw-before-forward\n\
-A ufw-before-forward -j ufw-user-forward\n\
-A ufw-user-forward -p udp -m udp --dport 22 -m recent --rcheck --name x -j RETURN\n\
-A ufw-user-forward -p udp -m udp --dport 22 -j ACCEPT\n\
-A ufw-user-forward -p tcp -m tcp --dport 3306 -j limit-chk\n\
-A limit-chk -m limit --limit 3/min -j RETURN\n\
-A limit-chk -j ACCEPT\n\
-A ufw-user-forward -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN --dport 8080 -j ACCEPT\n"
    ));
    let (code, r, err) = audit_text("ufw.rules", &text, &[]);
    assert_eq!(code, 1, "{err}");
    let ex = excess_ports(&r);
    assert!(
        ex.contains(&("17:22".into(), false)),
        "udp/22 possibly accepted: {r:#}"
    );
    assert!(
        ex.contains(&("6:3306".into(), false)),
        "tcp/3306 possibly accepted: {r:#}"
    );
    // tcp flags are modelled exactly: a SYN to 8080 is certainly accepted.
    assert!(ex.contains(&("6:8080".into(), true)), "{r:#}");
    assert!(r["missing"].as_array().unwrap().is_empty(), "{r:#}");
}

/// Case 4: raw and nat tables act before filter; ICMP errors are not new connections; codes
/// and ICMPv6 names are read exactly.
#[test]
fn case4_raw_nat_and_icmp() {
    // Anti-spoofing in raw PREROUTING: the dropped half of the clients is missing, certainly.
    let text = format!(
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -s 10.1.0.128/25 -j DROP\nCOMMIT\n{}",
        ipt(&format!(
            "{REQUIRED}-A FORWARD -s 10.1.0.0/24 -p tcp --dport 22 -j ACCEPT\n"
        ))
    );
    let (code, r, _) = audit_text("raw.rules", &text, &[]);
    assert_eq!(code, 1);
    let miss = r["missing"].as_array().unwrap();
    assert_eq!(miss.len(), 2, "{r:#}");
    for m in miss {
        assert_eq!(m["certain"], true);
        let src: std::net::Ipv4Addr = m["witness"]["src"].as_str().unwrap().parse().unwrap();
        assert!(
            src.octets()[3] >= 128,
            "the witness is a dropped client: {m:#}"
        );
    }
    // The tcp/22 excess is only from the half raw lets through.
    let ex = &r["excess"][0];
    assert_eq!(ex["src"], json!(["10.1.0.0/25"]), "{r:#}");
    // DNAT: traffic to 8080 becomes web:443 before the filter: possible, never certain.
    let text = format!(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.2.0.10:443\nCOMMIT\n{}",
        ipt(&format!(
            "{REQUIRED}-A FORWARD -d 10.2.0.10/32 -p tcp --dport 443 -j ACCEPT\n"
        ))
    );
    let (_, r, _) = audit_text("dnat.rules", &text, &[]);
    for e in r["excess"].as_array().unwrap() {
        if e["dports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("8080"))
        {
            assert_eq!(e["certain"], false, "{e:#}");
        }
    }
    // ICMP: an accept of errors adds no new connection; an accept of all ICMP adds only the
    // request types conntrack lets start one.
    let (code, r, _) = audit_text(
        "icmp-err.rules",
        &ipt(&format!(
            "{REQUIRED}-A FORWARD -p icmp -m icmp --icmp-type 3/4 -j ACCEPT\n-A FORWARD -p icmp -m icmp --icmp-type 11 -j ACCEPT\n"
        )),
        &[],
    );
    assert_eq!(code, 0, "{r:#}");
    let (_, r, _) = audit_text(
        "icmp-all.rules",
        &ipt(&format!("{REQUIRED}-A FORWARD -p icmp -j ACCEPT\n")),
        &[],
    );
    assert_eq!(
        excess_ports(&r),
        [("1:8,13,15,17".to_string(), true)],
        "{r:#}"
    );
    // `--icmp-type 3/4` is type 3 code 4, not type 3 with any code: with `-p icmp --icmp-type
    // 8/0` only echo code 0 is accepted.
    let (_, r, _) = audit_text(
        "icmp-code.rules",
        &ipt(&format!(
            "{REQUIRED}-A FORWARD -p icmp --icmp-type 8/0 -j ACCEPT\n"
        )),
        &[],
    );
    assert_eq!(excess_ports(&r), [("1:8/0".to_string(), true)], "{r:#}");
    // ICMPv6 names are ICMPv6 numbers: echo-request is 128, not 8.
    let doc = nft_doc(&[
        json!({"table": {"family": "inet", "name": "f", "handle": 1}}),
        chain("inet", "f", "forward", Some(("forward", 0, "drop"))),
        rule(
            "inet",
            "f",
            "forward",
            2,
            json!([{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]),
        ),
        rule(
            "inet",
            "f",
            "forward",
            3,
            json!([{"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": "echo-request"}}, {"accept": null}]),
        ),
    ]);
    let (_, r, _) = audit_text("icmpv6.json", &doc, &["--allow-excess"]);
    assert_eq!(r["missing"].as_array().unwrap().len(), 2);
    // The site has no IPv6 zone behind its interfaces, so no IPv6 excess can be shown; the
    // reader itself is checked in src/audit/nft.rs. The rule is not reported shadowed.
    assert!(
        r["shadowed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["origin"] != "handle 3"),
        "{r:#}"
    );
}

/// Case 5: shadowed means no packet can reach the rule under every reading of the unknowns.
#[test]
fn case5_shadowed_only_when_proven() {
    let text = ipt(&format!(
        "{REQUIRED}-A FORWARD -m recent --rcheck --name x -j ACCEPT\n\
-A FORWARD -s 10.1.0.0/24 -p tcp --dport 25 -j ACCEPT\n\
-A FORWARD -p tcp -j DROP\n\
-A FORWARD -s 10.1.0.0/24 -p tcp --dport 110 -j ACCEPT\n"
    ));
    let (_, r, _) = audit_text("shadow.rules", &text, &[]);
    let sh: Vec<&str> = r["shadowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["origin"].as_str().unwrap())
        .collect();
    // Line 9 (after the unknown accept) can be reached; line 11 cannot (all TCP dropped first).
    assert_eq!(sh, ["line 11"], "{r:#}");
}

/// Case 6: several base chains on one hook: a drop in any is final.
#[test]
fn case6_an_earlier_base_chain_drops() {
    let rendered = |h: i64, e: Value| rule("inet", "portplan_fw", "forward", h, e);
    let doc = nft_doc(&[
        json!({"table": {"family": "ip", "name": "pre", "handle": 1}}),
        chain("ip", "pre", "early", Some(("forward", -10, "accept"))),
        rule(
            "ip",
            "pre",
            "early",
            2,
            json!([dport("tcp", 443), {"drop": null}]),
        ),
        json!({"table": {"family": "inet", "name": "portplan_fw", "handle": 2}}),
        chain(
            "inet",
            "portplan_fw",
            "forward",
            Some(("forward", 0, "drop")),
        ),
        rendered(
            3,
            json!([{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]),
        ),
        rendered(
            4,
            json!([
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.1.0.0", "len": 24}}}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "10.2.0.10"}},
            dport("tcp", 443), {"accept": null}]),
        ),
        rendered(
            5,
            json!([
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.1.0.0", "len": 24}}}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "10.2.0.53"}},
            dport("udp", 53), {"accept": null}]),
        ),
    ]);
    let (code, r, _) = audit_text("two-bases.json", &doc, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        missing_reqs(&r),
        [("webdns/https".to_string(), true)],
        "{r:#}"
    );
    assert!(r["excess"].as_array().unwrap().is_empty(), "{r:#}");
    assert!(
        r["redundant"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["origin"] != "handle 4"),
        "{r:#}"
    );
}

/// Case 7: findings read well: both families by their own notation, usable host witnesses,
/// one entry per accepting rule, blame on the rule that accepts new connections.
#[test]
fn case7_readable_findings() {
    let doc = nft_doc(&[
        json!({"table": {"family": "inet", "name": "f", "handle": 1}}),
        chain("inet", "f", "forward", Some(("forward", 0, "drop"))),
        chain("inet", "f", "svc", None),
        rule(
            "inet",
            "f",
            "forward",
            2,
            json!([{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]),
        ),
        rule(
            "inet",
            "f",
            "forward",
            3,
            json!([{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth0"}}, {"jump": {"target": "svc"}}]),
        ),
        rule(
            "inet",
            "f",
            "forward",
            4,
            json!([{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8443}}, {"jump": {"target": "svc"}}]),
        ),
        rule(
            "inet",
            "f",
            "svc",
            5,
            json!([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "10.2.0.0", "len": 24}}}}, {"accept": null}]),
        ),
    ]);
    let (code, r, _) = audit_text("display.json", &doc, &[]);
    assert_eq!(code, 1);
    assert!(r["missing"].as_array().unwrap().is_empty(), "{r:#}");
    let ex = r["excess"].as_array().unwrap();
    assert_eq!(ex.len(), 1, "one entry for the one accepting rule: {r:#}");
    let e = &ex[0];
    assert_eq!(e["rule"]["origin"], "handle 5");
    assert_eq!(e["src"], json!(["10.1.0.0/24"]));
    assert_eq!(e["dst"], json!(["10.2.0.0/24"]));
    let w = &e["witness"];
    let (src, dst): (std::net::Ipv4Addr, std::net::Ipv4Addr) = (
        w["src"].as_str().unwrap().parse().unwrap(),
        w["dst"].as_str().unwrap().parse().unwrap(),
    );
    assert_ne!(src, dst);
    for a in [src, dst] {
        assert!(a.octets()[3] != 0 && a.octets()[3] != 255, "{w:#}");
    }
    assert_eq!(w["iif"], "eth0");
    assert_eq!(w["oif"], "eth1");
    // Text output: IPv4 prefixes, not `::/0`.
    let f = tmp("display.json");
    let out = portplan()
        .args(["--catalog-dir", CATS, "audit", SITE, "--ruleset"])
        .arg(&f)
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("10.1.0.0/24 -> 10.2.0.0/24") && !t.contains("::/0"),
        "{t}"
    );
}

/// Terminal escapes in a rule's text never reach the terminal raw.
#[test]
fn rule_text_control_characters_are_escaped() {
    let doc = nft_doc(&[
        json!({"table": {"family": "inet", "name": "f", "handle": 1}}),
        chain("inet", "f", "forward", Some(("forward", 0, "drop"))),
        json!({"rule": {"family": "inet", "table": "f", "chain": "forward", "handle": 2,
            "comment": "\u{1b}[2J\u{1b}[H Audit of fw: matches the plan",
            "expr": [dport("tcp", 25), {"accept": null}]}}),
    ]);
    let f = tmp("esc.json");
    std::fs::write(&f, doc).unwrap();
    let out = portplan()
        .args(["--catalog-dir", CATS, "audit", SITE, "--ruleset"])
        .arg(&f)
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(!t.contains('\u{1b}'), "{t}");
    assert!(t.contains("\\x1b[2J"), "{t}");
    // CSV too, and a formula-looking cell is neutralised.
    let out = portplan()
        .args([
            "--catalog-dir",
            CATS,
            "audit",
            SITE,
            "--format",
            "csv",
            "--ruleset",
        ])
        .arg(&f)
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.lines().count() > 2 && !t.contains('\u{1b}'), "{t}");
}
