//! `portplan fleet`: verify a whole site through Ansible, then merge the results.
//!
//! `listen` and `probe` prove one pair of hosts at a time; a fleet run lets Ansible start
//! `listen` on every destination of the plan and run `probe --format json` on every source,
//! then [`merge`] turns the fetched result files into one answer per enforcement point and
//! opening.
//!
//! - [`hosts`]: which inventory hosts play which roles — from the site (every role endpoint the
//!   site writes as a single address) or mapped onto an existing inventory ([`inventory`] reads
//!   Ansible's INI, YAML and `ansible-inventory --list` JSON).
//! - [`ansible`]: the inventory, playbook, vars and `ansible.cfg` for a [`Fleet`], emitted with
//!   serde-saphyr (a YAML serializer); every value that comes from the site or the user and
//!   could be read as a Jinja template is tagged `!unsafe`, so Ansible never evaluates it.
//! - [`merge`] and [`render`]: result files → [`merge::FleetReport`] → table, JSON, JUnit, XLSX.
//!
//! Invariants:
//! - **Only the plan.** The playbook runs nothing but `portplan listen` and `portplan probe` with
//!   the site: what is sent is what `probe` sends, towards the plan's addresses and ports only.
//! - **Bounded.** Each prober is bounded by `--rate`/`--concurrency`/`--timeout`, and at most
//!   `throttle` probers run at once, so the fleet's total rate is at most `rate × throttle`
//!   ([`FleetOptions::check`] keeps that under the total given).
//! - **Hosts are addresses of the site.** A host is listed only with addresses that some role of
//!   the site holds, that are unicast, and that are not on the internet.

pub mod ansible;
pub mod inventory;
pub mod merge;
pub mod render;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::diag::{Error, Result, SourceFile};
use crate::i18n::Text;
use crate::plan::Plan;
use crate::site::Site;
use crate::site::raw::{EndpointItem, RawSite};
use crate::tr;

/// One host of the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct FleetHost {
    /// Inventory host name.
    pub name: String,
    /// `ansible_host`, when portplan names the host (no `--inventory`): its address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
    /// Its addresses in the site (`listen --as`, `probe --from`).
    pub addrs: Vec<IpAddr>,
    /// `product.role` it plays.
    pub roles: BTreeSet<String>,
    /// It must accept something: runs `listen`.
    pub listen: bool,
    /// It starts flows: runs `probe`.
    pub probe: bool,
    /// Stem of its files (result, listener log, pid): unique, `[A-Za-z0-9._-]` only.
    pub file: String,
}

impl FleetHost {
    /// `--as` / `--from`: its addresses, comma-separated.
    pub fn spec(&self) -> String {
        self.addrs
            .iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A role endpoint no fleet host covers, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Uncovered {
    /// `product.role`.
    pub role: String,
    /// The endpoint as the site writes it.
    pub endpoint: String,
    /// Why.
    pub reason: Text,
}

/// The hosts of a fleet run.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    /// Site name.
    pub site: String,
    /// Hosts that listen or probe, in inventory order (by name).
    pub hosts: Vec<FleetHost>,
    /// Endpoints not covered.
    pub uncovered: Vec<Uncovered>,
    /// Inventory hosts with no address of the site (with `--inventory`).
    pub unmatched: usize,
}

impl Fleet {
    /// Hosts that run `probe`.
    pub fn sources(&self) -> impl Iterator<Item = &FleetHost> {
        self.hosts.iter().filter(|h| h.probe)
    }
    /// Hosts that run `listen`.
    pub fn destinations(&self) -> impl Iterator<Item = &FleetHost> {
        self.hosts.iter().filter(|h| h.listen)
    }
}

/// Limits and places of a fleet run.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The binary Ansible copies to the hosts (on the controller).
    pub binary: String,
    /// Work directory on each host.
    pub remote_dir: String,
    /// How long each listener stays up at most.
    pub listen_duration: Duration,
    /// `probe --timeout`.
    pub probe_timeout: Duration,
    /// `probe --rate`: new probes per second per host.
    pub probe_rate: u32,
    /// `probe --concurrency`: probes in flight per host.
    pub probe_concurrency: usize,
    /// New probes per second over the whole fleet.
    pub total_rate: u32,
    /// Ansible forks (connections at once).
    pub forks: u32,
    /// Hosts per batch of the probe play.
    pub serial: u32,
    /// Seconds one probe task may run before Ansible stops it.
    pub probe_task_timeout: u32,
    /// SSH connection timeout, seconds.
    pub ssh_timeout: u32,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            binary: String::new(),
            remote_dir: "/var/tmp/portplan".into(),
            listen_duration: Duration::from_secs(30 * 60),
            probe_timeout: Duration::from_secs(1),
            probe_rate: 200,
            probe_concurrency: 64,
            total_rate: 2000,
            forks: 50,
            serial: 100,
            probe_task_timeout: 900,
            ssh_timeout: 30,
        }
    }
}

impl FleetOptions {
    /// Concurrent probers: as many as the total rate allows at the per-host rate.
    pub fn throttle(&self) -> u32 {
        (self.total_rate / self.probe_rate.max(1)).clamp(1, self.forks.max(1))
    }

    /// Check the bounds: the per-host ones of `probe`, a total rate at least the per-host one,
    /// and sane Ansible settings.
    pub fn check(&self) -> Result<()> {
        crate::verify::probe::ProbeOptions {
            timeout: self.probe_timeout,
            concurrency: self.probe_concurrency,
            rate: self.probe_rate,
        }
        .check()?;
        let bad = |what: &str, range: &str| {
            Err(Error::usage(
                tr!(
                    "{what} is out of bounds ({range})",
                    "{what} が範囲外です ({range})"
                ),
                None,
            ))
        };
        if self.total_rate < self.probe_rate || self.total_rate > 1_000_000 {
            return bad("--total-rate", "--rate .. 1000000");
        }
        if !(1..=1000).contains(&self.forks) {
            return bad("--forks", "1..1000");
        }
        if !(1..=100_000).contains(&self.serial) {
            return bad("--serial", "1..100000");
        }
        if !(1..=86_400).contains(&self.probe_task_timeout) {
            return bad("--probe-task-timeout", "1..86400 s");
        }
        if !(1..=600).contains(&self.ssh_timeout) {
            return bad("--ssh-timeout", "1..600 s");
        }
        if self.listen_duration < Duration::from_secs(10) {
            return bad("--listen-duration", "10s .. 7 days");
        }
        if !self.remote_dir.starts_with('/') || self.remote_dir.contains(['\n', '\r', '\0']) {
            return Err(Error::usage(
                tr!(
                    "--remote-dir must be an absolute path on one line",
                    "--remote-dir は 1 行の絶対パスである必要があります"
                ),
                None,
            ));
        }
        Ok(())
    }
}

/// Whether `ip` is a host the fleet may log into: unicast, in a zone of the site, not on the
/// internet (a stranger's host, or a cloud service).
fn why_not_host(site: &Site, hosts: &crate::site::HostCheck, ip: IpAddr) -> Option<Text> {
    if let Some(why) = hosts.why_not(ip) {
        return Some(why);
    }
    if crate::site::is_public(ip)
        || site
            .zone_of_ip(ip)
            .is_none_or(|z| z.id == crate::site::INTERNET)
    {
        return Some(tr!(
            "on the internet: not a host of the site to log into",
            "インターネット上のアドレスです: ログインするサイトのホストではありません"
        ));
    }
    None
}

/// Per address: roles, listens, probes.
struct Roles<'a> {
    site: &'a Site,
    plan: &'a Plan,
}

impl Roles<'_> {
    fn of(&self, ip: IpAddr) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for p in &self.site.products {
            for (role, set) in &p.roles {
                if set.contains(ip) {
                    out.insert(format!("{}.{role}", p.product));
                }
            }
        }
        out
    }
    fn listens(&self, ip: IpAddr) -> bool {
        self.plan
            .flows
            .iter()
            .any(|f| !f.from.is_empty() && f.to.contains(ip))
    }
    fn probes(&self, ip: IpAddr) -> bool {
        self.plan
            .flows
            .iter()
            .any(|f| f.from.contains(ip) && (f.to.has_addresses() || !f.to.fqdns.is_empty()))
    }
}

/// A file stem for `name`: `[A-Za-z0-9._-]`, not starting with `.`, at most 100 bytes, unique
/// among `taken` (a `-N` suffix otherwise).
fn file_stem(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, 'h');
    }
    let mut out = s.clone();
    let mut n = 2;
    while !taken.insert(out.clone()) {
        out = format!("{s}-{n}");
        n += 1;
    }
    out
}

/// The fleet of a site on its own: one host per address that a role lists as a single address
/// (`10.0.0.5`, `10.0.0.5/32`); networks, zones and names are reported as not covered.
/// `file` is the site's source: which endpoints are single addresses is a matter of how the
/// site writes them, which the checked [`Site`] no longer says.
pub fn hosts(site: &Site, plan: &Plan, file: &SourceFile) -> Result<Fleet> {
    let raw: RawSite = serde_saphyr::from_str_with_options(&file.text, crate::diag::yaml_options())
        .map_err(|e| Error::Yaml {
            file: file.clone(),
            error: Box::new(e),
        })?;
    let check = site.host_check();
    let roles = Roles { site, plan };
    let mut addrs: BTreeSet<IpAddr> = BTreeSet::new();
    let mut uncovered = Vec::new();
    for p in &raw.products {
        for (role, list) in &p.roles {
            let q = format!("{}.{role}", p.product.value);
            for item in &list.value.0 {
                let text = match &item.value {
                    EndpointItem::Text(t) => t.trim().to_string(),
                    EndpointItem::Fqdn(n, _) => n.clone(),
                };
                let single = match &item.value {
                    EndpointItem::Text(t) => single_address(t.trim()),
                    EndpointItem::Fqdn(..) => None,
                };
                let reason = match single {
                    Some(ip) => match why_not_host(site, &check, ip) {
                        None => {
                            addrs.insert(ip);
                            continue;
                        }
                        Some(why) => why,
                    },
                    None if text.contains('/') || text.starts_with("zone:") => tr!(
                        "a network, not one host: map its hosts with --inventory",
                        "単一ホストではなくネットワークです: --inventory でホストを対応付けてください"
                    ),
                    None => tr!(
                        "a name, not an address: map it with --inventory (ansible_host or portplan_addresses)",
                        "アドレスではなく名前です: --inventory で対応付けてください (ansible_host または portplan_addresses)"
                    ),
                };
                uncovered.push(Uncovered {
                    role: q.clone(),
                    endpoint: text,
                    reason,
                });
            }
        }
    }
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    for ip in addrs {
        let (listen, probe) = (roles.listens(ip), roles.probes(ip));
        if !listen && !probe {
            continue;
        }
        let name = ip.to_string();
        out.push(FleetHost {
            file: file_stem(&name, &mut taken),
            connect: Some(name.clone()),
            name,
            addrs: vec![ip],
            roles: roles.of(ip),
            listen,
            probe,
        });
    }
    Ok(Fleet {
        site: site.name.clone(),
        hosts: out,
        uncovered,
        unmatched: 0,
    })
}

/// `10.0.0.5`, `10.0.0.5/32`, `2001:db8::5/128` → the address.
fn single_address(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let net = s.parse::<ipnet::IpNet>().ok()?;
    (net.prefix_len() == net.max_prefix_len()).then(|| net.addr())
}

/// The fleet mapped onto an existing inventory: each inventory host whose addresses
/// (`ansible_host`, its name, `portplan_addresses`) include addresses of the site's roles.
pub fn hosts_from_inventory(
    site: &Site,
    plan: &Plan,
    inv: &[inventory::InventoryHost],
) -> Result<Fleet> {
    let check = site.host_check();
    let roles = Roles { site, plan };
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    let mut unmatched = 0;
    let mut owner: HashMap<IpAddr, &str> = HashMap::new();
    for h in inv {
        let mut addrs: Vec<IpAddr> = h
            .addrs
            .iter()
            .copied()
            .filter(|ip| why_not_host(site, &check, *ip).is_none() && !roles.of(*ip).is_empty())
            .collect();
        addrs.sort();
        addrs.dedup();
        if addrs.is_empty() {
            unmatched += 1;
            continue;
        }
        for ip in &addrs {
            if let Some(other) = owner.insert(*ip, &h.name) {
                let name = &h.name;
                return Err(Error::usage(
                    tr!(
                        "inventory hosts {other} and {name} both have the address {ip}",
                        "インベントリのホスト {other} と {name} が同じアドレス {ip} を持っています"
                    ),
                    Some(tr!(
                        "each address of the site belongs to one host: fix ansible_host or portplan_addresses",
                        "サイトのアドレスは 1 台のホストに属します: ansible_host または portplan_addresses を直してください"
                    )),
                ));
            }
        }
        let listen = addrs.iter().any(|a| roles.listens(*a));
        let probe = addrs.iter().any(|a| roles.probes(*a));
        if !listen && !probe {
            continue;
        }
        let mut rs = BTreeSet::new();
        for a in &addrs {
            rs.extend(roles.of(*a));
        }
        out.push(FleetHost {
            file: file_stem(&h.name, &mut taken),
            connect: None,
            name: h.name.clone(),
            addrs,
            roles: rs,
            listen,
            probe,
        });
    }
    // Single addresses of the site's roles that no inventory host has.
    let mut uncovered = Vec::new();
    let mut seen: BTreeMap<IpAddr, ()> = BTreeMap::new();
    for p in &site.products {
        for (role, set) in &p.roles {
            if let Some(v) = crate::verify::addresses(set, crate::verify::MAX_HOSTS_PER_FLOW) {
                for ip in v {
                    if !owner.contains_key(&ip)
                        && why_not_host(site, &check, ip).is_none()
                        && seen.insert(ip, ()).is_none()
                        && (roles.listens(ip) || roles.probes(ip))
                    {
                        uncovered.push(Uncovered {
                            role: format!("{}.{role}", p.product),
                            endpoint: ip.to_string(),
                            reason: tr!(
                                "no inventory host has this address",
                                "このアドレスを持つインベントリのホストがありません"
                            ),
                        });
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Fleet {
        site: site.name.clone(),
        hosts: out,
        uncovered,
        unmatched,
    })
}

#[cfg(test)]
mod tests;
