//! The rendered rules permit exactly the plan's packets (issue 13, case 1), for the targets no
//! test machine runs: Windows, Cisco IOS and firewalld, each read back by a small evaluator
//! (`tests/common/evaluate.rs`), for every enforcement point of both examples and of a dense
//! synthetic site, in both modes. (nftables and iptables are checked in a real kernel:
//! `tests/netns_render_exact.rs`.) A target that cannot express a point must refuse it.

mod common;

use common::evaluate::{Cisco, Firewalld, Windows};
use common::sample::{Packet, SITES, load, points};
use common::{portplan, stdout};
use portplan::plan::Direction;
use portplan::site::PointKind;

fn render(site: &str, point: &str, args: &[&str]) -> String {
    let mut a = vec!["render", site, "--for", point];
    a.extend_from_slice(args);
    stdout(&a)
}

/// Every sample packet's verdict equals the plan's; the check is not vacuous.
fn compare(tag: &str, packets: &[Packet], permits: impl Fn(&Packet) -> bool) {
    let wrong: Vec<String> = packets
        .iter()
        .filter(|p| permits(p) != p.want)
        .take(20)
        .map(|p| {
            format!(
                "  {:?} {} -> {} {}/{}: plan says {}",
                p.dir, p.src, p.dst, p.proto, p.port, p.want
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{tag}: rendered rules disagree with the plan:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn windows_and_firewalld_host_rules_permit_exactly_the_plan() {
    let mut checked = 0;
    for site in SITES {
        let (s, plan) = load(site);
        for (pt, pp, packets) in points(&s, &plan) {
            let host = matches!(pt.kind, PointKind::Host { .. });
            for target in ["windows", "firewalld"] {
                if !host {
                    // A network firewall cannot be expressed: refused, with the reason.
                    let out = portplan()
                        .args(["render", site, "--for", &pt.id, "--target", target])
                        .assert()
                        .code(2)
                        .get_output()
                        .stderr
                        .clone();
                    let err = String::from_utf8(out).unwrap();
                    assert!(
                        err.contains("cannot express a network firewall"),
                        "{site} {} {target}: {err}",
                        pt.id
                    );
                    continue;
                }
                for mode in ["replace", "merge"] {
                    let text = render(site, &pt.id, &["--target", target, "--mode", mode]);
                    let tag = format!("{site} {} {target} {mode}", pt.id);
                    let wanted = packets.iter().filter(|p| p.want).count();
                    assert!(wanted > 0 && wanted < packets.len(), "{tag}: vacuous");
                    match target {
                        "windows" => {
                            let w = Windows::parse(&text);
                            assert!(w.rules() >= pp.openings.len(), "{tag}: {} rules", w.rules());
                            compare(&tag, &packets, |p| w.permits(p));
                        }
                        _ => {
                            let f = Firewalld::parse(&text);
                            assert!(f.rules() >= pp.openings.len(), "{tag}");
                            compare(&tag, &packets, |p| f.permits(p));
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 16, "checked {checked}");
}

#[test]
fn cisco_acls_permit_exactly_the_plan() {
    let mut checked = 0;
    for site in SITES {
        let (s, plan) = load(site);
        for (pt, _pp, packets) in points(&s, &plan) {
            let PointKind::Network { sides, .. } = &pt.kind else {
                portplan()
                    .args(["render", site, "--for", &pt.id, "--target", "cisco-ios"])
                    .args(["--mode", "replace"])
                    .assert()
                    .code(2);
                continue;
            };
            // IPv6 and UDP replies are not expressible on IOS ACLs: refused unless partial.
            let v4: Vec<Packet> = packets
                .iter()
                .filter(|p| p.src.is_ipv4())
                .cloned()
                .collect();
            for mode_args in [
                vec!["--mode", "replace"],
                vec!["--mode", "merge", "--acl", "EXISTING-IN", "--seq", "10"],
            ] {
                let mut args = vec!["--target", "cisco-ios", "--allow-partial"];
                args.extend(&mode_args);
                let text = render(site, &pt.id, &args);
                let c = Cisco::parse(&text);
                let tag = format!("{site} {} cisco-ios {mode_args:?}", pt.id);
                assert!(c.entries() > 0, "{tag}");
                compare(&tag, &v4, |p| {
                    let (from, _) = p.sides.unwrap();
                    c.permits(&sides[from][0], p)
                });
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "checked {checked}");
}

#[test]
fn host_rules_restrict_the_local_side() {
    // Case 1 of issue 13: r6 (SSH from the admin terminal 10.20.0.50 only) keeps its source on
    // the host firewall of every agent PC, on every target that can express the point.
    let win = render("examples/hq.yaml", "dl-agents", &["--target", "windows"]);
    let r6 = win
        .lines()
        .find(|l| l.contains("tmws/syslog-ssh") && l.starts_with("New-NetFirewallRule"))
        .unwrap();
    assert!(
        r6.contains("-Direction Outbound")
            && r6.contains("-LocalAddress '10.20.0.50/32'")
            && r6.contains("-RemoteAddress '10.10.0.20/32'"),
        "{r6}"
    );
    // Rules for every member name them all: the host's other addresses stay closed.
    let r1 = win
        .lines()
        .find(|l| l.contains("-Name 'portplan-dl-agents-r1'"))
        .unwrap();
    assert!(r1.contains("-LocalAddress '10.20.0.0/16'"), "{r1}");
    let nft = render("examples/hq.yaml", "dl-agents", &["--target", "nftables"]);
    assert!(
        nft.lines()
            .any(|l| l.contains("ip saddr 10.20.0.50/32 ip daddr 10.10.0.20/32 tcp dport 22")),
        "{nft}"
    );
    let ipt = render("examples/hq.yaml", "dl-agents", &["--target", "iptables"]);
    assert!(
        ipt.lines().any(|l| l.starts_with("-A OUTPUT -s 10.20.0.50/32 -d 10.10.0.20/32 -p tcp --dport 22")),
        "{ipt}"
    );
    let fwd = render("examples/hq.yaml", "dl-agents", &["--target", "firewalld"]);
    assert!(
        fwd.contains("rule family=\"ipv4\" source address=\"10.20.0.50/32\" destination address=\"10.10.0.20/32\""),
        "{fwd}"
    );
    // And the evaluator agrees on the packets that matter: another agent may not SSH there.
    let (s, plan) = load("examples/hq.yaml");
    let (_, _, packets) = points(&s, &plan)
        .into_iter()
        .find(|p| p.0.id == "dl-agents")
        .unwrap();
    let w = Windows::parse(&win);
    let ssh_from_other = packets.iter().find(|p| {
        p.dir == Direction::Out
            && p.dst.to_string() == "10.10.0.20"
            && p.port == 22
            && p.src.to_string() != "10.20.0.50"
    });
    let p = ssh_from_other.expect("a sample of another agent's SSH");
    assert!(!p.want && !w.permits(p), "{p:?}");
}
