//! The kernel oracle (`tests/common/oracle.rs`) checked on small hand-written rulesets whose
//! answer is obvious: forward, input and output, each written for nft and for iptables. If
//! these hold, a disagreement between the audit model and the oracle on a real ruleset is the
//! model's.

mod common;

use std::net::IpAddr;

use common::oracle::{
    ACK, CWR, ECE, FIN, Fate, PSH, Path, Probe, RST, Router, SYN, URG, crc32c, routable,
};
use common::require_root_and;

const TOOLS: [&str; 6] = [
    "ip",
    "nft",
    "iptables-restore",
    "ip6tables-restore",
    "ipset",
    "conntrack",
];

/// The lab for a test, or `None` when it is skipped (outside CI, not root or tools missing).
fn router(test: &str, tag: &str, ifaces: &[&str]) -> Option<Router> {
    require_root_and(&TOOLS, test).then(|| Router::new(tag, ifaces))
}

/// Run the cases on `path` and fail with every probe the kernel treated otherwise.
fn check(r: &Router, what: &str, path: Path, cases: &[(Probe, bool)]) -> Vec<Fate> {
    let probes: Vec<Probe> = cases.iter().map(|c| c.0.clone()).collect();
    let fates = r.fates(path, &probes);
    let wrong: Vec<String> = cases
        .iter()
        .zip(&fates)
        .filter(|((_, want), got)| got.passed() != *want)
        .map(|((p, want), got)| format!("  want passed={want}, got {got:?} for {p:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} probes wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    fates
}

/// The header a passed probe was seen with.
fn seen(f: &Fate) -> &Probe {
    match f {
        Fate::Passed { seen } => seen,
        Fate::Dropped => panic!("expected a passed probe"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Both families: (client, server, other server).
const V4: (&str, &str, &str) = ("10.0.0.1", "10.1.0.1", "10.1.0.2");
const V6: (&str, &str, &str) = ("2001:db8::1", "2001:db8:1::1", "2001:db8:1::2");

// ---- forward ----------------------------------------------------------------------------

const FWD_NFT: &str = r#"
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy accept;
    tcp dport 22 drop
    iifname "br-lan" oifname "wan" udp dport 53 drop
    oifname "dmz.10" tcp dport 80 drop
  }
}
"#;

const FWD_IPT: &str = "*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p tcp --dport 22 -j DROP
-A FORWARD -i br-lan -o wan -p udp --dport 53 -j DROP
-A FORWARD -o dmz.10 -p tcp --dport 80 -j DROP
COMMIT
";

fn fwd_cases() -> Vec<(Probe, bool)> {
    let mut v = Vec::new();
    for (c, s, _) in [V4, V6] {
        v.extend([
            (Probe::tcp(c, s, 40000, 22, SYN).via("br-lan", "wan"), false),
            (Probe::tcp(s, c, 40000, 22, SYN).via("wan", "br-lan"), false),
            (
                Probe::tcp(c, s, 40000, 2222, SYN).via("br-lan", "wan"),
                true,
            ),
            (Probe::tcp(c, s, 22, 40000, SYN).via("br-lan", "wan"), true),
            (Probe::udp(c, s, 40001, 53).via("br-lan", "wan"), false),
            (Probe::udp(s, c, 40001, 53).via("wan", "br-lan"), true),
            (Probe::udp(c, s, 40001, 53).via("br-lan", "dmz.10"), true),
            (Probe::udp(c, s, 40001, 53).via("dmz.10", "wan"), true),
            (
                Probe::tcp(c, s, 40002, 80, SYN).via("br-lan", "dmz.10"),
                false,
            ),
            (Probe::tcp(c, s, 40002, 80, SYN).via("wan", "dmz.10"), false),
            (Probe::tcp(c, s, 40002, 80, SYN).via("br-lan", "wan"), true),
            (
                Probe::icmp(c, s, if c.contains(':') { 128 } else { 8 }, 0).via("br-lan", "wan"),
                true,
            ),
            // Hairpin: out of the interface it came in on.
            (Probe::udp(c, s, 40005, 123).via("wan", "wan"), true),
            (
                Probe::tcp(c, s, 40005, 80, SYN).via("dmz.10", "dmz.10"),
                false,
            ),
        ]);
    }
    v
}

#[test]
fn forward_ports_and_interfaces_nft() {
    let Some(r) = router(
        "forward_ports_and_interfaces_nft",
        "fpn",
        &["br-lan", "wan", "dmz.10"],
    ) else {
        return;
    };
    r.load_nft(FWD_NFT);
    let fates = check(&r, "nft", Path::Forward, &fwd_cases());
    // Nothing rewrote the passed ones: seen is the probe, with the interface it left by.
    for ((p, _), f) in fwd_cases().iter().zip(&fates) {
        if f.passed() {
            assert_eq!(seen(f), p);
        }
    }
}

#[test]
fn forward_ports_and_interfaces_iptables() {
    let Some(r) = router(
        "forward_ports_and_interfaces_iptables",
        "fpi",
        &["br-lan", "wan", "dmz.10"],
    ) else {
        return;
    };
    r.load_iptables(Some(FWD_IPT), Some(FWD_IPT));
    check(&r, "iptables", Path::Forward, &fwd_cases());
    assert!(
        r.dump_iptables(false)
            .contains("-A FORWARD -i br-lan -o wan -p udp")
    );
    assert!(
        r.dump_iptables(true)
            .contains("-A FORWARD -o dmz.10 -p tcp")
    );
}

/// Every one of the 256 flag combinations, against nft's spelling of `--syn` and iptables'.
#[test]
fn tcp_flags_every_combination() {
    let Some(r) = router("tcp_flags_every_combination", "tfl", &["eth0", "eth1"]) else {
        return;
    };
    let cases = || {
        let mut v = Vec::new();
        for (c, s, _) in [V4, V6] {
            for flags in 0..=255u8 {
                let syn_only = flags & (FIN | SYN | RST | ACK) == SYN;
                let p = Probe::tcp(c, s, 10000 + flags as u16, 443, flags).via("eth0", "eth1");
                v.push((p, !syn_only));
            }
        }
        v
    };
    r.load_nft(
        r#"
        table inet f {
          chain forward {
            type filter hook forward priority 0; policy accept;
            tcp flags & (fin | syn | rst | ack) == syn drop
          }
        }
        "#,
    );
    let fates = check(&r, "nft --syn", Path::Forward, &cases());
    for ((p, _), f) in cases().iter().zip(&fates) {
        if f.passed() {
            assert_eq!(seen(f).tcp_flags, p.tcp_flags, "flags as sent");
        }
    }
    let ipt = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp --syn -j DROP\nCOMMIT\n";
    r.load_iptables(Some(ipt), Some(ipt));
    check(&r, "iptables --syn", Path::Forward, &cases());
    // Single flags, as the names say.
    r.load_nft(
        r#"
        table inet f {
          chain forward {
            type filter hook forward priority 0; policy accept;
            tcp flags & urg == urg drop
            tcp flags & (ecn | cwr) == ecn | cwr drop
            tcp flags & psh == psh tcp dport 443 drop
          }
        }
        "#,
    );
    let (c, s, _) = V4;
    let flagged = |f: u8, want| {
        (
            Probe::tcp(c, s, 20000 + f as u16, 443, f).via("eth0", "eth1"),
            want,
        )
    };
    check(
        &r,
        "named flags",
        Path::Forward,
        &[
            flagged(URG | ACK, false),
            flagged(ECE | CWR | SYN, false),
            flagged(ECE | SYN, true),
            flagged(PSH | ACK, false),
            flagged(ACK, true),
        ],
    );
}

/// ICMP type/code matches, and conntrack's view: an echo request is NEW, an error without the
/// connection it reports (type 3; ICMPv6 1) and an unsolicited echo reply are INVALID, so
/// `ct state new` accepts neither; neighbour discovery is untracked.
#[test]
fn icmp_types_codes_and_conntrack_state() {
    let Some(r) = router(
        "icmp_types_codes_and_conntrack_state",
        "icm",
        &["eth0", "eth1"],
    ) else {
        return;
    };
    let (c4, s4, _) = V4;
    let (c6, s6, _) = V6;
    let cases = || {
        let icmp = |c, s, t, code, want| (Probe::icmp(c, s, t, code).via("eth0", "eth1"), want);
        vec![
            icmp(c4, s4, 8, 0, true),    // echo request: new
            icmp(c4, s4, 13, 0, true),   // timestamp request: new
            icmp(c4, s4, 0, 0, false),   // echo reply without request: invalid
            icmp(c4, s4, 3, 3, false),   // port unreachable: invalid, not the code accepted
            icmp(c4, s4, 3, 1, true),    // host unreachable: accepted by type and code
            icmp(c4, s4, 11, 0, false),  // time exceeded: invalid
            icmp(c6, s6, 128, 0, true),  // echo request: new
            icmp(c6, s6, 129, 0, false), // echo reply: invalid
            icmp(c6, s6, 1, 4, false),   // port unreachable: invalid
            icmp(c6, s6, 1, 3, true),    // address unreachable: accepted by type and code
            icmp(c6, s6, 135, 0, false), // neighbour solicitation: untracked
            icmp(c6, s6, 2, 0, false),   // packet too big: invalid
        ]
    };
    r.load_nft(
        r#"
        table inet f {
          chain forward {
            type filter hook forward priority 0; policy drop;
            ct state new accept
            icmp type destination-unreachable icmp code host-unreachable accept
            icmpv6 type destination-unreachable icmpv6 code addr-unreachable accept
          }
        }
        "#,
    );
    check(&r, "nft", Path::Forward, &cases());
    let head = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                -A FORWARD -m conntrack --ctstate NEW -j ACCEPT\n";
    r.load_iptables(
        Some(&format!(
            "{head}-A FORWARD -p icmp --icmp-type 3/1 -j ACCEPT\nCOMMIT\n"
        )),
        Some(&format!(
            "{head}-A FORWARD -p ipv6-icmp --icmpv6-type 1/3 -j ACCEPT\nCOMMIT\n"
        )),
    );
    check(&r, "iptables", Path::Forward, &cases());
    // The same errors are what `ct state invalid` matches.
    r.load_nft(
        r#"
        table inet f {
          chain forward {
            type filter hook forward priority 0; policy accept;
            ct state invalid drop
          }
        }
        "#,
    );
    let cases: Vec<_> = cases()
        .into_iter()
        .map(|(p, _)| {
            let t = p.icmp_type;
            let valid = matches!((p.proto, t), (1, 8 | 13) | (58, 128 | 135));
            (p, valid)
        })
        .collect();
    check(&r, "ct state invalid", Path::Forward, &cases);
}

/// Every ICMP and ICMPv6 type is crafted and forwarded; matches on one type and one code hit
/// exactly that type and code.
#[test]
fn icmp_every_type() {
    let Some(r) = router("icmp_every_type", "ict", &["eth0", "eth1"]) else {
        return;
    };
    r.load_nft(
        r#"
        table inet f {
          chain forward {
            type filter hook forward priority 0; policy accept;
            icmp type 42 drop
            icmp type 3 icmp code 13 drop
            icmpv6 type 200 drop
            icmpv6 type 1 icmpv6 code 6 drop
          }
        }
        "#,
    );
    let mut cases = Vec::new();
    for t in 0..=255u8 {
        cases.push((Probe::icmp(V4.0, V4.1, t, 0).via("eth0", "eth1"), t != 42));
        cases.push((Probe::icmp(V6.0, V6.1, t, 0).via("eth0", "eth1"), t != 200));
    }
    for code in 1..=15u8 {
        cases.push((
            Probe::icmp(V4.0, V4.1, 3, code).via("eth0", "eth1"),
            code != 13,
        ));
        cases.push((
            Probe::icmp(V6.0, V6.1, 1, code).via("eth0", "eth1"),
            code != 6,
        ));
    }
    let fates = check(&r, "every type", Path::Forward, &cases);
    for ((p, _), f) in cases.iter().zip(&fates) {
        if f.passed() {
            let s = seen(f);
            assert_eq!((s.icmp_type, s.icmp_code), (p.icmp_type, p.icmp_code));
        }
    }
}

/// A DNAT in nat prerouting runs before filter forward (which sees the new destination), an
/// SNAT / masquerade after it; `seen` shows both rewrites.
#[test]
fn nat_rewrites_around_forward() {
    let Some(r) = router("nat_rewrites_around_forward", "nat", &["lan", "wan"]) else {
        return;
    };
    let (c4, s4, _) = V4;
    let (c6, s6, _) = V6;
    let cases = || {
        vec![
            (Probe::tcp(c4, s4, 40000, 8080, SYN).via("lan", "wan"), true),
            (Probe::tcp(c4, s4, 40001, 80, SYN).via("lan", "wan"), false),
            (Probe::udp(c4, s4, 40002, 5353).via("lan", "wan"), true),
            (Probe::tcp(c6, s6, 40000, 8080, SYN).via("lan", "wan"), true),
            (Probe::tcp(c6, s6, 40001, 80, SYN).via("lan", "wan"), false),
        ]
    };
    let expect = |r: &Router, fates: &[Fate], snat4: &str| {
        let s = seen(&fates[0]);
        assert_eq!(
            (s.src, s.dst, s.sport, s.dport),
            (ip(snat4), ip("10.9.9.9"), 40000, 80)
        );
        let s = seen(&fates[2]);
        assert_eq!((s.src, s.dst, s.dport), (ip(snat4), ip("10.9.9.9"), 53));
        let s = seen(&fates[3]);
        assert_eq!(
            (s.src, s.dst, s.dport),
            (r.router_addr("wan", true), ip("2001:db8:9::9"), 80)
        );
        assert_eq!(s.oif.as_deref(), Some("wan"));
    };
    r.load_nft(
        r#"
        table ip nat {
          chain pre {
            type nat hook prerouting priority dstnat;
            tcp dport 8080 dnat to 10.9.9.9:80
            udp dport 5353 dnat to 10.9.9.9:53
          }
          chain post {
            type nat hook postrouting priority srcnat;
            oifname "wan" snat to 192.0.2.7
          }
        }
        table ip6 nat {
          chain pre {
            type nat hook prerouting priority dstnat;
            tcp dport 8080 dnat to [2001:db8:9::9]:80
          }
          chain post {
            type nat hook postrouting priority srcnat;
            oifname "wan" masquerade
          }
        }
        table inet filter {
          chain forward {
            type filter hook forward priority filter; policy drop;
            ip daddr 10.9.9.9 accept
            ip6 daddr 2001:db8:9::9 tcp dport 80 accept
          }
        }
        "#,
    );
    let fates = check(&r, "nft", Path::Forward, &cases());
    expect(&r, &fates, "192.0.2.7");
    let nat = |dnat: &str, extra: &str| {
        format!(
            "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             :POSTROUTING ACCEPT [0:0]\n{dnat}-A POSTROUTING -o wan -j MASQUERADE\nCOMMIT\n\
             *filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n{extra}COMMIT\n"
        )
    };
    r.load_iptables(
        Some(&nat(
            "-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.9.9.9:80\n\
             -A PREROUTING -p udp --dport 5353 -j DNAT --to-destination 10.9.9.9:53\n",
            "-A FORWARD -d 10.9.9.9 -j ACCEPT\n",
        )),
        Some(&nat(
            "-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination [2001:db8:9::9]:80\n",
            "-A FORWARD -d 2001:db8:9::9 -p tcp --dport 80 -j ACCEPT\n",
        )),
    );
    let fates = check(&r, "iptables", Path::Forward, &cases());
    let wan4 = r.router_addr("wan", false).to_string();
    expect(&r, &fates, &wan4);
}

/// A drop in the raw table (prerouting, before conntrack) stops forward and input alike.
#[test]
fn raw_table_drop() {
    let Some(r) = router("raw_table_drop", "raw", &["eth0", "eth1"]) else {
        return;
    };
    let cases = |path: Path| {
        let mut v = Vec::new();
        for (c, s, _) in [V4, V6] {
            for (port, want) in [(161, false), (162, true)] {
                let p = Probe::udp(c, s, 40000, port);
                v.push(match path {
                    Path::Forward => (p.via("eth0", "eth1"), want),
                    _ => (p.arriving("eth0"), want),
                });
            }
        }
        v
    };
    r.load_nft(
        r#"
        table inet raw {
          chain pre {
            type filter hook prerouting priority raw;
            udp dport 161 drop
          }
        }
        "#,
    );
    check(&r, "nft forward", Path::Forward, &cases(Path::Forward));
    check(&r, "nft input", Path::Input, &cases(Path::Input));
    let ipt = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
               -A PREROUTING -p udp --dport 161 -j DROP\nCOMMIT\n";
    r.load_iptables(Some(ipt), Some(ipt));
    check(&r, "iptables forward", Path::Forward, &cases(Path::Forward));
    check(&r, "iptables input", Path::Input, &cases(Path::Input));
}

/// Two base chains on one hook: a drop in the earlier one is final; an accept there only ends
/// that chain, so the later one still drops.
#[test]
fn earlier_base_chain_drop_is_final() {
    let Some(r) = router("earlier_base_chain_drop_is_final", "ebc", &["eth0", "eth1"]) else {
        return;
    };
    let cases = || {
        let mut v = Vec::new();
        for (c, s, _) in [V4, V6] {
            for (port, want) in [(25, false), (110, false), (143, true)] {
                v.push((Probe::tcp(c, s, 40000, port, SYN).via("eth0", "eth1"), want));
            }
        }
        v
    };
    r.load_nft(
        r#"
        table inet a {
          chain early {
            type filter hook forward priority -10; policy accept;
            tcp dport 25 drop
            tcp dport 110 accept
          }
        }
        table inet b {
          chain late {
            type filter hook forward priority 10; policy accept;
            tcp dport 25 accept
            tcp dport 110 drop
          }
        }
        "#,
    );
    check(&r, "nft", Path::Forward, &cases());
    // iptables: mangle FORWARD (priority -150) runs before filter FORWARD (0).
    let ipt = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
               :OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
               -A FORWARD -p tcp --dport 25 -j DROP\n-A FORWARD -p tcp --dport 110 -j ACCEPT\n\
               COMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
               -A FORWARD -p tcp --dport 25 -j ACCEPT\n-A FORWARD -p tcp --dport 110 -j DROP\n\
               COMMIT\n";
    r.load_iptables(Some(ipt), Some(ipt));
    check(&r, "iptables", Path::Forward, &cases());
}

/// Policy drop and not a single rule: nothing passes, on any path.
#[test]
fn policy_drop_without_rules() {
    let Some(r) = router("policy_drop_without_rules", "pdr", &["eth0", "eth1"]) else {
        return;
    };
    let cases = |path: Path| {
        let mut v = Vec::new();
        for (c, s, _) in [V4, V6] {
            let ps = [
                Probe::tcp(c, s, 40000, 22, SYN),
                Probe::udp(c, s, 40000, 53),
                Probe::icmp(c, s, if c.contains(':') { 128 } else { 8 }, 0),
            ];
            for p in ps {
                v.push(match path {
                    Path::Forward => (p.via("eth0", "eth1"), false),
                    Path::Input => (p.arriving("eth0"), false),
                    Path::Output => (p.leaving("eth1"), false),
                });
            }
        }
        v
    };
    let all = |r: &Router, what: &str| {
        for path in [Path::Forward, Path::Input, Path::Output] {
            check(r, &format!("{what} {path:?}"), path, &cases(path));
        }
    };
    r.load_nft(
        r#"
        table inet f {
          chain input {
            type filter hook input priority 0; policy drop;
          }
          chain forward {
            type filter hook forward priority 0; policy drop;
          }
          chain output {
            type filter hook output priority 0; policy drop;
          }
        }
        "#,
    );
    all(&r, "nft");
    let ipt = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\nCOMMIT\n";
    r.load_iptables(Some(ipt), Some(ipt));
    all(&r, "iptables");
    // And with no ruleset at all, everything passes.
    r.flush();
    for path in [Path::Forward, Path::Input, Path::Output] {
        let open: Vec<_> = cases(path).into_iter().map(|(p, _)| (p, true)).collect();
        check(&r, &format!("no ruleset {path:?}"), path, &open);
    }
}

// ---- input ------------------------------------------------------------------------------

fn input_cases() -> Vec<(Probe, bool)> {
    let mut v = Vec::new();
    for (c, s, s2) in [V4, V6] {
        v.extend([
            (Probe::tcp(c, s, 40000, 22, SYN).arriving("lan"), true),
            (Probe::tcp(c, s2, 40000, 22, SYN).arriving("wan"), true),
            (Probe::tcp(c, s, 40001, 80, SYN).arriving("lan"), false),
            (Probe::udp(c, s, 40002, 22).arriving("lan"), false),
            (Probe::udp(c, s, 40003, 53).arriving("lan"), true),
            (Probe::udp(c, s2, 40003, 53).arriving("wan"), false),
            (Probe::tcp(c, s, 40004, 443, SYN).arriving("wan"), true),
            (
                Probe::icmp(c, s, if c.contains(':') { 128 } else { 8 }, 0).arriving("lan"),
                false,
            ),
        ]);
    }
    v.extend([
        // DHCP discover, mDNS and SSDP to the router.
        (
            Probe::udp("0.0.0.0", "255.255.255.255", 68, 67).arriving("lan"),
            true,
        ),
        (
            Probe::udp("10.0.0.5", "224.0.0.251", 5353, 5353).arriving("lan"),
            true,
        ),
        (
            Probe::udp("fe80::5", "ff02::fb", 5353, 5353).arriving("lan"),
            true,
        ),
        (
            Probe::udp("10.0.0.5", "239.255.255.250", 40000, 1900).arriving("lan"),
            false,
        ),
    ]);
    v
}

/// Input: ssh only, DNS from the lan, https to a local address (address type LOCAL), DHCP and
/// mDNS; `iif lo accept` does not help probes arriving on real interfaces. The ruleset's own
/// `flush ruleset` does not remove the oracle's observer (added after loading).
#[test]
fn input_accepts_what_it_says() {
    let Some(r) = router("input_accepts_what_it_says", "inp", &["lan", "wan"]) else {
        return;
    };
    r.load_nft(
        r#"
        flush ruleset
        table inet filter {
          chain input {
            type filter hook input priority filter; policy drop;
            iif "lo" accept
            tcp dport 22 accept
            iifname "lan" udp dport 53 accept
            fib daddr type local tcp dport 443 accept
            udp dport { 67, 5353 } accept
          }
        }
        "#,
    );
    check(&r, "nft", Path::Input, &input_cases());
    let ipt = |extra: &str| {
        format!(
            "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n\
             -A INPUT -i lan -p udp --dport 53 -j ACCEPT\n\
             -A INPUT -m addrtype --dst-type LOCAL -p tcp --dport 443 -j ACCEPT\n\
             -A INPUT -p udp --dport 5353 -j ACCEPT\n{extra}COMMIT\n"
        )
    };
    r.load_iptables(
        Some(&ipt("-A INPUT -p udp --dport 67 -j ACCEPT\n")),
        Some(&ipt("")),
    );
    check(&r, "iptables", Path::Input, &input_cases());
    // The observer was only there while probes ran.
    assert!(!r.dump_nft_json().contains("pp_oracle"));
}

/// Input `seen`: a redirect in nat prerouting rewrites the destination to the router's own
/// address on the incoming interface and the port.
#[test]
fn input_sees_redirect() {
    let Some(r) = router("input_sees_redirect", "ird", &["lan", "wan"]) else {
        return;
    };
    r.load_nft(
        r#"
        table ip nat {
          chain pre {
            type nat hook prerouting priority dstnat;
            tcp dport 2222 redirect to :22
          }
        }
        table inet filter {
          chain input {
            type filter hook input priority 0; policy drop;
            tcp dport 22 accept
          }
        }
        "#,
    );
    let fates = check(
        &r,
        "redirect",
        Path::Input,
        &[
            (
                Probe::tcp(V4.0, V4.1, 40000, 2222, SYN).arriving("lan"),
                true,
            ),
            (
                Probe::tcp(V4.0, V4.1, 40001, 2223, SYN).arriving("lan"),
                false,
            ),
            (Probe::icmp(V4.0, V4.1, 8, 0).arriving("lan"), false),
        ],
    );
    let s = seen(&fates[0]);
    assert_eq!(
        (s.src, s.dst, s.sport, s.dport),
        (ip(V4.0), r.router_addr("lan", false), 40000, 22)
    );
    // Echo identifier and ICMP type as the observer read them.
    r.load_nft(
        r#"
        table inet f {
          chain input {
            type filter hook input priority 0;
          }
        }
        "#,
    );
    let fates = r.fates(
        Path::Input,
        &[Probe {
            sport: 4321,
            ..Probe::icmp(V6.0, V6.1, 128, 0)
        }
        .arriving("wan")],
    );
    let s = seen(&fates[0]);
    assert_eq!((s.icmp_type, s.sport, s.dst), (128, 4321, ip(V6.1)));
}

// ---- output -----------------------------------------------------------------------------

fn output_cases() -> Vec<(Probe, bool)> {
    let mut v = Vec::new();
    for (c, s, _) in [V4, V6] {
        v.extend([
            (Probe::tcp(c, s, 40000, 25, SYN).leaving("wan"), false),
            (Probe::tcp(c, s, 40000, 25, SYN).leaving("lan"), false),
            (Probe::tcp(c, s, 40001, 443, SYN).leaving("wan"), true),
            (Probe::udp(c, s, 40002, 53).leaving("wan"), false),
            (Probe::udp(c, s, 40002, 53).leaving("lan"), true),
            (Probe::tcp(c, s, 40003, 587, SYN).leaving("lan"), false),
        ]);
    }
    v
}

/// Output: OUTPUT by port and interface, a drop in POSTROUTING, a DNAT in nat output.
#[test]
fn output_rules() {
    let Some(r) = router("output_rules", "out", &["lan", "wan"]) else {
        return;
    };
    let mut cases = output_cases();
    cases.push((
        Probe::tcp(V4.0, V4.1, 40004, 8443, SYN).leaving("wan"),
        true,
    ));
    r.load_nft(
        r#"
        table inet filter {
          chain out {
            type filter hook output priority filter; policy accept;
            tcp dport 25 drop
            oifname "wan" udp dport 53 drop
          }
          chain post {
            type filter hook postrouting priority filter;
            tcp dport 587 drop
          }
        }
        table ip nat {
          chain out {
            type nat hook output priority -100;
            tcp dport 8443 dnat to 10.1.0.2:443
          }
        }
        "#,
    );
    let fates = check(&r, "nft", Path::Output, &cases);
    let s = seen(fates.last().unwrap());
    assert_eq!(
        (s.dst, s.dport, s.oif.as_deref()),
        (ip("10.1.0.2"), 443, Some("wan"))
    );
    let ipt = "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
               :OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
               -A POSTROUTING -p tcp --dport 587 -j DROP\nCOMMIT\n\
               *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
               -A OUTPUT -p tcp --dport 25 -j DROP\n-A OUTPUT -o wan -p udp --dport 53 -j DROP\n\
               COMMIT\n";
    r.load_iptables(Some(ipt), Some(ipt));
    check(&r, "iptables", Path::Output, &output_cases());
}

// ---- the oracle's own guarantees --------------------------------------------------------

/// With `ct state invalid drop`, every protocol the oracle crafts is a valid first packet:
/// TCP SYN, UDP, SCTP INIT (its CRC32c is right, or conntrack would call it invalid), ICMP and
/// ICMPv6 echo, GRE, ESP and an unknown protocol; on every path.
#[test]
fn crafted_packets_are_valid_first_packets() {
    let Some(r) = router(
        "crafted_packets_are_valid_first_packets",
        "val",
        &["eth0", "eth1"],
    ) else {
        return;
    };
    assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa, "RFC 3720 B.4");
    r.load_nft(
        r#"
        table inet f {
          chain input {
            type filter hook input priority 0;
            ct state invalid drop
          }
          chain forward {
            type filter hook forward priority 0;
            ct state invalid drop
          }
          chain output {
            type filter hook output priority 0;
            ct state invalid drop
          }
        }
        "#,
    );
    for path in [Path::Forward, Path::Input, Path::Output] {
        let mut cases = Vec::new();
        for (c, s, _) in [V4, V6] {
            let echo = if c.contains(':') { 128 } else { 8 };
            for p in [
                Probe::tcp(c, s, 40000, 80, SYN),
                Probe::tcp(c, s, 40001, 80, ACK),
                Probe::udp(c, s, 40000, 53),
                Probe::sctp(c, s, 40000, 3868),
                Probe::icmp(c, s, echo, 0),
                Probe {
                    sport: 7,
                    dport: 9,
                    ..Probe::new(c, s, 47)
                },
                Probe {
                    sport: 0x1234,
                    dport: 0x5678,
                    ..Probe::new(c, s, 50)
                },
                Probe::new(c, s, 253),
            ] {
                cases.push(match path {
                    Path::Forward => (p.via("eth0", "eth1"), true),
                    Path::Input => (p.arriving("eth0"), true),
                    Path::Output => (p.leaving("eth1"), true),
                });
            }
        }
        let fates = check(&r, &format!("{path:?}"), path, &cases);
        if path != Path::Input {
            for ((p, _), f) in cases.iter().zip(&fates) {
                let s = seen(f);
                assert_eq!((s.proto, s.sport, s.dport), (p.proto, p.sport, p.dport));
            }
        }
    }
}

/// A connection never repeats within a batch: the reverse of a probe, the probe itself again,
/// and an ICMP error about it are each the first packet of their own connection, so a rule
/// dropping established/related traffic drops none of them.
#[test]
fn every_probe_starts_its_connection() {
    let Some(r) = router("every_probe_starts_its_connection", "new", &["lan", "wan"]) else {
        return;
    };
    r.load_nft(
        r#"
        table inet f {
          chain forward {
            type filter hook forward priority 0; policy accept;
            ct state established,related drop
          }
        }
        "#,
    );
    let mut cases = Vec::new();
    for (c, s, _) in [V4, V6] {
        let (echo, reply, unreach, port) = if c.contains(':') {
            (128, 129, 1, 4)
        } else {
            (8, 0, 3, 3)
        };
        cases.extend([
            (Probe::udp(c, s, 1000, 53).via("lan", "wan"), true),
            (Probe::udp(s, c, 53, 1000).via("wan", "lan"), true),
            (Probe::udp(c, s, 1000, 53).via("lan", "wan"), true),
            // The error s sends back about c:1000 -> s:53.
            (
                Probe {
                    sport: 53,
                    dport: 1000,
                    ..Probe::icmp(s, c, unreach, port)
                }
                .via("wan", "lan"),
                true,
            ),
            (Probe::tcp(c, s, 1001, 80, SYN).via("lan", "wan"), true),
            (
                Probe::tcp(s, c, 80, 1001, SYN | ACK).via("wan", "lan"),
                true,
            ),
            (Probe::icmp(c, s, echo, 0).via("lan", "wan"), true),
            (Probe::icmp(s, c, reply, 0).via("wan", "lan"), true),
        ]);
    }
    check(&r, "no connection twice", Path::Forward, &cases);
}

/// Every source routes back through the interface it arrives on, so reverse-path filters
/// (`fib saddr . iif oif missing`, `-m rpfilter`) pass, also for one source arriving on two
/// interfaces in one call.
#[test]
fn reverse_path_checks_pass() {
    let Some(r) = router("reverse_path_checks_pass", "rpf", &["lan", "wan"]) else {
        return;
    };
    let cases = |path: Path| {
        let mut v = Vec::new();
        for (c, s, _) in [V4, V6] {
            for (i, (from, to)) in [("lan", "wan"), ("wan", "lan")].into_iter().enumerate() {
                let p = Probe::tcp(c, s, 40000 + i as u16, 22, SYN);
                v.push(match path {
                    Path::Forward => (p.via(from, to), true),
                    _ => (p.arriving(from), true),
                });
            }
        }
        v
    };
    r.load_nft(
        r#"
        table inet raw {
          chain pre {
            type filter hook prerouting priority raw; policy accept;
            fib saddr . iif oif missing drop
          }
        }
        "#,
    );
    check(&r, "nft forward", Path::Forward, &cases(Path::Forward));
    check(&r, "nft input", Path::Input, &cases(Path::Input));
    let ipt = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
               -A PREROUTING -m rpfilter --invert -j DROP\nCOMMIT\n";
    r.load_iptables(Some(ipt), Some(ipt));
    check(&r, "iptables forward", Path::Forward, &cases(Path::Forward));
    check(&r, "iptables input", Path::Input, &cases(Path::Input));
}

/// The router's own ICMP errors (here: rejects of UDP probes, sent back out of the interface
/// other probes leave by) carry arbitrary ids; they are never taken for an ICMP error probe.
#[test]
fn router_errors_are_not_probes() {
    let Some(r) = router("router_errors_are_not_probes", "rer", &["eth0", "eth1"]) else {
        return;
    };
    r.load_nft(
        r#"
        table inet filter {
          chain forward {
            type filter hook forward priority 0; policy accept;
            meta l4proto udp reject
            icmp type destination-unreachable drop
            icmpv6 type destination-unreachable drop
          }
        }
        "#,
    );
    // Many sources: each gets its own run of error ids (IPv4) or flow labels (IPv6).
    let mut cases = Vec::new();
    for v6 in [false, true] {
        let unreach = if v6 { 1 } else { 3 };
        for h in 1..=40u16 {
            let (c, s) = if v6 {
                (format!("2001:db8::{h:x}"), format!("2001:db8:1::{h:x}"))
            } else {
                (format!("10.0.0.{h}"), format!("10.1.0.{h}"))
            };
            for i in 0..40u16 {
                for (a, b, from, to) in [(&c, &s, "eth0", "eth1"), (&s, &c, "eth1", "eth0")] {
                    cases.push((Probe::udp(a, b, 10000 + i, 53).via(from, to), false));
                    let err = Probe {
                        sport: 20000 + i,
                        dport: 80,
                        ..Probe::icmp(a, b, unreach, 3)
                    };
                    cases.push((err.via(from, to), false));
                }
            }
        }
    }
    check(&r, "rejects", Path::Forward, &cases);
}

/// Sets restored with `ipset restore` are matched by iptables rules loaded afterwards.
#[test]
fn ipset_then_iptables() {
    let Some(r) = router("ipset_then_iptables", "ips", &["eth0", "eth1"]) else {
        return;
    };
    r.load_ipset(
        "create blocked hash:net family inet\nadd blocked 10.1.0.64/26\n\
         create blocked6 hash:net family inet6\nadd blocked6 2001:db8:1::/64\n",
    );
    r.load_iptables(
        Some("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set blocked dst -j DROP\nCOMMIT\n"),
        Some("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set blocked6 dst -j DROP\nCOMMIT\n"),
    );
    check(
        &r,
        "ipset",
        Path::Forward,
        &[
            (
                Probe::udp("10.0.0.1", "10.1.0.66", 1000, 53).via("eth0", "eth1"),
                false,
            ),
            (
                Probe::udp("10.0.0.1", "10.1.0.1", 1000, 53).via("eth0", "eth1"),
                true,
            ),
            (
                Probe::udp("2001:db8::1", "2001:db8:1::5", 1000, 53).via("eth0", "eth1"),
                false,
            ),
            (
                Probe::udp("2001:db8::1", "2001:db8:2::5", 1000, 53).via("eth0", "eth1"),
                true,
            ),
        ],
    );
    r.flush();
    assert!(r.exec(&["ipset", "list", "-n"]).unwrap().trim().is_empty());
}

/// `routable` against the kernel with no ruleset at all: what it refuses as a kernel drop is
/// dropped, what it accepts (including the odd but routable) passes.
#[test]
fn routable_agrees_with_the_kernel() {
    let Some(r) = router("routable_agrees_with_the_kernel", "rtb", &["eth0", "eth1"]) else {
        return;
    };
    let on = |path: Path, s: &str, d: &str, i: u16| {
        let p = Probe::udp(s, d, 1000 + i, 53);
        match path {
            Path::Forward => p.via("eth0", "eth1"),
            Path::Input => p.arriving("eth0"),
            Path::Output => p.leaving("eth1"),
        }
    };
    use Path::{Forward as F, Input as I, Output as O};
    // Refused because the kernel drops them before the hook.
    let dropped: &[(Path, &str, &str)] = &[
        (F, "0.0.0.0", "10.1.0.1"),
        (F, "127.0.0.1", "10.1.0.1"),
        (F, "224.0.0.5", "10.1.0.1"),
        (F, "255.255.255.255", "10.1.0.1"),
        (F, "10.0.0.1", "127.0.0.2"),
        (F, "10.0.0.1", "0.0.0.0"),
        (F, "10.0.0.1", "239.1.1.1"),
        (F, "10.0.0.1", "255.255.255.255"),
        (F, "::", "2001:db8:1::1"),
        (F, "::1", "2001:db8:1::1"),
        (F, "fe80::1", "2001:db8:1::1"),
        (F, "2001:db8::1", "fe80::1"),
        (F, "ff02::1", "2001:db8:1::1"),
        (F, "2001:db8::1", "ff0e::1"),
        (F, "2001:db8::1", "ff01::1"),
        (I, "0.0.0.0", "10.1.0.1"),
        (I, "0.0.0.0", "224.0.1.1"),
        (I, "127.0.0.1", "10.1.0.1"),
        (I, "224.0.0.5", "10.1.0.1"),
        (I, "10.0.0.1", "10.0.0.1"),
        (I, "10.0.0.1", "127.0.0.2"),
        (I, "10.0.0.1", "0.0.0.0"),
        (I, "::1", "2001:db8:1::1"),
        (I, "ff02::1", "2001:db8:1::1"),
        (I, "2001:db8::1", "ff01::1"),
        (I, "2001:db8::1", "ff00::1"),
        (I, "2001:db8::1", "::"),
        (O, "10.0.0.1", "127.0.0.2"),
        (O, "10.0.0.1", "0.0.0.0"),
        (O, "2001:db8::1", "::"),
        (O, "2001:db8::1", "::1"),
        (O, "2001:db8::1", "ff01::1"),
    ];
    // Routable, some surprisingly.
    let passed: &[(Path, &str, &str)] = &[
        (F, "0.1.2.3", "10.1.0.1"),
        (F, "10.0.0.1", "0.0.0.1"),
        (F, "240.0.0.1", "240.0.0.2"),
        (F, "169.254.1.1", "169.254.2.2"),
        (F, "10.0.0.1", "10.0.0.1"),
        (F, "::ffff:10.0.0.1", "::ffff:10.1.0.1"),
        (F, "fec0::1", "fc00::1"),
        (F, "2001:db8::1", "::"),
        (I, "0.0.0.0", "255.255.255.255"),
        (I, "0.0.0.0", "224.0.0.22"),
        (I, "10.0.0.1", "255.255.255.255"),
        (I, "10.0.0.1", "224.0.0.1"),
        (I, "10.0.0.1", "239.1.1.1"),
        (I, "240.0.0.1", "0.0.0.1"),
        (I, "::", "2001:db8:1::1"),
        (I, "fe80::1", "fe80::2"),
        (I, "2001:db8::1", "2001:db8::1"),
        (I, "2001:db8::1", "ff02::1"),
        (I, "2001:db8::1", "ff0e::1"),
        (O, "127.0.0.1", "10.1.0.1"),
        (O, "224.0.0.5", "255.255.255.255"),
        (O, "10.0.0.1", "224.0.0.251"),
        (O, "::1", "2001:db8:1::1"),
        (O, "fe80::1", "ff02::1"),
    ];
    for path in [F, I, O] {
        let mut probes = Vec::new();
        let mut want = Vec::new();
        for (i, (p, s, d)) in dropped.iter().chain(passed).enumerate() {
            if *p == path {
                probes.push(on(path, s, d, i as u16));
                want.push(i >= dropped.len());
            }
        }
        for (p, w) in probes.iter().zip(&want) {
            assert_eq!(routable(path, p).is_ok(), *w, "routable({path:?}, {p:?})");
        }
        let fates = r.fates_unchecked(path, &probes);
        for ((p, w), f) in probes.iter().zip(&want).zip(&fates) {
            assert_eq!(f.passed(), *w, "kernel on {path:?} {p:?}: {f:?}");
        }
    }
    // Refused for the lab's own reasons.
    let both = Probe {
        oif: Some("eth1".into()),
        ..Probe::udp("10.0.0.1", "10.1.0.1", 1, 2).arriving("eth0")
    };
    for (path, p) in [
        (
            F,
            Probe::udp("198.18.255.1", "10.1.0.1", 1, 2).via("eth0", "eth1"),
        ),
        (
            F,
            Probe::udp("10.0.0.1", "2001:db8::1", 1, 2).via("eth0", "eth1"),
        ),
        (
            F,
            Probe::new("2001:db8::1", "2001:db8:1::1", 44).via("eth0", "eth1"),
        ),
        (F, Probe::udp("10.0.0.1", "10.1.0.1", 1, 2).arriving("eth0")),
        (I, both.clone()),
        (O, both),
        (O, Probe::udp("0.0.0.0", "10.1.0.1", 1, 2).leaving("eth1")),
    ] {
        assert!(routable(path, &p).is_err(), "{path:?} {p:?}");
    }
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        r.fates(
            F,
            &[Probe::udp("127.0.0.1", "10.1.0.1", 1, 2).via("eth0", "eth1")],
        )
    }));
    assert!(refused.is_err(), "fates must refuse an unroutable probe");
}

/// Thousands of probes in one call, half dropped by a port range, both families, both ways.
#[test]
fn five_thousand_forward_probes() {
    let Some(r) = router("five_thousand_forward_probes", "5k", &["eth0", "eth1"]) else {
        return;
    };
    r.load_nft(
        r#"
        table inet f {
          chain forward {
            type filter hook forward priority 0; policy accept;
            udp dport 20000-21249 drop
            tcp dport 30000-31249 drop
          }
        }
        "#,
    );
    let mut cases = Vec::new();
    for (c, s, _) in [V4, V6] {
        for i in 0..1250u16 {
            let (tcp, udp) = (30000 + 2 * i, 20000 + 2 * i);
            cases.push((Probe::udp(c, s, 5000, udp).via("eth0", "eth1"), udp > 21249));
            cases.push((
                Probe::tcp(s, c, 5000, tcp, SYN).via("eth1", "eth0"),
                tcp > 31249,
            ));
        }
    }
    assert_eq!(cases.len(), 5000);
    let t = std::time::Instant::now();
    check(&r, "5000", Path::Forward, &cases);
    eprintln!("5000 forward probes in {:?}", t.elapsed());
}

/// Namespaces are gone after drop, also when the test panics.
#[test]
fn teardown_on_drop_and_panic() {
    if !require_root_and(&TOOLS, "teardown_on_drop_and_panic") {
        return;
    }
    let prefix = format!("ppo{}td", std::process::id());
    let list = || {
        String::from_utf8(
            std::process::Command::new("ip")
                .args(["netns", "list"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
    };
    {
        let r = Router::new("td", &["a", "b", "c"]);
        assert_eq!(list().matches(&prefix).count(), 4, "{}", r.ns);
    }
    assert!(!list().contains(&prefix));
    let r = std::panic::catch_unwind(|| {
        let _r = Router::new("td", &["a"]);
        panic!("test failure");
    });
    assert!(r.is_err());
    assert!(!list().contains(&prefix));
}
