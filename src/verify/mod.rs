//! Live verification: what `listen` must open on a host and what `probe` must test from one.
//!
//! This module is pure: it turns a [`Plan`] and a host's addresses into a [`ListenPlan`] (the
//! responders to open) or a [`ProbePlan`] (the checks to run). The network side lives in
//! [`listen`] and [`probe`]; the token protocol both speak is in [`wire`].
//!
//! Invariants:
//! - **Only the plan.** Every address probed is an endpoint the site names (or an FQDN the plan
//!   names, resolved at probe time); every port is a port of an opening, or one of the bounded
//!   must-be-closed sample derived from the plan ([`closed_sample`]). It is not a scanner.
//! - **Both sides agree without talking.** `listen` on the destination and `probe` on the source
//!   compute the same port samples from the same site file: ranges longer than [`ALL_UP_TO`]
//!   ports are sampled at [`SAMPLE_PER_RANGE`] fixed points ([`sample`]), and the listener also
//!   opens the must-be-closed sample, so a firewall that lets one of them through is caught as
//!   `unexpected-open` rather than guessed from a reset.
//! - **Closed checks only where a firewall decides, and never on the internet.** A port is
//!   checked closed from S to D only when the site has an enforcement point between them (a
//!   network firewall with S and D on different sides, or a host firewall on either) and D is in
//!   one of the site's own zones: probing a stranger's risky ports would be a scan.

pub mod listen;
pub mod probe;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::ops::RangeInclusive;

use serde::Serialize;

use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::diag::{Error, Result};
use crate::i18n::Text;
use crate::plan::Plan;
use crate::portset::PortSet;
use crate::site::{PointKind, Site};
use crate::suggest::closest;
use crate::tr;

/// Ranges up to this many ports are tested port by port.
pub const ALL_UP_TO: u32 = 32;
/// Longer ranges are tested at this many evenly spread ports, both ends included.
pub const SAMPLE_PER_RANGE: u32 = 8;
/// A destination set with more addresses than this is a network, not a host: name one with `--to`.
pub const MAX_HOSTS_PER_FLOW: u64 = 16;
/// Well-known TCP ports that must be closed unless required (remote shells, SMB/RPC, databases,
/// remote desktop, WinRM).
pub const RISKY_TCP: &[u16] = &[21, 22, 23, 25, 135, 139, 445, 1433, 3306, 3389, 5900, 5985];
/// Well-known UDP ports that must be closed unless required.
pub const RISKY_UDP: &[u16] = &[69, 137, 138, 161, 1900];

/// The ports of `ports` that are tested: every port of short ranges, [`SAMPLE_PER_RANGE`] evenly
/// spread ports (both ends included) of long ones. Sorted, deterministic.
pub fn sample(ports: &PortSet) -> Vec<u16> {
    let mut out = Vec::new();
    for r in ports.ranges() {
        out.extend(sample_range(&r));
    }
    out
}

fn sample_range(r: &RangeInclusive<u16>) -> Vec<u16> {
    let (lo, hi) = (u32::from(*r.start()), u32::from(*r.end()));
    let n = hi - lo + 1;
    if n <= ALL_UP_TO {
        return (lo..=hi).map(|p| p as u16).collect();
    }
    let k = SAMPLE_PER_RANGE;
    let mut v: Vec<u16> = (0..k)
        .map(|i| (lo + i * (n - 1) / (k - 1)) as u16)
        .collect();
    v.dedup();
    v
}

/// The ports tested for a union of flows: the [`sample`] of each flow's own ports, so every
/// requirement's ports are tested even when a wide range of another flow covers them.
pub fn sample_flows<'a>(ports: impl IntoIterator<Item = &'a PortSet>) -> Vec<u16> {
    let mut out = BTreeSet::new();
    for p in ports {
        out.extend(sample(p));
    }
    out.into_iter().collect()
}

/// The ranges of `ports` that [`sample`] does not test in full: (range, ports tested).
pub fn sampled_ranges(ports: &PortSet) -> Vec<(String, usize)> {
    ports
        .ranges()
        .filter(|r| u32::from(*r.end()) - u32::from(*r.start()) + 1 > ALL_UP_TO)
        .map(|r| (crate::portset::range_string(&r), sample_range(&r).len()))
        .collect()
}

/// What the plan says `addr` must accept, per protocol, with the requirements behind each port.
#[derive(Debug, Clone, Default)]
pub struct Accepts {
    /// Protocol → ports.
    pub ports: BTreeMap<Protocol, PortSet>,
    /// Protocol → (ports, `product/requirement`), one entry per flow.
    pub why: BTreeMap<Protocol, Vec<(PortSet, String)>>,
    /// Protocol → ports a catalog says must stay closed on this address (from some source).
    pub closed: BTreeMap<Protocol, PortSet>,
}

impl Accepts {
    /// The requirements that need `port`.
    pub fn requirements(&self, protocol: Protocol, port: u16) -> Vec<String> {
        let mut v: Vec<String> = self
            .why
            .get(&protocol)
            .into_iter()
            .flatten()
            .filter(|(p, _)| p.contains(port))
            .map(|(_, r)| r.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Every port that `addr` must accept from some source, over all flows of the plan.
pub fn accepts(plan: &Plan, addr: IpAddr) -> Accepts {
    let mut a = Accepts::default();
    for f in &plan.flows {
        if f.to.contains(addr) && !f.from.is_empty() {
            a.ports.entry(f.protocol).or_default().extend(&f.ports);
            a.why
                .entry(f.protocol)
                .or_default()
                .push((f.ports.clone(), f.qualified()));
        }
    }
    for c in &plan.closed {
        if c.to.contains(addr) && !c.from.is_empty() {
            a.closed.entry(c.protocol).or_default().extend(&c.ports);
        }
    }
    a
}

/// The must-be-closed sample of a destination: the ports just outside each accepted range, the
/// well-known risky ports and the [`sample`] of the ports a catalog says must stay closed on it,
/// minus everything it accepts from anyone.
pub fn closed_sample(acc: &Accepts, protocol: Protocol) -> Vec<u16> {
    let empty = PortSet::new();
    let open = acc.ports.get(&protocol).unwrap_or(&empty);
    let mut out = BTreeSet::new();
    for r in open.ranges() {
        if *r.start() > 1 {
            out.insert(*r.start() - 1);
        }
        if *r.end() < u16::MAX {
            out.insert(*r.end() + 1);
        }
    }
    let risky = match protocol {
        Protocol::Tcp => RISKY_TCP,
        Protocol::Udp => RISKY_UDP,
    };
    out.extend(risky.iter().copied());
    if let Some(closed) = acc.closed.get(&protocol) {
        out.extend(sample(closed));
    }
    out.into_iter().filter(|p| !open.contains(*p)).collect()
}

/// A host as `--as` / `--from` name it: its addresses and how it was named.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    /// What the user wrote.
    pub label: String,
    /// Its addresses.
    pub addrs: Vec<IpAddr>,
}

/// Resolve `spec`: comma-separated IP addresses or `product.role` names whose endpoints are
/// single addresses. Every address must play some role in the site.
pub fn resolve_host(site: &Site, spec: &str) -> Result<Host> {
    let mut addrs = Vec::new();
    let hosts = site.host_check();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(ip) = item.parse::<IpAddr>() {
            check_host(&hosts, ip)?;
            if !site
                .products
                .iter()
                .any(|p| p.roles.values().any(|s| s.contains(ip)))
            {
                return Err(Error::usage(
                    tr!(
                        "{ip} plays no role in site {}: it is in no role's endpoints",
                        "{ip} はサイト {} のどのロールにも含まれません",
                        site.name
                    ),
                    Some(tr!(
                        "give an address of this host as the site lists it, or PRODUCT.ROLE",
                        "サイトに記載されたこのホストのアドレス、または 製品.ロール を指定してください"
                    )),
                ));
            }
            addrs.push(ip);
            continue;
        }
        let set = role_set(site, item)?;
        let ips = single_addresses(&set).ok_or_else(|| {
            Error::usage(
                tr!(
                    "role {item} is not one host (its endpoints are {}): give this host's address",
                    "ロール {item} は単一ホストではありません ({}): このホストのアドレスを指定してください",
                    set.cidrs().join(", ")
                ),
                None,
            )
        })?;
        for ip in &ips {
            check_host(&hosts, *ip)?;
        }
        addrs.extend(ips);
    }
    addrs.sort();
    addrs.dedup();
    if addrs.is_empty() {
        return Err(Error::usage(
            tr!("no host given", "ホストが指定されていません"),
            None,
        ));
    }
    Ok(Host {
        label: spec.to_string(),
        addrs,
    })
}

/// A usage error when `ip` cannot be one host's address (`--as 0.0.0.0` would bind every
/// address; `--to 224.0.0.1` would multicast the probes).
fn check_host(hosts: &crate::site::HostCheck, ip: IpAddr) -> Result<()> {
    match hosts.why_not(ip) {
        None => Ok(()),
        Some(why) => Err(Error::usage(
            Text::new(
                format!("{ip} is not one host's address: it is {}", why.en),
                format!("{ip} は 1 台のホストのアドレスではありません: {}", why.ja),
            ),
            Some(tr!(
                "give a unicast address of a host, as the site lists it",
                "サイトに記載されたホストのユニキャストアドレスを指定してください"
            )),
        )),
    }
}

/// The endpoints of `product.role` (or of `role` when one product has it).
fn role_set(site: &Site, name: &str) -> Result<AddrSet> {
    let mut found = Vec::new();
    let mut all = Vec::new();
    for p in &site.products {
        for (role, set) in &p.roles {
            let q = format!("{}.{role}", p.product);
            if q == name || role == name {
                found.push((q.clone(), set.clone()));
            }
            all.push(q);
        }
    }
    match found.len() {
        1 => Ok(found.pop().expect("one").1),
        0 => {
            let hint = closest(name, all.iter().map(String::as_str))
                .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                .unwrap_or_default();
            Err(Error::usage(
                Text::new(
                    format!(
                        "`{name}` is neither an IP address nor a deployed role of the site{}",
                        hint.en
                    ),
                    format!(
                        "`{name}` は IP アドレスでもサイトに配置されたロールでもありません{}",
                        hint.ja
                    ),
                ),
                None,
            ))
        }
        _ => {
            let names = found
                .iter()
                .map(|(q, _)| q.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Err(Error::usage(
                tr!(
                    "role `{name}` is ambiguous: {names}",
                    "ロール `{name}` が曖昧です: {names}"
                ),
                None,
            ))
        }
    }
}

/// The addresses of `set` when it is a few hosts (at most [`MAX_HOSTS_PER_FLOW`]) and no names.
fn single_addresses(set: &AddrSet) -> Option<Vec<IpAddr>> {
    if !set.fqdns.is_empty() {
        return None;
    }
    addresses(set, MAX_HOSTS_PER_FLOW)
}

/// Every address of `set` (names ignored), or `None` when there are more than `limit`.
pub fn addresses(set: &AddrSet, limit: u64) -> Option<Vec<IpAddr>> {
    let mut out = Vec::new();
    for r in set.v4.ranges() {
        if u64::from(r.end() - r.start()) + 1 > limit.saturating_sub(out.len() as u64) {
            return None;
        }
        out.extend((*r.start()..=*r.end()).map(|a| IpAddr::from(std::net::Ipv4Addr::from(a))));
    }
    for r in set.v6.ranges() {
        let n = r.end() - r.start();
        if n >= u128::from(limit.saturating_sub(out.len() as u64)) {
            return None;
        }
        out.extend((*r.start()..=*r.end()).map(|a| IpAddr::from(std::net::Ipv6Addr::from(a))));
    }
    Some(out)
}

/// Why a port is listened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListenKind {
    /// The plan requires it; these requirements.
    Required {
        /// `product/requirement`.
        requirements: Vec<String>,
    },
    /// A must-be-closed sample port: answers only if a firewall wrongly lets it through.
    Canary,
}

/// One responder to open.
#[derive(Debug, Clone, Serialize)]
pub struct ListenPort {
    /// Address to bind.
    pub addr: IpAddr,
    /// Protocol.
    pub protocol: Protocol,
    /// Port.
    pub port: u16,
    /// Why.
    pub kind: ListenKind,
}

/// A range of accepted ports that is only sampled.
#[derive(Debug, Clone, Serialize)]
pub struct SampledRange {
    /// Address.
    pub addr: IpAddr,
    /// Protocol.
    pub protocol: Protocol,
    /// `lo-hi`.
    pub range: String,
    /// How many of its ports are opened.
    pub tested: usize,
}

/// What `listen` opens on a host.
#[derive(Debug, Clone, Serialize)]
pub struct ListenPlan {
    /// The host.
    pub host: Host,
    /// Responders, sorted by address, protocol, port.
    pub ports: Vec<ListenPort>,
    /// Accepted ranges that are sampled, not opened in full.
    pub sampled: Vec<SampledRange>,
}

/// The responders `host` opens: the sample of every port it must accept, and its must-be-closed
/// sample (canaries), on each of its addresses.
pub fn listen_plan(plan: &Plan, host: &Host) -> ListenPlan {
    let mut ports = Vec::new();
    let mut sampled = Vec::new();
    for &addr in &host.addrs {
        let acc = accepts(plan, addr);
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            if let Some(ps) = acc.ports.get(&protocol) {
                let why = acc
                    .why
                    .get(&protocol)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for port in sample_flows(why.iter().map(|(p, _)| p)) {
                    ports.push(ListenPort {
                        addr,
                        protocol,
                        port,
                        kind: ListenKind::Required {
                            requirements: acc.requirements(protocol, port),
                        },
                    });
                }
                for (range, tested) in sampled_ranges(ps) {
                    sampled.push(SampledRange {
                        addr,
                        protocol,
                        range,
                        tested,
                    });
                }
            }
            // Canaries on both protocols of any host that accepts something: the prober checks
            // both towards every destination it has a flow to.
            if acc.ports.is_empty() {
                continue;
            }
            for port in closed_sample(&acc, protocol) {
                ports.push(ListenPort {
                    addr,
                    protocol,
                    port,
                    kind: ListenKind::Canary,
                });
            }
        }
    }
    ports.sort_by_key(|p| (p.addr, p.protocol, p.port));
    ListenPlan {
        host: host.clone(),
        ports,
        sampled,
    }
}

/// What a check expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Required: must pass.
    Open,
    /// Not required, behind a firewall: must be blocked.
    Closed,
}

/// Where a check goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Dest {
    /// An address of the site.
    Addr(IpAddr),
    /// A name of the plan, resolved when probing.
    Name(String),
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dest::Addr(a) => write!(f, "{a}"),
            Dest::Name(n) => f.write_str(n),
        }
    }
}

/// One probe to run.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Source address (for names: chosen by family once resolved; `None` until then).
    pub src: Option<IpAddr>,
    /// Destination.
    pub dst: Dest,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination port.
    pub port: u16,
    /// Open (required) or closed.
    pub expect: Expect,
    /// Requirements behind a required check; for a closed check, the enforcement points that
    /// must block it.
    pub because: Vec<String>,
}

/// A flow of the host that cannot be probed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// `product/requirement`.
    pub requirement: String,
    /// The destination as the plan has it.
    pub to: String,
    /// Why.
    pub reason: Text,
}

/// Where a name of the plan may resolve to.
#[derive(Debug, Clone)]
pub struct NameScope {
    /// Its zone.
    pub zone: String,
    /// The zone's host addresses (no network or broadcast addresses).
    pub addrs: AddrSet,
}

/// What `probe` tests from a host.
#[derive(Debug, Clone, Serialize)]
pub struct ProbePlan {
    /// Each name's zone: a name that resolves outside it is not probed.
    #[serde(skip)]
    pub names: BTreeMap<String, NameScope>,
    /// The host.
    pub host: Host,
    /// Checks, required first, then by destination, protocol, port.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Flows not probed.
    pub skipped: Vec<Skipped>,
    /// Required ranges only sampled.
    pub sampled: Vec<SampledRange>,
    /// Destinations without a firewall between: no closed checks there.
    pub unenforced: Vec<IpAddr>,
    /// Destinations on the internet: required flows only, never closed checks (a probe of
    /// someone else's 3389/tcp is a scan, whatever our firewall says).
    pub internet: Vec<IpAddr>,
}

/// Port sets and the `product/requirement` behind each.
type Why = Vec<(PortSet, String)>;

/// How `--to` narrows the probe.
#[derive(Debug, Clone)]
enum ToFilter {
    Any,
    Addr(IpAddr),
    Role(Vec<String>),
}

fn to_filter(site: &Site, to: Option<&str>) -> Result<ToFilter> {
    let Some(to) = to else {
        return Ok(ToFilter::Any);
    };
    if let Ok(ip) = to.parse::<IpAddr>() {
        check_host(&site.host_check(), ip)?;
        return Ok(ToFilter::Addr(ip));
    }
    role_set(site, to)?;
    let roles = site
        .products
        .iter()
        .flat_map(|p| {
            p.roles
                .keys()
                .filter(|r| format!("{}.{r}", p.product) == to || *r == to)
                .map(move |r| format!("{}.{r}", p.product))
        })
        .collect();
    Ok(ToFilter::Role(roles))
}

/// A short description of a large set: the zones it is made of, or its first prefixes.
fn describe(site: &Site, set: &AddrSet) -> String {
    let zones: Vec<&crate::site::Zone> = site
        .zones
        .iter()
        .filter(|z| !z.set.intersection(set).is_empty())
        .collect();
    let mut union = AddrSet::new();
    for z in &zones {
        union.extend(&z.set.intersection(&AddrSet::net(if set.v4.is_empty() {
            "::/0".parse().expect("net")
        } else {
            "0.0.0.0/0".parse().expect("net")
        })));
    }
    if !zones.is_empty() && union == *set {
        return zones
            .iter()
            .map(|z| format!("zone:{}", z.id))
            .collect::<Vec<_>>()
            .join(", ");
    }
    let cidrs = set.cidrs();
    match cidrs.len() {
        0..=3 => cidrs.join(", "),
        n => format!("{}, … ({n} prefixes)", cidrs[..3].join(", ")),
    }
}

/// Whether some enforcement point of the site decides on packets from `s` to `d`.
pub fn enforced_between(site: &Site, s: IpAddr, d: IpAddr) -> Vec<String> {
    site.points
        .iter()
        .filter(|pt| match &pt.kind {
            PointKind::Network { sides, .. } => {
                let side_of = |ip: IpAddr| {
                    sides
                        .iter()
                        .position(|side| site.zones_set(side).contains(ip))
                };
                matches!((side_of(s), side_of(d)), (Some(a), Some(b)) if a != b)
            }
            PointKind::Host { members, .. } => members.contains(s) || members.contains(d),
        })
        .map(|pt| pt.id.clone())
        .collect()
}

/// The checks `host` runs: every required flow starting at one of its addresses (sampled
/// ranges), and, towards each destination behind a firewall, the must-be-closed sample.
pub fn probe_plan(site: &Site, plan: &Plan, host: &Host, to: Option<&str>) -> Result<ProbePlan> {
    let filter = to_filter(site, to)?;
    let hosts = site.host_check();
    // (src, dst, protocol) → ports required, and why.
    let mut required: BTreeMap<(Option<IpAddr>, Dest, Protocol), Why> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut matched_filter = false;
    for f in &plan.flows {
        let role = format!("{}.{}", f.product, f.to_role);
        if let ToFilter::Role(rs) = &filter
            && !rs.contains(&role)
        {
            continue;
        }
        for &src in host.addrs.iter().filter(|a| f.from.contains(**a)) {
            let same_family = |d: &IpAddr| d.is_ipv4() == src.is_ipv4() && *d != src;
            let mut dests: Vec<Dest> = Vec::new();
            match &filter {
                ToFilter::Addr(ip) => {
                    if f.to.contains(*ip) && same_family(ip) {
                        dests.push(Dest::Addr(*ip));
                    }
                }
                _ => {
                    let fam = if src.is_ipv4() {
                        f.to.only_v4()
                    } else {
                        f.to.only_v6()
                    };
                    if !fam.is_empty() {
                        match addresses(&fam, MAX_HOSTS_PER_FLOW) {
                            // A small network's broadcast (and network) address is no host.
                            Some(v) => dests.extend(
                                v.into_iter()
                                    .filter(same_family)
                                    .filter(|a| hosts.why_not(*a).is_none())
                                    .map(Dest::Addr),
                            ),
                            None => skipped.push(Skipped {
                                requirement: f.qualified(),
                                to: format!("{role} ({})", describe(site, &fam)),
                                reason: tr!(
                                    "the destination is a network, not a host: probe one of its hosts with --to ADDRESS",
                                    "宛先が単一ホストではなくネットワークです: --to ADDRESS でその中のホストを指定してください"
                                ),
                            }),
                        }
                    }
                    for name in &f.to.fqdns {
                        dests.push(Dest::Name(name.clone()));
                    }
                }
            }
            for d in dests {
                matched_filter = true;
                let key_src = match d {
                    Dest::Addr(_) => Some(src),
                    Dest::Name(_) => None,
                };
                required
                    .entry((key_src, d, f.protocol))
                    .or_default()
                    .push((f.ports.clone(), f.qualified()));
            }
        }
    }
    if let (Some(to), false) = (to, matched_filter || !skipped.is_empty()) {
        return Err(Error::usage(
            tr!(
                "the plan has no flow from {} to {to}: nothing to probe there",
                "計画には {} から {to} への通信がありません: 検査対象がありません",
                host.label
            ),
            None,
        ));
    }
    skipped.sort_by(|a, b| (&a.requirement, &a.to).cmp(&(&b.requirement, &b.to)));
    skipped.dedup_by(|a, b| a.requirement == b.requirement && a.to == b.to);

    let mut checks = Vec::new();
    let mut sampled = Vec::new();
    let mut unenforced = BTreeSet::new();
    // Names have one entry per protocol whatever the source family; merge their port sets.
    for ((src, dst, protocol), why) in &required {
        let mut ports = PortSet::new();
        for (p, _) in why {
            ports.extend(p);
        }
        for port in sample_flows(why.iter().map(|(p, _)| p)) {
            let mut because: Vec<String> = why
                .iter()
                .filter(|(p, _)| p.contains(port))
                .map(|(_, r)| r.clone())
                .collect();
            because.sort();
            because.dedup();
            checks.push(Check {
                src: *src,
                dst: dst.clone(),
                protocol: *protocol,
                port,
                expect: Expect::Open,
                because,
            });
        }
        if let Dest::Addr(d) = dst {
            for (range, tested) in sampled_ranges(&ports) {
                sampled.push(SampledRange {
                    addr: *d,
                    protocol: *protocol,
                    range,
                    tested,
                });
            }
        }
    }
    // Closed checks: towards every address destination, both protocols, when a firewall decides.
    let pairs: BTreeSet<(IpAddr, IpAddr)> = required
        .keys()
        .filter_map(|(s, d, _)| match (s, d) {
            (Some(s), Dest::Addr(d)) => Some((*s, *d)),
            _ => None,
        })
        .collect();
    let mut internet = BTreeSet::new();
    for (s, d) in pairs {
        // A public address is a stranger's host even when a zone claims it (a site whose
        // zones cover every address): no closed checks there either.
        if crate::site::is_public(d)
            || site
                .zone_of_ip(d)
                .is_none_or(|z| z.id == crate::site::INTERNET)
        {
            internet.insert(d);
            continue;
        }
        let points = enforced_between(site, s, d);
        if points.is_empty() {
            unenforced.insert(d);
            continue;
        }
        let acc = accepts(plan, d);
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            let empty = vec![];
            let mine = required
                .get(&(Some(s), Dest::Addr(d), protocol))
                .unwrap_or(&empty);
            let mut allowed = PortSet::new();
            for (p, _) in mine {
                allowed.extend(p);
            }
            // Ports others may reach on d but s may not, then the canaries.
            let mut ports: BTreeSet<u16> = acc
                .why
                .get(&protocol)
                .map(|w| sample_flows(w.iter().map(|(p, _)| p)))
                .unwrap_or_default()
                .into_iter()
                .collect();
            ports.extend(closed_sample(&acc, protocol));
            for port in ports.into_iter().filter(|p| !allowed.contains(*p)) {
                checks.push(Check {
                    src: Some(s),
                    dst: Dest::Addr(d),
                    protocol,
                    port,
                    expect: Expect::Closed,
                    because: points.clone(),
                });
            }
        }
    }
    checks.sort_by(|a, b| {
        (a.expect, &a.dst, a.protocol, a.port, a.src)
            .cmp(&(b.expect, &b.dst, b.protocol, b.port, b.src))
    });
    // Where each name must resolve to: its zone's host addresses.
    let mut names = BTreeMap::new();
    for c in &checks {
        if let Dest::Name(n) = &c.dst
            && !names.contains_key(n)
            && let Some(z) = site.zones.iter().find(|z| z.set.fqdns.contains(n))
        {
            let mut edges = AddrSet::new();
            for net in &z.nets {
                if let ipnet::IpNet::V4(v4) = net
                    && v4.prefix_len() <= 30
                {
                    edges.insert_ip(IpAddr::V4(v4.network()));
                    edges.insert_ip(IpAddr::V4(v4.broadcast()));
                }
            }
            let set = z.set.only_v4().union(&z.set.only_v6()).difference(&edges);
            names.insert(
                n.clone(),
                NameScope {
                    zone: z.id.clone(),
                    addrs: set,
                },
            );
        }
    }
    Ok(ProbePlan {
        names,
        host: host.clone(),
        checks,
        skipped,
        sampled,
        unenforced: unenforced.into_iter().collect(),
        internet: internet.into_iter().collect(),
    })
}

/// Set an integer socket option; failure is ignored (the options set this way are
/// optimisations that an old kernel may lack).
pub(crate) fn set_int_option(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) {
    // SAFETY: `fd` is a socket the caller owns; the option value is a c_int of the size passed.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Parse `90`, `90s`, `1500ms`, `10m`, `2h` (a bare number is seconds).
pub fn parse_duration(s: &str) -> std::result::Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 500ms, 10m, 1h)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("unknown unit `{u}` in `{s}` (ms, s, m, h)")),
    };
    if !(0.0..=7.0 * 86400.0).contains(&secs) {
        return Err(format!("`{s}` is out of range (up to 7 days)"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests;
