use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::catalog::Catalogs;
use crate::plan::plan;

fn load(path: &str) -> (Site, Plan) {
    let cats = Catalogs::builtin();
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let site = crate::site::load_path(&p, &cats).unwrap();
    let pl = plan(&site, &cats);
    (site, pl)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn short_ranges_are_tested_in_full_long_ones_sampled_with_both_ends() {
    assert_eq!(
        sample(&PortSet::parse("135,137-139").unwrap()),
        vec![135, 137, 138, 139]
    );
    assert_eq!(sample(&PortSet::parse("1-32").unwrap()).len(), 32);
    let s = sample(&PortSet::parse("1024-65535").unwrap());
    assert_eq!(s.len(), SAMPLE_PER_RANGE as usize);
    assert_eq!((s[0], *s.last().unwrap()), (1024, 65535));
    assert!(s.windows(2).all(|w| w[0] < w[1]));
    let s = sample(&PortSet::parse("1-33").unwrap());
    assert_eq!((s.len(), s[0], s[7]), (8, 1, 33));
    assert_eq!(
        sampled_ranges(&PortSet::parse("445,1024-65535").unwrap()),
        vec![("1024-65535".to_string(), 8)]
    );
}

#[test]
fn every_flow_keeps_its_own_ports_inside_a_wider_range() {
    let a = PortSet::parse("1024-65535").unwrap();
    let b = PortSet::single(9132);
    let s = sample_flows([&a, &b]);
    assert!(s.contains(&9132) && s.contains(&1024) && s.len() == 9);
}

#[test]
fn closed_sample_is_neighbours_and_risky_ports_never_an_accepted_one() {
    let (_, pl) = load("examples/hq.yaml");
    let acc = accepts(&pl, ip("10.10.0.4"));
    let open = acc.ports[&Protocol::Tcp].clone();
    let closed = closed_sample(&acc, Protocol::Tcp);
    assert!(closed.iter().all(|p| !open.contains(*p)));
    for r in open.ranges() {
        for n in [r.start().saturating_sub(1), r.end().saturating_add(1)] {
            if !open.contains(n) && n > 0 {
                assert!(closed.contains(&n), "{n} missing");
            }
        }
    }
    assert!(closed.contains(&3389) && closed.contains(&135));
    assert!(!closed.contains(&445), "445 is required at the AD server");
}

#[test]
fn hosts_are_addresses_or_one_host_roles() {
    let (site, _) = load("examples/hq.yaml");
    let h = resolve_host(&site, "devicelock.enterprise_server").unwrap();
    assert_eq!(h.addrs, vec![ip("10.10.0.11")]);
    let h = resolve_host(&site, "10.20.1.5, 10.10.0.11").unwrap();
    assert_eq!(h.addrs.len(), 2);
    let plain = |s: &str| {
        resolve_host(&site, s)
            .unwrap_err()
            .plain(crate::i18n::Lang::En)
    };
    assert!(plain("devicelock.service").contains("not one host"));
    assert!(plain("10.10.0.99").contains("plays no role"));
    assert!(plain("ad").contains("ambiguous"));
    assert!(plain("devicelock.consol").contains("did you mean `devicelock.console`"));
    assert!(plain("").contains("no host"));
}

#[test]
fn listener_opens_what_the_host_accepts_plus_canaries_on_its_own_address_only() {
    let (site, pl) = load("examples/hq.yaml");
    let host = resolve_host(&site, "10.10.0.11").unwrap();
    let lp = listen_plan(&pl, &host);
    assert!(lp.ports.iter().all(|p| p.addr == ip("10.10.0.11")));
    let req: Vec<u16> = lp
        .ports
        .iter()
        .filter(|p| matches!(p.kind, ListenKind::Required { .. }) && p.protocol == Protocol::Tcp)
        .map(|p| p.port)
        .collect();
    assert_eq!(req, vec![445, 9132, 9133]);
    let smb = lp.ports.iter().find(|p| p.port == 445).unwrap();
    assert_eq!(
        smb.kind,
        ListenKind::Required {
            requirements: vec!["devicelock/smb".into()]
        }
    );
    assert!(
        lp.ports
            .iter()
            .any(|p| p.kind == ListenKind::Canary && p.port == 3389)
    );
    assert!(
        lp.ports
            .iter()
            .any(|p| p.kind == ListenKind::Canary && p.protocol == Protocol::Udp)
    );
    // Nothing twice.
    let mut keys: Vec<_> = lp
        .ports
        .iter()
        .map(|p| (p.addr, p.protocol, p.port))
        .collect();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n);
}

#[test]
fn probe_plan_only_targets_the_plan() {
    let (site, pl) = load("examples/hq.yaml");
    let host = resolve_host(&site, "10.20.1.5").unwrap();
    let pp = probe_plan(&site, &pl, &host, None).unwrap();
    // Every required check is a flow of the plan from this host; every closed one is not, and
    // goes to a destination of some required check, behind a firewall.
    let dests: BTreeSet<Dest> = pp
        .checks
        .iter()
        .filter(|c| c.expect == Expect::Open)
        .map(|c| c.dst.clone())
        .collect();
    for c in &pp.checks {
        let Dest::Addr(d) = &c.dst else { continue };
        let src = c.src.unwrap();
        let planned = pl.flows.iter().any(|f| {
            f.from.contains(src)
                && f.to.contains(*d)
                && f.protocol == c.protocol
                && f.ports.contains(c.port)
        });
        match c.expect {
            Expect::Open => assert!(planned, "{c:?}"),
            Expect::Closed => {
                assert!(!planned, "{c:?}");
                assert!(dests.contains(&c.dst));
                assert!(!enforced_between(&site, src, *d).is_empty());
            }
        }
    }
    let smb = pp
        .checks
        .iter()
        .find(|c| c.dst == Dest::Addr(ip("10.10.0.4")) && c.port == 445)
        .unwrap();
    assert_eq!(
        (smb.expect, smb.because.clone()),
        (Expect::Open, vec!["devicelock/smb".to_string()])
    );
    assert!(
        pp.checks
            .iter()
            .any(|c| c.expect == Expect::Closed && c.port == 3389)
    );
    // The internet roles are networks: not probed, and said so.
    assert!(
        pp.skipped
            .iter()
            .any(|s| s.requirement == "tmws/proxy" && s.to.contains("zone:internet"))
    );
}

#[test]
fn to_narrows_and_rejects_what_the_plan_does_not_have() {
    let (site, pl) = load("examples/hq.yaml");
    let host = resolve_host(&site, "10.20.1.5").unwrap();
    let pp = probe_plan(&site, &pl, &host, Some("devicelock.ad")).unwrap();
    assert!(
        pp.checks
            .iter()
            .all(|c| c.dst == Dest::Addr(ip("10.10.0.4")))
    );
    assert!(!pp.checks.is_empty());
    let err = probe_plan(&site, &pl, &host, Some("10.10.0.99")).unwrap_err();
    assert!(err.plain(crate::i18n::Lang::En).contains("no flow"));
    // A host of a network role, named by address.
    let console = resolve_host(&site, "devicelock.console").unwrap();
    let pp = probe_plan(&site, &pl, &console, Some("10.20.1.5")).unwrap();
    assert!(
        pp.checks
            .iter()
            .any(|c| c.port == 445 && c.expect == Expect::Open)
    );
}

#[test]
fn no_closed_checks_where_no_firewall_decides() {
    let (site, pl) = load("examples/hq.yaml");
    // The syslog tool and the syslog server share the server segment: nothing between them.
    let host = resolve_host(&site, "tmws.syslog_tool").unwrap();
    let pp = probe_plan(&site, &pl, &host, Some("tmws.syslog_server")).unwrap();
    assert!(!pp.checks.is_empty());
    assert!(pp.checks.iter().all(|c| c.expect == Expect::Open));
    assert_eq!(pp.unenforced, vec![ip("10.10.0.30")]);
    // A role the host has no flow to is an error, not an empty success.
    let err = probe_plan(&site, &pl, &host, Some("devicelock.console")).unwrap_err();
    assert!(err.plain(crate::i18n::Lang::En).contains("no flow"));
}

#[test]
fn durations() {
    use std::time::Duration;
    assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
    assert_eq!(
        parse_duration("1500ms").unwrap(),
        Duration::from_millis(1500)
    );
    assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
    assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
    for bad in ["", "x", "10 parsecs", "-1s", "8000h"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

proptest::proptest! {
    #[test]
    fn sample_is_a_subset_of_at_most_the_bound(spec in proptest::collection::vec((1u16..=65535, 0u16..3000), 1..6)) {
        let mut ps = PortSet::new();
        for (lo, len) in &spec {
            ps.insert_range(*lo, lo.saturating_add(*len));
        }
        let s = sample(&ps);
        proptest::prop_assert!(s.iter().all(|p| ps.contains(*p)));
        let bound: usize = ps.ranges().map(|r| (u32::from(*r.end()) - u32::from(*r.start()) + 1).min(ALL_UP_TO) as usize).sum();
        proptest::prop_assert!(s.len() <= bound.max(1));
        for r in ps.ranges() {
            proptest::prop_assert!(s.contains(r.start()) && s.contains(r.end()));
        }
    }

    #[test]
    fn durations_never_panic(s in ".{0,12}") {
        let _ = parse_duration(&s);
    }
}

#[test]
fn internet_hosts_get_required_checks_only() {
    let (site, pl) = load("examples/hq.yaml");
    let host = resolve_host(&site, "10.20.1.5").unwrap();
    // A cloud proxy address picked with --to: the proxy port is checked, nothing else.
    let pp = probe_plan(&site, &pl, &host, Some("93.184.216.34")).unwrap();
    assert!(!pp.checks.is_empty());
    assert!(pp.checks.iter().all(|c| c.expect == Expect::Open));
    assert_eq!(pp.internet, vec![ip("93.184.216.34")]);
}

#[test]
fn only_unicast_host_addresses_are_bound_or_probed() {
    let (site, pl) = load("examples/hq.yaml");
    // 0.0.0.0 and 224.0.0.1 lie in the internet zone, which roles use: still no host.
    for bad in [
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::",
        "ff02::1",
        "10.20.255.255",
        "10.20.1.5,0.0.0.0",
    ] {
        let e = resolve_host(&site, bad).unwrap_err();
        assert!(
            e.plain(crate::i18n::Lang::En)
                .contains("is not one host's address"),
            "{bad}: {}",
            e.plain(crate::i18n::Lang::En)
        );
        assert!(
            e.plain(crate::i18n::Lang::Ja)
                .contains("1 台のホストのアドレスではありません")
        );
    }
    let host = resolve_host(&site, "10.20.1.5").unwrap();
    for bad in ["224.0.0.1", "255.255.255.255", "10.10.0.255", "10.10.0.0"] {
        let e = probe_plan(&site, &pl, &host, Some(bad)).unwrap_err();
        assert!(
            e.plain(crate::i18n::Lang::En)
                .contains("is not one host's address"),
            "{bad}"
        );
    }
}

#[test]
fn small_networks_are_probed_without_their_broadcast_address() {
    let cats = Catalogs::builtin();
    let text = "name: t\nzones:\n  - {id: lan, cidrs: [10.20.0.0/16]}\n  - {id: srv, cidrs: [10.10.0.0/28]}\nproducts:\n  - product: devicelock\n    options: {rpc_ports: fixed, connect_by: ip, netbios: false}\n    roles:\n      service: 10.20.1.5\n      console: 10.10.0.0/28\n      enterprise_server: []\n      enterprise_manager: []\n      gpm: []\n      ad: []\nfirewalls:\n  - {id: fw, between: [lan, srv], target: nftables}\n";
    let site = crate::site::load(crate::diag::SourceFile::new("t.yaml", text), &cats).unwrap();
    let pl = plan(&site, &cats);
    let host = resolve_host(&site, "10.20.1.5").unwrap();
    let pp = probe_plan(&site, &pl, &host, None).unwrap();
    let dests: BTreeSet<&Dest> = pp.checks.iter().map(|c| &c.dst).collect();
    assert_eq!(dests.len(), 14, "{dests:?}");
    assert!(!dests.contains(&Dest::Addr(ip("10.10.0.15"))));
    assert!(!dests.contains(&Dest::Addr(ip("10.10.0.0"))));
}

#[test]
fn public_addresses_get_no_closed_checks_even_inside_a_zone() {
    let cats = Catalogs::builtin();
    // Zones cover every address: nothing is "internet" by zone any more.
    let text = "name: t\nzones:\n  - {id: lan, cidrs: [10.20.0.0/16]}\n  - {id: world, cidrs: [0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/1, 10.0.0.0/12, 10.16.0.0/14, 10.21.0.0/16, 10.22.0.0/15, 10.24.0.0/13, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9]}\nproducts:\n  - product: tmws\n    options: {auth: agent}\n    roles:\n      client: zone:lan\n      cloud_proxy: zone:world\nfirewalls:\n  - {id: fw, between: [lan, world], target: nftables}\n";
    let site = crate::site::load(crate::diag::SourceFile::new("t.yaml", text), &cats)
        .unwrap_or_else(|e| panic!("{}", e.plain(crate::i18n::Lang::En)));
    let pl = plan(&site, &cats);
    let host = resolve_host(&site, "10.20.1.5").unwrap();
    let pp = probe_plan(&site, &pl, &host, Some("8.8.8.8")).unwrap();
    assert!(!pp.checks.is_empty());
    assert!(
        pp.checks.iter().all(|c| c.expect == Expect::Open),
        "{:?}",
        pp.checks
    );
    assert_eq!(pp.internet, vec![ip("8.8.8.8")]);
    // A private address of that zone still gets them.
    let pp = probe_plan(&site, &pl, &host, Some("10.1.0.1")).unwrap();
    assert!(pp.checks.iter().any(|c| c.expect == Expect::Closed));
}

#[test]
fn names_carry_the_zone_they_must_resolve_into() {
    let (site, pl) = load("examples/hq.yaml");
    let host = resolve_host(&site, "tmws.syslog_tool").unwrap();
    let pp = probe_plan(&site, &pl, &host, None).unwrap();
    let ntp = &pp.names["pool.ntp.org"];
    assert_eq!(ntp.zone, "internet");
    assert!(ntp.addrs.contains(ip("8.8.8.8")));
    assert!(!ntp.addrs.contains(ip("10.10.0.4")));
}

#[test]
fn closed_entries_join_the_sample_unless_accepted() {
    let mut acc = Accepts::default();
    acc.ports.insert(Protocol::Tcp, PortSet::single(5433));
    acc.closed
        .insert(Protocol::Tcp, PortSet::parse("5432-5433,8000").unwrap());
    let closed = closed_sample(&acc, Protocol::Tcp);
    assert!(
        closed.contains(&5432) && closed.contains(&8000),
        "{closed:?}"
    );
    // A required port wins over a closed entry.
    assert!(!closed.contains(&5433));
    assert!(!closed_sample(&acc, Protocol::Udp).contains(&5432));
}
