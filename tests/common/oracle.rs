//! The kernel oracle: what a real Linux router does with a ruleset, packet by packet.
//!
//! A [`Router`] is one router namespace with interfaces named by the test (`eth0`, `wan`,
//! `br-lan`, ...), each a veth to its own small "end" namespace. A ruleset is loaded into the
//! router (nft, iptables-restore, ipset), crafted packets ([`Probe`]s) are sent, and
//! [`Router::fates`] says for each whether the kernel let it through ([`Fate`]) and, if so, its
//! header as it arrived (NAT may have rewritten it).
//!
//! How each [`Path`] is driven and observed:
//! - **Forward**: the end namespace behind `iif` writes a raw Ethernet frame (AF_PACKET) to the
//!   router interface's MAC, so any source address works: no listener, no handshake. Policy
//!   routing (`ip rule iif X lookup T`, `T` holding `default via <gateway> dev oif` with a
//!   permanent neighbour entry) sends every destination out of `oif`, where an AF_PACKET socket
//!   in that end namespace captures frames for any address. Passed iff the frame arrives there
//!   (at any end: `seen.oif` says which).
//! - **Input**: the destination is added to `iif` as a local address (/32, /128; a multicast
//!   destination is joined on `iif`, 255.255.255.255 needs nothing), the frame enters on `iif`,
//!   and an observer table `inet pp_oracle` (added only while the batch runs, so dumps never
//!   show it) records the probe's id from an input base chain at priority 2147483647, the last
//!   one the kernel runs: a drop in any earlier base chain is final, an accept only ends its own
//!   chain, so exactly the packets delivered locally reach it.
//! - **Output**: the router itself sends the packet through a raw IP socket (IP_HDRINCL /
//!   IPV6_HDRINCL: OUTPUT and POSTROUTING run; AF_PACKET would bypass netfilter), routed out of
//!   `oif` by `ip rule iif lo lookup T`; Passed iff captured behind `oif`.
//!
//! Routing back: every probe's (unicast) source gets a host route through its `iif` in the
//! table the router's own lookups use (`ip rule iif lo`), so reverse-path filters
//! (`fib saddr . iif oif missing drop`, `-m rpfilter`) pass, as on a router whose routes match
//! its traffic, and the router's replies (rejects) go back where the probe came from.
//!
//! Probes are told apart by the IPv4 identification / IPv6 flow label (NAT rewrites addresses
//! and ports but not these), numbered 1.. per batch; an ICMP probe must also keep its type, and
//! an ICMP error probe its embedded datagram (the router's own errors carry arbitrary ids).
//! Every probe is the first packet of its
//! connection: conntrack is flushed before each batch, and probes whose connection (5-tuple in
//! either direction, the embedded datagram of an ICMP error, the address pair for protocols
//! conntrack does not track by port) would repeat within a batch go to separate batches.
//!
//! What the kernel drops before netfilter's FORWARD/INPUT ever sees it (martians, link-local
//! forwarding, loopback, multicast sources...) is refused by [`routable`], and `fates` panics on
//! such a probe instead of reporting a silent `Dropped`. Addresses 198.18.255.0/24 and
//! fdff:7070:7070::/48 belong to the lab's own links and are refused too.
//!
//! Bounded: a batch is sent whole, frames are read until all arrived or nothing came for
//! [`QUIET`] (at most [`CAP`] after the last send); no loop waits on the kernel unboundedly.
//! A batch costs about QUIET plus a few `ip`/`nft`/`conntrack` runs; 5,000 forward probes in
//! one batch take about 0.7 s. Batches split on: a repeated connection, a second `oif` for
//! one `iif` (Forward) or per call (Output), a source arriving on two interfaces, an input
//! destination that is another probe's source, more than 2,000 input destinations.
//! Everything is torn down on drop (also when a test panics). Names: `ppo<pid><tag>r` for the
//! router, `ppo<pid><tag>e<k>` for the ends.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// TCP flag bits for [`Probe::tcp_flags`].
pub const FIN: u8 = 1;
pub const SYN: u8 = 2;
pub const RST: u8 = 4;
pub const PSH: u8 = 8;
pub const ACK: u8 = 16;
pub const URG: u8 = 32;
pub const ECE: u8 = 64;
pub const CWR: u8 = 128;

/// How long the capture waits after the last frame (sent or received) before deciding.
pub const QUIET: Duration = Duration::from_millis(300);
/// The most a batch waits after its last send, whatever arrives.
pub const CAP: Duration = Duration::from_secs(5);
/// Probes per batch (ids are 16-bit for IPv4).
const MAX_BATCH: usize = 60_000;
/// Distinct input destinations per batch: adding an IPv4 address costs time linear in the
/// addresses already there, so thousands at once would cost seconds.
const MAX_LOCAL: usize = 2_000;

/// Which netfilter path a probe takes through the router.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// In on `iif`, routed out of `oif`: PREROUTING, FORWARD, POSTROUTING.
    Forward,
    /// In on `iif` to a local address: PREROUTING, INPUT.
    Input,
    /// Sent by the router out of `oif`: OUTPUT, POSTROUTING.
    Output,
}

/// One crafted packet. TTL / hop limit 64, no IP options or IPv6 extension headers.
///
/// Per protocol (`proto`, the IP protocol / next header):
/// - 6 TCP: `sport`, `dport`, `tcp_flags`; window 64240; a SYN carries an MSS option; no payload.
/// - 17 UDP: ports and 8 bytes of payload. 132 SCTP: ports, one INIT chunk, valid CRC32c.
/// - 1 ICMP (IPv4) / 58 ICMPv6 (IPv6): `icmp_type`, `icmp_code`. Echo-like types (echo,
///   timestamp, information, address mask; ICMPv6 echo) carry identifier = `sport`,
///   sequence = `dport`. Error types (ICMP 3, 4, 5, 11, 12; ICMPv6 1-4) embed the datagram
///   they report: UDP from `dst`:`dport` to `src`:`sport`. Neighbour discovery types carry a
///   target address; every other type 4 zero bytes and 8 bytes of payload.
/// - 47 GRE: a version-0 header (protocol 0x0800) and 4 bytes of payload.
/// - any other protocol: 8 bytes, `sport` and `dport` (big-endian) then 4 zero bytes, so a
///   port-like match at the transport offset (`th dport`) sees them (ESP: SPI).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    /// FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128.
    pub tcp_flags: u8,
    pub icmp_type: u8,
    pub icmp_code: u8,
    /// Router interface the probe enters on (Forward, Input).
    pub iif: Option<String>,
    /// Router interface the probe leaves by (Forward, Output).
    pub oif: Option<String>,
}

fn addr(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or_else(|_| panic!("not an IP address: {s}"))
}

impl Probe {
    /// A probe of `proto` with zero ports and flags.
    pub fn new(src: &str, dst: &str, proto: u8) -> Probe {
        Probe {
            src: addr(src),
            dst: addr(dst),
            proto,
            sport: 0,
            dport: 0,
            tcp_flags: 0,
            icmp_type: 0,
            icmp_code: 0,
            iif: None,
            oif: None,
        }
    }

    /// TCP with these flags.
    pub fn tcp(src: &str, dst: &str, sport: u16, dport: u16, flags: u8) -> Probe {
        Probe {
            sport,
            dport,
            tcp_flags: flags,
            ..Probe::new(src, dst, 6)
        }
    }

    /// UDP.
    pub fn udp(src: &str, dst: &str, sport: u16, dport: u16) -> Probe {
        Probe {
            sport,
            dport,
            ..Probe::new(src, dst, 17)
        }
    }

    /// SCTP INIT.
    pub fn sctp(src: &str, dst: &str, sport: u16, dport: u16) -> Probe {
        Probe {
            sport,
            dport,
            ..Probe::new(src, dst, 132)
        }
    }

    /// ICMP (IPv4) or ICMPv6 (IPv6 addresses), identifier 1 for echo-like types.
    pub fn icmp(src: &str, dst: &str, icmp_type: u8, icmp_code: u8) -> Probe {
        let p = Probe::new(src, dst, 1);
        Probe {
            proto: if p.src.is_ipv6() { 58 } else { 1 },
            sport: 1,
            icmp_type,
            icmp_code,
            ..p
        }
    }

    /// For [`Path::Forward`]: in on `iif`, out of `oif`.
    pub fn via(self, iif: &str, oif: &str) -> Probe {
        Probe {
            iif: Some(iif.to_string()),
            oif: Some(oif.to_string()),
            ..self
        }
    }

    /// For [`Path::Input`]: in on `iif`.
    pub fn arriving(self, iif: &str) -> Probe {
        Probe {
            iif: Some(iif.to_string()),
            oif: None,
            ..self
        }
    }

    /// For [`Path::Output`]: out of `oif`.
    pub fn leaving(self, oif: &str) -> Probe {
        Probe {
            iif: None,
            oif: Some(oif.to_string()),
            ..self
        }
    }

    fn v6(&self) -> bool {
        self.src.is_ipv6()
    }

    fn is_icmp(&self) -> bool {
        (self.proto == 1 && !self.v6()) || (self.proto == 58 && self.v6())
    }

    /// Echo-like ICMP types: identifier and sequence after the checksum.
    fn icmp_echo_like(&self) -> bool {
        self.is_icmp()
            && if self.v6() {
                matches!(self.icmp_type, 128 | 129)
            } else {
                matches!(self.icmp_type, 0 | 8 | 13..=18)
            }
    }

    /// ICMP error types: they embed the datagram they report.
    fn icmp_error(&self) -> bool {
        self.is_icmp()
            && if self.v6() {
                matches!(self.icmp_type, 1..=4)
            } else {
                matches!(self.icmp_type, 3 | 4 | 5 | 11 | 12)
            }
    }
}

/// What the kernel did with a probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It got through. `seen` is the header as observed: captured behind the interface it left
    /// by (Forward, Output; `oif` is that interface), or as the input observer read it (Input:
    /// addresses, ports, ICMP type/code and echo identifier; the rest is the probe's).
    Passed {
        seen: Probe,
    },
    Dropped,
}

impl Fate {
    pub fn passed(&self) -> bool {
        matches!(self, Fate::Passed { .. })
    }
}

const NET4: [u8; 3] = [198, 18, 255];
const NET6: [u16; 3] = [0xfdff, 0x7070, 0x7070];

/// Whether `a` lies in the lab's own link addresses (198.18.255.0/24, fdff:7070:7070::/48).
fn reserved(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => a.octets()[..3] == NET4,
        IpAddr::V6(a) => a.segments()[..3] == NET6,
    }
}

/// IPv6 next headers the kernel parses as extension headers (not crafted by the oracle).
const V6_EXT: [u8; 6] = [0, 43, 44, 51, 59, 60];

/// Whether the kernel lets netfilter's FORWARD (resp. INPUT; OUTPUT and POSTROUTING) hook
/// see this probe at all, and whether the oracle can send and observe it; `Err` says why not.
/// [`Router::fates`] panics on a probe refused here. Measured on kernel 6.18
/// (`routable_agrees_with_the_kernel`), what never reaches those hooks:
/// - Forward and Input, IPv4: source 0.0.0.0, 127.0.0.0/8, multicast or 255.255.255.255
///   (martian source, dropped by routing after PREROUTING; on Input, 0.0.0.0 may send to
///   255.255.255.255 and 224.0.0.0/24: DHCP, IGMP); destination 0.0.0.0 or 127.0.0.0/8
///   (martian destination). The rest of 0.0.0.0/8 and 240.0.0.0/4 are ordinary unicast.
/// - Forward, IPv4: multicast and 255.255.255.255 destinations are not forwarded (no
///   multicast routing). On Input they are delivered (the oracle joins the group on `iif`).
/// - Forward and Input, IPv6: source multicast or ::1, destination ::1, or multicast with
///   scope 0 or 1 (ff00::/16, ff01::/16): dropped on receipt, before PREROUTING.
/// - Forward, IPv6: source ::, link-local source or destination (fe80::/10), multicast
///   destination: not forwarded. (Destination :: is forwarded.)
/// - Input: destination :: (cannot be made local); IPv4 from a local address (the destination
///   itself; other probes' destinations are kept out of its batch). IPv6 does not check.
/// - Output: destination 0.0.0.0, 127.0.0.0/8, ::, ::1 or IPv6 multicast scope 0/1; IPv4
///   source 0.0.0.0 (the kernel fills in its own address before OUTPUT). Any other source is
///   sent as written (raw sockets may spoof).
///
/// Also refused: mixed families, the lab's own link addresses (198.18.255.0/24,
/// fdff:7070:7070::/48), IPv6 next headers the kernel parses as extension headers (0, 43,
/// 44, 51, 59, 60: the oracle does not craft them), and a probe without the interfaces its
/// path needs (Forward: `iif` and `oif`; Input: `iif` only; Output: `oif` only).
pub fn routable(path: Path, p: &Probe) -> Result<(), String> {
    let (src, dst) = (p.src, p.dst);
    if src.is_ipv4() != dst.is_ipv4() {
        return Err("source and destination are of different families".into());
    }
    if reserved(src) || reserved(dst) {
        return Err(
            "198.18.255.0/24 and fdff:7070:7070::/48 are the oracle's own link addresses".into(),
        );
    }
    match path {
        Path::Forward if p.iif.is_none() || p.oif.is_none() => {
            return Err("a forwarded probe needs iif and oif".into());
        }
        Path::Input if p.iif.is_none() || p.oif.is_some() => {
            return Err("an input probe needs iif and no oif".into());
        }
        Path::Output if p.oif.is_none() || p.iif.is_some() => {
            return Err("an output probe needs oif and no iif".into());
        }
        _ => {}
    }
    let received = path != Path::Output;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let local_mc = d.octets()[..3] == [224, 0, 0];
            if d.is_unspecified() || d.is_loopback() {
                return Err(format!("martian destination {d}"));
            }
            if s.is_unspecified() && !(path == Path::Input && (d.is_broadcast() || local_mc)) {
                return Err(if received {
                    "martian source 0.0.0.0 (allowed only to 255.255.255.255 and 224.0.0.0/24)"
                        .into()
                } else {
                    "source 0.0.0.0: the kernel writes its own address before OUTPUT".into()
                });
            }
            if received && (s.is_multicast() || s.is_broadcast() || s.is_loopback()) {
                return Err(format!("martian source {s}"));
            }
            if path == Path::Forward && (d.is_multicast() || d.is_broadcast()) {
                return Err(format!("{d} is not forwarded (no multicast routing)"));
            }
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let ll = |a: Ipv6Addr| a.segments()[0] & 0xffc0 == 0xfe80;
            let scope = d.octets()[1] & 0x0f;
            if V6_EXT.contains(&p.proto) {
                return Err(format!(
                    "next header {} is an extension header; the oracle does not craft those",
                    p.proto
                ));
            }
            if d.is_loopback() || (d.is_multicast() && scope <= 1) {
                return Err(format!("destination {d} is dropped"));
            }
            if received && (s.is_multicast() || s.is_loopback()) {
                return Err(format!("source {s} is dropped on receipt"));
            }
            if path != Path::Forward && d.is_unspecified() {
                return Err("destination :: is dropped".into());
            }
            if path == Path::Output && ll(d) {
                return Err(format!(
                    "output to link-local {d}: not routed by the probe's oif (it needs a scope)"
                ));
            }
            if path == Path::Forward && (s.is_unspecified() || ll(s) || ll(d) || d.is_multicast()) {
                return Err(format!(
                    "{s} -> {d} is not forwarded (unspecified or link-local address, multicast)"
                ));
            }
        }
        _ => unreachable!(),
    }
    if path == Path::Input && src == dst && src.is_ipv4() {
        return Err(format!("input from {src}, a local address, is a martian"));
    }
    Ok(())
}

/// The lab: a router namespace and one end namespace per router interface.
pub struct Router {
    /// The router's namespace (for `ip netns exec`).
    pub ns: String,
    ends: Vec<End>,
    /// The policy routes in place now.
    routes: RefCell<Routes>,
}

/// Routes the oracle changes per batch.
#[derive(Default)]
struct Routes {
    /// Per routing table (999 for `iif lo`, 1000+k for `iif` interface k): the interface index
    /// its default routes point out of.
    defaults: HashMap<u32, usize>,
    /// Host routes in table 999 back to probe sources: (source, interface index).
    back: HashSet<(IpAddr, usize)>,
}

/// A router interface and the namespace at its other end.
struct End {
    /// The interface's name in the router.
    iface: String,
    /// The end namespace; its side of the veth is `ppo`.
    ns: String,
    router_mac: [u8; 6],
    end_mac: [u8; 6],
}

const END_IF: &str = "ppo";
const LO_TABLE: u32 = 999;

fn gw4(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(NET4[0], NET4[1], NET4[2], 4 * k as u8 + 2)
}
fn gw6(k: usize) -> Ipv6Addr {
    Ipv6Addr::new(NET6[0], NET6[1], NET6[2], k as u16, 0, 0, 0, 2)
}
fn mac_str(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Set sysctls (paths under /proc/sys) in namespace `ns`, and check they took.
fn sysctl(ns: &str, settings: &[(&str, &str)]) {
    in_ns(ns, || {
        for (key, value) in settings {
            // /proc/sys/net resolves to the network namespace of the thread that opens it.
            let path = format!("/proc/sys/{key}");
            std::fs::write(&path, format!("{value}\n"))
                .unwrap_or_else(|e| panic!("{ns}: write {path}: {e}"));
            let now = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(now.trim(), *value, "{ns}: {path}");
        }
    });
}

/// Run a command (optionally with stdin); stdout, or a message with stderr.
fn run(cmd: &[&str], input: Option<&str>) -> Result<String, String> {
    let mut c = Command::new(cmd[0])
        .args(&cmd[1..])
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    // Write stdin from a thread: a child that reports errors while reading must not block us.
    let writer = input.map(|i| {
        let mut stdin = c.stdin.take().unwrap();
        let i = i.to_string();
        std::thread::spawn(move || {
            let _ = stdin.write_all(i.as_bytes());
        })
    });
    let out = c.wait_with_output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

fn must(r: Result<String, String>) -> String {
    r.unwrap_or_else(|e| panic!("{e}"))
}

impl Router {
    /// Build the lab: router interfaces named `ifaces` (at most 63, each up to 15 characters),
    /// forwarding on, rp_filter off, IPv6 without DAD, ICMP rate limits off, no ruleset.
    /// `tag` keeps names unique across the tests of one process.
    pub fn new(tag: &str, ifaces: &[&str]) -> Router {
        assert!(
            !ifaces.is_empty() && ifaces.len() < 64,
            "1 to 63 interfaces"
        );
        let mut names = HashSet::new();
        for i in ifaces {
            assert!(
                !i.is_empty() && i.len() <= 15 && *i != "lo" && names.insert(*i),
                "bad or repeated interface name {i:?}"
            );
        }
        let base = format!("ppo{}{}", std::process::id(), tag);
        let router = Router {
            ns: format!("{base}r"),
            ends: ifaces
                .iter()
                .enumerate()
                .map(|(k, i)| End {
                    iface: i.to_string(),
                    ns: format!("{base}e{k}"),
                    router_mac: [0x02, 0x70, 0x70, 0, k as u8, 1],
                    end_mac: [0x02, 0x70, 0x70, 0, k as u8, 2],
                })
                .collect(),
            routes: RefCell::new(Routes::default()),
        };
        // From here on, Drop cleans up whatever was created.
        let all: Vec<&str> = std::iter::once(router.ns.as_str())
            .chain(router.ends.iter().map(|e| e.ns.as_str()))
            .collect();
        for ns in &all {
            let _ = run(&["ip", "netns", "del", ns], None);
            must(run(&["ip", "netns", "add", ns], None));
        }
        let r = &router.ns;
        sysctl(
            r,
            &[
                ("net/ipv4/ip_forward", "1"),
                ("net/ipv4/conf/all/rp_filter", "0"),
                ("net/ipv4/conf/default/rp_filter", "0"),
                ("net/ipv4/conf/all/send_redirects", "0"),
                ("net/ipv4/conf/default/send_redirects", "0"),
                ("net/ipv4/icmp_ratelimit", "0"),
                ("net/ipv4/icmp_ratemask", "0"),
                ("net/ipv4/icmp_msgs_per_sec", "100000"),
                ("net/ipv4/icmp_msgs_burst", "100000"),
                ("net/ipv6/icmp/ratelimit", "0"),
                ("net/ipv6/icmp/ratemask", ""),
                ("net/ipv6/conf/all/forwarding", "1"),
                ("net/ipv6/conf/default/forwarding", "1"),
                ("net/ipv6/conf/all/accept_dad", "0"),
                ("net/ipv6/conf/default/accept_dad", "0"),
            ],
        );
        for e in &router.ends {
            // The ends only capture and inject: no IPv6 chatter of their own.
            sysctl(
                &e.ns,
                &[
                    ("net/ipv6/conf/all/disable_ipv6", "1"),
                    ("net/ipv6/conf/default/disable_ipv6", "1"),
                ],
            );
        }
        let mut batch = String::from("link set lo up\n");
        let mut batch6 = String::new();
        for (k, e) in router.ends.iter().enumerate() {
            batch += &format!(
                "link add name {} address {} type veth peer name {END_IF} address {} netns {}\n",
                e.iface,
                mac_str(&e.router_mac),
                mac_str(&e.end_mac),
                e.ns
            );
            batch += &format!(
                "addr add {}/30 dev {}\n",
                Ipv4Addr::from(u32::from(gw4(k)) - 1),
                e.iface
            );
            batch += &format!(
                "addr add {}/64 dev {} nodad\n",
                Ipv6Addr::new(NET6[0], NET6[1], NET6[2], k as u16, 0, 0, 0, 1),
                e.iface
            );
            batch += &format!("link set dev {} up\n", e.iface);
            batch += &format!(
                "neigh replace {} lladdr {} dev {} nud permanent\n",
                gw4(k),
                mac_str(&e.end_mac),
                e.iface
            );
            batch += &format!(
                "neigh replace {} lladdr {} dev {} nud permanent\n",
                gw6(k),
                mac_str(&e.end_mac),
                e.iface
            );
            for b in [&mut batch, &mut batch6] {
                *b += &format!(
                    "rule add pref {t} iif {} lookup {t}\n",
                    e.iface,
                    t = 1000 + k
                );
            }
        }
        for b in [&mut batch, &mut batch6] {
            *b += &format!("rule add pref {LO_TABLE} iif lo lookup {LO_TABLE}\n");
        }
        must(run(&["ip", "-n", r, "-batch", "-"], Some(&batch)));
        must(run(&["ip", "-n", r, "-6", "-batch", "-"], Some(&batch6)));
        for e in &router.ends {
            must(run(&["ip", "-n", &e.ns, "link", "set", END_IF, "up"], None));
        }
        let per_if: Vec<String> = router
            .ends
            .iter()
            .map(|e| format!("net/ipv4/conf/{}/rp_filter", e.iface))
            .collect();
        sysctl(
            r,
            &per_if.iter().map(|k| (k.as_str(), "0")).collect::<Vec<_>>(),
        );
        router.wait_not_tentative();
        router
    }

    /// Wait (at most 5 s) until the router has no tentative IPv6 address.
    fn wait_not_tentative(&self) {
        for _ in 0..100 {
            let out = must(run(
                &["ip", "-n", &self.ns, "-6", "addr", "show", "tentative"],
                None,
            ));
            if out.trim().is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{}: IPv6 addresses still tentative after 5 s", self.ns);
    }

    /// Run a command in the router namespace; its stdout.
    pub fn exec(&self, cmd: &[&str]) -> Result<String, String> {
        let mut full = vec!["ip", "netns", "exec", &self.ns];
        full.extend_from_slice(cmd);
        run(&full, None)
    }

    fn exec_in(&self, cmd: &[&str], input: &str) -> Result<String, String> {
        let mut full = vec!["ip", "netns", "exec", &self.ns];
        full.extend_from_slice(cmd);
        run(&full, Some(input))
    }

    /// Remove every rule, every ipset and every conntrack entry.
    pub fn flush(&self) {
        self.flush_rules();
        must(self.exec(&["ipset", "destroy"]));
    }

    fn flush_rules(&self) {
        must(self.exec(&["nft", "flush", "ruleset"]));
        self.flush_conntrack();
    }

    fn flush_conntrack(&self) {
        // Fails only when conntrack is not loaded at all: then there is nothing to flush.
        let _ = self.exec(&["conntrack", "-F"]);
    }

    /// Replace the rules (ipsets stay) with `nft -j -f` input, e.g. an edited
    /// `nft -j list ruleset`; `Err` carries nft's message.
    pub fn try_load_nft_json(&self, json: &str) -> Result<(), String> {
        self.flush_rules();
        self.exec_in(&["nft", "-j", "-f", "-"], json).map(drop)
    }

    /// Replace the ruleset with an nft file; `Err` carries nft's message.
    pub fn try_load_nft(&self, text: &str) -> Result<(), String> {
        self.flush();
        self.exec_in(&["nft", "-f", "-"], text).map(drop)
    }

    /// Replace the ruleset with an nft file.
    pub fn load_nft(&self, text: &str) {
        self.try_load_nft(text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
    }

    /// Replace the rules with iptables-restore / ip6tables-restore input. Ipsets are kept:
    /// call [`Router::load_ipset`] first.
    pub fn try_load_iptables(&self, v4: Option<&str>, v6: Option<&str>) -> Result<(), String> {
        self.flush_rules();
        if let Some(v4) = v4 {
            self.exec_in(&["iptables-restore"], v4)?;
        }
        if let Some(v6) = v6 {
            self.exec_in(&["ip6tables-restore"], v6)?;
        }
        Ok(())
    }

    /// Replace the rules with iptables-restore / ip6tables-restore input.
    pub fn load_iptables(&self, v4: Option<&str>, v6: Option<&str>) {
        self.try_load_iptables(v4, v6)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Clear everything, then `ipset restore` this text (before [`Router::load_iptables`]).
    pub fn load_ipset(&self, text: &str) {
        self.flush();
        must(self.exec_in(&["ipset", "restore"], text));
    }

    /// `nft -j list ruleset`.
    pub fn dump_nft_json(&self) -> String {
        must(self.exec(&["nft", "-j", "list", "ruleset"]))
    }

    /// `iptables-save` or `ip6tables-save`.
    pub fn dump_iptables(&self, v6: bool) -> String {
        must(self.exec(&[if v6 {
            "ip6tables-save"
        } else {
            "iptables-save"
        }]))
    }

    /// The router's own address on `iface` (what masquerade and redirect pick).
    pub fn router_addr(&self, iface: &str, v6: bool) -> IpAddr {
        let k = self.end(iface);
        if v6 {
            Ipv6Addr::new(NET6[0], NET6[1], NET6[2], k as u16, 0, 0, 0, 1).into()
        } else {
            Ipv4Addr::from(u32::from(gw4(k)) - 1).into()
        }
    }

    fn end(&self, iface: &str) -> usize {
        self.ends
            .iter()
            .position(|e| e.iface == iface)
            .unwrap_or_else(|| panic!("the router has no interface {iface:?}"))
    }

    /// What the kernel does with each probe on `path` (see the module documentation), in
    /// order. Panics on a probe [`routable`] refuses, on an interface the router does not have,
    /// and when a capture socket lost frames (then the oracle cannot decide).
    pub fn fates(&self, path: Path, probes: &[Probe]) -> Vec<Fate> {
        for p in probes {
            if let Err(e) = routable(path, p) {
                panic!("{path:?} probe {p:?}: {e}");
            }
        }
        self.fates_unchecked(path, probes)
    }

    /// [`Router::fates`] without [`routable`]'s refusals: for checking `routable` itself.
    pub fn fates_unchecked(&self, path: Path, probes: &[Probe]) -> Vec<Fate> {
        for p in probes {
            for i in p.iif.iter().chain(&p.oif) {
                self.end(i);
            }
        }
        let mut out = vec![Fate::Dropped; probes.len()];
        for batch in plan(path, probes) {
            let got = match path {
                Path::Input => self.run_input(probes, &batch),
                _ => self.run_captured(path, probes, &batch),
            };
            for (j, seen) in got.into_iter().enumerate() {
                if let Some(seen) = seen {
                    out[batch[j]] = Fate::Passed { seen };
                }
            }
        }
        out
    }

    /// Put these routes in place (and only these): default routes per table, and host routes
    /// back to the sources of the batch through the interface they arrive on, in the table the
    /// router's own lookups use (`iif lo`: reverse-path checks, replies).
    fn set_routes(&self, want: Routes) {
        let mut cur = self.routes.borrow_mut();
        let (mut b4, mut b6) = (String::new(), String::new());
        for (t, k) in &cur.defaults {
            if !want.defaults.contains_key(t) {
                b4 += &format!("route del default via {} table {t}\n", gw4(*k));
                b6 += &format!("route del default via {} table {t}\n", gw6(*k));
            }
        }
        for (t, k) in &want.defaults {
            if cur.defaults.get(t) != Some(k) {
                let dev = &self.ends[*k].iface;
                b4 += &format!(
                    "route replace default via {} dev {dev} table {t}\n",
                    gw4(*k)
                );
                b6 += &format!(
                    "route replace default via {} dev {dev} table {t}\n",
                    gw6(*k)
                );
            }
        }
        for (a, k) in cur.back.difference(&want.back) {
            match a {
                IpAddr::V4(a) => {
                    b4 += &format!("route del {a}/32 via {} table {LO_TABLE}\n", gw4(*k))
                }
                IpAddr::V6(a) => {
                    b6 += &format!("route del {a}/128 via {} table {LO_TABLE}\n", gw6(*k))
                }
            }
        }
        for (a, k) in want.back.difference(&cur.back) {
            let dev = &self.ends[*k].iface;
            match a {
                IpAddr::V4(a) => {
                    b4 += &format!(
                        "route replace {a}/32 via {} dev {dev} table {LO_TABLE}\n",
                        gw4(*k)
                    )
                }
                IpAddr::V6(a) => {
                    b6 += &format!(
                        "route replace {a}/128 via {} dev {dev} table {LO_TABLE}\n",
                        gw6(*k)
                    )
                }
            }
        }
        if !b4.is_empty() {
            must(run(&["ip", "-n", &self.ns, "-batch", "-"], Some(&b4)));
        }
        if !b6.is_empty() {
            must(run(&["ip", "-n", &self.ns, "-6", "-batch", "-"], Some(&b6)));
        }
        *cur = want;
    }

    /// The routes a batch needs: out of `oif` (Forward: per `iif`; Output: for the router's own
    /// packets), back to each (unicast) source through its `iif`.
    fn routes_for(&self, probes: &[Probe], batch: &[usize]) -> Routes {
        let mut want = Routes::default();
        for &i in batch {
            let p = &probes[i];
            let iif = p.iif.as_deref().map(|i| self.end(i));
            if let Some(oif) = &p.oif {
                let table = iif.map_or(LO_TABLE, |k| 1000 + k as u32);
                want.defaults.insert(table, self.end(oif));
            }
            let unicast = match p.src {
                IpAddr::V4(a) => {
                    !(a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback())
                }
                IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast() || a.is_loopback()),
            };
            if let (Some(k), true) = (iif, unicast) {
                want.back.insert((p.src, k));
            }
        }
        want
    }

    /// Forward and Output: send the batch, capture behind the interfaces it leaves by.
    fn run_captured(&self, path: Path, probes: &[Probe], batch: &[usize]) -> Vec<Option<Probe>> {
        self.set_routes(self.routes_for(probes, batch));
        self.flush_conntrack();
        // Capture at every end a probe may leave by (NAT or `fwd` may move it elsewhere).
        let caps: Vec<(usize, OwnedFd)> = (0..self.ends.len())
            .map(|k| (k, in_ns(&self.ends[k].ns, || packet_socket(END_IF, true))))
            .collect();
        let mut seen: Vec<Option<Probe>> = vec![None; batch.len()];
        let mut missing = batch.len();
        let mut buf = vec![0u8; 65536];
        let mut drain = |seen: &mut Vec<Option<Probe>>, missing: &mut usize| -> bool {
            let mut any = false;
            for (k, fd) in &caps {
                while let Some((n, pkttype)) = recv(fd, &mut buf) {
                    any = true;
                    if pkttype == PACKET_OUTGOING {
                        continue;
                    }
                    if let Some((id, mut h)) = parse_frame(&buf[..n]) {
                        let j = id as usize;
                        if j == 0 || j > batch.len() || seen[j - 1].is_some() {
                            continue;
                        }
                        let p = &probes[batch[j - 1]];
                        if h.src.is_ipv6() != p.v6() || h.proto != p.proto {
                            continue;
                        }
                        // The router's own ICMP errors (reject, unreachable) may carry any id:
                        // a probe keeps its type, and an error probe embeds id EMBED_ID.
                        if p.is_icmp()
                            && (h.icmp_type != p.icmp_type
                                || (p.icmp_error() && embedded_id(&buf[..n]) != Some(EMBED_ID)))
                        {
                            continue;
                        }
                        h.complete(p);
                        h.oif = Some(self.ends[*k].iface.clone());
                        seen[j - 1] = Some(h);
                        *missing -= 1;
                    }
                }
            }
            any
        };
        match path {
            Path::Forward => {
                let mut inj: HashMap<usize, OwnedFd> = HashMap::new();
                for (j, &i) in batch.iter().enumerate() {
                    let p = &probes[i];
                    let k = self.end(p.iif.as_deref().unwrap());
                    let fd = inj.entry(k).or_insert_with(|| {
                        in_ns(&self.ends[k].ns, || packet_socket(END_IF, false))
                    });
                    let e = &self.ends[k];
                    let f = frame(e.router_mac, e.end_mac, p, &packet(p, j as u32 + 1));
                    send_frame(fd, &f);
                    if j % 256 == 255 {
                        drain(&mut seen, &mut missing);
                    }
                }
            }
            Path::Output => {
                let (s4, s6) = in_ns(&self.ns, || (raw_socket(false), raw_socket(true)));
                for (j, &i) in batch.iter().enumerate() {
                    let p = &probes[i];
                    send_raw(if p.v6() { &s6 } else { &s4 }, p, &packet(p, j as u32 + 1));
                    if j % 256 == 255 {
                        drain(&mut seen, &mut missing);
                    }
                }
            }
            Path::Input => unreachable!(),
        }
        let sent = Instant::now();
        let mut last = sent;
        loop {
            if drain(&mut seen, &mut missing) {
                last = Instant::now();
            }
            let now = Instant::now();
            if missing == 0 || now >= last + QUIET || now >= sent + CAP {
                break;
            }
            let mut pfds: Vec<libc::pollfd> = caps
                .iter()
                .map(|(_, fd)| libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            let wait = (last + QUIET).min(sent + CAP) - now;
            // SAFETY: pfds is a valid array of pollfd for the call.
            unsafe {
                libc::poll(
                    pfds.as_mut_ptr(),
                    pfds.len() as _,
                    wait.as_millis() as i32 + 1,
                )
            };
        }
        for (k, fd) in &caps {
            let drops = capture_drops(fd);
            assert_eq!(
                drops, 0,
                "capture behind {} lost {drops} frames: the oracle cannot decide",
                self.ends[*k].iface
            );
        }
        seen
    }

    /// Input: make the destinations local on their `iif`, send, read the observer's sets.
    fn run_input(&self, probes: &[Probe], batch: &[usize]) -> Vec<Option<Probe>> {
        self.set_routes(self.routes_for(probes, batch));
        self.flush_conntrack();
        let mut add = String::new();
        let mut del = String::new();
        let mut joins = Vec::new();
        let mut done = HashSet::new();
        for &i in batch {
            let p = &probes[i];
            let iif = p.iif.as_deref().unwrap();
            if !done.insert((p.dst, iif)) {
                continue;
            }
            match p.dst {
                d if d.is_multicast() => joins.push((d, iif.to_string())),
                IpAddr::V4(d) if d.is_broadcast() || d.is_loopback() || d.is_unspecified() => {}
                IpAddr::V6(d) if d.is_loopback() || d.is_unspecified() => {}
                IpAddr::V4(d) => {
                    add += &format!("addr add {d}/32 dev {iif}\n");
                    del += &format!("addr del {d}/32 dev {iif}\n");
                }
                IpAddr::V6(d) => {
                    add += &format!("addr add {d}/128 dev {iif} nodad\n");
                    del += &format!("addr del {d}/128 dev {iif}\n");
                }
            }
        }
        // Undone on every exit, also when a panic unwinds through here.
        let _undo = Undo { router: self, del };
        if !add.is_empty() {
            must(run(&["ip", "-n", &self.ns, "-batch", "-"], Some(&add)));
        }
        let _members = in_ns(&self.ns, || {
            joins
                .iter()
                .map(|(g, iif)| join(*g, iif))
                .collect::<Vec<_>>()
        });
        must(self.exec_in(&["nft", "-f", "-"], OBSERVER));
        let mut inj: HashMap<usize, OwnedFd> = HashMap::new();
        for (j, &i) in batch.iter().enumerate() {
            let p = &probes[i];
            let k = self.end(p.iif.as_deref().unwrap());
            let fd = inj
                .entry(k)
                .or_insert_with(|| in_ns(&self.ends[k].ns, || packet_socket(END_IF, false)));
            let e = &self.ends[k];
            let f = frame(e.router_mac, e.end_mac, p, &packet(p, j as u32 + 1));
            send_frame(fd, &f);
        }
        // Frames are processed as they are sent (veth delivers in the sender's softirq); the
        // pause covers a backlog handed to ksoftirqd.
        std::thread::sleep(Duration::from_millis(100));
        let sets = set_elems(&must(self.exec(&[
            "nft",
            "-j",
            "list",
            "table",
            "inet",
            "pp_oracle",
        ])));
        let list = |set: &str| sets.get(set).cloned().unwrap_or_default();
        let mut seen: Vec<Option<Probe>> = vec![None; batch.len()];
        for v6 in [false, true] {
            let f = if v6 { '6' } else { '4' };
            // Elements keyed by probe id (1-based position in the batch), of this family.
            let by_id = |set: String| {
                list(&set)
                    .into_iter()
                    .filter_map(|e| {
                        let j = e[0].as_u64()? as usize;
                        (j >= 1 && j <= batch.len() && probes[batch[j - 1]].v6() == v6)
                            .then(|| (j - 1, e))
                    })
                    .collect::<Vec<_>>()
            };
            for (j, _) in by_id(format!("id{f}")) {
                seen[j] = Some(probes[batch[j]].clone());
            }
            for (set, field) in [("src", 0), ("dst", 1)] {
                for (j, e) in by_id(format!("{set}{f}")) {
                    let (Some(h), Some(a)) =
                        (seen[j].as_mut(), e[1].as_str().and_then(|s| s.parse().ok()))
                    else {
                        continue;
                    };
                    if field == 0 {
                        h.src = a;
                    } else {
                        h.dst = a;
                    }
                }
            }
            for (j, e) in by_id(format!("l4_{f}")) {
                let Some(h) = seen[j].as_mut() else {
                    continue;
                };
                let num = |k: usize| e[k].as_u64().unwrap_or(0) as u16;
                if matches!(h.proto, 6 | 17 | 132) {
                    h.sport = num(1);
                    h.dport = num(2);
                } else if h.is_icmp() {
                    h.icmp_type = (num(1) >> 8) as u8;
                    h.icmp_code = num(1) as u8;
                    if h.icmp_echo_like() {
                        h.sport = num(3);
                    }
                }
            }
        }
        seen
    }
}

/// Removes the input observer and the addresses an input batch added.
struct Undo<'a> {
    router: &'a Router,
    del: String,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        let r = self.router;
        let a = r.exec(&["nft", "delete", "table", "inet", "pp_oracle"]);
        let b = if self.del.is_empty() {
            Ok(String::new())
        } else {
            run(&["ip", "-n", &r.ns, "-batch", "-"], Some(&self.del))
        };
        if !std::thread::panicking() {
            must(a);
            must(b);
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        for ns in std::iter::once(&self.ns).chain(self.ends.iter().map(|e| &e.ns)) {
            let _ = run(&["ip", "netns", "del", ns], None);
        }
    }
}

/// The input observer: the last input base chain records every probe id it sees, and the
/// header fields NAT may rewrite.
const OBSERVER: &str = "table inet pp_oracle
delete table inet pp_oracle
table inet pp_oracle {
  set id4 { typeof ip id; flags dynamic; size 65536; }
  set id6 { typeof ip6 flowlabel; flags dynamic; size 65536; }
  set src4 { typeof ip id . ip saddr; flags dynamic; size 65536; }
  set src6 { typeof ip6 flowlabel . ip6 saddr; flags dynamic; size 65536; }
  set dst4 { typeof ip id . ip daddr; flags dynamic; size 65536; }
  set dst6 { typeof ip6 flowlabel . ip6 daddr; flags dynamic; size 65536; }
  set l4_4 { typeof ip id . th sport . th dport . @th,32,16; flags dynamic; size 65536; }
  set l4_6 { typeof ip6 flowlabel . th sport . th dport . @th,32,16; flags dynamic; size 65536; }
  chain input {
    type filter hook input priority 2147483647; policy accept;
    update @id4 { ip id }
    update @id6 { ip6 flowlabel }
    update @src4 { ip id . ip saddr }
    update @src6 { ip6 flowlabel . ip6 saddr }
    update @dst4 { ip id . ip daddr }
    update @dst6 { ip6 flowlabel . ip6 daddr }
    update @l4_4 { ip id . th sport . th dport . @th,32,16 }
    update @l4_6 { ip6 flowlabel . th sport . th dport . @th,32,16 }
  }
}
";

/// The sets' elements from `nft -j list table`, each element as a list (a concatenation's
/// parts), by set name.
fn set_elems(json: &str) -> HashMap<String, Vec<Vec<serde_json::Value>>> {
    let v: serde_json::Value = serde_json::from_str(json).expect("nft -j output");
    let mut out = HashMap::new();
    for item in v["nftables"].as_array().into_iter().flatten() {
        let Some(name) = item["set"]["name"].as_str() else {
            continue;
        };
        let elems: &mut Vec<_> = out.entry(name.to_string()).or_default();
        for e in item["set"]["elem"].as_array().into_iter().flatten() {
            // A plain value, or {"elem": {"val": ...}} when it carries extra data.
            let e = if e["elem"].is_object() {
                &e["elem"]["val"]
            } else {
                e
            };
            match e["concat"].as_array() {
                Some(parts) => elems.push(parts.clone()),
                None => elems.push(vec![e.clone()]),
            }
        }
    }
    out
}

/// Batches: no connection twice, at most one outgoing interface per incoming one (Forward) or
/// per batch (Output), each source arriving on one interface (its route back), input
/// destinations never a source of the same batch, at most [`MAX_LOCAL`] of them.
fn plan(path: Path, probes: &[Probe]) -> Vec<Vec<usize>> {
    #[derive(Default)]
    struct Batch {
        idx: Vec<usize>,
        conns: HashSet<Conn>,
        route: HashMap<Option<String>, String>,
        local: HashMap<IpAddr, String>,
        srcs: HashSet<IpAddr>,
        back: HashMap<IpAddr, String>,
    }
    let mut batches: Vec<Batch> = Vec::new();
    for (i, p) in probes.iter().enumerate() {
        let conns = conns(p);
        let fits = |b: &Batch| {
            b.idx.len() < MAX_BATCH
                && conns.iter().all(|c| !b.conns.contains(c))
                && (p.iif.is_none() || b.back.get(&p.src).is_none_or(|i| Some(i) == p.iif.as_ref()))
                && match path {
                    Path::Input => {
                        (b.local.len() < MAX_LOCAL || b.local.contains_key(&p.dst))
                            && !b.local.contains_key(&p.src)
                            && !b.srcs.contains(&p.dst)
                            && b.local
                                .get(&p.dst)
                                .is_none_or(|i| Some(i) == p.iif.as_ref())
                    }
                    _ => b
                        .route
                        .get(&p.iif)
                        .is_none_or(|o| Some(o) == p.oif.as_ref()),
                }
        };
        let at = match batches.iter().position(fits) {
            Some(at) => at,
            None => {
                batches.push(Batch::default());
                batches.len() - 1
            }
        };
        let b = &mut batches[at];
        b.idx.push(i);
        b.conns.extend(conns);
        if let Some(iif) = &p.iif {
            b.back.insert(p.src, iif.clone());
        }
        match path {
            Path::Input => {
                b.local.insert(p.dst, p.iif.clone().unwrap_or_default());
                b.srcs.insert(p.src);
            }
            _ => {
                b.route
                    .insert(p.iif.clone(), p.oif.clone().unwrap_or_default());
            }
        }
    }
    batches.into_iter().map(|b| b.idx).collect()
}

/// A connection as conntrack would key it, direction-free.
type Conn = (u8, (IpAddr, u16), (IpAddr, u16));

fn conn(proto: u8, a: (IpAddr, u16), b: (IpAddr, u16)) -> Conn {
    (proto, a.min(b), a.max(b))
}

/// The connections a probe would create or refer to.
fn conns(p: &Probe) -> Vec<Conn> {
    let (s, d) = (p.src, p.dst);
    if matches!(p.proto, 6 | 17 | 132) {
        return vec![conn(p.proto, (s, p.sport), (d, p.dport))];
    }
    if p.icmp_error() {
        // The embedded datagram: UDP dst:dport -> src:sport.
        return vec![conn(17, (d, p.dport), (s, p.sport))];
    }
    if p.is_icmp() {
        // Types conntrack tracks (request/reply pairs, keyed by identifier); others it never
        // records.
        let tracked = if p.v6() {
            matches!(p.icmp_type, 128 | 129 | 139 | 140)
        } else {
            matches!(p.icmp_type, 0 | 8 | 13..=18)
        };
        let id = if p.icmp_echo_like() { p.sport } else { 0 };
        return if tracked {
            vec![conn(p.proto, (s, id), (d, id))]
        } else {
            vec![]
        };
    }
    // Everything else is tracked by address pair only.
    vec![conn(p.proto, (s, 0), (d, 0))]
}

// ---- packets ----------------------------------------------------------------------------

fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [b] = chunks.remainder() {
        sum += (*b as u32) << 8;
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut s = 0;
    match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            s = csum_add(s, &a.octets());
            s = csum_add(s, &b.octets());
            s += proto as u32 + len as u32;
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            s = csum_add(s, &a.octets());
            s = csum_add(s, &b.octets());
            s = csum_add(s, &(len as u32).to_be_bytes());
            s += proto as u32;
        }
        _ => unreachable!(),
    }
    s
}

/// CRC32c (Castagnoli), as SCTP uses it.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn ip_octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

const PAYLOAD: &[u8; 8] = b"pporacle";

/// An IP header (no options) for `body`; IPv4 id / IPv6 flow label `id`.
fn ip_header(src: IpAddr, dst: IpAddr, proto: u8, id: u32, body_len: usize) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = (20 + body_len) as u16;
            let mut h = vec![0x45, 0];
            h.extend(len.to_be_bytes());
            h.extend((id as u16).to_be_bytes());
            h.extend([0, 0, 64, proto, 0, 0]);
            h.extend(s.octets());
            h.extend(d.octets());
            let c = csum_fold(csum_add(0, &h));
            h[10..12].copy_from_slice(&c.to_be_bytes());
            h
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let fl = id & 0xf_ffff;
            let mut h = vec![0x60, (fl >> 16) as u8, (fl >> 8) as u8, fl as u8];
            h.extend((body_len as u16).to_be_bytes());
            h.extend([proto, 64]);
            h.extend(s.octets());
            h.extend(d.octets());
            h
        }
        _ => unreachable!(),
    }
}

/// The IPv4 id / IPv6 flow label of the datagram an ICMP error probe embeds: above every probe
/// id, so the router's own errors (which embed a probe) are told apart.
const EMBED_ID: u32 = 0xffff;

/// The id of the datagram embedded in a captured ICMP error frame.
fn embedded_id(f: &[u8]) -> Option<u32> {
    match u16::from_be_bytes([*f.get(12)?, *f.get(13)?]) {
        0x0800 => {
            let ihl = (f.get(14)? & 0x0f) as usize * 4;
            let inner = f.get(14 + ihl + 8..)?;
            Some(u16::from_be_bytes([*inner.get(4)?, *inner.get(5)?]) as u32)
        }
        0x86dd => {
            let inner = f.get(14 + 40 + 8..)?;
            Some(
                ((*inner.get(1)? as u32 & 0x0f) << 16)
                    | ((*inner.get(2)? as u32) << 8)
                    | *inner.get(3)? as u32,
            )
        }
        _ => None,
    }
}

/// The datagram an ICMP error reports: UDP from `dst`:`dport` to `src`:`sport`, header only.
fn embedded(p: &Probe) -> Vec<u8> {
    let mut udp = Vec::new();
    udp.extend(p.dport.to_be_bytes());
    udp.extend(p.sport.to_be_bytes());
    udp.extend(16u16.to_be_bytes());
    udp.extend([0, 0]);
    let mut e = ip_header(p.dst, p.src, 17, EMBED_ID, 16);
    e.extend(udp);
    e
}

/// The transport part of a probe (checksum filled in).
fn l4(p: &Probe, id: u32) -> Vec<u8> {
    let v6 = p.v6();
    let mut b = Vec::new();
    match p.proto {
        6 => {
            let syn = p.tcp_flags & SYN != 0;
            b.extend(p.sport.to_be_bytes());
            b.extend(p.dport.to_be_bytes());
            b.extend((0x1000_0000u32 + id).to_be_bytes());
            let ack = if p.tcp_flags & ACK != 0 {
                0x2000_0000u32 + id
            } else {
                0
            };
            b.extend(ack.to_be_bytes());
            b.extend([if syn { 6 << 4 } else { 5 << 4 }, p.tcp_flags]);
            b.extend(64240u16.to_be_bytes());
            b.extend([0, 0, 0, 0]);
            if syn {
                b.extend([2, 4]);
                b.extend((if v6 { 1440u16 } else { 1460 }).to_be_bytes());
            }
            let c = csum_fold(csum_add(pseudo(p.src, p.dst, 6, b.len()), &b));
            b[16..18].copy_from_slice(&c.to_be_bytes());
        }
        17 => {
            b.extend(p.sport.to_be_bytes());
            b.extend(p.dport.to_be_bytes());
            b.extend(16u16.to_be_bytes());
            b.extend([0, 0]);
            b.extend(PAYLOAD);
            let c = match csum_fold(csum_add(pseudo(p.src, p.dst, 17, b.len()), &b)) {
                0 => 0xffff,
                c => c,
            };
            b[6..8].copy_from_slice(&c.to_be_bytes());
        }
        132 => {
            b.extend(p.sport.to_be_bytes());
            b.extend(p.dport.to_be_bytes());
            b.extend([0, 0, 0, 0, 0, 0, 0, 0]); // verification tag 0 (INIT), checksum
            b.extend([1, 0, 0, 20]); // INIT, flags, length 20
            b.extend((0x0100_0000u32 + id).to_be_bytes()); // initiate tag
            b.extend(65535u32.to_be_bytes()); // a_rwnd
            b.extend(10u16.to_be_bytes()); // outbound streams
            b.extend(10u16.to_be_bytes()); // inbound streams
            b.extend(id.to_be_bytes()); // initial TSN
            let c = crc32c(&b);
            b[8..12].copy_from_slice(&c.to_le_bytes());
        }
        _ if p.is_icmp() => {
            b.extend([p.icmp_type, p.icmp_code, 0, 0]);
            let (t, echo, err) = (p.icmp_type, p.icmp_echo_like(), p.icmp_error());
            if echo {
                b.extend(p.sport.to_be_bytes());
                b.extend(p.dport.to_be_bytes());
                match (v6, t) {
                    (false, 13 | 14) => b.extend([0; 12]),
                    (false, 15 | 16) => {}
                    (false, 17 | 18) => b.extend([255, 255, 255, 0]),
                    _ => b.extend(PAYLOAD),
                }
            } else if err {
                match (v6, t) {
                    (false, 3) if p.icmp_code == 4 => b.extend([0, 0, 0x05, 0x00]),
                    (false, 5) => b.extend(ip_octets(p.src)),
                    (true, 2) => b.extend(1280u32.to_be_bytes()),
                    _ => b.extend([0, 0, 0, 0]),
                }
                b.extend(embedded(p));
            } else {
                match (v6, t) {
                    (true, 133) => b.extend([0; 4]),
                    (true, 134) => b.extend([64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
                    (true, 135) => {
                        b.extend([0; 4]);
                        b.extend(ip_octets(p.dst));
                    }
                    (true, 136) => {
                        b.extend([0x20, 0, 0, 0]);
                        b.extend(ip_octets(p.src));
                    }
                    (true, 137) => {
                        b.extend([0; 4]);
                        b.extend(ip_octets(p.src));
                        b.extend(ip_octets(p.dst));
                    }
                    _ => {
                        b.extend([0; 4]);
                        b.extend(PAYLOAD);
                    }
                }
            }
            let start = if v6 {
                pseudo(p.src, p.dst, 58, b.len())
            } else {
                0
            };
            let c = csum_fold(csum_add(start, &b));
            b[2..4].copy_from_slice(&c.to_be_bytes());
        }
        47 => {
            b.extend([0, 0, 0x08, 0x00]);
            b.extend(&PAYLOAD[..4]);
        }
        _ => {
            b.extend(p.sport.to_be_bytes());
            b.extend(p.dport.to_be_bytes());
            b.extend([0, 0, 0, 1]);
        }
    }
    b
}

/// The whole IP packet of a probe with id `id`.
fn packet(p: &Probe, id: u32) -> Vec<u8> {
    let body = l4(p, id);
    let mut pkt = ip_header(p.src, p.dst, p.proto, id, body.len());
    pkt.extend(body);
    pkt
}

/// An Ethernet frame to the router: to its MAC, or the broadcast / multicast MAC of `dst`.
fn frame(router_mac: [u8; 6], end_mac: [u8; 6], p: &Probe, pkt: &[u8]) -> Vec<u8> {
    let dst_mac = match p.dst {
        IpAddr::V4(d) if d.is_broadcast() => [0xff; 6],
        IpAddr::V4(d) if d.is_multicast() => {
            let o = d.octets();
            [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
        }
        IpAddr::V6(d) if d.is_multicast() => {
            let o = d.octets();
            [0x33, 0x33, o[12], o[13], o[14], o[15]]
        }
        _ => router_mac,
    };
    let mut f = Vec::with_capacity(14 + pkt.len());
    f.extend(dst_mac);
    f.extend(end_mac);
    f.extend(if p.v6() { [0x86, 0xdd] } else { [0x08, 0x00] });
    f.extend(pkt);
    f
}

impl Probe {
    /// Fill what a captured header does not carry from the probe it answers to.
    fn complete(&mut self, p: &Probe) {
        self.iif = p.iif.clone();
        if !matches!(self.proto, 6 | 17 | 132) && !self.icmp_echo_like() {
            self.sport = p.sport;
            self.dport = p.dport;
        }
    }
}

/// A captured frame: its probe id and header (ports, flags, ICMP type/code as captured).
fn parse_frame(f: &[u8]) -> Option<(u32, Probe)> {
    if f.len() < 14 {
        return None;
    }
    let ip = &f[14..];
    let (id, src, dst, proto, l4) = match u16::from_be_bytes([f[12], f[13]]) {
        0x0800 if ip.len() >= 20 && ip[0] >> 4 == 4 => {
            let ihl = (ip[0] & 0x0f) as usize * 4;
            let src = IpAddr::from(<[u8; 4]>::try_from(&ip[12..16]).ok()?);
            let dst = IpAddr::from(<[u8; 4]>::try_from(&ip[16..20]).ok()?);
            let id = u16::from_be_bytes([ip[4], ip[5]]) as u32;
            (id, src, dst, ip[9], ip.get(ihl..)?)
        }
        0x86dd if ip.len() >= 40 && ip[0] >> 4 == 6 => {
            let fl = ((ip[1] as u32 & 0x0f) << 16) | ((ip[2] as u32) << 8) | ip[3] as u32;
            let src = IpAddr::from(<[u8; 16]>::try_from(&ip[8..24]).ok()?);
            let dst = IpAddr::from(<[u8; 16]>::try_from(&ip[24..40]).ok()?);
            (fl, src, dst, ip[6], &ip[40..])
        }
        _ => return None,
    };
    let mut h = Probe {
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        tcp_flags: 0,
        icmp_type: 0,
        icmp_code: 0,
        iif: None,
        oif: None,
    };
    let be = |i: usize| l4.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    if matches!(proto, 6 | 17 | 132) {
        h.sport = be(0)?;
        h.dport = be(2)?;
        if proto == 6 {
            h.tcp_flags = *l4.get(13)?;
        }
    } else if h.is_icmp() {
        h.icmp_type = *l4.first()?;
        h.icmp_code = *l4.get(1)?;
        if h.icmp_echo_like() {
            h.sport = be(4)?;
            h.dport = be(6)?;
        }
    }
    Some((id, h))
}

// ---- sockets ----------------------------------------------------------------------------

const ETH_P_ALL: u16 = 0x0003;
const PACKET_OUTGOING: u8 = 4;
const PACKET_STATISTICS: libc::c_int = 6;

/// Run `f` on a thread that has entered network namespace `ns` (sockets it opens stay there).
fn in_ns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
            // SAFETY: a valid namespace fd; setns only affects this (scoped) thread.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

fn check(rc: libc::c_int, what: &str) {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, val: &T, what: &str) {
    // SAFETY: val points to a live T of the given size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (val as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    check(rc, what);
}

/// An AF_PACKET socket bound to `ifname` (in the current namespace): capturing every frame
/// (non-blocking, 64 MB buffer) or send-only.
fn packet_socket(ifname: &str, capture: bool) -> OwnedFd {
    let proto = if capture { ETH_P_ALL.to_be() } else { 0 };
    let flags = if capture { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: plain socket call; the fd is owned below.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | flags,
            proto as i32,
        )
    };
    check(fd, "socket(AF_PACKET)");
    // SAFETY: fd was just returned by socket().
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if capture {
        let size: libc::c_int = 64 << 20;
        setsockopt(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &size,
            "SO_RCVBUFFORCE",
        );
    }
    let name = std::ffi::CString::new(ifname).unwrap();
    // SAFETY: a valid C string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert!(index != 0, "no interface {ifname}");
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = proto;
    sa.sll_ifindex = index as i32;
    // SAFETY: sa is a valid sockaddr_ll for the call.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    check(rc, "bind(AF_PACKET)");
    fd
}

fn send_frame(fd: &OwnedFd, f: &[u8]) {
    // SAFETY: f is a valid buffer.
    let n = unsafe { libc::send(fd.as_raw_fd(), f.as_ptr().cast(), f.len(), 0) };
    check(n as libc::c_int, "send(AF_PACKET)");
}

/// One frame if there is one: (length, packet type).
fn recv(fd: &OwnedFd, buf: &mut [u8]) -> Option<(usize, u8)> {
    // SAFETY: zeroed sockaddr_ll is valid; buf is a valid buffer.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
            (&mut sa as *mut libc::sockaddr_ll).cast(),
            &mut len,
        )
    };
    (n >= 0).then_some((n as usize, sa.sll_pkttype))
}

/// Frames the kernel dropped for this capture socket since the last call.
fn capture_drops(fd: &OwnedFd) -> u32 {
    let mut st = [0u32; 2]; // struct tpacket_stats { tp_packets, tp_drops }
    let mut len = std::mem::size_of_val(&st) as libc::socklen_t;
    // SAFETY: st is large enough for tpacket_stats.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            PACKET_STATISTICS,
            st.as_mut_ptr().cast(),
            &mut len,
        )
    };
    check(rc, "PACKET_STATISTICS");
    st[1]
}

/// A raw IP socket that sends whole IP packets (IPPROTO_RAW implies IP_HDRINCL / IPV6_HDRINCL).
fn raw_socket(v6: bool) -> OwnedFd {
    let fam = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: plain socket call; the fd is owned below.
    let fd = unsafe { libc::socket(fam, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::IPPROTO_RAW) };
    check(fd, "socket(SOCK_RAW)");
    // SAFETY: fd was just returned by socket().
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if !v6 {
        let on: libc::c_int = 1;
        setsockopt(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_BROADCAST,
            &on,
            "SO_BROADCAST",
        );
    }
    fd
}

/// Send an IP packet from the router; a netfilter drop (EPERM) is an outcome, not an error.
fn send_raw(fd: &OwnedFd, p: &Probe, pkt: &[u8]) {
    let n = match p.dst {
        IpAddr::V4(d) => {
            // SAFETY: zeroed sockaddr_in is valid.
            let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sa.sin_family = libc::AF_INET as u16;
            sa.sin_addr.s_addr = u32::from_ne_bytes(d.octets());
            // SAFETY: valid buffer and address.
            unsafe {
                libc::sendto(
                    fd.as_raw_fd(),
                    pkt.as_ptr().cast(),
                    pkt.len(),
                    0,
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as u32,
                )
            }
        }
        IpAddr::V6(d) => {
            // SAFETY: zeroed sockaddr_in6 is valid.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as u16;
            sa.sin6_addr.s6_addr = d.octets();
            // SAFETY: valid buffer and address.
            unsafe {
                libc::sendto(
                    fd.as_raw_fd(),
                    pkt.as_ptr().cast(),
                    pkt.len(),
                    0,
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as u32,
                )
            }
        }
    };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "sendto {p:?}: {e}");
    }
}

/// Join multicast group `g` on interface `iif` (current namespace); membership lasts as long
/// as the returned socket.
fn join(g: IpAddr, iif: &str) -> OwnedFd {
    let name = std::ffi::CString::new(iif).unwrap();
    // SAFETY: a valid C string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    let fam = if g.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    // SAFETY: plain socket call; the fd is owned below.
    let fd = unsafe { libc::socket(fam, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd, "socket(SOCK_DGRAM)");
    // SAFETY: fd was just returned by socket().
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    match g {
        IpAddr::V4(g) => {
            let m = libc::ip_mreqn {
                imr_multiaddr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(g.octets()),
                },
                imr_address: libc::in_addr { s_addr: 0 },
                imr_ifindex: index as i32,
            };
            setsockopt(
                &fd,
                libc::IPPROTO_IP,
                libc::IP_ADD_MEMBERSHIP,
                &m,
                "IP_ADD_MEMBERSHIP",
            );
        }
        IpAddr::V6(g) => {
            let m = libc::ipv6_mreq {
                ipv6mr_multiaddr: libc::in6_addr {
                    s6_addr: g.octets(),
                },
                ipv6mr_interface: index,
            };
            setsockopt(
                &fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_ADD_MEMBERSHIP,
                &m,
                "IPV6_ADD_MEMBERSHIP",
            );
        }
    }
    fd
}
