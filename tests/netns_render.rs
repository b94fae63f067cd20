//! End to end: the rendered ruleset of a network firewall, loaded into a real router namespace
//! between a client and a server namespace, passes every required flow (TCP connect, UDP
//! datagram and reply, IPv4 and IPv6) and drops what is not required: 135/tcp, 137/udp, ports
//! just outside each opened range, the wrong source. Run for nftables and for iptables, in
//! replace mode (the file alone) and in merge mode next to an existing ruleset whose forward
//! chain drops everything and accepts no replies itself: the replies of the plan's connections
//! come back through portplan's chain.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;

use common::netns::{Lab, SideSpec};
use common::{require_root_and, stdout};
use portplan::catalog::{Catalogs, Protocol};
use portplan::plan::{PointPlan, plan};
use portplan::site::load_path;

fn host_ips(spec: &SideSpec) -> Vec<IpAddr> {
    spec.hosts
        .iter()
        .map(|h| h.split('/').next().unwrap().parse().unwrap())
        .collect()
}

fn permitted(pp: &PointPlan, src: IpAddr, dst: IpAddr, proto: Protocol, port: u16) -> bool {
    pp.openings.iter().any(|o| o.permits(src, dst, proto, port))
}

/// Probes: every required (src host, dst host, proto, port-range edge), the ports just outside
/// each range, and well-known ports that must stay closed, between all host pairs.
fn probes(pp: &PointPlan, a: &[IpAddr], b: &[IpAddr]) -> Vec<(IpAddr, IpAddr, Protocol, u16)> {
    let mut out = BTreeSet::new();
    let pairs: Vec<(IpAddr, IpAddr)> = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| (*x, *y)))
        .chain(b.iter().flat_map(|y| a.iter().map(move |x| (*y, *x))))
        .filter(|(s, d)| s.is_ipv4() == d.is_ipv4())
        .collect();
    for o in &pp.openings {
        for (s, d) in &pairs {
            if !(o.from.contains(*s) && o.to.contains(*d)) {
                continue;
            }
            for r in o.ports.ranges() {
                for p in [
                    *r.start(),
                    *r.end(),
                    r.start().saturating_sub(1),
                    r.end().saturating_add(1),
                ] {
                    if p > 0 {
                        out.insert((*s, *d, o.protocol, p));
                    }
                }
            }
        }
    }
    for (s, d) in &pairs {
        for (proto, port) in [
            (Protocol::Tcp, 135),
            (Protocol::Udp, 137),
            (Protocol::Tcp, 139),
            (Protocol::Tcp, 3389),
        ] {
            out.insert((*s, *d, proto, port));
        }
    }
    out.into_iter().collect()
}

fn exercise(tag: &str, site: &str, point: &str, client: SideSpec, server: SideSpec) {
    let cats = Catalogs::builtin();
    let site_v = load_path(std::path::Path::new(site), &cats).unwrap();
    let p = plan(&site_v, &cats);
    let pp = p.point(point).unwrap();
    let (a, b) = (host_ips(&client), host_ips(&server));
    let all = probes(pp, &a, &b);
    let expected_open = all
        .iter()
        .filter(|(s, d, pr, n)| permitted(pp, *s, *d, *pr, *n))
        .count();
    assert!(
        expected_open >= 4 && all.len() - expected_open >= 8,
        "{tag}: too few probes to mean anything"
    );

    let mut lab = Lab::new(tag, client, server);
    let tcp: Vec<u16> = all
        .iter()
        .filter(|x| x.2 == Protocol::Tcp)
        .map(|x| x.3)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let udp: Vec<u16> = all
        .iter()
        .filter(|x| x.2 == Protocol::Udp)
        .map(|x| x.3)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (cns, sns) = (lab.client.clone(), lab.server.clone());
    lab.listen(&cns, &tcp, &udp, 120);
    lab.listen(&sns, &tcp, &udp, 120);

    // Without any ruleset everything passes: proves the listeners and routing work. A first,
    // unchecked round fills the neighbour caches.
    lab.flush();
    warm_up(&lab, &all, &a);
    check(&lab, tag, "no firewall", &all, &a, |_| true);

    let nft = stdout(&[
        "render", site, "--for", point, "--target", "nftables", "--mode", "replace",
    ]);
    lab.load_nft(&nft);
    check(&lab, tag, "nftables", &all, &a, |x| {
        permitted(pp, x.0, x.1, x.2, x.3)
    });
    let merge = stdout(&[
        "render", site, "--for", point, "--target", "nftables", "--mode", "merge",
    ]);
    lab.load_nft(&format!("{BASE_NFT}\n{merge}"));
    check(&lab, tag, "nftables merge", &all, &a, |x| {
        permitted(pp, x.0, x.1, x.2, x.3)
    });

    let dir = std::env::temp_dir().join(format!("portplan-netns-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("rules");
    common::portplan()
        .args([
            "render",
            site,
            "--for",
            point,
            "--target",
            "iptables",
            "--mode",
            "replace",
            "-o",
            f.to_str().unwrap(),
        ])
        .assert()
        .success();
    let v4 = std::fs::read_to_string(&f).unwrap();
    let v6 = std::fs::read_to_string(dir.join("rules.v6")).ok();
    lab.load_iptables(&v4, v6.as_deref());
    check(&lab, tag, "iptables", &all, &a, |x| {
        permitted(pp, x.0, x.1, x.2, x.3)
    });
    let m = dir.join("merge");
    common::portplan()
        .args([
            "render", site, "--for", point, "--target", "iptables", "--mode", "merge", "-o",
        ])
        .arg(&m)
        .assert()
        .success();
    let v4 = std::fs::read_to_string(&m).unwrap();
    let v6 = std::fs::read_to_string(dir.join("merge.v6")).ok();
    lab.load_iptables(BASE_IPT, Some(BASE_IPT));
    lab.add_iptables(&v4, v6.as_deref());
    check(&lab, tag, "iptables merge", &all, &a, |x| {
        permitted(pp, x.0, x.1, x.2, x.3)
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An existing ruleset: the forward chain drops all but UDP port 9, and accepts no replies.
const BASE_NFT: &str = "table inet filter {
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tudp dport 9 accept
\t}
}";

const BASE_IPT: &str = "*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p udp -m udp --dport 9 -j ACCEPT
COMMIT
";

fn warm_up(lab: &Lab, all: &[(IpAddr, IpAddr, Protocol, u16)], client_hosts: &[IpAddr]) {
    let mut seen = BTreeSet::new();
    for (ns, from_client) in [(&lab.client, true), (&lab.server, false)] {
        let req: Vec<(String, String, &str, u16)> = all
            .iter()
            .filter(|x| client_hosts.contains(&x.0) == from_client && seen.insert((x.0, x.1)))
            .map(|(s, d, p, n)| (s.to_string(), d.to_string(), p.as_str(), *n))
            .collect();
        let _ = lab.probe(ns, &req);
    }
}

fn check(
    lab: &Lab,
    tag: &str,
    what: &str,
    all: &[(IpAddr, IpAddr, Protocol, u16)],
    client_hosts: &[IpAddr],
    expect: impl Fn(&(IpAddr, IpAddr, Protocol, u16)) -> bool,
) {
    let mut failures = Vec::new();
    for (ns, from_client) in [(&lab.client, true), (&lab.server, false)] {
        let mine: Vec<&(IpAddr, IpAddr, Protocol, u16)> = all
            .iter()
            .filter(|x| client_hosts.contains(&x.0) == from_client)
            .collect();
        let req: Vec<(String, String, &str, u16)> = mine
            .iter()
            .map(|(s, d, p, n)| (s.to_string(), d.to_string(), p.as_str(), *n))
            .collect();
        let got = lab.probe(ns, &req);
        for (x, g) in mine.iter().zip(got) {
            let want = if expect(x) { "open" } else { "filtered" };
            if g != want {
                failures.push(format!(
                    "{} -> {} {}/{}: expected {want}, got {g}",
                    x.0, x.1, x.2, x.3
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{tag} with {what}: {} of {} probes wrong:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn hq_fw_core_in_a_real_router() {
    if !require_root_and(
        &["ip", "nft", "iptables-restore", "python3"],
        "hq_fw_core_in_a_real_router",
    ) {
        return;
    }
    exercise(
        "h",
        "examples/hq.yaml",
        "fw-core",
        SideSpec {
            router: vec!["10.20.0.1/16"],
            hosts: vec!["10.20.1.5/16", "10.20.0.50/16"],
        },
        SideSpec {
            router: vec!["10.10.0.1/24"],
            hosts: vec![
                "10.10.0.4/24",
                "10.10.0.10/24",
                "10.10.0.11/24",
                "10.10.0.20/24",
                "10.10.0.22/24",
            ],
        },
    );
}

#[test]
fn dual_stack_with_udp_in_a_real_router() {
    if !require_root_and(
        &[
            "ip",
            "nft",
            "iptables-restore",
            "ip6tables-restore",
            "python3",
        ],
        "dual_stack_with_udp_in_a_real_router",
    ) {
        return;
    }
    exercise(
        "d",
        "tests/fixtures/dualstack.yaml",
        "fw-dc",
        SideSpec {
            router: vec!["10.30.0.1/24", "2001:db8:30::1/64"],
            hosts: vec!["10.30.0.5/24", "2001:db8:30::5/64", "2001:db8:30::50/64"],
        },
        SideSpec {
            router: vec!["10.40.0.1/24", "2001:db8:40::1/64"],
            hosts: vec![
                "10.40.0.4/24",
                "10.40.0.10/24",
                "2001:db8:40::10/64",
                "2001:db8:40::11/64",
                "2001:db8:40::20/64",
            ],
        },
    );
}
