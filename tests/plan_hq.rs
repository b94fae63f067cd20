//! `portplan plan examples/hq.yaml`, checked opening by opening against the plan a careful
//! network administrator writes by hand for the headquarters site.
//!
//! Everything expected here is derived by hand from SPEC §3.1, §3.2, §4 and §5, the catalogs and
//! `examples/hq.yaml` — never from portplan's own code. The derivation:
//!
//! Zones: `clients` 10.20.0.0/16, `servers` 10.10.0.0/24, `internet` = every other address
//! except the private and special-purpose ranges (those are in no zone).
//!
//! DeviceLock (rpc_ports=fixed, connect_by=ip, netbios=false; enterprise_manager and gpm not
//! deployed) leaves only, between `service` (all of 10.20.0.0/16) and its peers, both ways:
//! - `smb` tcp 445 with console 10.10.0.10, enterprise_server 10.10.0.11 and ad 10.10.0.4;
//! - `service-port` tcp 9132 with console and enterprise_server;
//! - `server-port` tcp 9133 with console and enterprise_server.
//!
//! TMWS (auth=agent, captive_portal, pac_file, syslog_tool; proxy_port 8080, syslog udp/514,
//! ldap_ssl false, no guests, no transparent auth, no syslog proxy):
//! - `console` clients → cloud_console (internet) tcp 443; `pac-file` the same on tcp 80;
//!   `proxy` clients → cloud_proxy (internet) tcp 8080;
//! - `syslog-ssh` admin_terminal 10.20.0.50 → syslog_tool 10.10.0.20 tcp 22;
//! - `syslog-dns` syslog_tool → dns 10.10.0.53 tcp+udp 53 (inside `servers`);
//! - `syslog-ntp` syslog_tool → ntp = catalog default `pool.ntp.org` (internet) udp 123;
//! - `syslog-cloud` syslog_tool → cloud (internet) tcp 443;
//! - `syslog-forward` syslog_tool → syslog_server 10.10.0.30 udp 514 (inside `servers`);
//! - `agent-sync-cloud` sync_agent 10.10.0.21 → cloud (internet) tcp 443;
//! - `agent-sync-ldap`, `agent-auth-ldap` sync_agent / auth_agent 10.10.0.22 → ad tcp 389, 3268
//!   (inside `servers`);
//! - `agent-captive-portal` clients → auth_agent tcp 443.
//!
//! Enforcement points: `fw-core` between clients and servers, `fw-edge` between {clients,
//! servers} and internet, `dl-agents` the host firewall of every devicelock.service host
//! (10.20.0.0/16). Flows inside one zone cross no network firewall.
//!
//! Three kinds of check: exact openings (with the grouping the minimisation of SPEC §5 yields),
//! nothing else, and — independent of grouping — a packet-level comparison of what each point
//! permits against the hand-derived flows.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use assert_cmd::Command;
use ipnet::IpNet;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

fn portplan() -> Command {
    let mut c = Command::cargo_bin("portplan").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("PORTPLAN_LANG")
        .env("NO_COLOR", "1");
    c
}

fn stdout_of(args: &[&str]) -> String {
    let out = portplan()
        .args(args)
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let text = stdout_of(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// `portplan plan examples/hq.yaml --format json`, run once per test binary.
fn plan() -> &'static Value {
    static PLAN: OnceLock<Value> = OnceLock::new();
    PLAN.get_or_init(|| json_of(&["plan", "examples/hq.yaml", "--format", "json"]))
}

fn point<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["enforcement_points"]
        .as_array()
        .expect("enforcement_points is an array")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no enforcement point `{id}` in the plan"))
}

fn openings<'a>(plan: &'a Value, id: &str) -> &'a [Value] {
    point(plan, id)["openings"]
        .as_array()
        .expect("openings is an array")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|s| s.as_str().expect("array of strings").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Address sets, computed independently of portplan
// ---------------------------------------------------------------------------------------------

/// A set of addresses (exact, as merged inclusive ranges) and host names.
#[derive(Clone, PartialEq, Eq, Default)]
struct Side {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    names: BTreeSet<String>,
}

impl fmt::Debug for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .v4
            .iter()
            .map(|(a, b)| format!("{}..={}", Ipv4Addr::from(*a), Ipv4Addr::from(*b)))
            .collect();
        parts.extend(
            self.v6
                .iter()
                .map(|(a, b)| format!("{}..={}", Ipv6Addr::from(*a), Ipv6Addr::from(*b))),
        );
        parts.extend(self.names.iter().cloned());
        write!(f, "{{{}}}", parts.join(", "))
    }
}

fn merge<T: Copy + Ord + num_like::Succ>(mut v: Vec<(T, T)>) -> Vec<(T, T)> {
    v.sort();
    let mut out: Vec<(T, T)> = Vec::new();
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if last.1.succ().is_none_or(|n| a <= n) => {
                if b > last.1 {
                    last.1 = b;
                }
            }
            _ => out.push((a, b)),
        }
    }
    out
}

mod num_like {
    /// The next value, if any (to merge touching ranges).
    pub trait Succ: Sized {
        fn succ(self) -> Option<Self>;
    }
    impl Succ for u32 {
        fn succ(self) -> Option<u32> {
            self.checked_add(1)
        }
    }
    impl Succ for u128 {
        fn succ(self) -> Option<u128> {
            self.checked_add(1)
        }
    }
}

impl Side {
    /// From CIDRs, bare addresses and host names; `internet` stands for the IPv4 part of the
    /// internet zone (the only part any hq opening can carry: no hq role has IPv6).
    fn of(items: &[&str]) -> Side {
        let mut s = Side::default();
        for i in items {
            if *i == "internet" {
                s.v4.extend(internet_v4());
            } else if let Ok(n) = i.parse::<IpNet>() {
                s.add_net(n);
            } else if let Ok(a) = i.parse::<IpAddr>() {
                s.add_net(IpNet::from(a));
            } else {
                s.names.insert(i.to_ascii_lowercase());
            }
        }
        s.normalise()
    }

    fn from_json(v: &Value) -> Side {
        let items = strings(v);
        let mut s = Side::default();
        for i in &items {
            if let Ok(n) = i.parse::<IpNet>() {
                assert_eq!(
                    n,
                    n.trunc(),
                    "`{i}` has host bits set: not a canonical CIDR"
                );
                s.add_net(n);
            } else {
                assert!(
                    i.parse::<IpAddr>().is_err(),
                    "`{i}`: addresses are printed as CIDRs (`/32`)"
                );
                s.names.insert(i.clone());
            }
        }
        s.normalise()
    }

    fn add_net(&mut self, n: IpNet) {
        match n.trunc() {
            IpNet::V4(n) => self.v4.push((n.network().into(), n.broadcast().into())),
            IpNet::V6(n) => self.v6.push((n.network().into(), n.broadcast().into())),
        }
    }

    fn normalise(mut self) -> Side {
        self.v4 = merge(self.v4);
        self.v6 = merge(self.v6);
        self
    }

    fn contains(&self, a: &Addr) -> bool {
        match a {
            Addr::Ip(IpAddr::V4(ip)) => {
                let x = u32::from(*ip);
                self.v4.iter().any(|(lo, hi)| (*lo..=*hi).contains(&x))
            }
            Addr::Ip(IpAddr::V6(ip)) => {
                let x = u128::from(*ip);
                self.v6.iter().any(|(lo, hi)| (*lo..=*hi).contains(&x))
            }
            Addr::Name(n) => self.names.contains(*n),
        }
    }

    /// The fewest CIDRs denoting exactly the IPv4 part, in address order, then the names.
    fn optimal_cidrs(&self) -> Vec<String> {
        let mut out = Vec::new();
        for &(lo, hi) in &self.v4 {
            let (mut cur, hi) = (u64::from(lo), u64::from(hi));
            while cur <= hi {
                let mut size: u64 = if cur == 0 {
                    1 << 32
                } else {
                    1 << cur.trailing_zeros().min(32)
                };
                while cur + size - 1 > hi {
                    size >>= 1;
                }
                let len = 32 - size.trailing_zeros();
                out.push(format!("{}/{len}", Ipv4Addr::from(cur as u32)));
                cur += size;
            }
        }
        assert!(self.v6.is_empty(), "no hq opening may carry IPv6: {self:?}");
        out.extend(self.names.iter().cloned());
        out
    }
}

fn v4(a: &str) -> u32 {
    u32::from(a.parse::<Ipv4Addr>().unwrap())
}

/// IPv4 minus 10.10.0.0/24 and 10.20.0.0/16 and the special-purpose ranges (0/8, 10/8,
/// 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16, 198.18/15,
/// 198.51.100/24, 203.0.113/24, 224/4, 240/4), written out by hand.
fn internet_v4() -> Vec<(u32, u32)> {
    vec![
        (v4("1.0.0.0"), v4("9.255.255.255")),
        (v4("11.0.0.0"), v4("100.63.255.255")),
        (v4("100.128.0.0"), v4("126.255.255.255")),
        (v4("128.0.0.0"), v4("169.253.255.255")),
        (v4("169.255.0.0"), v4("172.15.255.255")),
        (v4("172.32.0.0"), v4("191.255.255.255")),
        (v4("192.0.1.0"), v4("192.0.1.255")),
        (v4("192.0.3.0"), v4("192.167.255.255")),
        (v4("192.169.0.0"), v4("198.17.255.255")),
        (v4("198.20.0.0"), v4("198.51.99.255")),
        (v4("198.51.101.0"), v4("203.0.112.255")),
        (v4("203.0.114.0"), v4("223.255.255.255")),
    ]
}

fn v6(a: &str) -> u128 {
    u128::from(a.parse::<std::net::Ipv6Addr>().unwrap())
}

/// IPv6 minus ::, ::1, ::ffff:0:0/96, 64:ff9b:1::/48, 100::/64, 2001:db8::/32, 3fff::/20,
/// fc00::/7, fe80::/10 and ff00::/8, written out by hand.
fn internet_v6() -> Vec<(u128, u128)> {
    vec![
        (v6("::2"), v6("::fffe:ffff:ffff")),
        (v6("::1:0:0:0"), v6("64:ff9b:0:ffff:ffff:ffff:ffff:ffff")),
        (
            v6("64:ff9b:2::"),
            v6("ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ),
        (
            v6("100:0:0:1::"),
            v6("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"),
        ),
        (
            v6("2001:db9::"),
            v6("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ),
        (
            v6("3fff:1000::"),
            v6("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ),
        (v6("fe00::"), v6("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
        (v6("fec0::"), v6("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
    ]
}

// ---------------------------------------------------------------------------------------------
// The site, by hand
// ---------------------------------------------------------------------------------------------

const CLIENTS: &str = "10.20.0.0/16";
const SERVERS: &str = "10.10.0.0/24";
const DL_CONSOLE: &str = "10.10.0.10";
const DL_ES: &str = "10.10.0.11";
const AD: &str = "10.10.0.4";
const ADMIN_TERMINAL: &str = "10.20.0.50";
const SYSLOG_TOOL: &str = "10.10.0.20";
const DNS: &str = "10.10.0.53";
const SYSLOG_SERVER: &str = "10.10.0.30";
const SYNC_AGENT: &str = "10.10.0.21";
const AUTH_AGENT: &str = "10.10.0.22";
const NTP: &str = "pool.ntp.org";

/// Roles mapped to `zone:internet`: every internet address of both families (names excluded).
fn internet_role() -> Side {
    Side {
        v4: internet_v4(),
        v6: internet_v6(),
        names: BTreeSet::new(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A required flow at address level (the oracle).
struct Flow {
    req: &'static str,
    from: Side,
    to: Side,
    proto: Proto,
    ports: &'static [u16],
}

/// Every flow hq needs, derived by hand (see the module docs).
fn required_flows() -> Vec<Flow> {
    use Proto::{Tcp, Udp};
    let s = |items: &[&str]| Side::of(items);
    let service = s(&[CLIENTS]);
    let mut v = Vec::new();
    let mut both = |req: &'static str, peer: &str, ports: &'static [u16]| {
        v.push(Flow {
            req,
            from: s(&[peer]),
            to: service.clone(),
            proto: Tcp,
            ports,
        });
        v.push(Flow {
            req,
            from: service.clone(),
            to: s(&[peer]),
            proto: Tcp,
            ports,
        });
    };
    for peer in [DL_CONSOLE, DL_ES, AD] {
        both("devicelock/smb", peer, &[445]);
    }
    for peer in [DL_CONSOLE, DL_ES] {
        both("devicelock/service-port", peer, &[9132]);
        both("devicelock/server-port", peer, &[9133]);
    }
    let f = |req: &'static str, from: Side, to: Side, proto: Proto, ports: &'static [u16]| Flow {
        req,
        from,
        to,
        proto,
        ports,
    };
    v.extend([
        f("tmws/console", s(&[CLIENTS]), internet_role(), Tcp, &[443]),
        f("tmws/proxy", s(&[CLIENTS]), internet_role(), Tcp, &[8080]),
        f("tmws/pac-file", s(&[CLIENTS]), internet_role(), Tcp, &[80]),
        f(
            "tmws/syslog-ssh",
            s(&[ADMIN_TERMINAL]),
            s(&[SYSLOG_TOOL]),
            Tcp,
            &[22],
        ),
        f("tmws/syslog-dns", s(&[SYSLOG_TOOL]), s(&[DNS]), Tcp, &[53]),
        f("tmws/syslog-dns", s(&[SYSLOG_TOOL]), s(&[DNS]), Udp, &[53]),
        f("tmws/syslog-ntp", s(&[SYSLOG_TOOL]), s(&[NTP]), Udp, &[123]),
        f(
            "tmws/syslog-cloud",
            s(&[SYSLOG_TOOL]),
            internet_role(),
            Tcp,
            &[443],
        ),
        f(
            "tmws/syslog-forward",
            s(&[SYSLOG_TOOL]),
            s(&[SYSLOG_SERVER]),
            Udp,
            &[514],
        ),
        f(
            "tmws/agent-sync-cloud",
            s(&[SYNC_AGENT]),
            internet_role(),
            Tcp,
            &[443],
        ),
        f(
            "tmws/agent-sync-ldap",
            s(&[SYNC_AGENT]),
            s(&[AD]),
            Tcp,
            &[389, 3268],
        ),
        f(
            "tmws/agent-auth-ldap",
            s(&[AUTH_AGENT]),
            s(&[AD]),
            Tcp,
            &[389, 3268],
        ),
        f(
            "tmws/agent-captive-portal",
            s(&[CLIENTS]),
            s(&[AUTH_AGENT]),
            Tcp,
            &[443],
        ),
    ]);
    v
}

/// Why each requirement is active, and its vendor row (SPEC §5: every opening is traced).
fn requirement_meta(req: &str) -> (&'static str, &'static str, &'static str) {
    // (because, source, ports it contributes)
    match req {
        "devicelock/smb" => ("always", "003_d7d660b22b450e18.txt#5", "445"),
        "devicelock/service-port" => ("always", "003_d7d660b22b450e18.txt#6", "9132"),
        "devicelock/server-port" => ("always", "003_d7d660b22b450e18.txt#6", "9133"),
        "tmws/console" => ("always", "000_d0cc64e4443bab03.txt#1", "443"),
        "tmws/proxy" => ("always", "000_d0cc64e4443bab03.txt#2", "8080"),
        "tmws/pac-file" => ("pac_file", "000_d0cc64e4443bab03.txt#3", "80"),
        "tmws/syslog-ssh" => ("syslog_tool", "000_d0cc64e4443bab03.txt#4", "22"),
        "tmws/syslog-ntp" => ("syslog_tool", "000_d0cc64e4443bab03.txt#6", "123"),
        "tmws/syslog-cloud" => (
            "syslog_tool and not syslog_via_proxy",
            "000_d0cc64e4443bab03.txt#7",
            "443",
        ),
        "tmws/agent-sync-cloud" => ("auth == agent", "000_d0cc64e4443bab03.txt#11", "443"),
        "tmws/agent-captive-portal" => (
            "auth == agent and captive_portal",
            "000_d0cc64e4443bab03.txt#14",
            "443",
        ),
        other => panic!("requirement `{other}` must not reach any enforcement point at hq"),
    }
}

/// Which zone an address is in.
fn zone_of(a: &Addr) -> Option<&'static str> {
    if Side::of(&[CLIENTS]).contains(a) {
        Some("clients")
    } else if Side::of(&[SERVERS]).contains(a) {
        Some("servers")
    } else if let Addr::Name(n) = a {
        // Only the catalog default NTP server is a known name; it is on the internet.
        (*n == NTP).then_some("internet")
    } else if internet_role().contains(a) {
        Some("internet")
    } else {
        // Private and special-purpose space no zone claims: in no zone.
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Expected openings
// ---------------------------------------------------------------------------------------------

struct Expected {
    direction: &'static str,
    from: &'static [&'static str],
    to: &'static [&'static str],
    from_zones: &'static [&'static str],
    to_zones: &'static [&'static str],
    from_roles: &'static [&'static str],
    to_roles: &'static [&'static str],
    protocol: &'static str,
    ports: &'static [&'static str],
    requirements: &'static [&'static str],
}

const DL_ALL: &[&str] = &[
    "devicelock/server-port",
    "devicelock/service-port",
    "devicelock/smb",
];
const DL_TOOLS: &[&str] = &["devicelock.console", "devicelock.enterprise_server"];

fn dl_tools_to_service(direction: &'static str) -> Expected {
    Expected {
        direction,
        from: &[DL_CONSOLE, DL_ES],
        to: &[CLIENTS],
        from_zones: &["servers"],
        to_zones: &["clients"],
        from_roles: DL_TOOLS,
        to_roles: &["devicelock.service"],
        protocol: "tcp",
        ports: &["445", "9132-9133"],
        requirements: DL_ALL,
    }
}

fn ad_to_service(direction: &'static str) -> Expected {
    Expected {
        direction,
        from: &[AD],
        to: &[CLIENTS],
        from_zones: &["servers"],
        to_zones: &["clients"],
        from_roles: &["devicelock.ad"],
        to_roles: &["devicelock.service"],
        protocol: "tcp",
        ports: &["445"],
        requirements: &["devicelock/smb"],
    }
}

fn service_to_dl_tools(direction: &'static str) -> Expected {
    Expected {
        direction,
        from: &[CLIENTS],
        to: &[DL_CONSOLE, DL_ES],
        from_zones: &["clients"],
        to_zones: &["servers"],
        from_roles: &["devicelock.service"],
        to_roles: DL_TOOLS,
        protocol: "tcp",
        ports: &["445", "9132-9133"],
        requirements: DL_ALL,
    }
}

fn service_to_ad(direction: &'static str) -> Expected {
    Expected {
        direction,
        from: &[CLIENTS],
        to: &[AD],
        from_zones: &["clients"],
        to_zones: &["servers"],
        from_roles: &["devicelock.service"],
        to_roles: &["devicelock.ad"],
        protocol: "tcp",
        ports: &["445"],
        requirements: &["devicelock/smb"],
    }
}

fn ssh_to_syslog_tool(direction: &'static str) -> Expected {
    Expected {
        direction,
        from: &[ADMIN_TERMINAL],
        to: &[SYSLOG_TOOL],
        from_zones: &["clients"],
        to_zones: &["servers"],
        from_roles: &["tmws.admin_terminal"],
        to_roles: &["tmws.syslog_tool"],
        protocol: "tcp",
        ports: &["22"],
        requirements: &["tmws/syslog-ssh"],
    }
}

fn captive_portal(direction: &'static str) -> Expected {
    Expected {
        direction,
        from: &[CLIENTS],
        to: &[AUTH_AGENT],
        from_zones: &["clients"],
        to_zones: &["servers"],
        from_roles: &["tmws.client"],
        to_roles: &["tmws.auth_agent"],
        protocol: "tcp",
        ports: &["443"],
        requirements: &["tmws/agent-captive-portal"],
    }
}

fn clients_to_tmws_cloud(direction: &'static str) -> Expected {
    Expected {
        direction,
        from: &[CLIENTS],
        to: &["internet"],
        from_zones: &["clients"],
        to_zones: &["internet"],
        from_roles: &["tmws.client"],
        to_roles: &["tmws.cloud_console", "tmws.cloud_proxy"],
        protocol: "tcp",
        ports: &["80", "443", "8080"],
        requirements: &["tmws/console", "tmws/pac-file", "tmws/proxy"],
    }
}

fn expected(point: &str) -> Vec<Expected> {
    match point {
        "fw-core" => vec![
            dl_tools_to_service("forward"),
            ad_to_service("forward"),
            service_to_dl_tools("forward"),
            service_to_ad("forward"),
            ssh_to_syslog_tool("forward"),
            captive_portal("forward"),
        ],
        "fw-edge" => vec![
            clients_to_tmws_cloud("forward"),
            Expected {
                direction: "forward",
                from: &[SYSLOG_TOOL, SYNC_AGENT],
                to: &["internet"],
                from_zones: &["servers"],
                to_zones: &["internet"],
                from_roles: &["tmws.sync_agent", "tmws.syslog_tool"],
                to_roles: &["tmws.cloud"],
                protocol: "tcp",
                ports: &["443"],
                requirements: &["tmws/agent-sync-cloud", "tmws/syslog-cloud"],
            },
            Expected {
                direction: "forward",
                from: &[SYSLOG_TOOL],
                to: &[NTP],
                from_zones: &["servers"],
                to_zones: &["internet"],
                from_roles: &["tmws.syslog_tool"],
                to_roles: &["tmws.ntp"],
                protocol: "udp",
                ports: &["123"],
                requirements: &["tmws/syslog-ntp"],
            },
        ],
        // The Windows firewall of every client: what reaches it, and everything it sends,
        // whichever product needs it.
        "dl-agents" => vec![
            dl_tools_to_service("in"),
            ad_to_service("in"),
            service_to_dl_tools("out"),
            service_to_ad("out"),
            clients_to_tmws_cloud("out"),
            ssh_to_syslog_tool("out"),
            captive_portal("out"),
        ],
        other => panic!("no expectation for `{other}`"),
    }
}

fn show(o: &Value) -> String {
    let side = |v: &Value| {
        let s = strings(v);
        if s.len() > 4 {
            format!("[{}, … {} in all]", s[..3].join(", "), s.len())
        } else {
            format!("[{}]", s.join(", "))
        }
    };
    format!(
        "{} {} -> {} {} {:?} {:?}",
        o["direction"].as_str().unwrap_or("?"),
        side(&o["from"]),
        side(&o["to"]),
        o["protocol"].as_str().unwrap_or("?"),
        strings(&o["ports"]),
        strings(&o["requirements"]),
    )
}

fn set_of(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// (1) every expected opening exists exactly once, with its requirements, zones, roles and
/// provenance; (2) there is no other opening.
fn check_point_openings(id: &str) {
    let actual = openings(plan(), id);
    let expected = expected(id);
    let mut used = vec![false; actual.len()];
    let mut problems = Vec::new();
    for e in &expected {
        let (from, to) = (Side::of(e.from), Side::of(e.to));
        let matches: Vec<usize> = actual
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o["direction"] == e.direction
                    && o["protocol"] == e.protocol
                    && strings(&o["ports"]) == e.ports
                    && Side::from_json(&o["from"]) == from
                    && Side::from_json(&o["to"]) == to
            })
            .map(|(i, _)| i)
            .collect();
        let label = format!(
            "{} {:?} -> {:?} {} {:?}",
            e.direction, e.from, e.to, e.protocol, e.ports
        );
        match matches.as_slice() {
            [i] => {
                used[*i] = true;
                let o = &actual[*i];
                let reqs: BTreeSet<String> = strings(&o["requirements"]).into_iter().collect();
                if reqs != set_of(e.requirements) {
                    problems.push(format!(
                        "{label}: requirements {reqs:?}, expected {:?}",
                        e.requirements
                    ));
                }
                for (field, want) in [
                    ("from_zones", e.from_zones),
                    ("to_zones", e.to_zones),
                    ("from_roles", e.from_roles),
                    ("to_roles", e.to_roles),
                ] {
                    if strings(&o[field]) != want {
                        problems.push(format!(
                            "{label}: {field} {:?}, expected {want:?}",
                            strings(&o[field])
                        ));
                    }
                }
                // Printed as the fewest CIDRs (then names), so a rule count means something.
                for (field, side) in [("from", &from), ("to", &to)] {
                    if strings(&o[field]) != side.optimal_cidrs() {
                        problems.push(format!(
                            "{label}: {field} printed as {:?}, the optimal cover is {:?}",
                            strings(&o[field]),
                            side.optimal_cidrs()
                        ));
                    }
                }
                check_provenance(&label, o, e, &mut problems);
            }
            [] => problems.push(format!("missing opening: {label}")),
            many => problems.push(format!(
                "opening {label} appears {} times (openings {many:?}): the plan is not minimal",
                many.len()
            )),
        }
    }
    for (i, o) in actual.iter().enumerate() {
        if !used[i] {
            problems.push(format!("unexpected opening #{}: {}", i + 1, show(o)));
        }
    }
    assert!(
        problems.is_empty(),
        "{id}: the plan differs from the hand-written openings:\n  {}\n\nactual openings:\n  {}",
        problems.join("\n  "),
        actual.iter().map(show).collect::<Vec<_>>().join("\n  ")
    );
    assert_eq!(actual.len(), expected.len(), "{id}: number of openings");
}

fn check_provenance(label: &str, o: &Value, e: &Expected, problems: &mut Vec<String>) {
    let prov = o["provenance"].as_array().expect("provenance is an array");
    let reqs: BTreeSet<String> = prov
        .iter()
        .map(|p| p["requirement"].as_str().unwrap().to_string())
        .collect();
    if reqs != set_of(e.requirements) {
        problems.push(format!(
            "{label}: provenance names {reqs:?}, expected {:?}",
            e.requirements
        ));
    }
    for p in prov {
        let req = p["requirement"].as_str().unwrap();
        let (because, source, ports) = requirement_meta(req);
        if p["source"] != source {
            problems.push(format!(
                "{label}: {req} cites {}, expected {source}",
                p["source"]
            ));
        }
        if strings(&p["because"]) != [because] {
            problems.push(format!(
                "{label}: {req} because {:?}, expected [{because:?}]",
                strings(&p["because"])
            ));
        }
        // Additive field: when the plan says which ports a requirement contributes, it must be
        // exactly that requirement's ports.
        if let Some(pp) = p.get("ports")
            && strings(pp) != [ports]
        {
            problems.push(format!(
                "{label}: {req} contributes {:?}, expected [{ports:?}]",
                strings(pp)
            ));
        }
    }
}

#[test]
fn plan_has_the_three_enforcement_points_of_the_site() {
    let ids: Vec<(String, String, String)> = plan()["enforcement_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
                p["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("fw-core", "network", "nftables"),
        ("fw-edge", "network", "iptables"),
        ("dl-agents", "host", "windows"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(ids, want);
    assert_eq!(plan()["site"], "hq");
}

#[test]
fn products_resolve_the_options_of_hq() {
    let p = &plan()["products"];
    assert_eq!(p[0]["id"], "devicelock");
    let dl = &p[0]["options"];
    assert_eq!(dl["rpc_ports"], "fixed");
    assert_eq!(dl["connect_by"], "ip");
    assert_eq!(dl["netbios"], false);
    assert_eq!(dl["service_port"].to_string().trim_matches('"'), "9132");
    assert_eq!(dl["server_port"].to_string().trim_matches('"'), "9133");
    assert_eq!(p[1]["id"], "tmws");
    let t = &p[1]["options"];
    for (k, v) in [
        ("auth", "agent"),
        ("proxy_port", "8080"),
        ("syslog_protocol", "udp"),
        ("syslog_port", "514"),
    ] {
        assert_eq!(t[k].to_string().trim_matches('"'), v, "tmws {k}");
    }
    for (k, v) in [
        ("captive_portal", true),
        ("pac_file", true),
        ("syslog_tool", true),
        ("guest_users", false),
        ("ldap_ssl", false),
        ("syslog_via_proxy", false),
        ("transparent_auth", false),
    ] {
        assert_eq!(t[k], v, "tmws {k}");
    }
    // Every role the active requirements need is mapped (or deliberately `[]`). The one warning:
    // the roles on the internet do not reach the private ranges hq leaves unclaimed.
    let warnings = plan()["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0]["en"].as_str().unwrap();
    assert!(
        w.starts_with("tmws.cloud, tmws.cloud_console, tmws.cloud_proxy stand for the internet")
            && w.contains("172.16.0.0/12 (private, RFC 1918)")
            && w.contains("192.168.0.0/16 (private, RFC 1918)"),
        "{w}"
    );
    // The only active requirement with risk advice is the captive portal.
    let findings: Vec<(String, String)> = plan()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["requirement"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [(
            "tmws/agent-captive-portal".to_string(),
            "warning".to_string()
        )]
    );
}

#[test]
fn fw_core_openings_are_exactly_the_hand_written_ones() {
    check_point_openings("fw-core");
}

#[test]
fn fw_edge_openings_are_exactly_the_hand_written_ones() {
    check_point_openings("fw-edge");
}

#[test]
fn dl_agents_openings_are_exactly_the_hand_written_ones() {
    check_point_openings("dl-agents");
}

#[test]
fn internet_destination_is_the_exact_complement_of_the_zones() {
    let edge = openings(plan(), "fw-edge");
    let to_internet: Vec<&Value> = edge.iter().filter(|o| o["protocol"] == "tcp").collect();
    assert_eq!(
        to_internet.len(),
        2,
        "two tcp openings towards the internet"
    );
    // IPv4 minus the zones and the special-purpose ranges no zone claims (RFC 1918 private,
    // RFC 6598 shared, loopback, link-local, documentation, multicast, reserved...): the
    // fewest prefixes of the hand-written ranges of `internet_v4`. 103 of them, which is why
    // renderers write "not the site" instead.
    let complement = Side::of(&["internet"]).optimal_cidrs();
    assert_eq!(complement.len(), 103);
    for p in [
        "1.0.0.0/8",
        "8.0.0.0/7",
        "172.0.0.0/12",
        "172.32.0.0/11",
        "208.0.0.0/4",
    ] {
        assert!(complement.contains(&p.to_string()), "{p}");
    }
    for o in to_internet {
        assert_eq!(strings(&o["to_zones"]), ["internet"]);
        assert_eq!(strings(&o["to"]), complement, "{}", show(o));
        let to = Side::from_json(&o["to"]);
        assert_eq!(to, Side::of(&["internet"]));
        for inside in ["10.20.0.0", "10.20.255.255", "10.10.0.0", "10.10.0.255"] {
            assert!(!to.contains(&ip(inside)), "{inside} is not internet");
        }
        // Private and special ranges no zone claims are nobody's, not the internet.
        for nowhere in [
            "0.0.0.0",
            "255.255.255.255",
            "10.10.1.0",
            "10.21.0.0",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.1.1",
            "203.0.113.7",
            "224.0.0.1",
        ] {
            assert!(!to.contains(&ip(nowhere)), "{nowhere} is not internet");
        }
        for outside in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.0",
            "223.255.255.255",
        ] {
            assert!(to.contains(&ip(outside)), "{outside} is internet");
        }
        assert!(
            strings(&o["to"]).contains(&"8.0.0.0/7".to_string()),
            "8.8.8.8's covering prefix"
        );
        // No hq source has IPv6, so no IPv6 opening (nor ::/0) may appear.
        assert!(to.v6.is_empty(), "{}", show(o));
    }
}

#[test]
fn flows_inside_one_zone_cross_no_network_firewall() {
    // servers → servers: sync_agent/auth_agent → ad (LDAP), syslog_tool → dns, syslog_server.
    let intra = [
        (SYNC_AGENT, AD, Proto::Tcp, 389),
        (SYNC_AGENT, AD, Proto::Tcp, 3268),
        (AUTH_AGENT, AD, Proto::Tcp, 389),
        (AUTH_AGENT, AD, Proto::Tcp, 3268),
        (SYSLOG_TOOL, DNS, Proto::Tcp, 53),
        (SYSLOG_TOOL, DNS, Proto::Udp, 53),
        (SYSLOG_TOOL, SYSLOG_SERVER, Proto::Udp, 514),
    ];
    for (s, d, proto, port) in intra {
        for id in ["fw-core", "fw-edge"] {
            assert!(
                !permits(plan(), id, "forward", &ip(s), &ip(d), proto, port),
                "{id} must not carry the intra-zone flow {s} -> {d} {}/{port}",
                proto.name()
            );
        }
        for dir in ["in", "out"] {
            assert!(
                !permits(plan(), "dl-agents", dir, &ip(s), &ip(d), proto, port),
                "dl-agents has no business with {s} -> {d}"
            );
        }
    }
    // Nor does any requirement of those flows appear at any point.
    for id in ["fw-core", "fw-edge", "dl-agents"] {
        for o in openings(plan(), id) {
            for r in strings(&o["requirements"]) {
                assert!(
                    ![
                        "tmws/agent-sync-ldap",
                        "tmws/agent-auth-ldap",
                        "tmws/syslog-dns",
                        "tmws/syslog-forward"
                    ]
                    .contains(&r.as_str()),
                    "{id}: {r} never crosses a point at hq: {}",
                    show(o)
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Packet-level check, independent of grouping
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Addr {
    Ip(IpAddr),
    Name(&'static str),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Ip(a) => write!(f, "{a}"),
            Addr::Name(n) => write!(f, "{n}"),
        }
    }
}

fn ip(s: &str) -> Addr {
    Addr::Ip(s.parse().unwrap())
}

fn port_ranges(v: &Value) -> Vec<(u16, u16)> {
    strings(v)
        .iter()
        .map(|p| match p.split_once('-') {
            Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
            None => {
                let n = p.parse().unwrap();
                (n, n)
            }
        })
        .collect()
}

/// An opening, parsed once for the packet checks.
struct Parsed {
    direction: String,
    protocol: String,
    ports: Vec<(u16, u16)>,
    from: Side,
    to: Side,
}

fn parsed(plan: &Value, id: &str) -> Vec<Parsed> {
    openings(plan, id)
        .iter()
        .map(|o| Parsed {
            direction: o["direction"].as_str().unwrap().to_string(),
            protocol: o["protocol"].as_str().unwrap().to_string(),
            ports: port_ranges(&o["ports"]),
            from: Side::from_json(&o["from"]),
            to: Side::from_json(&o["to"]),
        })
        .collect()
}

/// Whether the openings permit the packet in `direction`.
fn permits_in(
    ops: &[Parsed],
    direction: &str,
    src: &Addr,
    dst: &Addr,
    proto: Proto,
    port: u16,
) -> bool {
    ops.iter().any(|o| {
        o.direction == direction
            && o.protocol == proto.name()
            && o.ports.iter().any(|(a, b)| (*a..=*b).contains(&port))
            && o.from.contains(src)
            && o.to.contains(dst)
    })
}

/// Whether point `id` of the plan permits the packet in `direction`.
fn permits(
    plan: &Value,
    id: &str,
    direction: &str,
    src: &Addr,
    dst: &Addr,
    proto: Proto,
    port: u16,
) -> bool {
    permits_in(&parsed(plan, id), direction, src, dst, proto, port)
}

/// The flows that need the packet (the oracle), regardless of enforcement point.
fn needed_by<'f>(
    flows: &'f [Flow],
    src: &Addr,
    dst: &Addr,
    proto: Proto,
    port: u16,
) -> Vec<&'f Flow> {
    flows
        .iter()
        .filter(|f| {
            f.proto == proto
                && f.ports.contains(&port)
                && f.from.contains(src)
                && f.to.contains(dst)
        })
        .collect()
}

/// Whether point `id` must permit the packet in `direction` (SPEC §4: a flow crosses every
/// network firewall between its zones and the host firewalls of its endpoints).
fn should_permit(
    flows: &[Flow],
    id: &str,
    direction: &str,
    src: &Addr,
    dst: &Addr,
    proto: Proto,
    port: u16,
) -> bool {
    if needed_by(flows, src, dst, proto, port).is_empty() {
        return false;
    }
    let (zs, zd) = (zone_of(src), zone_of(dst));
    let members = Side::of(&[CLIENTS]);
    match (id, direction) {
        ("fw-core", "forward") => matches!(
            (zs, zd),
            (Some("clients"), Some("servers")) | (Some("servers"), Some("clients"))
        ),
        ("fw-edge", "forward") => {
            let inside = |z: Option<&str>| matches!(z, Some("clients" | "servers"));
            (inside(zs) && zd == Some("internet")) || (zs == Some("internet") && inside(zd))
        }
        ("dl-agents", "in") => members.contains(dst),
        ("dl-agents", "out") => members.contains(src),
        _ => false,
    }
}

/// Sample hosts: every role's host(s), neighbours of them, hosts of no role in each zone, and
/// internet addresses (including private space outside the zones).
fn sample_hosts() -> Vec<Addr> {
    let mut v: Vec<Addr> = [
        // clients (all are devicelock.service and tmws.client)
        "10.20.0.0",
        "10.20.0.1",
        "10.20.0.49",
        ADMIN_TERMINAL,
        "10.20.0.51",
        "10.20.77.9",
        "10.20.255.255",
        // servers: roles and their neighbours
        "10.10.0.0",
        "10.10.0.3",
        AD,
        "10.10.0.5",
        "10.10.0.9",
        DL_CONSOLE,
        DL_ES,
        "10.10.0.12",
        "10.10.0.19",
        SYSLOG_TOOL,
        SYNC_AGENT,
        AUTH_AGENT,
        "10.10.0.23",
        SYSLOG_SERVER,
        DNS,
        "10.10.0.99",
        "10.10.0.255",
        // internet
        "8.8.8.8",
        "1.1.1.1",
        "203.0.113.7",
        "10.10.1.1",
        "10.19.255.255",
        "10.21.0.0",
        "172.16.0.1",
        "192.168.1.1",
        "255.255.255.255",
        "2001:db8::1",
        "2001:db8::2",
    ]
    .into_iter()
    .map(ip)
    .collect();
    v.push(Addr::Name(NTP));
    v.push(Addr::Name("time.example.com"));
    v
}

fn sample_ports(flows: &[Flow]) -> Vec<u16> {
    let mut ports: BTreeSet<u16> = [
        1, 21, 23, 25, 53, 67, 80, 88, 135, 137, 138, 139, 389, 443, 636, 1024, 3268, 3269, 3389,
        8080, 8081, 8443, 65535,
    ]
    .into_iter()
    .collect();
    for f in flows {
        for &p in f.ports {
            ports.extend([p - 1, p, p + 1]);
        }
    }
    ports.into_iter().collect()
}

fn same_family(a: &Addr, b: &Addr) -> bool {
    match (a, b) {
        (Addr::Ip(IpAddr::V4(_)), Addr::Ip(IpAddr::V4(_)))
        | (Addr::Ip(IpAddr::V6(_)), Addr::Ip(IpAddr::V6(_))) => true,
        // A name is resolved by whoever sends to it.
        (Addr::Ip(_), Addr::Name(_)) => true,
        _ => false,
    }
}

/// Every sample packet at point `id` in `direction`: permitted iff a required flow needs it
/// through that point. Also proves the check is not vacuous: every flow that should cross the
/// point has a permitted sample.
fn check_packets(id: &str, direction: &str) {
    let flows = required_flows();
    let hosts = sample_hosts();
    let ports = sample_ports(&flows);
    let ops = parsed(plan(), id);
    let mut wrong = Vec::new();
    let mut permitted = 0usize;
    let mut total = 0usize;
    let mut flows_seen = BTreeSet::new();
    for s in &hosts {
        for d in &hosts {
            if s == d || !same_family(s, d) {
                continue;
            }
            for proto in [Proto::Tcp, Proto::Udp] {
                for &port in &ports {
                    total += 1;
                    let want = should_permit(&flows, id, direction, s, d, proto, port);
                    let got = permits_in(&ops, direction, s, d, proto, port);
                    if want {
                        permitted += 1;
                        for f in needed_by(&flows, s, d, proto, port) {
                            flows_seen.insert(f.req);
                        }
                    }
                    if want != got {
                        let why = needed_by(&flows, s, d, proto, port)
                            .iter()
                            .map(|f| f.req)
                            .collect::<Vec<_>>();
                        wrong.push(format!(
                            "{} {direction} {s} -> {d} {}/{port}: plan {}, should {} (needed by {why:?})",
                            id,
                            proto.name(),
                            if got { "permits" } else { "drops" },
                            if want { "permit" } else { "drop" },
                        ));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {total} sample packets are wrong at {id} ({direction}); first ones:\n  {}",
        wrong.len(),
        wrong
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    assert!(permitted > 0 && permitted < total, "{id}: vacuous sample");
    // Which requirements must be exercised at this point (by hand).
    let must: &[&str] = match (id, direction) {
        ("fw-core", _) => &[
            "devicelock/smb",
            "devicelock/service-port",
            "devicelock/server-port",
            "tmws/syslog-ssh",
            "tmws/agent-captive-portal",
        ],
        ("fw-edge", _) => &[
            "tmws/console",
            "tmws/proxy",
            "tmws/pac-file",
            "tmws/syslog-ntp",
            "tmws/syslog-cloud",
            "tmws/agent-sync-cloud",
        ],
        ("dl-agents", "in") => &[
            "devicelock/smb",
            "devicelock/service-port",
            "devicelock/server-port",
        ],
        ("dl-agents", "out") => &[
            "devicelock/smb",
            "devicelock/service-port",
            "devicelock/server-port",
            "tmws/console",
            "tmws/proxy",
            "tmws/pac-file",
            "tmws/syslog-ssh",
            "tmws/agent-captive-portal",
        ],
        _ => unreachable!(),
    };
    assert_eq!(
        flows_seen,
        must.iter().copied().collect::<BTreeSet<_>>(),
        "{id} ({direction}): requirements whose packets cross it"
    );
}

/// Named spot checks, so a failure reads as a sentence.
fn spot(id: &str, direction: &str, s: &str, d: &str, proto: Proto, port: u16, want: bool) {
    let dst = if d == NTP { Addr::Name(NTP) } else { ip(d) };
    let got = permits(plan(), id, direction, &ip(s), &dst, proto, port);
    assert_eq!(
        got,
        want,
        "{id} {direction} {s} -> {d} {}/{port} should be {}",
        proto.name(),
        if want { "permitted" } else { "dropped" }
    );
}

#[test]
fn fw_core_permits_exactly_the_required_packets() {
    use Proto::{Tcp, Udp};
    check_packets("fw-core", "forward");
    let f = |s, d, p, n, w| spot("fw-core", "forward", s, d, p, n, w);
    f("10.20.0.1", DL_CONSOLE, Tcp, 445, true);
    f("10.20.0.1", DL_CONSOLE, Tcp, 444, false); // port - 1
    f("10.20.0.1", DL_CONSOLE, Tcp, 446, false); // port + 1
    f("10.20.0.1", DL_CONSOLE, Udp, 445, false); // other protocol
    f("10.20.0.1", DL_ES, Tcp, 9133, true);
    f("10.20.0.1", DL_ES, Tcp, 9134, false);
    f(DL_ES, "10.20.0.1", Tcp, 9132, true); // both ways
    f(AD, "10.20.0.1", Tcp, 445, true);
    f(AD, "10.20.0.1", Tcp, 9132, false); // AD has only SMB
    f("10.20.0.1", AD, Tcp, 9133, false);
    f("10.20.0.1", "10.10.0.12", Tcp, 445, false); // no role there
    f("10.20.0.1", DL_CONSOLE, Tcp, 135, false); // fixed RPC ports: no endpoint mapper
    f("10.20.0.1", DL_CONSOLE, Udp, 137, false); // connect by IP: no NetBIOS names
    f("10.20.0.1", DL_CONSOLE, Tcp, 139, false); // netbios=false
    f(ADMIN_TERMINAL, SYSLOG_TOOL, Tcp, 22, true);
    f("10.20.0.51", SYSLOG_TOOL, Tcp, 22, false); // not the admin terminal
    f(SYSLOG_TOOL, ADMIN_TERMINAL, Tcp, 22, false); // swapped
    f("10.20.9.9", AUTH_AGENT, Tcp, 443, true);
    f(AUTH_AGENT, "10.20.9.9", Tcp, 443, false); // swapped
    f("10.20.9.9", AUTH_AGENT, Tcp, 80, false); // no transparent auth
    f(SYNC_AGENT, AD, Tcp, 389, false); // inside `servers`
    f("10.20.0.1", "8.8.8.8", Tcp, 443, false); // the edge's business
}

#[test]
fn fw_edge_permits_exactly_the_required_packets() {
    use Proto::{Tcp, Udp};
    check_packets("fw-edge", "forward");
    let f = |s, d, p, n, w| spot("fw-edge", "forward", s, d, p, n, w);
    f("10.20.0.1", "8.8.8.8", Tcp, 443, true);
    f("10.20.0.1", "8.8.8.8", Tcp, 80, true);
    f("10.20.0.1", "8.8.8.8", Tcp, 8080, true);
    f("10.20.0.1", "8.8.8.8", Tcp, 8081, false); // no guest users
    f("10.20.0.1", "8.8.8.8", Udp, 443, false);
    f("8.8.8.8", "10.20.0.1", Tcp, 443, false); // nothing inbound
    f("8.8.8.8", AD, Tcp, 389, false); // agent auth: AD stays inside
    f("8.8.8.8", AUTH_AGENT, Tcp, 80, false); // no transparent auth
    f(SYSLOG_TOOL, "8.8.8.8", Tcp, 443, true);
    f(SYNC_AGENT, "8.8.8.8", Tcp, 443, true);
    f(AUTH_AGENT, "8.8.8.8", Tcp, 443, false); // the auth agent does not go out
    f(DL_CONSOLE, "8.8.8.8", Tcp, 443, false);
    f(SYSLOG_TOOL, NTP, Udp, 123, true);
    f(SYSLOG_TOOL, NTP, Tcp, 123, false);
    f(SYSLOG_TOOL, NTP, Udp, 124, false);
    f(SYNC_AGENT, NTP, Udp, 123, false);
    f(SYSLOG_TOOL, "8.8.8.8", Udp, 123, false); // NTP goes to pool.ntp.org only
    f(SYSLOG_TOOL, "8.8.8.8", Udp, 514, false); // the syslog server is inside
    f("10.20.0.1", DL_CONSOLE, Tcp, 445, false); // the core's business
}

#[test]
fn dl_agents_permits_exactly_the_required_packets() {
    use Proto::{Tcp, Udp};
    check_packets("dl-agents", "in");
    check_packets("dl-agents", "out");
    let f = |dir, s, d, p, n, w| spot("dl-agents", dir, s, d, p, n, w);
    f("in", DL_CONSOLE, "10.20.3.4", Tcp, 9132, true);
    f("in", DL_CONSOLE, "10.20.3.4", Tcp, 9131, false);
    f("in", AD, "10.20.3.4", Tcp, 445, true);
    f("in", AD, "10.20.3.4", Tcp, 9133, false);
    f("in", "10.10.0.12", "10.20.3.4", Tcp, 445, false);
    f("in", "8.8.8.8", "10.20.3.4", Tcp, 443, false);
    f("in", AUTH_AGENT, "10.20.3.4", Tcp, 443, false);
    f("out", "10.20.3.4", DL_ES, Tcp, 9133, true);
    f("out", "10.20.3.4", DL_ES, Udp, 9133, false);
    f("out", "10.20.3.4", "8.8.8.8", Tcp, 8080, true);
    f("out", "10.20.3.4", AUTH_AGENT, Tcp, 443, true);
    f("out", ADMIN_TERMINAL, SYSLOG_TOOL, Tcp, 22, true);
    f("out", "10.20.3.4", SYSLOG_TOOL, Tcp, 22, false);
    f("in", ADMIN_TERMINAL, SYSLOG_TOOL, Tcp, 22, false); // not into a client
    f("out", DL_CONSOLE, "10.20.3.4", Tcp, 445, false); // that is `in`
    f("out", SYSLOG_TOOL, NTP, Udp, 123, false); // not a client's flow
}

// ---------------------------------------------------------------------------------------------
// --for
// ---------------------------------------------------------------------------------------------

#[test]
fn for_fw_core_returns_only_fw_core() {
    let v = json_of(&[
        "plan",
        "examples/hq.yaml",
        "--for",
        "fw-core",
        "--format",
        "json",
    ]);
    let points = v["enforcement_points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "{v:#}");
    assert_eq!(points[0]["id"], "fw-core");
    assert_eq!(
        &points[0],
        point(plan(), "fw-core"),
        "same as in the full plan"
    );
}

#[test]
fn for_an_unknown_point_exits_2_naming_the_valid_points() {
    let out = portplan()
        .args([
            "plan",
            "examples/hq.yaml",
            "--for",
            "nope",
            "--format",
            "json",
        ])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty(), "nothing on stdout on error");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("`nope`"), "names what was asked for: {err}");
    for id in ["fw-core", "fw-edge", "dl-agents"] {
        assert!(err.contains(id), "names the valid point {id}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// What an admin reads
// ---------------------------------------------------------------------------------------------

#[test]
fn fw_core_table_en() {
    let out = stdout_of(&["plan", "examples/hq.yaml", "--for", "fw-core"]);
    assert!(!out.contains("fw-edge") && !out.contains("dl-agents"));
    insta::assert_snapshot!("fw_core_table_en", out);
}

#[test]
fn fw_core_table_ja() {
    let out = stdout_of(&[
        "plan",
        "examples/hq.yaml",
        "--for",
        "fw-core",
        "--lang",
        "ja",
    ]);
    let by_locale = portplan()
        .env("LANG", "ja_JP.UTF-8")
        .args(["plan", "examples/hq.yaml", "--for", "fw-core"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(by_locale).unwrap(),
        out,
        "LANG=ja_JP.UTF-8 and --lang ja agree"
    );
    insta::assert_snapshot!("fw_core_table_ja", out);
}
