//! The rendered nftables and iptables rulesets permit exactly the plan's packets, in a real
//! kernel (issue 13, cases 1, 3 and 4): for every enforcement point of both examples and the
//! dense synthetic site, in both modes, the kernel oracle (`tests/common/oracle.rs`) sends the
//! sample packets of `tests/common/sample.rs` through a router namespace whose interfaces are
//! named like the site's (forward), or to and from the router itself (a host's input and
//! output), and the kernel's verdict must be the plan's.
//!
//! Merge mode is loaded next to an existing ruleset with a drop policy that already passes
//! UDP to port 9 (discard): afterwards the plan's packets pass and so does port 9, nothing
//! else. Every file passes `nft -c` / `iptables-restore --test` first. Then the `--remove`
//! output runs and the ruleset is byte-identical to what it was (`nft list ruleset`;
//! `iptables-save` without its date comment and counters).

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::oracle::{Path as NetPath, Probe, Router, SYN, routable};
use common::sample::{Packet, SITES, load, points, side_of};
use common::{portplan, require_root_and};
use portplan::catalog::Protocol;
use portplan::plan::Direction;
use portplan::site::{EnforcementPoint, INTERNET, PointKind, Site};

const TOOLS: [&str; 6] = [
    "ip",
    "nft",
    "iptables-restore",
    "ip6tables-restore",
    "conntrack",
    "ipset",
];

/// The router's interfaces for a point: the site's names, `sideN`, or `net0` for a host.
fn interfaces(pt: &EnforcementPoint) -> Vec<String> {
    match &pt.kind {
        PointKind::Network { interfaces, .. } if !interfaces.is_empty() => {
            interfaces.iter().map(|(i, _)| i.clone()).collect()
        }
        PointKind::Network { sides, .. } => (0..sides.len()).map(|i| format!("side{i}")).collect(),
        PointKind::Host { .. } => vec!["net0".into()],
    }
}

/// The interface an address is behind at a network point.
fn iface_of(site: &Site, pt: &EnforcementPoint, ip: IpAddr) -> String {
    let PointKind::Network { sides, interfaces } = &pt.kind else {
        return "net0".into();
    };
    if interfaces.is_empty() {
        return format!("side{}", side_of(site, sides, ip).unwrap());
    }
    let zone = site.zone_of_ip(ip).map_or(INTERNET, |z| z.id.as_str());
    interfaces
        .iter()
        .find(|(_, zs)| zs.iter().any(|z| z == zone))
        .map(|(i, _)| i.clone())
        .unwrap()
}

fn probe(site: &Site, pt: &EnforcementPoint, p: &Packet) -> (NetPath, Probe) {
    let (s, d) = (p.src.to_string(), p.dst.to_string());
    let base = match p.proto {
        Protocol::Tcp => Probe::tcp(&s, &d, 40000, p.port, SYN),
        Protocol::Udp => Probe::udp(&s, &d, 40000, p.port),
    };
    match p.dir {
        Direction::Forward => (
            NetPath::Forward,
            base.via(&iface_of(site, pt, p.src), &iface_of(site, pt, p.dst)),
        ),
        Direction::In => (NetPath::Input, base.arriving("net0")),
        Direction::Out => (NetPath::Output, base.leaving("net0")),
    }
}

/// The packets to send: the samples the kernel can route, plus UDP to port 9 for a few pairs
/// (what the pre-existing ruleset of merge mode passes).
fn probes(site: &Site, pt: &EnforcementPoint, packets: &[Packet]) -> Vec<(NetPath, Probe, Packet)> {
    let mut all: Vec<Packet> = packets.to_vec();
    let mut pairs = Vec::new();
    for p in packets {
        if !pairs.contains(&(p.dir, p.src, p.dst)) && pairs.len() < 40 {
            pairs.push((p.dir, p.src, p.dst));
            all.push(Packet {
                proto: Protocol::Udp,
                port: 9,
                want: false,
                ..p.clone()
            });
        }
    }
    all.into_iter()
        .filter_map(|p| {
            let (path, pr) = probe(site, pt, &p);
            routable(path, &pr).is_ok().then_some((path, pr, p))
        })
        .collect()
}

fn check(r: &Router, tag: &str, probes: &[(NetPath, Probe, Packet)], also_port_9: bool) {
    let mut wrong = Vec::new();
    for path in [NetPath::Forward, NetPath::Input, NetPath::Output] {
        let mine: Vec<&(NetPath, Probe, Packet)> = probes.iter().filter(|x| x.0 == path).collect();
        if mine.is_empty() {
            continue;
        }
        let list: Vec<Probe> = mine.iter().map(|x| x.1.clone()).collect();
        let fates = r.fates(path, &list);
        for ((_, _, p), f) in mine.iter().zip(fates) {
            let want = p.want || (also_port_9 && p.proto == Protocol::Udp && p.port == 9);
            if f.passed() != want {
                wrong.push(format!(
                    "  {:?} {} -> {} {}/{}: want {want}",
                    p.dir, p.src, p.dst, p.proto, p.port
                ));
            }
        }
    }
    let n = wrong.len();
    wrong.truncate(25);
    assert!(
        n == 0,
        "{tag}: {n} of {} packets wrong:\n{}",
        probes.len(),
        wrong.join("\n")
    );
}

/// Render into `dir/NAME` with `-o`; the files written (main, `.v6`).
fn render_to(
    dir: &Path,
    name: &str,
    site: &str,
    point: &str,
    args: &[&str],
) -> (PathBuf, Option<PathBuf>) {
    let f = dir.join(name);
    portplan()
        .args(["render", site, "--for", point, "--allow-partial", "-o"])
        .arg(&f)
        .args(args)
        .assert()
        .success();
    let v6 = PathBuf::from(format!("{}.v6", f.display()));
    let v6 = v6.exists().then_some(v6);
    (f, v6)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

fn must(r: Result<String, String>) -> String {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn base_nft(host: bool) -> String {
    let other = if host { "drop" } else { "accept" };
    format!(
        "table inet filter {{
\tchain input {{
\t\ttype filter hook input priority filter; policy {other};
\t\tct state established,related accept
\t\tudp dport 9 accept
\t}}
\tchain forward {{
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established,related accept
\t\tudp dport 9 accept
\t}}
\tchain output {{
\t\ttype filter hook output priority filter; policy {other};
\t\tct state established,related accept
\t\tudp dport 9 accept
\t}}
}}
"
    )
}

fn base_iptables(host: bool) -> String {
    let other = if host { "DROP" } else { "ACCEPT" };
    let mut s =
        format!("*filter\n:INPUT {other} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT {other} [0:0]\n");
    for c in ["INPUT", "FORWARD", "OUTPUT"] {
        s += &format!("-A {c} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        s += &format!("-A {c} -p udp -m udp --dport 9 -j ACCEPT\n");
    }
    s + "COMMIT\n"
}

/// `iptables-save` and `ip6tables-save` without the date comments and with zero counters.
fn saved(r: &Router) -> String {
    let mut out = String::new();
    for v6 in [false, true] {
        for l in r.dump_iptables(v6).lines() {
            if l.starts_with('#') {
                continue;
            }
            let l = match (l.starts_with(':'), l.rfind(" [")) {
                (true, Some(i)) => format!("{} [0:0]", &l[..i]),
                _ => l.to_string(),
            };
            out += &l;
            out.push('\n');
        }
    }
    out
}

fn exercise(site: &str, k: usize) {
    let (s, plan) = load(site);
    let dir = std::env::temp_dir().join(format!("portplan-exact-{}-{k}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (j, (pt, _pp, packets)) in points(&s, &plan).into_iter().enumerate() {
        let host = matches!(pt.kind, PointKind::Host { .. });
        let ifs = interfaces(&pt);
        let ifs: Vec<&str> = ifs.iter().map(String::as_str).collect();
        let r = Router::new(&format!("x{k}{j}"), &ifs);
        let probes = probes(&s, &pt, &packets);
        let wanted = probes.iter().filter(|x| x.2.want).count();
        assert!(
            wanted > 0 && wanted < probes.len(),
            "{site} {}: vacuous ({wanted} of {})",
            pt.id,
            probes.len()
        );
        let id = pt.id.as_str();

        // nftables, replace: the file alone.
        let (f, _) = render_to(
            &dir,
            "r.nft",
            site,
            id,
            &["--target", "nftables", "--mode", "replace"],
        );
        r.load_nft(&read(&f));
        check(&r, &format!("{site} {id} nftables replace"), &probes, false);

        // nftables, merge next to an existing ruleset; then remove.
        r.load_nft(&base_nft(host));
        let before = must(r.exec(&["nft", "list", "ruleset"]));
        let (f, _) = render_to(
            &dir,
            "m.nft",
            site,
            id,
            &["--target", "nftables", "--mode", "merge"],
        );
        let path = f.to_str().unwrap();
        must(r.exec(&["nft", "-c", "-f", path]));
        must(r.exec(&["nft", "-f", path]));
        check(&r, &format!("{site} {id} nftables merge"), &probes, true);
        // Loading it twice changes nothing the packets see; remove takes both jumps out.
        must(r.exec(&["nft", "-f", path]));
        let (rm, _) = render_to(
            &dir,
            "rm.sh",
            site,
            id,
            &["--target", "nftables", "--mode", "merge", "--remove"],
        );
        must(r.exec(&["sh", rm.to_str().unwrap()]));
        let after = must(r.exec(&["nft", "list", "ruleset"]));
        assert_eq!(
            before, after,
            "{site} {id}: nft --remove did not restore the ruleset"
        );

        // iptables, replace.
        let (v4, v6) = render_to(
            &dir,
            "r.rules",
            site,
            id,
            &["--target", "iptables", "--mode", "replace"],
        );
        r.load_iptables(Some(&read(&v4)), v6.as_deref().map(read).as_deref());
        check(&r, &format!("{site} {id} iptables replace"), &probes, false);

        // iptables, merge next to an existing ruleset; then remove.
        let base = base_iptables(host);
        r.load_iptables(Some(&base), Some(&base));
        let before = saved(&r);
        let (v4, v6) = render_to(
            &dir,
            "m.rules",
            site,
            id,
            &["--target", "iptables", "--mode", "merge"],
        );
        for (tool, f) in [("iptables-restore", Some(v4)), ("ip6tables-restore", v6)] {
            let Some(f) = f else { continue };
            let p = f.to_str().unwrap();
            must(r.exec(&[tool, "--test", "--noflush", p]));
            must(r.exec(&[tool, "--noflush", p]));
        }
        check(&r, &format!("{site} {id} iptables merge"), &probes, true);
        let (rm, _) = render_to(
            &dir,
            "rm-ipt.sh",
            site,
            id,
            &["--target", "iptables", "--mode", "merge", "--remove"],
        );
        must(r.exec(&["sh", rm.to_str().unwrap()]));
        assert_eq!(
            before,
            saved(&r),
            "{site} {id}: iptables --remove did not restore the ruleset"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hq_rulesets_permit_exactly_the_plan_in_a_real_kernel() {
    if !require_root_and(
        &TOOLS,
        "hq_rulesets_permit_exactly_the_plan_in_a_real_kernel",
    ) {
        return;
    }
    exercise(SITES[0], 0);
}

#[test]
fn minimal_rulesets_permit_exactly_the_plan_in_a_real_kernel() {
    if !require_root_and(
        &TOOLS,
        "minimal_rulesets_permit_exactly_the_plan_in_a_real_kernel",
    ) {
        return;
    }
    exercise(SITES[1], 1);
}

#[test]
fn dense_rulesets_permit_exactly_the_plan_in_a_real_kernel() {
    if !require_root_and(
        &TOOLS,
        "dense_rulesets_permit_exactly_the_plan_in_a_real_kernel",
    ) {
        return;
    }
    exercise(SITES[2], 2);
}
