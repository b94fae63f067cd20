//! The site file as written (YAML), with locations; also generates `schema/site.schema.json`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::catalog::raw::{NameList, Names, Scalar, SpStr};
use crate::i18n::Text;

/// A deployment: zones, products with options and role endpoints, enforcement points.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "portplan site",
    description = "Your deployment (portplan SPEC §4)."
)]
pub struct RawSite {
    /// Site name.
    pub name: String,
    /// Optional description.
    #[serde(default)]
    pub description: Option<Text>,
    /// Named zones with their CIDRs; `internet` is everything no zone claims, except the
    /// private and special-purpose ranges (see `internet`).
    #[serde(default)]
    pub zones: Vec<RawZone>,
    /// What the `internet` zone holds besides public addresses.
    #[serde(default)]
    pub internet: Option<RawInternet>,
    /// Deployed products.
    pub products: Vec<RawProduct>,
    /// Network firewalls between zones.
    #[serde(default)]
    pub firewalls: Vec<RawFirewall>,
    /// Host firewalls on a role's members.
    #[serde(default)]
    pub host_firewalls: Vec<RawHostFirewall>,
    /// The change request's paperwork (申請者, 申請日, 有効期限, 承認欄, …) for `report`.
    #[serde(default)]
    pub request: Option<super::request::RawRequest>,
}

/// A zone.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawZone {
    /// Zone id (`internet` is reserved).
    #[schemars(with = "String")]
    pub id: SpStr,
    /// IPv4/IPv6 CIDRs or addresses.
    #[schemars(with = "Vec<String>")]
    pub cidrs: Vec<SpStr>,
    /// Display name.
    #[serde(default)]
    pub name: Option<Text>,
}

/// The `internet` zone: by default every address no zone claims except the private and
/// special-purpose ranges (RFC 1918 and 6598 private and shared space, link-local, unique local
/// fc00::/7, loopback, multicast, documentation, …), which are nobody's: an endpoint there must
/// be in a zone.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInternet {
    /// `true`: every address no zone claims is internet, private and special ranges included.
    #[serde(default)]
    pub include_private: bool,
    /// Special-purpose ranges (or parts of them) that count as internet at this site, e.g. a
    /// partner's private network reached through the internet side.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub include: Vec<SpStr>,
}

/// A deployed product.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProduct {
    /// Catalog id (`devicelock`).
    #[schemars(with = "String")]
    pub product: SpStr,
    /// Option values; the rest keep their defaults.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Scalar>")]
    pub options: BTreeMap<String, Spanned<Scalar>>,
    /// Role → endpoints: addresses, CIDRs, `zone:NAME`, FQDNs, or `{fqdn: NAME, zone: ZONE}`;
    /// `[]` says the role is deliberately not deployed.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Endpoints>")]
    pub roles: BTreeMap<String, Spanned<EndpointList>>,
}

/// Render target of an enforcement point.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    JsonSchema,
    serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// nftables (`nft -f`).
    Nftables,
    /// iptables-restore / ip6tables-restore.
    Iptables,
    /// Windows Defender Firewall (PowerShell).
    Windows,
    /// Cisco IOS extended ACLs.
    CiscoIos,
    /// firewalld.
    Firewalld,
}

impl Target {
    /// Name as written in sites and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Nftables => "nftables",
            Target::Iptables => "iptables",
            Target::Windows => "windows",
            Target::CiscoIos => "cisco-ios",
            Target::Firewalld => "firewalld",
        }
    }
}

/// A network firewall.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFirewall {
    /// Id.
    #[schemars(with = "String")]
    pub id: SpStr,
    /// The sides it separates: zones, or lists of zones that form one side
    /// (`[clients, servers]`, `[[clients, servers], internet]`).
    #[schemars(with = "Vec<Names>")]
    pub between: Spanned<Vec<Spanned<NameList>>>,
    /// Which zones sit behind which of its interfaces (`{eth0: [clients], eth1: servers}`):
    /// the audit then knows each packet's input and output interface, and the renderers bind
    /// rules to them. Every zone of `between` must face an interface.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, Names>>")]
    pub interfaces: Option<Spanned<BTreeMap<String, Spanned<NameList>>>>,
    /// Render target.
    pub target: Target,
}

/// A host firewall.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHostFirewall {
    /// Id.
    #[schemars(with = "String")]
    pub id: SpStr,
    /// `PRODUCT.ROLE`: every member of the role runs this firewall.
    #[schemars(with = "String")]
    pub hosts: SpStr,
    /// Render target.
    pub target: Target,
}

/// Endpoints of a role (schema only).
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum Endpoints {
    /// One endpoint.
    One(Endpoint),
    /// Several.
    Many(Vec<Endpoint>),
}

/// An endpoint (schema only).
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum Endpoint {
    /// `10.0.0.1`, `10.0.0.0/24`, `2001:db8::/64`, `zone:servers`, `ntp.example.com`.
    Text(String),
    /// A name and the zone it lives in.
    Fqdn {
        /// The name.
        fqdn: String,
        /// Its zone.
        zone: String,
    },
}

/// An endpoint as parsed.
#[derive(Debug, Clone)]
pub enum EndpointItem {
    /// Text form.
    Text(String),
    /// `{fqdn, zone}`.
    Fqdn(String, String),
}

/// Endpoints with locations (a single text endpoint has none of its own).
#[derive(Debug, Clone)]
pub struct EndpointList(pub Vec<Spanned<EndpointItem>>);

impl<'de> Deserialize<'de> for EndpointItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;
impl<'de> Visitor<'de> for ItemVisitor {
    type Value = EndpointItem;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address, CIDR, `zone:NAME`, FQDN, or {fqdn: NAME, zone: ZONE}")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<EndpointItem, E> {
        Ok(EndpointItem::Text(v.to_string()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EndpointItem, A::Error> {
        let (mut fqdn, mut zone) = (None, None);
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "fqdn" => fqdn = Some(map.next_value::<String>()?),
                "zone" => zone = Some(map.next_value::<String>()?),
                other => return Err(de::Error::unknown_field(other, &["fqdn", "zone"])),
            }
        }
        Ok(EndpointItem::Fqdn(
            fqdn.ok_or_else(|| de::Error::missing_field("fqdn"))?,
            zone.ok_or_else(|| de::Error::missing_field("zone"))?,
        ))
    }
}

impl<'de> Deserialize<'de> for EndpointList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EndpointList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an endpoint or a list of endpoints")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EndpointList, E> {
                let unknown = serde_saphyr::Location::UNKNOWN;
                Ok(EndpointList(vec![Spanned::new(
                    EndpointItem::Text(v.to_string()),
                    unknown,
                    unknown,
                )]))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EndpointList, A::Error> {
                let unknown = serde_saphyr::Location::UNKNOWN;
                Ok(EndpointList(vec![Spanned::new(
                    ItemVisitor.visit_map(map)?,
                    unknown,
                    unknown,
                )]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EndpointList, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<Spanned<EndpointItem>>()? {
                    out.push(x);
                }
                Ok(EndpointList(out))
            }
        }
        d.deserialize_any(V)
    }
}
