use super::*;
use crate::i18n::Lang;

const SITE: &str = r#"
name: test
zones:
  - {id: clients, cidrs: [10.20.0.0/16]}
  - {id: servers, cidrs: [10.10.0.0/24, "2001:db8:10::/64"]}
products:
  - product: devicelock
    options: {rpc_ports: fixed}
    roles:
      service: zone:clients
      console: [10.10.0.10, "2001:db8:10::10"]
      ad: 10.10.0.4
firewalls:
  - {id: fw, between: [clients, servers], target: nftables}
host_firewalls:
  - {id: agents, hosts: devicelock.service, target: windows}
"#;

fn load_str(text: &str) -> Result<Site> {
    load(
        SourceFile::new("s.yaml", text.to_string()),
        &Catalogs::builtin(),
    )
}

fn errors(text: &str) -> String {
    load_str(text).map(|_| ()).unwrap_err().plain(Lang::En)
}

#[test]
fn loads_and_resolves_zones() {
    let s = load_str(SITE).unwrap();
    assert_eq!(
        s.zones.iter().map(|z| z.id.as_str()).collect::<Vec<_>>(),
        ["clients", "servers", "internet"]
    );
    let dl = &s.products[0];
    assert_eq!(dl.roles["service"].cidrs(), ["10.20.0.0/16"]);
    assert_eq!(
        dl.roles["console"].cidrs(),
        ["10.10.0.10/32", "2001:db8:10::10/128"]
    );
    assert!(
        s.zone("internet")
            .unwrap()
            .set
            .contains("8.8.8.8".parse().unwrap())
    );
    // Unmapped roles of active requirements are warned about, by requirement.
    assert!(
        s.warnings
            .iter()
            .any(|w| w.en.contains("devicelock/smb") && w.en.contains("gpm")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn mistakes_are_located() {
    let e = errors(&SITE.replace("10.10.0.0/24", "10.20.5.0/24"));
    assert!(
        e.contains("s.yaml:5:") && e.contains("overlaps 10.20.0.0/16 of zone `clients`"),
        "{e}"
    );
    let e = errors(&SITE.replace("console: [", "consol: ["));
    assert!(
        e.contains("product `devicelock` has no role `consol` (did you mean `console`?)"),
        "{e}"
    );
    let e = errors(&SITE.replace("rpc_ports: fixed", "rpc_ports: fxed"));
    assert!(
        e.contains("s.yaml:8:26:") && e.contains("`fxed` is not a valid value"),
        "{e}"
    );
    let e = errors(&SITE.replace("ad: 10.10.0.4", "ad: 192.168.1.4"));
    assert!(e.contains("outside every zone"), "{e}");
    let e = errors(&SITE.replace("ad: 10.10.0.4", "ad: 10.0.0.0/8"));
    assert!(e.contains("spans several zones"), "{e}");
    let e = errors(&SITE.replace("between: [clients, servers]", "between: [clients, dmz]"));
    assert!(e.contains("unknown zone `dmz`"), "{e}");
    let e = errors(&SITE.replace("hosts: devicelock.service", "hosts: devicelock.gpm"));
    assert!(e.contains("has no member addresses"), "{e}");
    let e = errors(&SITE.replace("product: devicelock", "product: devlock"));
    assert!(e.contains("unknown product `devlock`"), "{e}");
    let e = errors(&SITE.replace("ad: 10.10.0.4", "ad: ad.example"));
    assert!(e.contains("say which zone ad.example is in"), "{e}");
}

#[test]
fn schema_lists_the_sections() {
    let s = schema().to_string();
    for k in [
        "zones",
        "products",
        "firewalls",
        "host_firewalls",
        "between",
        "cisco-ios",
    ] {
        assert!(s.contains(k), "{k}");
    }
}

#[test]
fn internet_excludes_private_ranges_unless_included() {
    let s = load_str(SITE).unwrap();
    let inet = &s.zone("internet").unwrap().set;
    for a in ["8.8.8.8", "172.32.0.1", "2606:4700::1111"] {
        assert!(inet.contains(a.parse().unwrap()), "{a}");
    }
    for a in [
        "10.30.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.0.1",
        "127.0.0.1",
        "224.0.0.1",
        "203.0.113.7",
        "fd00::1",
        "fe80::1",
        "2001:db8:99::1",
    ] {
        let ip = a.parse().unwrap();
        assert!(!inet.contains(ip), "{a} is not internet");
        assert!(s.zone_of_ip(ip).is_none(), "{a} is in no zone");
        assert!(s.outside.contains(ip), "{a}");
    }
    // Zones, internet and outside partition the address space.
    let mut all = s.outside.clone();
    for z in &s.zones {
        assert!(
            all.intersection(&z.set.only_v4().union(&z.set.only_v6()))
                .is_empty()
        );
        all.extend(&z.set.only_v4().union(&z.set.only_v6()));
    }
    assert!(all == AddrSet::everything());

    // Opting in: everything no zone claims is internet again.
    let all_in =
        load_str(&SITE.replace("products:", "internet: {include_private: true}\nproducts:"))
            .unwrap();
    assert!(all_in.outside.is_empty());
    assert!(
        all_in
            .zone("internet")
            .unwrap()
            .set
            .contains("192.168.1.1".parse().unwrap())
    );
    // Or just some ranges.
    let some = load_str(&SITE.replace(
        "products:",
        "internet: {include: [192.168.100.0/24]}\nproducts:",
    ))
    .unwrap();
    let inet = &some.zone("internet").unwrap().set;
    assert!(inet.contains("192.168.100.1".parse().unwrap()));
    assert!(!inet.contains("192.168.101.1".parse().unwrap()));
    let e = errors(&SITE.replace(
        "products:",
        "internet: {include: [10.20.1.0/24, nonsense]}\nproducts:",
    ));
    assert!(
        e.contains("10.20.1.0/24 overlaps a zone") && e.contains("`nonsense` is not"),
        "{e}"
    );
}

#[test]
fn endpoints_in_private_space_must_be_in_a_zone() {
    let e = errors(&SITE.replace("ad: 10.10.0.4", "ad: 172.16.5.4"));
    assert!(
        e.contains("172.16.5.4/32 of devicelock.ad is outside every zone, in 172.16.0.0/12 (private, RFC 1918), which is not the internet"),
        "{e}"
    );
    // A documentation address stands for a public one only when the site says so.
    let inet = SITE.replace(
        "      ad: 10.10.0.4",
        "      ad: 10.10.0.4\n  - product: tmws\n    roles: {client: zone:clients, cloud_proxy: 203.0.113.7}",
    );
    assert!(errors(&inet).contains("203.0.113.0/24 (documentation, RFC 5737)"));
    assert!(
        load_str(&inet.replace(
            "products:",
            "internet: {include: [203.0.113.0/24]}\nproducts:"
        ))
        .is_ok()
    );
}

#[test]
fn roles_on_the_internet_warn_about_unclaimed_private_ranges() {
    let text = SITE.replace(
        "      ad: 10.10.0.4",
        "      ad: 10.10.0.4\n  - product: tmws\n    roles: {client: zone:clients, cloud: zone:internet}",
    );
    let s = load_str(&text).unwrap();
    let w: Vec<&Text> = s
        .warnings
        .iter()
        .filter(|w| w.en.contains("stand for the internet"))
        .collect();
    assert_eq!(w.len(), 1, "{:?}", s.warnings);
    assert!(
        w[0].en.starts_with("tmws.cloud")
            && w[0].en.contains("stand for the internet")
            && w[0]
                .en
                .contains("10.0.0.0/8 (private, RFC 1918) outside the zones")
            && w[0].en.contains("192.168.0.0/16 (private, RFC 1918)")
            && w[0].en.contains("fc00::/7 (unique local, RFC 4193)")
            && !w[0].en.contains("203.0.113.0/24"),
        "{}",
        w[0].en
    );
    assert!(w[0].ja.contains("プライベート範囲"));
    // Opted in: nothing to warn about.
    let s = load_str(&text.replace("products:", "internet: {include_private: true}\nproducts:"))
        .unwrap();
    assert!(
        !s.warnings
            .iter()
            .any(|w| w.en.contains("stand for the internet"))
    );
}

#[test]
fn overlaps_are_found_in_n_log_n_and_counted_past_a_bound() {
    // One CIDR repeated 10,000 times: 20 located problems and a count, quickly.
    let mut text = String::from("name: t\nzones:\n  - id: a\n    cidrs:\n");
    for _ in 0..10_000 {
        text.push_str("      - 10.0.0.0/8\n");
    }
    text.push_str("products: []\n");
    let t0 = std::time::Instant::now();
    let e = load_str(&text).unwrap_err();
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    let Error::Invalid { problems, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(problems.len(), MAX_OVERLAPS + 1);
    assert!(
        problems[MAX_OVERLAPS]
            .message
            .en
            .contains("9979 more zone CIDR(s) overlap"),
        "{:?}",
        problems[MAX_OVERLAPS]
    );
    // Every overlapping CIDR is reported once, naming one it overlaps, across zones and
    // families; disjoint ones are not.
    let e = errors(
        "name: t\nzones:\n  - {id: a, cidrs: [10.1.0.0/16, \"2001:db8::/32\", 192.168.0.0/24]}\n  - {id: b, cidrs: [10.0.0.0/8, 192.168.1.0/24, \"2001:db8:5::/48\"]}\n  - {id: c, cidrs: [10.1.2.0/24, 10.2.0.0/16]}\nproducts: []\n",
    );
    for want in [
        "s.yaml:4:21: 10.0.0.0/8 of zone `b` overlaps 10.1.0.0/16 of zone `a`",
        "s.yaml:4:49: 2001:db8:5::/48 of zone `b` overlaps 2001:db8::/32 of zone `a`",
        "s.yaml:5:21: 10.1.2.0/24 of zone `c` overlaps",
        "s.yaml:5:34: 10.2.0.0/16 of zone `c` overlaps 10.0.0.0/8 of zone `b`",
    ] {
        assert!(e.contains(want), "{want} in\n{e}");
    }
    assert_eq!(e.lines().count(), 4, "{e}");
}

#[test]
fn endpoints_must_be_hosts() {
    let zones = "zones:\n  - {id: lan, cidrs: [10.20.0.0/16]}\n";
    let site = |ep: &str| {
        format!(
            "name: t\n{zones}products:\n  - product: devicelock\n    roles:\n      service: zone:lan\n      console: {ep}\n"
        )
    };
    for (ep, why) in [
        ("0.0.0.0", "the unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("255.255.255.255", "the limited broadcast address"),
        ("240.0.0.1", "a reserved address"),
        ("0.1.2.3", "in 0.0.0.0/8"),
        ("\"::\"", "the unspecified address"),
        ("\"ff02::1\"", "a multicast address"),
        ("\"::ffff:224.0.0.1\"", "a multicast address"),
        (
            "10.20.255.255",
            "the broadcast address of 10.20.0.0/16 (zone `lan`)",
        ),
        (
            "10.20.0.0",
            "the network address of 10.20.0.0/16 (zone `lan`)",
        ),
        ("10.20.255.255/32", "the broadcast address"),
        ("224.0.0.0/24", "a multicast address"),
        ("\"ff02::/16\"", "a multicast address"),
        ("0.0.0.0/8", "in 0.0.0.0/8"),
    ] {
        let e = errors(&site(ep));
        assert!(
            e.contains("s.yaml:8:16:") && e.contains("is not a host address") && e.contains(why),
            "{ep}: {e}"
        );
    }
    // Networks that hold hosts are fine, broadcast addresses and all.
    let ipv6 =
        "zones:\n  - {id: lan, cidrs: [10.20.0.0/16]}\n  - {id: v6, cidrs: [\"2001:db8::/64\"]}\n";
    for (z, ep) in [
        (zones, "10.20.0.0/16"),
        (zones, "10.20.1.255"),
        (zones, "10.20.1.0/24"),
        (ipv6, "\"2001:db8::\""),
    ] {
        let text = format!(
            "name: t\n{z}products:\n  - product: devicelock\n    roles:\n      service: zone:lan\n      console: {ep}\n"
        );
        assert!(load_str(&text).is_ok(), "{ep}: {}", errors(&text));
    }
    // The Japanese message exists.
    let e = load_str(&site("224.0.0.1")).unwrap_err().plain(Lang::Ja);
    assert!(
        e.contains("ホストのアドレスではありません") && e.contains("マルチキャスト"),
        "{e}"
    );
}

#[test]
fn public_addresses_and_hosts() {
    for (a, public) in [
        ("8.8.8.8", true),
        ("10.1.2.3", false),
        ("172.16.0.1", false),
        ("100.64.0.1", false),
        ("192.0.2.1", false),
        ("127.0.0.1", false),
        ("224.0.0.1", false),
        ("2001:4860::8888", true),
        ("2001:db8::1", false),
        ("fd00::1", false),
        ("fe80::1", false),
        ("::ffff:8.8.8.8", true),
    ] {
        assert_eq!(is_public(a.parse().unwrap()), public, "{a}");
    }
}
