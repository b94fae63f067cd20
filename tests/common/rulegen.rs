//! Random rulesets covering every feature the audit models, written as `iptables-save` text
//! and as `nft -f` text, for the random kernel differential (tests/netns_random.rs and
//! bench/audit/random.sh). Deterministic for a seed; every generated ruleset loads
//! (nft/iptables-restore refusals are test failures: they mean the generator is wrong).
#![allow(dead_code)]

use super::differential::Rng;

/// Router interfaces the rules name (the lab creates them all).
pub const IFACES: [&str; 3] = ["eth0", "eth1", "wan0"];

const V4_NETS: [&str; 10] = [
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.0/24",
    "10.1.2.128/25",
    "10.1.2.3/32",
    "10.2.0.0/16",
    "192.168.0.0/16",
    "192.168.7.0/24",
    "172.16.0.0/12",
    "203.0.113.0/24",
];
const V6_NETS: [&str; 6] = [
    "2001:db8::/32",
    "2001:db8:1::/48",
    "2001:db8:1:2::/64",
    "2001:db8:1:2::3/128",
    "fd00::/8",
    "2001:db8:ff::/48",
];
const PORTS: [u16; 10] = [22, 53, 80, 123, 443, 445, 1024, 3306, 8080, 65535];

fn port_spec(r: &mut Rng, ipt: bool) -> String {
    let p = *r.pick(&PORTS);
    match r.below(3) {
        0 => p.to_string(),
        1 => {
            let q = p.saturating_add(r.below(50) as u16);
            if q == p {
                p.to_string()
            } else if ipt {
                format!("{p}:{q}")
            } else {
                format!("{p}-{q}")
            }
        }
        _ => {
            let q = *r.pick(&PORTS);
            if p == q {
                p.to_string()
            } else if ipt {
                format!("{},{}", p.min(q), p.max(q))
            } else {
                format!("{{ {}, {} }}", p.min(q), p.max(q))
            }
        }
    }
}

/// Which hook a chain hangs off (for interface rules).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Pre,
    In,
    Fwd,
    Out,
    Post,
}

fn iface_ok(ctx: Ctx, out: bool) -> bool {
    match ctx {
        Ctx::Pre | Ctx::In => !out,
        Ctx::Out | Ctx::Post => out,
        Ctx::Fwd => true,
    }
}

/// One random iptables match (`v6`: ip6tables).
fn ipt_match(r: &mut Rng, v6: bool, ctx: Ctx) -> String {
    let net = |r: &mut Rng| {
        if v6 {
            r.pick(&V6_NETS).to_string()
        } else {
            r.pick(&V4_NETS).to_string()
        }
    };
    let neg = |r: &mut Rng| if r.chance(20) { "! " } else { "" };
    match r.below(13) {
        0 => format!("{}-s {}", neg(r), net(r)),
        1 => format!("{}-d {}", neg(r), net(r)),
        2 => format!(
            "-p tcp -m tcp {}--dport {}",
            neg(r),
            port_spec(r, true).replace(',', ":")
        ),
        3 => format!(
            "-p udp -m udp --dport {}",
            port_spec(r, true).replace(',', ":")
        ),
        4 => format!(
            "-p tcp -m multiport {}--dports {}",
            neg(r),
            port_spec(r, true)
        ),
        5 => match r.below(3) {
            0 => "-p tcp -m tcp --syn".into(),
            1 => "-p tcp -m tcp ! --syn".into(),
            _ => "-p tcp -m tcp --tcp-flags SYN,ACK,RST SYN".into(),
        },
        6 => {
            let s = *r.pick(&[
                "NEW",
                "ESTABLISHED",
                "RELATED",
                "INVALID",
                "UNTRACKED",
                "NEW,ESTABLISHED",
                "ESTABLISHED,RELATED",
            ]);
            if r.chance(50) {
                format!("-m conntrack {}--ctstate {s}", neg(r))
            } else {
                format!("-m state --state {}", s.replace(",UNTRACKED", ""))
            }
        }
        7 => {
            if v6 {
                format!(
                    "-p ipv6-icmp -m icmp6 --icmpv6-type {}",
                    r.pick(&["128", "129", "1/4", "2", "echo-request", "135"])
                )
            } else {
                format!(
                    "-p icmp -m icmp --icmp-type {}",
                    r.pick(&[
                        "8",
                        "0",
                        "3/4",
                        "3",
                        "11",
                        "echo-request",
                        "port-unreachable",
                        "13"
                    ])
                )
            }
        }
        8 if iface_ok(ctx, false) => {
            format!("{}-i {}", neg(r), r.pick(&["eth0", "eth1", "eth+", "wan0"]))
        }
        8 => format!("-p {}", r.pick(&["gre", "esp", "sctp"])),
        9 if iface_ok(ctx, true) => {
            format!("{}-o {}", neg(r), r.pick(&["eth0", "eth1", "eth+", "wan0"]))
        }
        9 => format!("-p sctp -m sctp --dport {}", r.pick(&PORTS)),
        10 => format!(
            "-m mark {}--mark {}",
            neg(r),
            r.pick(&["0x1/0x1", "0x0/0xff", "0x2", "0x100/0x100"])
        ),
        11 => {
            if v6 {
                "-m iprange --src-range 2001:db8:1::-2001:db8:1::ff".into()
            } else {
                format!("-m iprange {}--dst-range 10.1.2.5-10.1.2.77", neg(r))
            }
        }
        _ => "-m limit --limit 50/sec".into(),
    }
}

/// The kind of an iptables match, for "one of each kind per rule".
fn ipt_key(m: &str) -> &'static str {
    let m = m.trim_start_matches("! ");
    if m.contains("-p ") {
        "p"
    } else if m.starts_with("-s") {
        "s"
    } else if m.starts_with("-d") {
        "d"
    } else if m.starts_with("-i") {
        "i"
    } else if m.starts_with("-o") {
        "o"
    } else if m.contains("mark") {
        "mark"
    } else if m.contains("state") {
        "state"
    } else if m.contains("iprange") {
        "iprange"
    } else {
        "limit"
    }
}

/// A random iptables-save ruleset (filter plus, sometimes, raw, mangle and nat).
/// A filter table's head: 1–3 user chains `uN`, and the three base chains with a DROP policy
/// `drop_percent` % of the time; with the chains to fill (name, context, user chain index).
fn filter_head(r: &mut Rng, drop_percent: u64) -> (String, Vec<(String, Ctx, Option<usize>)>) {
    let pol = |r: &mut Rng| {
        if r.chance(drop_percent) {
            "DROP"
        } else {
            "ACCEPT"
        }
    };
    let users = 1 + r.below(3);
    let mut out = format!(
        "*filter\n:INPUT {} [0:0]\n:FORWARD {} [0:0]\n:OUTPUT {} [0:0]\n",
        pol(r),
        pol(r),
        pol(r)
    );
    for u in 0..users {
        out += &format!(":u{u} - [0:0]\n");
    }
    let chains = [
        ("INPUT", Ctx::In),
        ("FORWARD", Ctx::Fwd),
        ("OUTPUT", Ctx::Out),
    ]
    .iter()
    .map(|(n, c)| (n.to_string(), *c, None))
    .chain((0..users).map(|u| (format!("u{u}"), Ctx::Fwd, Some(u))))
    .collect();
    (out, chains)
}

pub fn iptables(seed: u64, v6: bool) -> String {
    let mut r = Rng(seed ^ 0x1b5);
    let mut out = String::new();
    if r.chance(50) {
        out += "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
        for _ in 0..r.below(3) {
            let m = ipt_match(&mut r, v6, Ctx::Pre);
            let t = if r.chance(50) { "DROP" } else { "CT --notrack" };
            out += &format!("-A PREROUTING {m} -j {t}\n");
        }
        out += "COMMIT\n";
    }
    if r.chance(50) {
        out += "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n";
        for _ in 0..1 + r.below(3) {
            let (chain, ctx) = *r.pick(&[
                ("PREROUTING", Ctx::Pre),
                ("FORWARD", Ctx::Fwd),
                ("OUTPUT", Ctx::Out),
            ]);
            let m = ipt_match(&mut r, v6, ctx);
            let t = *r.pick(&[
                "MARK --set-xmark 0x1/0xff",
                "MARK --or-mark 0x100",
                "MARK --set-xmark 0x2/0xffffffff",
                "CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff",
                "DROP",
            ]);
            out += &format!("-A {chain} {m} -j {t}\n");
        }
        out += "COMMIT\n";
    }
    if r.chance(35) && !v6 {
        out += "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n";
        out += &format!(
            "-A PREROUTING -p tcp -m tcp --dport {} -j DNAT --to-destination 10.9.9.9:80\n",
            r.pick(&PORTS)
        );
        out += "-A POSTROUTING -o wan0 -j MASQUERADE\n";
        out += "COMMIT\n";
    }
    let (head, chains) = filter_head(&mut r, 60);
    out += &head;
    let users = chains.len() - 3;
    for (name, ctx, user) in &chains {
        let n = if user.is_some() {
            2 + r.below(5)
        } else {
            3 + r.below(8)
        };
        for _ in 0..n {
            let mut ms: Vec<String> = Vec::new();
            for _ in 0..r.below(4) {
                // User chains are jumped to from any hook: no interface matches there.
                let c = if user.is_some() { Ctx::Pre } else { *ctx };
                let m = ipt_match(&mut r, v6, c);
                if (m.starts_with("-i") || m.starts_with("! -i")) && user.is_some() {
                    continue;
                }
                ms.push(m);
            }
            // One option of each kind per rule (iptables refuses repeats).
            let mut seen: Vec<&'static str> = Vec::new();
            ms.retain(|m| {
                let key = ipt_key(m);
                let keep = !seen.contains(&key);
                seen.push(key);
                keep
            });
            let later: Vec<usize> = (user.map_or(0, |u| u + 1)..users).collect();
            let verdict = match r.below(10) {
                0..=3 => "-j ACCEPT".to_string(),
                4..=5 => "-j DROP".into(),
                6 => "-j REJECT".into(),
                7 => "-j RETURN".into(),
                8 if !later.is_empty() => {
                    let t = r.pick(&later);
                    if r.chance(70) {
                        format!("-j u{t}")
                    } else {
                        format!("-g u{t}")
                    }
                }
                _ => "-j LOG --log-prefix \"x \"".into(),
            };
            out += &format!("-A {name} {} {verdict}\n", ms.join(" "));
        }
    }
    out += "COMMIT\n";
    out.replace("  ", " ")
}

/// A ruleset every rule of which the audit reads exactly (addresses, protocols, ports, states,
/// interfaces; accept, drop, reject, return, jumps and gotos between user chains; LOG, which
/// goes on), so redundancy is computed (tests/audit_engines.rs: the suffix pass and the replay
/// must agree on it). IPv4, filter table only.
pub fn iptables_exact(seed: u64) -> String {
    let mut r = Rng(seed ^ 0xe5ac7);
    let (mut out, chains) = filter_head(&mut r, 50);
    let users = chains.len() - 3;
    for (name, _, user) in &chains {
        for _ in 0..4 + r.below(14) {
            let mut m = String::new();
            if r.chance(50) {
                m += &format!(" -s {}", r.pick(&V4_NETS));
            }
            if r.chance(50) {
                m += &format!(" -d {}", r.pick(&V4_NETS));
            }
            match r.below(4) {
                0 => {
                    m += &format!(
                        " -p tcp --dport {}",
                        r.pick(&["22", "80", "443", "1000:2000"])
                    )
                }
                1 => m += &format!(" -p udp --dport {}", r.pick(&["53", "123"])),
                2 => m += " -p icmp",
                _ => {}
            }
            if r.chance(25) {
                m += &format!(
                    " -m conntrack --ctstate {}",
                    r.pick(&["NEW", "ESTABLISHED,RELATED", "INVALID"])
                );
            }
            if user.is_none() && name != "OUTPUT" && r.chance(20) {
                m += &format!(" -i {}", r.pick(&["eth0", "eth1"]));
            }
            let later: Vec<usize> = (user.map_or(0, |u| u + 1)..users).collect();
            let v = match r.below(12) {
                0..=3 => "ACCEPT".to_string(),
                4..=5 => "DROP".into(),
                6 => "REJECT".into(),
                7 => "RETURN".into(),
                8 => "LOG".into(),
                9 | 10 if !later.is_empty() => format!("u{}", r.pick(&later)),
                _ => "ACCEPT".into(),
            };
            let jump = if v.starts_with('u') && r.chance(30) {
                "-g"
            } else {
                "-j"
            };
            out += &format!("-A {name}{m} {jump} {v}\n");
            // Sometimes the same rule again, narrower: redundant or shadowed.
            if r.chance(15) {
                out += &format!("-A {name}{m} -p tcp --dport 80 {jump} {v}\n");
            }
        }
    }
    out += "COMMIT\n";
    out
}

/// One random nft match in a table of `fam` (`ip`, `ip6`, `inet`).
fn nft_match(r: &mut Rng, v6: bool, ctx: Ctx) -> String {
    let (ipk, net) = if v6 {
        ("ip6", r.pick(&V6_NETS).to_string())
    } else {
        ("ip", r.pick(&V4_NETS).to_string())
    };
    let neg = |r: &mut Rng| if r.chance(20) { "!= " } else { "" };
    match r.below(15) {
        0 => format!("{ipk} saddr {}{net}", neg(r)),
        1 => format!("{ipk} daddr {}{net}", neg(r)),
        2 => format!("tcp dport {}{}", neg(r), port_spec(r, false)),
        3 => format!("udp dport {}", port_spec(r, false)),
        4 => format!(
            "meta l4proto {}",
            r.pick(&["tcp", "udp", "{ tcp, udp }", "gre", "sctp"])
        ),
        5 => r
            .pick(&[
                "tcp flags syn",
                "tcp flags & (syn | ack) == syn",
                "tcp flags == syn",
                "tcp flags & (fin | syn | rst | ack) != syn",
            ])
            .to_string(),
        6 => format!(
            "ct state {}",
            r.pick(&[
                "new",
                "established,related",
                "{ new, untracked }",
                "invalid",
                "!= established"
            ])
        ),
        7 => {
            if v6 {
                format!(
                    "icmpv6 type {}",
                    r.pick(&[
                        "echo-request",
                        "{ echo-request, echo-reply }",
                        "nd-neighbor-solicit",
                        "destination-unreachable"
                    ])
                )
            } else {
                format!(
                    "icmp type {}",
                    r.pick(&[
                        "echo-request",
                        "{ echo-request, timestamp-request }",
                        "destination-unreachable icmp code 4",
                        "echo-reply"
                    ])
                )
            }
        }
        8 if iface_ok(ctx, false) => format!(
            "iifname {}{}",
            neg(r),
            r.pick(&["\"eth0\"", "\"eth*\"", "{ \"eth1\", \"wan0\" }"])
        ),
        9 if iface_ok(ctx, true) => format!(
            "oifname {}{}",
            neg(r),
            r.pick(&["\"eth1\"", "\"eth*\"", "\"wan0\""])
        ),
        10 => format!(
            "meta mark {}",
            r.pick(&["0x1", "& 0xff == 0x1", "!= 0x0", "& 0x100 == 0x100"])
        ),
        11 => format!("{ipk} saddr . tcp dport {{ {net} . 22, {net} . 443 }}"),
        12 => format!("th dport {}", r.pick(&PORTS)),
        13 => format!("{ipk} daddr @s{}", if v6 { 6 } else { 4 }),
        _ => "limit rate 100/second".into(),
    }
}

/// A random `nft -f` ruleset: a filter table (inet, ip or ip6) with several base chains at
/// different priorities, regular chains, verdict maps and named sets; sometimes a NAT table and
/// a mark set in an early chain.
pub fn nft(seed: u64) -> String {
    let mut r = Rng(seed ^ 0x2f7);
    let fam = *r.pick(&["inet", "inet", "ip", "ip6"]);
    let mut out = format!("table {fam} t {{\n");
    if fam != "ip6" {
        out += "\tset s4 { type ipv4_addr; flags interval; elements = { 10.1.0.0/16, 192.168.7.7, 203.0.113.64/26 } }\n";
    }
    if fam != "ip" {
        out += "\tset s6 { type ipv6_addr; flags interval; elements = { 2001:db8:1::/48, fd00::1 } }\n";
    }
    let users = 1 + r.below(3);
    let mut chains: Vec<(String, Ctx, String)> = Vec::new();
    for (hook, ctx) in [
        ("input", Ctx::In),
        ("forward", Ctx::Fwd),
        ("output", Ctx::Out),
    ] {
        for k in 0..1 + r.below(2) {
            let prio = if k == 0 { 0 } else { *r.pick(&[-10, 10, -150]) };
            let pol = if r.chance(55) { "drop" } else { "accept" };
            chains.push((
                format!("{hook}{k}"),
                ctx,
                format!("type filter hook {hook} priority {prio}; policy {pol};"),
            ));
        }
    }
    if r.chance(40) {
        chains.push((
            "pre".into(),
            Ctx::Pre,
            "type filter hook prerouting priority -300; policy accept;".into(),
        ));
    }
    for u in 0..users {
        chains.push((format!("u{u}"), Ctx::Fwd, String::new()));
    }
    for (name, ctx, head) in &chains {
        out += &format!("\tchain {name} {{\n");
        if !head.is_empty() {
            out += &format!("\t\t{head}\n");
        }
        let user = name.strip_prefix('u').and_then(|x| x.parse::<usize>().ok());
        let later: Vec<usize> = (user.map_or(0, |u| u + 1)..users).collect();
        for _ in 0..2 + r.below(7) {
            let mut ms = Vec::new();
            let v6 = match fam {
                "ip" => false,
                "ip6" => true,
                _ => r.chance(50),
            };
            for _ in 0..r.below(4) {
                let c = if user.is_some() { Ctx::Pre } else { *ctx };
                let m = nft_match(&mut r, v6, c);
                if user.is_some() && m.starts_with("iifname") {
                    continue;
                }
                ms.push(m);
            }
            // One protocol-bearing match per rule (nft refuses conflicting protocols), and the
            // verdict map on tcp dport only without another protocol.
            let mut proto_seen = false;
            ms.retain(|m| {
                let p = ["tcp", "udp", "icmp", "th dport", "l4proto"]
                    .iter()
                    .any(|k| m.contains(k));
                let keep = !(p && proto_seen);
                proto_seen |= p;
                keep
            });
            let jump = |r: &mut Rng| -> String {
                if later.is_empty() {
                    "accept".into()
                } else {
                    format!(
                        "{} u{}",
                        if r.chance(70) { "jump" } else { "goto" },
                        r.pick(&later)
                    )
                }
            };
            let verdict = match r.below(12) {
                0..=3 => "accept".to_string(),
                4..=5 => "drop".into(),
                6 => "reject".into(),
                7 => "return".into(),
                8 => jump(&mut r),
                9 => format!(
                    "ct state vmap {{ established : accept, related : accept, invalid : drop, new : {} }}",
                    jump(&mut r)
                ),
                10 if name == "pre" => {
                    if r.chance(50) {
                        "notrack".into()
                    } else {
                        "meta mark set 0x1".into()
                    }
                }
                10 if !proto_seen => format!(
                    "tcp dport vmap {{ 22 : accept, 80 : drop, 443 : {} }}",
                    jump(&mut r)
                ),
                _ => "meta mark set meta mark | 0x100 counter".into(),
            };
            out += &format!("\t\t{} {verdict}\n", ms.join(" "));
        }
        out += "\t}\n";
    }
    out += "}\n";
    if fam != "ip6" && r.chance(35) {
        out += &format!(
            "table ip n {{\n\tchain pre {{\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t\ttcp dport {} dnat to 10.9.9.9:80\n\t}}\n}}\n",
            r.pick(&PORTS)
        );
    }
    out
}
