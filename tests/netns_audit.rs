//! Kernel differential test for the audit model: rulesets (rendered, hand-written with jumps,
//! gotos, named sets, negations and interface wildcards, and deliberately broken ones) are
//! loaded into a real router namespace; a few hundred packets from both sides are sent through
//! it; what the kernel passes must equal what the audit's model of the *kernel's own dump* of
//! the ruleset (`nft -j list ruleset`, `iptables-save`) accepts.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;

use common::netns::{Lab, SideSpec};
use common::{require_root_and, stdout};
use portplan::audit::eval::{PathKind, eval_path, path_universe};
use portplan::audit::ipset::Sets;
use portplan::audit::{Kind, read};
use portplan::packet::{CtState, Packet, Space, tcp};

const CLIENTS: [&str; 2] = ["10.20.1.5", "10.20.0.50"];
const SERVERS: [&str; 4] = ["10.10.0.4", "10.10.0.10", "10.10.0.20", "10.10.0.22"];
const TCP_PORTS: [u16; 12] = [22, 80, 135, 139, 443, 444, 445, 446, 8080, 9131, 9132, 9134];
const UDP_PORTS: [u16; 3] = [53, 137, 138];

fn samples() -> Vec<(IpAddr, IpAddr, &'static str, u16)> {
    let mut v = Vec::new();
    for c in CLIENTS {
        for s in SERVERS {
            let (c, s): (IpAddr, IpAddr) = (c.parse().unwrap(), s.parse().unwrap());
            for (a, b) in [(c, s), (s, c)] {
                v.extend(TCP_PORTS.iter().map(|p| (a, b, "tcp", *p)));
                v.extend(UDP_PORTS.iter().map(|p| (a, b, "udp", *p)));
            }
        }
    }
    v
}

/// Compare the kernel with the model for the ruleset currently loaded in the router.
fn differential(lab: &Lab, what: &str, kind: Kind) {
    let dump = match kind {
        Kind::NftJson => lab.output(&lab.router, &["nft", "-j", "list", "ruleset"]),
        _ => lab.output(&lab.router, &["iptables-save"]),
    };
    let rs = read(&dump, Some(kind), &Sets::none())
        .unwrap_or_else(|e| panic!("{what}: cannot read the kernel's dump: {}", e.en));
    let space = Space::new(&rs.layout()).unwrap();
    let universe = path_universe(&space, &rs, PathKind::Forward).unwrap();
    let res = eval_path(&space, &rs, PathKind::Forward, &universe).unwrap();
    let all = samples();
    let clients: BTreeSet<IpAddr> = CLIENTS.iter().map(|c| c.parse().unwrap()).collect();
    let mut wrong = Vec::new();
    for (ns, from_client) in [(&lab.client, true), (&lab.server, false)] {
        let mine: Vec<_> = all
            .iter()
            .filter(|x| clients.contains(&x.0) == from_client)
            .collect();
        let req: Vec<(String, String, &str, u16)> = mine
            .iter()
            .map(|(a, b, p, n)| (a.to_string(), b.to_string(), *p, *n))
            .collect();
        let got = lab.probe(ns, &req);
        for (x, g) in mine.iter().zip(got) {
            let (iif, oif) = if from_client {
                (&lab.router_ifs.0, &lab.router_ifs.1)
            } else {
                (&lab.router_ifs.1, &lab.router_ifs.0)
            };
            let pkt = Packet {
                src: x.0,
                dst: x.1,
                proto: if x.2 == "tcp" { 6 } else { 17 },
                sport: 40000,
                dport: x.3,
                tcp_flags: if x.2 == "tcp" { tcp::SYN } else { 0 },
                state: CtState::New,
                iif: Some(iif.clone()),
                oif: Some(oif.clone()),
            };
            let model = space.contains(&res.accepted, &pkt).unwrap()
                && !space.contains(&res.dropped, &pkt).unwrap();
            let kernel = g == "open";
            if model != kernel {
                wrong.push(format!(
                    "{} -> {} {}/{}: kernel {g}, model {}",
                    x.0,
                    x.1,
                    x.2,
                    x.3,
                    if model { "accept" } else { "drop" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{what}: model and kernel disagree on {} of {} packets:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
}

#[test]
fn audit_model_agrees_with_the_kernel() {
    if !require_root_and(
        &["ip", "nft", "iptables-restore", "iptables-save", "python3"],
        "audit_model_agrees_with_the_kernel",
    ) {
        return;
    }
    let mut lab = Lab::new(
        "a",
        SideSpec {
            router: vec!["10.20.0.1/16"],
            hosts: CLIENTS
                .iter()
                .map(|c| Box::leak(format!("{c}/16").into_boxed_str()) as &str)
                .collect(),
        },
        SideSpec {
            router: vec!["10.10.0.1/24"],
            hosts: SERVERS
                .iter()
                .map(|c| Box::leak(format!("{c}/24").into_boxed_str()) as &str)
                .collect(),
        },
    );
    let tcp: Vec<u16> = TCP_PORTS.to_vec();
    let udp: Vec<u16> = UDP_PORTS.to_vec();
    let (c, s) = (lab.client.clone(), lab.server.clone());
    lab.listen(&c, &tcp, &udp, 300);
    lab.listen(&s, &tcp, &udp, 300);
    // Fill neighbour caches.
    lab.flush();
    let warm: Vec<(String, String, &str, u16)> = CLIENTS
        .iter()
        .flat_map(|c| {
            SERVERS
                .iter()
                .map(move |s| (c.to_string(), s.to_string(), "udp", 53))
        })
        .collect();
    let _ = lab.probe(&c, &warm);
    let (ci, si) = lab.router_ifs.clone();

    // 1. The rendered hq fw-core ruleset, nft.
    let rendered = stdout(&[
        "render",
        "examples/hq.yaml",
        "--for",
        "fw-core",
        "--target",
        "nftables",
        "--mode",
        "replace",
    ]);
    lab.load_nft(&rendered);
    differential(&lab, "rendered nft", Kind::NftJson);

    // 2. Broken: one rule gone, an extra accept, a negated drop in front.
    let broken = rendered
        .lines()
        .filter(|l| !l.contains("portplan r2:"))
        .map(|l| {
            if l.contains("ct state invalid drop") {
                format!("{l}\n\t\tip saddr != 10.20.0.0/16 ip daddr 10.20.1.5 drop\n\t\ttcp dport 135 accept")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    lab.load_nft(&broken);
    differential(&lab, "broken nft", Kind::NftJson);

    // 3. Hand-written: base chains at two priorities, named sets, jumps, goto, return, negation,
    //    interface wildcard, udp.
    let hand = format!(
        r#"table ip first {{
  chain pre {{ type filter hook forward priority -10; policy accept;
    ip saddr 10.20.0.50 tcp dport 80 drop
  }}
}}
table inet second {{
  set admins {{ type ipv4_addr; flags interval; elements = {{ 10.20.0.50, 10.30.0.0/24 }} }}
  set dcs {{ type ipv4_addr; elements = {{ 10.10.0.4, 10.10.0.10 }} }}
  chain main {{ type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "{pre}*" ip daddr @dcs jump dc
    ip saddr @admins tcp dport {{ 22, 8000-8100 }} accept
    iifname != "{ci}" oifname "{ci}" tcp dport {{ 445, 9132-9134 }} accept
    meta l4proto udp udp dport 53 ip daddr 10.10.0.0/24 accept
  }}
  chain dc {{
    tcp dport 135 drop
    ip daddr 10.10.0.4 tcp dport != 445 return
    tcp dport 440-450 accept
    goto more
  }}
  chain more {{
    udp dport 137-138 accept
    tcp dport 9131 accept
  }}
}}
"#,
        pre = &ci[..ci.len() - 1],
    );
    lab.load_nft(&hand);
    differential(&lab, "hand-written nft", Kind::NftJson);
    let _ = &si;

    // 4. The rendered ruleset as iptables, then a hand-written iptables one with user chains.
    let dir = std::env::temp_dir().join(format!("portplan-diffk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("rules");
    common::portplan()
        .args([
            "render",
            "examples/hq.yaml",
            "--for",
            "fw-core",
            "--target",
            "iptables",
            "--mode",
            "replace",
            "-o",
            f.to_str().unwrap(),
        ])
        .assert()
        .success();
    lab.load_iptables(&std::fs::read_to_string(&f).unwrap(), None);
    differential(&lab, "rendered iptables", Kind::IptablesSave);
    let hand_ipt = format!(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:SRV - [0:0]\n:MORE - [0:0]\n\
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
-A FORWARD -i {ci} -d 10.10.0.0/24 -j SRV\n\
-A FORWARD ! -s 10.10.0.4/32 -o {ci} -p tcp -m multiport --dports 445,9132:9134 -j ACCEPT\n\
-A FORWARD -s 10.10.0.4/32 -p udp --dport 137 -j ACCEPT\n\
-A SRV -p tcp --dport 135 -j DROP\n\
-A SRV -d 10.10.0.20/32 -p tcp --dport 22 -j ACCEPT\n\
-A SRV -s 10.20.0.50/32 -j RETURN\n\
-A SRV -p tcp -m multiport --dports 440:450,8080 -j ACCEPT\n\
-A SRV -g MORE\n\
-A MORE -p udp -m multiport --dports 53,138 -j ACCEPT\n\
-A MORE -p tcp --dport 443 -j ACCEPT\n\
COMMIT\n"
    );
    lab.load_iptables(&hand_ipt, None);
    differential(&lab, "hand-written iptables", Kind::IptablesSave);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The "done when" of the audit, on the kernel's own JSON: every rendered nft ruleset audits
/// clean; deleting any one rule (by handle) yields exactly the opening it served; adding
/// `tcp dport 135 accept` yields exactly that excess.
#[test]
fn rendered_nft_rulesets_audit_clean_and_each_rule_counts() {
    if !require_root_and(
        &["ip", "nft"],
        "rendered_nft_rulesets_audit_clean_and_each_rule_counts",
    ) {
        return;
    }
    let ns = format!("ppn{}", std::process::id() % 100_000);
    let sh = |args: &[&str]| {
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &ns])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let _ = std::process::Command::new("ip")
        .args(["netns", "del", &ns])
        .output();
    assert!(
        std::process::Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .unwrap()
            .success()
    );
    let dir = std::env::temp_dir().join(format!("portplan-nftaudit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit = |site: &str, point: &str, json: &str| -> serde_json::Value {
        let f = dir.join("rs.json");
        std::fs::write(&f, json).unwrap();
        let out = common::portplan()
            .args([
                "audit",
                site,
                "--for",
                point,
                "--ruleset",
                f.to_str().unwrap(),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    for (site, point) in [
        ("examples/hq.yaml", "fw-core"),
        ("examples/hq.yaml", "fw-edge"),
        ("examples/hq.yaml", "dl-agents"),
        ("examples/minimal.yaml", "fw"),
        ("tests/fixtures/dualstack.yaml", "fw-dc"),
        ("tests/fixtures/dualstack.yaml", "dc-console"),
    ] {
        let nft = stdout(&[
            "render",
            site,
            "--for",
            point,
            "--target",
            "nftables",
            "--mode",
            "replace",
            "--allow-partial",
        ]);
        sh(&["nft", "flush", "ruleset"]);
        let f = dir.join("r.nft");
        std::fs::write(&f, &nft).unwrap();
        sh(&["nft", "-f", f.to_str().unwrap()]);
        let dump = sh(&["nft", "-j", "list", "ruleset"]);
        let r = audit(site, point, &dump);
        assert_eq!(r["ok"], true, "{site} {point}: {r:#}");
        // Each rule, by handle.
        let v: serde_json::Value = serde_json::from_str(&dump).unwrap();
        let rules: Vec<(String, String, String, i64, String)> = v["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x.get("rule"))
            .filter(|r| {
                r["comment"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("portplan r"))
            })
            .map(|r| {
                (
                    r["family"].as_str().unwrap().to_string(),
                    r["table"].as_str().unwrap().to_string(),
                    r["chain"].as_str().unwrap().to_string(),
                    r["handle"].as_i64().unwrap(),
                    r["comment"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(!rules.is_empty());
        for (fam, table, chain, handle, comment) in &rules {
            sh(&["nft", "flush", "ruleset"]);
            sh(&["nft", "-f", f.to_str().unwrap()]);
            let d = sh(&["nft", "-j", "list", "ruleset"]);
            // Handles are stable for the same file loaded into an empty ruleset.
            sh(&[
                "nft",
                "delete",
                "rule",
                fam,
                table,
                chain,
                "handle",
                &handle.to_string(),
            ]);
            let d2 = sh(&["nft", "-j", "list", "ruleset"]);
            assert_ne!(d, d2);
            let r = audit(site, point, &d2);
            let missing = r["missing"].as_array().unwrap();
            assert_eq!(missing.len(), 1, "{site} {point} without {comment}: {r:#}");
            assert!(
                r["excess"].as_array().unwrap().is_empty(),
                "{site} {point} without {comment}: {r:#}"
            );
            for req in missing[0]["requirements"].as_array().unwrap() {
                assert!(
                    comment.contains(req.as_str().unwrap()),
                    "{comment} vs {req}"
                );
            }
        }
        // One extra accept.
        sh(&["nft", "flush", "ruleset"]);
        sh(&["nft", "-f", f.to_str().unwrap()]);
        let (fam, table, chain, _, _) = &rules[0];
        sh(&[
            "nft", "add", "rule", fam, table, chain, "tcp", "dport", "135", "accept",
        ]);
        let r = audit(site, point, &sh(&["nft", "-j", "list", "ruleset"]));
        assert!(r["missing"].as_array().unwrap().is_empty(), "{r:#}");
        let ex = r["excess"].as_array().unwrap();
        assert_eq!(ex.len(), 1, "{site} {point}: {r:#}");
        assert_eq!(ex[0]["dports"], serde_json::json!(["135"]));
    }
    let _ = std::process::Command::new("ip")
        .args(["netns", "del", &ns])
        .output();
    std::fs::remove_dir_all(&dir).unwrap();
}
