//! Sites: zones, deployed products with their options and role endpoints, and enforcement
//! points (network firewalls between zones, host firewalls on a role's members).
//!
//! [`load`] parses a site file with locations and checks it against the catalogs; a [`Site`]
//! that exists is consistent (every product, role, option, zone and endpoint resolves, zones do
//! not overlap, every endpoint lies in exactly one zone). Problems that do not make the site
//! meaningless — a role an active requirement needs but the site maps to nothing — are kept
//! as [`Site::warnings`] and the requirement is dropped, as the catalog semantics say.

pub mod internet;
pub mod raw;
pub mod request;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use ipnet::IpNet;
use serde_saphyr::Spanned;

use crate::addr::AddrSet;
use crate::catalog::{Catalog, Catalogs, ZoneHint};
use crate::diag::{Error, Problem, Result, SourceFile, span_of};
use crate::flows::Deployment;
use crate::i18n::Text;
use crate::options::OptionValues;
use crate::suggest::closest;
use crate::tr;

pub use raw::Target;
use raw::{EndpointItem, EndpointList, RawSite};

/// The zone no site may define: every address no other zone claims, except the private and
/// special-purpose ranges ([`internet::SPECIAL`]) unless the site includes them.
pub const INTERNET: &str = "internet";

/// A zone and the addresses (and FQDNs) in it.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: Option<Text>,
    /// Its addresses; the internet zone's is the complement of all others.
    pub set: AddrSet,
    /// The CIDRs as written (host bits cleared), for their broadcast addresses; none for the
    /// internet zone.
    pub nets: Vec<IpNet>,
}

/// One product as deployed at the site.
#[derive(Debug, Clone)]
pub struct SiteProduct {
    /// Catalog id.
    pub product: String,
    /// Every option's value.
    pub options: OptionValues,
    /// Role → endpoints (explicit, or the catalog's defaults). Roles absent here are not deployed.
    pub roles: BTreeMap<String, AddrSet>,
    /// Roles the site maps to `[]`: deliberately not deployed, so no warning about them.
    pub not_deployed: BTreeSet<String>,
}

/// What an enforcement point is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointKind {
    /// A network firewall; a flow crosses it when its ends are in zones on different sides.
    Network {
        /// Each side is a set of zone ids.
        sides: Vec<Vec<String>>,
        /// Interface name → the zones behind it (empty when the site does not say).
        interfaces: Vec<(String, Vec<String>)>,
    },
    /// A host firewall on every member of a role.
    Host {
        /// Product id.
        product: String,
        /// Role id.
        role: String,
        /// Member addresses.
        members: AddrSet,
    },
}

/// A firewall that enforces part of the plan.
#[derive(Debug, Clone)]
pub struct EnforcementPoint {
    /// Id.
    pub id: String,
    /// Network or host.
    pub kind: PointKind,
    /// Render target.
    pub target: Target,
}

impl EnforcementPoint {
    /// `network` or `host`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            PointKind::Network { .. } => "network",
            PointKind::Host { .. } => "host",
        }
    }
}

/// A checked site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Name.
    pub name: String,
    /// What the site is (as written).
    pub description: Option<Text>,
    /// The change request's paperwork (`request:`).
    pub request: request::Request,
    /// Where it came from.
    pub origin: String,
    /// Zones, `internet` last.
    pub zones: Vec<Zone>,
    /// The special-purpose addresses no zone claims and the site does not count as internet:
    /// in no zone at all (no endpoint lies there). Zones, internet and this partition the
    /// address space.
    pub outside: AddrSet,
    /// Deployed products.
    pub products: Vec<SiteProduct>,
    /// Enforcement points, network firewalls first.
    pub points: Vec<EnforcementPoint>,
    /// Non-fatal problems (each names what it affects).
    pub warnings: Vec<Text>,
}

impl Site {
    /// The zone `id`.
    pub fn zone(&self, id: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.id == id)
    }

    /// The addresses of a set of zones.
    pub fn zones_set(&self, ids: &[String]) -> AddrSet {
        let mut s = AddrSet::new();
        for id in ids {
            if let Some(z) = self.zone(id) {
                s.extend(&z.set);
            }
        }
        s
    }

    /// The zones `set` touches, in site order.
    pub fn zones_of(&self, set: &AddrSet) -> Vec<String> {
        self.zones
            .iter()
            .filter(|z| !z.set.intersection(set).is_empty())
            .map(|z| z.id.clone())
            .collect()
    }

    /// The zone holding `ip`.
    pub fn zone_of_ip(&self, ip: IpAddr) -> Option<&Zone> {
        self.zones.iter().find(|z| z.set.contains(ip))
    }

    /// Deployments for the role-level stage.
    pub fn deployments<'c>(&self, catalogs: &'c Catalogs) -> Vec<Deployment<'c>> {
        self.products
            .iter()
            .filter_map(|p| {
                let catalog = catalogs.get(&p.product).ok()?;
                Some(Deployment {
                    catalog,
                    options: p.options.clone(),
                    roles: Some(p.roles.keys().cloned().collect()),
                })
            })
            .collect()
    }

    /// The enforcement point `id`.
    pub fn point(&self, id: &str) -> Option<&EnforcementPoint> {
        self.points.iter().find(|p| p.id == id)
    }
}

/// Load and check a site file.
pub fn load_path(path: &Path, catalogs: &Catalogs) -> Result<Site> {
    let text = crate::diag::read_text(path)?;
    load(SourceFile::new(path.display().to_string(), text), catalogs)
}

/// Parse and check a site.
pub fn load(file: SourceFile, catalogs: &Catalogs) -> Result<Site> {
    let opts = crate::diag::yaml_options();
    let raw: RawSite =
        serde_saphyr::from_str_with_options(&file.text, opts).map_err(|e| Error::Yaml {
            file: file.clone(),
            error: Box::new(e),
        })?;
    let mut c = Checker {
        file: &file,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let site = c.site(raw, catalogs);
    if c.problems.is_empty() {
        let mut site = site;
        site.warnings = c.warnings;
        Ok(site)
    } else {
        let mut problems = c.problems;
        problems.sort_by_key(|p| p.span.as_ref().map_or(0, |s| s.start));
        Err(Error::Invalid { file, problems })
    }
}

/// Whether `key` names a deployed product (`tmws`) or a requirement of one (`tmws/pac`): the
/// keys of a request's `validity`.
pub fn request_key_known(products: &[SiteProduct], catalogs: &Catalogs, key: &str) -> bool {
    let (product, req) = match key.split_once('/') {
        Some((p, r)) => (p, Some(r)),
        None => (key, None),
    };
    products.iter().any(|p| p.product == product)
        && req.is_none_or(|r| {
            catalogs
                .get(product)
                .is_ok_and(|c| c.requirement(r).is_some())
        })
}

/// The JSON Schema of site files.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawSite)).unwrap_or_default()
}

struct Checker<'f> {
    file: &'f SourceFile,
    problems: Vec<Problem>,
    warnings: Vec<Text>,
}

/// Every claimed range of every zone, sorted, for O(log n) "which zones does this net touch".
struct ZoneIndex {
    ranges: Vec<(bool, u128, u128, usize)>,
    hosts: HostCheck,
}

impl ZoneIndex {
    fn new(zones: &[Zone]) -> ZoneIndex {
        let mut ranges = Vec::new();
        for (i, z) in zones.iter().enumerate().filter(|(_, z)| z.id != INTERNET) {
            ranges.extend(
                z.set
                    .v4
                    .ranges()
                    .map(|r| (false, u128::from(*r.start()), u128::from(*r.end()), i)),
            );
            ranges.extend(z.set.v6.ranges().map(|r| (true, *r.start(), *r.end(), i)));
        }
        ranges.sort_unstable();
        ZoneIndex {
            ranges,
            hosts: HostCheck::new(zones),
        }
    }

    /// The zones `net` touches (indices; `None` for the internet, i.e. an unclaimed part).
    fn homes(&self, net: &IpNet) -> Vec<Option<usize>> {
        let (v6, lo, hi) = match net {
            IpNet::V4(n) => (
                false,
                u128::from(u32::from(n.network())),
                u128::from(u32::from(n.broadcast())),
            ),
            IpNet::V6(n) => (true, u128::from(n.network()), u128::from(n.broadcast())),
        };
        let start = self.ranges.partition_point(|r| (r.0, r.2) < (v6, lo));
        let mut out: Vec<Option<usize>> = Vec::new();
        let mut next = lo; // first address of [lo, hi] not yet accounted for
        let mut gap = false;
        for &(f, a, b, z) in &self.ranges[start..] {
            if f != v6 || a > hi {
                break;
            }
            if a > next {
                gap = true;
            }
            if !out.contains(&Some(z)) {
                out.push(Some(z));
            }
            if b >= hi {
                next = hi;
                break;
            }
            next = b + 1;
        }
        if gap || out.is_empty() || next < hi {
            out.push(None);
        }
        out
    }
}

/// Why `ip` cannot be the address of a host (one that listens, or is probed), if it cannot:
/// the unspecified address and the rest of 0.0.0.0/8, multicast (224.0.0.0/4, ff00::/8), the
/// limited broadcast 255.255.255.255 and the reserved 240.0.0.0/4.
pub fn not_unicast(ip: IpAddr) -> Option<Text> {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            if a.is_unspecified() {
                Some(tr!(
                    "the unspecified address (bound, it means every address)",
                    "未指定アドレスです (バインドするとすべてのアドレスを意味します)"
                ))
            } else if o[0] == 0 {
                Some(tr!(
                    "in 0.0.0.0/8 (\"this network\"), which no host has",
                    "0.0.0.0/8 (\"this network\") の範囲で、ホストのアドレスではありません"
                ))
            } else if a.is_broadcast() {
                Some(tr!(
                    "the limited broadcast address",
                    "リミテッドブロードキャストアドレスです"
                ))
            } else if a.is_multicast() {
                Some(tr!(
                    "a multicast address (224.0.0.0/4)",
                    "マルチキャストアドレス (224.0.0.0/4) です"
                ))
            } else if o[0] >= 240 {
                Some(tr!(
                    "a reserved address (240.0.0.0/4)",
                    "予約済みアドレス (240.0.0.0/4) です"
                ))
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            if a.is_unspecified() {
                Some(tr!(
                    "the unspecified address (bound, it means every address)",
                    "未指定アドレスです (バインドするとすべてのアドレスを意味します)"
                ))
            } else if a.is_multicast() {
                Some(tr!(
                    "a multicast address (ff00::/8)",
                    "マルチキャストアドレス (ff00::/8) です"
                ))
            } else if let Some(v4) = a.to_ipv4_mapped() {
                not_unicast(IpAddr::V4(v4))
            } else {
                None
            }
        }
    }
}

/// Why no host can be in `net` at all (a CIDR wholly inside 0.0.0.0/8, 224.0.0.0/4,
/// 240.0.0.0/4 or ff00::/8, or a single address that [`not_unicast`] rejects), if so.
pub fn no_unicast_in(net: &IpNet) -> Option<Text> {
    if net.prefix_len() == net.max_prefix_len() {
        return not_unicast(net.addr());
    }
    const BLOCKS: [&str; 7] = [
        "0.0.0.0/8",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "ff00::/8",
        "::ffff:0.0.0.0/104",
        "::ffff:224.0.0.0/100",
        "::ffff:240.0.0.0/100",
    ];
    BLOCKS
        .iter()
        .filter_map(|b| b.parse::<IpNet>().ok())
        .any(|b| b.contains(net))
        .then(|| {
            // The reason of the block (not "the unspecified address" for 0.0.0.0/8).
            let first = net.network();
            not_unicast(if first.is_unspecified() {
                net.broadcast()
            } else {
                first
            })
        })
        .flatten()
}

/// Whether `ip` is an address of the public internet: unicast, and not private (RFC 1918,
/// 100.64.0.0/10, ULA fc00::/7), loopback, link-local, documentation, benchmarking or IETF
/// special-purpose space. Zones may claim public addresses, but a public address is still
/// someone else's host when it comes to probing.
pub fn is_public(ip: IpAddr) -> bool {
    if not_unicast(ip).is_some() {
        return false;
    }
    const SPECIAL: [&str; 19] = [
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001:db8::/32",
        "3fff::/20",
        "fc00::/7",
        "fe80::/10",
    ];
    if let IpAddr::V6(a) = ip
        && let Some(v4) = a.to_ipv4_mapped()
    {
        return is_public(IpAddr::V4(v4));
    }
    !SPECIAL
        .iter()
        .filter_map(|b| b.parse::<IpNet>().ok())
        .any(|b| b.contains(&ip))
}

/// The addresses of a site that no host can have: [`not_unicast`] ones, and the network and
/// broadcast addresses of the zones' IPv4 CIDRs of /30 or larger (a directed broadcast reaches
/// every host of the subnet).
#[derive(Debug, Clone, Default)]
pub struct HostCheck {
    edges: HashMap<IpAddr, (IpNet, String, bool)>,
}

impl HostCheck {
    /// The check for these zones.
    pub fn new(zones: &[Zone]) -> HostCheck {
        let mut edges = HashMap::new();
        for z in zones {
            for n in &z.nets {
                if let IpNet::V4(v4) = n
                    && v4.prefix_len() <= 30
                {
                    edges
                        .entry(IpAddr::V4(v4.broadcast()))
                        .or_insert((*n, z.id.clone(), true));
                    edges
                        .entry(IpAddr::V4(v4.network()))
                        .or_insert((*n, z.id.clone(), false));
                }
            }
        }
        HostCheck { edges }
    }

    /// Why `ip` cannot be one host's address, if it cannot.
    pub fn why_not(&self, ip: IpAddr) -> Option<Text> {
        if let Some(why) = not_unicast(ip) {
            return Some(why);
        }
        let (net, zone, broadcast) = self.edges.get(&ip)?;
        Some(if *broadcast {
            tr!(
                "the broadcast address of {net} (zone `{zone}`)",
                "{net} (ゾーン `{zone}`) のブロードキャストアドレスです"
            )
        } else {
            tr!(
                "the network address of {net} (zone `{zone}`)",
                "{net} (ゾーン `{zone}`) のネットワークアドレスです"
            )
        })
    }
}

impl Site {
    /// Which addresses of this site can be a host's ([`HostCheck`]).
    pub fn host_check(&self) -> HostCheck {
        HostCheck::new(&self.zones)
    }
}

fn looks_like_fqdn(s: &str) -> bool {
    s.contains('.')
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && s.rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()))
}

/// At most this many overlapping zone CIDRs are reported one by one; the rest are counted.
const MAX_OVERLAPS: usize = 20;

impl Checker<'_> {
    /// Report CIDRs that overlap another zone CIDR (of any zone, the same one included), in
    /// O(n log n): sorted by first address, each CIDR is compared with the one seen so far that
    /// reaches furthest (CIDRs nest or are disjoint, so that one contains it). Each overlapping
    /// CIDR is reported once, at its own place, naming the one before it in the file; after
    /// [`MAX_OVERLAPS`] of them, one more problem counts the rest.
    fn overlaps(&mut self, nets: &[(String, IpNet, Option<Range<usize>>)]) {
        let bounds = |n: &IpNet| match n {
            IpNet::V4(n) => (
                false,
                u128::from(u32::from(n.network())),
                u128::from(u32::from(n.broadcast())),
            ),
            IpNet::V6(n) => (true, u128::from(n.network()), u128::from(n.broadcast())),
        };
        let mut order: Vec<usize> = (0..nets.len()).collect();
        order.sort_by_key(|&i| {
            let (v6, lo, hi) = bounds(&nets[i].1);
            (v6, lo, std::cmp::Reverse(hi), i)
        });
        // (later in the file, earlier in the file)
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let mut reach: Option<(bool, u128, usize)> = None;
        for &i in &order {
            let (v6, lo, hi) = bounds(&nets[i].1);
            match reach {
                Some((f, end, j)) if f == v6 && lo <= end => {
                    pairs.push((i.max(j), i.min(j)));
                    if hi > end {
                        reach = Some((v6, hi, i));
                    }
                }
                _ => reach = Some((v6, hi, i)),
            }
        }
        pairs.sort_unstable();
        pairs.dedup_by_key(|p| p.0);
        for &(later, earlier) in pairs.iter().take(MAX_OVERLAPS) {
            let (id, net, span) = &nets[later];
            let (other, onet, _) = &nets[earlier];
            self.problem(
                span.clone(),
                tr!(
                    "{net} of zone `{id}` overlaps {onet} of zone `{other}`",
                    "ゾーン `{id}` の {net} がゾーン `{other}` の {onet} と重なっています"
                ),
                Some(tr!(
                    "an address belongs to exactly one zone",
                    "アドレスはちょうど 1 つのゾーンに属します"
                )),
            );
        }
        if let Some(&(next, _)) = pairs.get(MAX_OVERLAPS) {
            let more = pairs.len() - MAX_OVERLAPS;
            self.problem(
                nets[next].2.clone(),
                tr!(
                    "… and {more} more zone CIDR(s) overlap an earlier one (the first {MAX_OVERLAPS} are listed)",
                    "… ほかに {more} 件のゾーンの CIDR が先に書かれた CIDR と重なっています (最初の {MAX_OVERLAPS} 件を表示)"
                ),
                Some(tr!(
                    "an address belongs to exactly one zone",
                    "アドレスはちょうど 1 つのゾーンに属します"
                )),
            );
        }
    }

    fn span<T>(&self, s: &Spanned<T>) -> Option<Range<usize>> {
        span_of(self.file, &s.referenced)
    }

    fn problem(&mut self, span: Option<Range<usize>>, message: Text, help: Option<Text>) {
        self.problems.push(Problem::at(span, message, help));
    }

    fn site(&mut self, raw: RawSite, catalogs: &Catalogs) -> Site {
        // Zones.
        let mut zones: Vec<Zone> = Vec::new();
        let mut zone_spans: Vec<(String, IpNet, Option<Range<usize>>)> = Vec::new();
        for z in &raw.zones {
            let id = &z.id.value;
            if id == INTERNET {
                self.problem(
                    self.span(&z.id),
                    tr!(
                        "`internet` is built in and cannot be defined",
                        "`internet` は組み込みのゾーンで、定義できません"
                    ),
                    Some(tr!(
                        "it is every address no other zone claims",
                        "他のゾーンに属さないすべてのアドレスです"
                    )),
                );
                continue;
            }
            if zones.iter().any(|x| &x.id == id) {
                self.problem(
                    self.span(&z.id),
                    tr!("duplicate zone `{id}`", "ゾーン `{id}` が重複しています"),
                    None,
                );
                continue;
            }
            let mut set = AddrSet::new();
            let mut nets = Vec::new();
            for c in &z.cidrs {
                match parse_net(&c.value) {
                    Some(net) => {
                        zone_spans.push((id.clone(), net, self.span(c)));
                        set.insert_net(net);
                        nets.push(net);
                    }
                    None => {
                        let t = &c.value;
                        self.problem(
                            self.span(c),
                            malformed_address(t).unwrap_or_else(|| {
                                tr!(
                                    "`{t}` is not an IPv4/IPv6 address or CIDR",
                                    "`{t}` は IPv4/IPv6 アドレスまたは CIDR ではありません"
                                )
                            }),
                            Some(tr!(
                                "e.g. 10.20.0.0/16 or 2001:db8::/48",
                                "例: 10.20.0.0/16、2001:db8::/48"
                            )),
                        );
                    }
                }
            }
            zones.push(Zone {
                id: id.clone(),
                name: z.name.clone(),
                set,
                nets,
            });
        }
        self.overlaps(&zone_spans);
        let mut claimed = AddrSet::new();
        for z in &zones {
            claimed.extend(&z.set);
        }
        let outside = self.outside(&raw, &claimed);
        zones.push(Zone {
            id: INTERNET.into(),
            name: Some(tr!("Internet", "インターネット")),
            set: AddrSet::everything()
                .difference(&claimed)
                .difference(&outside),
            nets: Vec::new(),
        });

        let index = ZoneIndex::new(&zones);

        // Products.
        let mut products: Vec<SiteProduct> = Vec::new();
        let mut fqdn_zones: Vec<(String, String)> = Vec::new();
        for p in &raw.products {
            let Ok(cat) = catalogs.get(&p.product.value) else {
                let ids: Vec<&str> = catalogs.iter().map(|c| c.id.as_str()).collect();
                let (name, list) = (&p.product.value, ids.join(", "));
                self.problem(
                    self.span(&p.product),
                    tr!(
                        "unknown product `{name}`",
                        "製品 `{name}` のカタログはありません"
                    ),
                    Some(tr!(
                        "products: {list} (more with --catalog-dir DIR)",
                        "指定できる製品: {list} (--catalog-dir DIR で追加できます)"
                    )),
                );
                continue;
            };
            if products.iter().any(|x| x.product == cat.id) {
                let name = &cat.id;
                self.problem(
                    self.span(&p.product),
                    tr!(
                        "product `{name}` is listed twice",
                        "製品 `{name}` が 2 回指定されています"
                    ),
                    None,
                );
                continue;
            }
            let mut options = cat.default_options();
            for (name, value) in &p.options {
                if let Err(e) = options.set(&cat.options, name, &value.value.text()) {
                    self.problem(self.span(value), e.message, Some(e.help));
                }
            }
            let mut roles = BTreeMap::new();
            let mut not_deployed = BTreeSet::new();
            for (role, endpoints) in &p.roles {
                let Some(r) = cat.role(role) else {
                    let ids: Vec<&str> = cat.roles.iter().map(|r| r.id.as_str()).collect();
                    let hint = closest(role, ids.iter().copied())
                        .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                        .unwrap_or_default();
                    let (prod, list) = (&cat.id, ids.join(", "));
                    self.problem(
                        self.span(endpoints),
                        Text::new(
                            format!("product `{prod}` has no role `{role}`{}", hint.en),
                            format!("製品 `{prod}` にロール `{role}` はありません{}", hint.ja),
                        ),
                        Some(tr!("roles: {list}", "ロール: {list}")),
                    );
                    continue;
                };
                if endpoints.value.0.is_empty() {
                    not_deployed.insert(role.clone());
                    continue;
                }
                let set = self.endpoints(
                    cat,
                    r.zone,
                    role,
                    endpoints,
                    &zones,
                    &index,
                    &outside,
                    &mut fqdn_zones,
                );
                roles.insert(role.clone(), set);
            }
            // Catalog defaults for unmapped roles (`pool.ntp.org`); they are on the internet.
            for r in &cat.roles {
                if !roles.contains_key(&r.id)
                    && !not_deployed.contains(&r.id)
                    && !r.endpoints.is_empty()
                {
                    let mut set = AddrSet::new();
                    for e in &r.endpoints {
                        match parse_net(e) {
                            Some(n) => set.insert_net(n),
                            None => {
                                set.extend(&AddrSet::fqdn(e));
                                fqdn_zones.push((e.to_ascii_lowercase(), INTERNET.into()));
                            }
                        }
                    }
                    roles.insert(r.id.clone(), set);
                }
            }
            // Cloud services (typical zone `internet`) the site does not map are on the
            // internet: without this the product's main flows would silently plan nothing.
            for r in &cat.roles {
                if !roles.contains_key(&r.id)
                    && !not_deployed.contains(&r.id)
                    && r.endpoints.is_empty()
                    && r.zone == ZoneHint::Internet
                    && let Some(inet) = zones.iter().find(|z| z.id == INTERNET)
                {
                    roles.insert(r.id.clone(), inet.set.clone());
                    let (product, role) = (&cat.id, &r.id);
                    self.warnings.push(tr!(
                        "{product}.{role} is not mapped: as a cloud service it is taken to be on the internet (zone:internet); map it, or `[]` if it is not used",
                        "{product}.{role} は未設定のため、クラウドサービスとしてインターネット上 (zone:internet) とみなしました。別の場所なら指定し、使わないなら `[]` と書いてください"
                    ));
                }
            }
            products.push(SiteProduct {
                product: cat.id.clone(),
                options,
                roles,
                not_deployed,
            });
        }
        for (fqdn, zone) in fqdn_zones {
            if let Some(z) = zones.iter_mut().find(|z| z.id == zone) {
                z.set.fqdns.insert(fqdn);
            }
        }

        // Warnings: active requirements that need an unmapped role.
        for p in &products {
            let Ok(cat) = catalogs.get(&p.product) else {
                continue;
            };
            for req in &cat.requirements {
                if !req.is_active(&p.options) {
                    continue;
                }
                let missing: BTreeSet<&str> = req
                    .from
                    .iter()
                    .chain(&req.to)
                    .filter(|r| !p.roles.contains_key(*r))
                    .map(String::as_str)
                    .collect();
                let undeclared: BTreeSet<&str> = missing
                    .iter()
                    .copied()
                    .filter(|r| !p.not_deployed.contains(*r))
                    .collect();
                if undeclared.is_empty() {
                    continue;
                }
                let all_pairs_lost = req
                    .pairs()
                    .iter()
                    .all(|(a, b)| missing.contains(a) || missing.contains(b));
                let list = undeclared.into_iter().collect::<Vec<_>>().join(", ");
                let (prod, id) = (&p.product, &req.id);
                self.warnings.push(if all_pairs_lost {
                    tr!(
                        "{prod}/{id} is required by the options but role(s) {list} are mapped to nothing: no opening is planned for it (map them, or write `ROLE: []` if they are not deployed)",
                        "{prod}/{id} はオプション上必要ですが、ロール {list} に接続先がないため開放を計画しません (接続先を指定するか、配置しない場合は `ROLE: []` と書いてください)"
                    )
                } else {
                    tr!(
                        "{prod}/{id}: role(s) {list} are mapped to nothing; only the pairs between mapped roles are planned (write `ROLE: []` if they are not deployed)",
                        "{prod}/{id}: ロール {list} に接続先がないため、接続先のあるロール間だけを計画します (配置しない場合は `ROLE: []` と書いてください)"
                    )
                });
            }
        }

        // Enforcement points.
        let mut points = Vec::new();
        let mut seen = HashSet::new();
        for fw in &raw.firewalls {
            let id = &fw.id.value;
            if !seen.insert(id.clone()) {
                self.problem(
                    self.span(&fw.id),
                    tr!(
                        "duplicate enforcement point `{id}`",
                        "適用ポイント `{id}` が重複しています"
                    ),
                    None,
                );
            }
            let mut sides: Vec<Vec<String>> = Vec::new();
            let mut used: HashSet<String> = HashSet::new();
            for side in &fw.between.value {
                let mut zs = Vec::new();
                for zn in &side.value.0 {
                    let z = &zn.value;
                    // A name in a list has its own location; a lone name uses the side's.
                    let at = self
                        .span(zn)
                        .or_else(|| self.span(side))
                        .or_else(|| self.span(&fw.between));
                    if !zones.iter().any(|x| &x.id == z) {
                        let ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
                        let list = ids.join(", ");
                        self.problem(
                            at,
                            tr!("unknown zone `{z}`", "ゾーン `{z}` はありません"),
                            Some(tr!("zones: {list}", "ゾーン: {list}")),
                        );
                    } else if !used.insert(z.clone()) {
                        self.problem(
                            at,
                            tr!(
                                "zone `{z}` is on two sides of `{id}`",
                                "ゾーン `{z}` が `{id}` の両側にあります"
                            ),
                            None,
                        );
                    } else {
                        zs.push(z.clone());
                    }
                }
                sides.push(zs);
            }
            if fw.between.value.len() < 2 {
                self.problem(
                    self.span(&fw.between),
                    tr!(
                        "a firewall needs at least two sides",
                        "ファイアウォールには 2 つ以上の側が必要です"
                    ),
                    Some(tr!(
                        "e.g. between: [clients, servers] or [[clients, servers], internet]",
                        "例: between: [clients, servers] または [[clients, servers], internet]"
                    )),
                );
            }
            let mut interfaces: Vec<(String, Vec<String>)> = Vec::new();
            if let Some(ifs) = &fw.interfaces {
                let mut facing: HashSet<String> = HashSet::new();
                for (name, zs) in &ifs.value {
                    let at = self.span(zs).or_else(|| self.span(ifs));
                    if !valid_ifname(name) {
                        self.problem(
                            at.clone(),
                            tr!(
                                "`{name}` is not a Linux interface name (1-15 bytes, no `/`, `:` or spaces)",
                                "`{name}` は Linux のインターフェース名ではありません (1-15 バイト、`/`・`:`・空白なし)"
                            ),
                            None,
                        );
                    }
                    let mut list = Vec::new();
                    for zn in &zs.value.0 {
                        let z = &zn.value;
                        let at = self.span(zn).or_else(|| at.clone());
                        if !used.contains(z) {
                            self.problem(
                                at,
                                tr!(
                                    "interface `{name}` faces zone `{z}`, which is not between the sides of `{id}`",
                                    "インターフェース `{name}` のゾーン `{z}` は `{id}` の between にありません"
                                ),
                                None,
                            );
                        }
                        facing.insert(z.clone());
                        list.push(z.clone());
                    }
                    interfaces.push((name.clone(), list));
                }
                let mut missing: Vec<&String> =
                    used.iter().filter(|z| !facing.contains(*z)).collect();
                missing.sort();
                if !missing.is_empty() {
                    let list = missing
                        .iter()
                        .map(|z| z.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.problem(
                        self.span(ifs),
                        tr!(
                            "zone(s) {list} of `{id}` face no interface: say which interface leads to them",
                            "`{id}` のゾーン {list} に対応するインターフェースがありません"
                        ),
                        None,
                    );
                }
            }
            points.push(EnforcementPoint {
                id: id.clone(),
                kind: PointKind::Network { sides, interfaces },
                target: fw.target,
            });
        }
        for hf in &raw.host_firewalls {
            let id = &hf.id.value;
            if !seen.insert(id.clone()) {
                self.problem(
                    self.span(&hf.id),
                    tr!(
                        "duplicate enforcement point `{id}`",
                        "適用ポイント `{id}` が重複しています"
                    ),
                    None,
                );
            }
            let hosts = &hf.hosts.value;
            let Some((prod, role)) = hosts.split_once('.') else {
                self.problem(
                    self.span(&hf.hosts),
                    tr!(
                        "`{hosts}` is not PRODUCT.ROLE",
                        "`{hosts}` が PRODUCT.ROLE の形ではありません"
                    ),
                    Some(tr!(
                        "e.g. hosts: devicelock.service",
                        "例: hosts: devicelock.service"
                    )),
                );
                continue;
            };
            let Some(p) = products.iter().find(|p| p.product == prod) else {
                self.problem(
                    self.span(&hf.hosts),
                    tr!(
                        "product `{prod}` is not deployed at this site",
                        "製品 `{prod}` はこのサイトに配置されていません"
                    ),
                    None,
                );
                continue;
            };
            match p.roles.get(role) {
                Some(m) if m.has_addresses() => points.push(EnforcementPoint {
                    id: id.clone(),
                    kind: PointKind::Host {
                        product: prod.into(),
                        role: role.into(),
                        members: m.only_v4().union(&m.only_v6()),
                    },
                    target: hf.target,
                }),
                _ => self.problem(
                    self.span(&hf.hosts),
                    tr!(
                        "host firewall `{id}` covers `{hosts}`, which has no member addresses",
                        "ホストファイアウォール `{id}` の対象 `{hosts}` にアドレスがありません"
                    ),
                    Some(tr!(
                        "map the role to addresses under products",
                        "products でロールにアドレスを割り当ててください"
                    )),
                ),
            }
        }

        self.private_warning(&zones, &products, &outside);
        let request = match raw.request {
            Some(r) => {
                let known = |k: &str| request_key_known(&products, catalogs, k);
                request::check(r, self.file, &known, &mut self.problems)
            }
            None => request::Request::default(),
        };
        Site {
            name: raw.name,
            description: raw.description,
            request,
            origin: self.file.name.clone(),
            zones,
            outside,
            products,
            points,
            warnings: Vec::new(),
        }
    }

    /// The special-purpose ranges no zone claims that the site does not count as internet.
    fn outside(&mut self, raw: &RawSite, claimed: &AddrSet) -> AddrSet {
        let policy = raw.internet.as_ref();
        if policy.is_some_and(|p| p.include_private) {
            return AddrSet::new();
        }
        let mut included = AddrSet::new();
        for c in policy.map_or(&[][..], |p| &p.include[..]) {
            match parse_net(&c.value) {
                Some(net) => {
                    let set = AddrSet::net(net);
                    if !set.intersection(claimed).is_empty() {
                        self.problem(
                            self.span(c),
                            tr!(
                                "{net} overlaps a zone: only addresses no zone claims can be internet",
                                "{net} がゾーンと重なっています: インターネットにできるのはどのゾーンにも属さないアドレスだけです"
                            ),
                            None,
                        );
                    }
                    included.extend(&set);
                }
                None => {
                    let t = &c.value;
                    self.problem(
                        self.span(c),
                        malformed_address(t).unwrap_or_else(|| {
                            tr!(
                                "`{t}` is not an IPv4/IPv6 address or CIDR",
                                "`{t}` は IPv4/IPv6 アドレスまたは CIDR ではありません"
                            )
                        }),
                        Some(tr!("e.g. 192.168.100.0/24", "例: 192.168.100.0/24")),
                    );
                }
            }
        }
        internet::special_set()
            .difference(claimed)
            .difference(&included)
    }

    /// Roles that stand for the internet would, before, have reached the private ranges no
    /// zone claims: name those ranges once.
    fn private_warning(&mut self, zones: &[Zone], products: &[SiteProduct], outside: &AddrSet) {
        let Some(inet) = zones.iter().find(|z| z.id == INTERNET) else {
            return;
        };
        let whole = |set: &AddrSet| {
            (!inet.set.v4.is_empty() && set.v4.is_superset(&inet.set.v4))
                || (!inet.set.v6.is_empty() && set.v6.is_superset(&inet.set.v6))
        };
        let roles: Vec<String> = products
            .iter()
            .flat_map(|p| {
                p.roles
                    .iter()
                    .filter(|(_, set)| whole(set))
                    .map(move |(r, _)| format!("{}.{r}", p.product))
            })
            .collect();
        let ranges: Vec<&internet::Special> = internet::specials_in(outside)
            .into_iter()
            .filter(|sp| sp.private)
            .collect();
        if roles.is_empty() || ranges.is_empty() {
            return;
        }
        let list = |ja: bool| {
            ranges
                .iter()
                .map(|sp| {
                    let part = !outside.is_superset(&AddrSet::net(sp.ipnet()));
                    let mut d = sp.describe(ja);
                    if part {
                        d.push_str(if ja {
                            " のうちゾーン外の部分"
                        } else {
                            " outside the zones"
                        });
                    }
                    d
                })
                .collect::<Vec<_>>()
                .join(if ja { "、" } else { ", " })
        };
        let (en, ja, roles) = (list(false), list(true), roles.join(", "));
        self.warnings.push(Text::new(
            format!("{roles} stand for the internet, which does not include the private ranges no zone claims: {en}. Flows to or from them are not planned; add them to a zone, or write `internet: {{include_private: true}}` if this site reaches them through its internet side"),
            format!("{roles} はインターネットを表しますが、どのゾーンにも属さないプライベート範囲 ({ja}) はインターネットに含めません。それらとの通信は計画しません。ゾーンに追加するか、インターネット側から到達するなら `internet: {{include_private: true}}` と書いてください"),
        ));
    }

    #[allow(clippy::too_many_arguments)]
    fn endpoints(
        &mut self,
        cat: &Catalog,
        hint: ZoneHint,
        role: &str,
        list: &Spanned<EndpointList>,
        zones: &[Zone],
        index: &ZoneIndex,
        outside: &AddrSet,
        fqdn_zones: &mut Vec<(String, String)>,
    ) -> AddrSet {
        let outer = self.span(list);
        let hosts = &index.hosts;
        let mut set = AddrSet::new();
        for item in &list.value.0 {
            let span = self.span(item).or_else(|| outer.clone());
            match &item.value {
                EndpointItem::Fqdn(name, zone) => {
                    if !zones.iter().any(|z| &z.id == zone) {
                        self.problem(
                            span,
                            tr!("unknown zone `{zone}`", "ゾーン `{zone}` はありません"),
                            None,
                        );
                    } else if !looks_like_fqdn(name) {
                        self.problem(
                            span,
                            tr!(
                                "`{name}` is not a host name",
                                "`{name}` はホスト名ではありません"
                            ),
                            None,
                        );
                    } else {
                        set.extend(&AddrSet::fqdn(name));
                        fqdn_zones.push((name.to_ascii_lowercase(), zone.clone()));
                    }
                }
                EndpointItem::Text(t) => {
                    if let Some(z) = t.strip_prefix("zone:") {
                        match zones.iter().find(|x| x.id == z.trim()) {
                            Some(zone) => {
                                set.extend(&zone.set.only_v4().union(&zone.set.only_v6()))
                            }
                            None => {
                                let ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
                                let list = ids.join(", ");
                                self.problem(
                                    span,
                                    tr!("unknown zone `{z}`", "ゾーン `{z}` はありません"),
                                    Some(tr!("zones: {list}", "ゾーン: {list}")),
                                );
                            }
                        }
                    } else if let Some(net) = parse_net(t) {
                        let why = if net.prefix_len() == net.max_prefix_len() {
                            hosts.why_not(net.addr())
                        } else {
                            no_unicast_in(&net)
                        };
                        if let Some(why) = why {
                            self.problem(
                                span,
                                Text::new(
                                    format!("`{t}` of {}.{role} is not a host address: {}", cat.id, why.en),
                                    format!("{}.{role} の `{t}` はホストのアドレスではありません: {}", cat.id, why.ja),
                                ),
                                Some(tr!(
                                    "an endpoint is a host (10.10.0.4) or a network of hosts (10.20.0.0/16)",
                                    "接続先はホスト (10.10.0.4) かホストのネットワーク (10.20.0.0/16) です"
                                )),
                            );
                            continue;
                        }
                        let inet = zones.iter().position(|z| z.id == INTERNET);
                        let homes: Vec<&Zone> = index
                            .homes(&net)
                            .into_iter()
                            .filter_map(|h| h.or(inet))
                            .map(|i| &zones[i])
                            .collect();
                        if homes.len() > 1 {
                            let names: Vec<&str> = homes.iter().map(|z| z.id.as_str()).collect();
                            let list = names.join(", ");
                            self.problem(
                                span,
                                tr!(
                                    "{net} spans several zones ({list})",
                                    "{net} が複数のゾーン ({list}) にまたがっています"
                                ),
                                Some(tr!(
                                    "split it along the zone boundaries",
                                    "ゾーンの境界で分割してください"
                                )),
                            );
                        } else if let Some(sp) =
                            internet::specials_in(&AddrSet::net(net).intersection(outside)).first()
                        {
                            let prod = &cat.id;
                            let (range_en, range_ja) = (sp.describe(false), sp.describe(true));
                            self.problem(
                                span,
                                Text::new(
                                    format!("{net} of {prod}.{role} is outside every zone, in {range_en}, which is not the internet"),
                                    format!("{prod}.{role} の {net} はどのゾーンにも属さず、インターネットでもない {range_ja} にあります"),
                                ),
                                Some(tr!(
                                    "add its network to a zone, or list it under `internet: {{include: [...]}}` if it is reached through the internet side",
                                    "そのネットワークをゾーンに追加するか、インターネット側から到達するなら `internet: {{include: [...]}}` に記載してください"
                                )),
                            );
                        } else if homes.first().is_some_and(|z| z.id == INTERNET)
                            && hint == ZoneHint::Intranet
                        {
                            let prod = &cat.id;
                            self.problem(
                                span,
                                tr!(
                                    "{net} of {prod}.{role} is outside every zone, so it would count as internet, but this role belongs on the intranet",
                                    "{prod}.{role} の {net} はどのゾーンにも属さず、インターネット扱いになりますが、このロールはイントラネットに置くものです"
                                ),
                                Some(tr!("add its network to a zone", "そのネットワークをゾーンに追加してください")),
                            );
                        } else {
                            set.insert_net(net);
                        }
                    } else if let Some(why) = malformed_address(t) {
                        self.problem(
                            span,
                            why,
                            Some(tr!(
                                "an address is 4 numbers from 0 to 255 (10.10.0.4); a network adds its prefix length (10.20.0.0/16)",
                                "アドレスは 0〜255 の 4 つの数 (10.10.0.4)、ネットワークはそれにプレフィックス長を付けたもの (10.20.0.0/16) です"
                            )),
                        );
                    } else if looks_like_fqdn(t) {
                        if hint == ZoneHint::Internet {
                            set.extend(&AddrSet::fqdn(t));
                            fqdn_zones.push((t.to_ascii_lowercase(), INTERNET.into()));
                        } else {
                            self.problem(
                                span,
                                tr!(
                                    "say which zone {t} is in",
                                    "{t} がどのゾーンにあるか指定してください"
                                ),
                                Some(tr!(
                                    "write {{fqdn: {t}, zone: ZONE}}",
                                    "{{fqdn: {t}, zone: ZONE}} の形で書いてください"
                                )),
                            );
                        }
                    } else {
                        self.problem(
                            span,
                            tr!("`{t}` is not an address, CIDR, `zone:NAME` or host name", "`{t}` はアドレス、CIDR、`zone:NAME`、ホスト名のいずれでもありません"),
                            Some(tr!("e.g. 10.10.0.4, 10.20.0.0/16, zone:clients, ntp.example.com", "例: 10.10.0.4、10.20.0.0/16、zone:clients、ntp.example.com")),
                        );
                    }
                }
            }
        }
        set
    }
}

/// What is wrong with `s` when it was evidently meant as an IP address or CIDR but is not one:
/// four dot-separated parts of which at least three are numbers (`10.0.0.256`,
/// `172.16.100.1O` with the letter O), or hex groups with colons that do not parse as IPv6.
/// `None` when `s` parses, or does not look like an address at all (a host name).
pub fn malformed_address(s: &str) -> Option<Text> {
    let s = s.trim();
    if parse_net(s).is_some() {
        return None;
    }
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let parts: Vec<&str> = addr.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    if !addr.contains(':') && parts.len() >= 3 && parts.len() <= 5 {
        let numbers = parts.iter().filter(|p| numeric(p)).count();
        if numbers + 1 < parts.len() || (parts.len() != 4 && numbers != parts.len()) {
            return None;
        }
        if parts.len() != 4 {
            let n = parts.len();
            return Some(tr!(
                "`{s}` is a malformed address: an IPv4 address has 4 numbers separated by dots, this has {n}",
                "`{s}` はアドレスの形が正しくありません: IPv4 アドレスはドットで区切った 4 つの数ですが、{n} つあります"
            ));
        }
        for (i, p) in parts.iter().enumerate() {
            let k = i + 1;
            if p.is_empty() {
                return Some(tr!(
                    "`{s}` is a malformed address: number {k} is empty",
                    "`{s}` はアドレスの形が正しくありません: {k} 番目の数がありません"
                ));
            }
            if !numeric(p) {
                let lookalike = p.chars().find_map(|c| match c {
                    'O' | 'o' => Some(("O", "0")),
                    'l' | 'I' | 'i' => Some(("l/I", "1")),
                    _ => None,
                });
                return Some(match lookalike {
                    Some((letter, digit)) => tr!(
                        "`{s}` is a malformed address: number {k} `{p}` holds the letter {letter}, not the digit {digit}",
                        "`{s}` はアドレスの形が正しくありません: {k} 番目の `{p}` に数字の {digit} ではなく英字の {letter} があります"
                    ),
                    None => tr!(
                        "`{s}` is a malformed address: number {k} `{p}` is not a number",
                        "`{s}` はアドレスの形が正しくありません: {k} 番目の `{p}` は数ではありません"
                    ),
                });
            }
            if p.parse::<u32>().map_or(true, |n| n > 255) {
                return Some(tr!(
                    "`{s}` is a malformed address: number {k} `{p}` is larger than 255",
                    "`{s}` はアドレスの形が正しくありません: {k} 番目の `{p}` が 255 を超えています"
                ));
            }
        }
        if let Some(p) = prefix {
            return Some(tr!(
                "`{s}` is a malformed CIDR: the prefix length `{p}` must be a number from 0 to 32",
                "`{s}` は CIDR の形が正しくありません: プレフィックス長 `{p}` は 0〜32 の数にしてください"
            ));
        }
        return Some(tr!(
            "`{s}` is a malformed address",
            "`{s}` はアドレスの形が正しくありません"
        ));
    }
    let hexish = addr.contains(':')
        && addr.matches(':').count() >= 2
        && addr
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.' || c == 'O' || c == 'o');
    if hexish {
        if let (Ok(_), Some(p)) = (addr.parse::<IpAddr>(), prefix) {
            return Some(tr!(
                "`{s}` is a malformed CIDR: the prefix length `{p}` must be a number from 0 to 128",
                "`{s}` は CIDR の形が正しくありません: プレフィックス長 `{p}` は 0〜128 の数にしてください"
            ));
        }
        return Some(tr!(
            "`{s}` is a malformed IPv6 address",
            "`{s}` は IPv6 アドレスの形が正しくありません"
        ));
    }
    None
}

/// Parse `10.0.0.1`, `10.0.0.0/24`, `2001:db8::/32`; a host bit set in a CIDR is truncated.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

#[cfg(test)]
mod tests;

/// A name Linux accepts for an interface.
pub fn valid_ifname(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 15
        && n != "."
        && n != ".."
        && !n
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
}
