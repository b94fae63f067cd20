//! The catalog file format as it is written (YAML), with source locations.
//!
//! These types only describe the shape; [`super::validate`] turns them into the checked
//! [`super::Catalog`]. They also generate the published JSON Schema (`portplan catalog schema`),
//! so the schema and the parser cannot drift apart.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::i18n::Text;

/// A string with its location in the YAML file.
pub type SpStr = Spanned<String>;

/// One product's port requirements.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "portplan catalog",
    description = "One product's port requirements (portplan SPEC §3)."
)]
pub struct RawCatalog {
    /// Product id: lower-case letters, digits, `-` and `_` (e.g. `devicelock`).
    #[schemars(with = "String", regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"))]
    pub id: SpStr,
    /// Product name.
    pub name: Text,
    /// Vendor.
    pub vendor: String,
    /// What the product is, in one or two sentences.
    #[serde(default)]
    pub summary: Option<Text>,
    /// Vendor documents the requirements cite.
    pub sources: Vec<RawSource>,
    /// Typed switches implied by the vendor's notes.
    #[serde(default)]
    pub options: Vec<RawOption>,
    /// The product's components.
    pub roles: Vec<RawRole>,
    /// The connections the product needs.
    pub requirements: Vec<RawRequirement>,
    /// Ports that need no opening and must stay closed (the vendor: "internal only, do not
    /// open"). `ports` lists them, and `audit` and `probe` check that they are closed.
    #[serde(default)]
    pub closed: Vec<RawClosed>,
    /// Risk advice about the product as a whole, shown whenever the product is planned (and
    /// the finding's `when` holds).
    #[serde(default)]
    pub findings: Vec<RawFinding>,
    /// Notes about the product as a whole (e.g. "the agent side has its own port table"),
    /// shown by `catalog show` and `ports`.
    #[serde(default)]
    pub notes: Option<Text>,
}

/// A vendor document.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Document id, as cited by `source.doc` (usually its file name).
    #[schemars(with = "String")]
    pub id: SpStr,
    /// Title.
    pub title: Text,
    /// Where it was published.
    #[serde(default)]
    pub url: Option<String>,
    /// The product version(s) the document covers (`Windows Server 2008 and later`).
    #[serde(default)]
    pub version: Option<String>,
    /// The date the document was read for this catalog, `YYYY-MM-DD`.
    #[serde(default)]
    #[schemars(
        with = "Option<String>",
        regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    )]
    pub read: Option<SpStr>,
}

/// Option type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawOptionType {
    /// `true` / `false`.
    Bool,
    /// One of `values`.
    Choice,
    /// A port number 1-65535, or a range of them (`"49152-65535"`).
    Port,
}

/// An option.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOption {
    /// Option id, as used in conditions and `--set`.
    #[schemars(with = "String")]
    pub id: SpStr,
    /// Type.
    #[serde(rename = "type")]
    #[schemars(with = "RawOptionType")]
    pub kind: Spanned<RawOptionType>,
    /// The values of a `choice`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<Scalar>>")]
    pub values: Option<Vec<Spanned<Scalar>>>,
    /// Value when the admin says nothing. A `port` option takes a port (`514`) or a range
    /// (`"49152-65535"`: the dynamic RPC range the admin may narrow).
    #[schemars(with = "Scalar")]
    pub default: Spanned<Scalar>,
    /// What it means.
    pub description: Text,
    /// For a `choice`: the ports each value opens (`{postgresql: 5432, mysql: "3306,33060"}`),
    /// used by `{option: NAME}` in `ports:`. A value left out opens no port.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, Scalar>>")]
    pub ports: Option<Spanned<std::collections::BTreeMap<String, Spanned<Scalar>>>>,
}

/// Typical network location of a role.
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
#[serde(rename_all = "lowercase")]
pub enum ZoneHint {
    /// On the internet (a cloud service).
    Internet,
    /// Inside the organisation.
    Intranet,
    /// Either.
    Any,
}

/// A component of the product.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    /// Role id.
    #[schemars(with = "String")]
    pub id: SpStr,
    /// Display name.
    pub name: Text,
    /// Typical zone.
    pub zone: ZoneHint,
    /// Default endpoints (FQDNs or addresses) used when a site maps none, e.g. `pool.ntp.org`.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// Longer description.
    #[serde(default)]
    pub description: Option<Text>,
}

/// A connection the product needs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRequirement {
    /// Requirement id, unique in the catalog (cited as `product/id`).
    #[schemars(with = "String")]
    pub id: SpStr,
    /// What the connection is for.
    pub purpose: Text,
    /// Initiating role(s).
    #[schemars(with = "Names")]
    pub from: Spanned<NameList>,
    /// Accepting role(s). A list on either side expands to every pair.
    #[schemars(with = "Names")]
    pub to: Spanned<NameList>,
    /// Both sides initiate (the vendor's 受信/送信): each pair is also required in reverse.
    #[serde(default)]
    pub both_ways: bool,
    /// `tcp`, `udp`, a list of them, or `{option: NAME}` naming a choice option whose values are protocols.
    #[schemars(with = "ProtocolSpec")]
    pub protocol: Spanned<ProtocolSpec>,
    /// Destination ports: numbers, ranges (`1024-65535`), `{option: NAME}` (a port option or a
    /// choice of numbers), or `{when: COND, ports: [...]}` for ports that depend on options.
    #[schemars(with = "Vec<PortItem>")]
    pub ports: Vec<Spanned<PortItemSp>>,
    /// Condition over options; omitted means always. `"false"` keeps a row on file that
    /// never opens anything (prefer a `closed:` entry when the vendor says not to open it).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub when: Option<SpStr>,
    /// Notes in our own words.
    pub notes: Text,
    /// Where the vendor states it.
    pub source: RawCitation,
    /// Risk advice shown whenever the requirement is active.
    #[serde(default)]
    pub findings: Vec<RawFinding>,
    /// The service's name (`{en: …, ja: …}` or one name for both), shown instead of the IANA
    /// registry's name for the port (902/tcp is `ideafarm-door` there, not VMware's).
    #[serde(default)]
    #[schemars(with = "Option<ServiceName>")]
    pub service: Option<ServiceName>,
}

/// Ports of the product that must stay closed: no requirement opens them, and a firewall that
/// accepts them is in excess for that reason.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClosed {
    /// Id, unique among the catalog's requirements and closed entries (cited as `product/id`).
    #[schemars(with = "String")]
    pub id: SpStr,
    /// What the port is for (and why it stays closed).
    pub purpose: Text,
    /// Sources it must stay closed to; omitted: every source.
    #[serde(default)]
    #[schemars(with = "Option<Names>")]
    pub from: Option<Spanned<NameList>>,
    /// The role(s) whose ports must stay closed.
    #[schemars(with = "Names")]
    pub to: Spanned<NameList>,
    /// `tcp`, `udp`, a list of them, or `{option: NAME}`.
    #[schemars(with = "ProtocolSpec")]
    pub protocol: Spanned<ProtocolSpec>,
    /// The ports, written as in requirements.
    #[schemars(with = "Vec<PortItem>")]
    pub ports: Vec<Spanned<PortItemSp>>,
    /// Condition over options; omitted means always.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub when: Option<SpStr>,
    /// Notes in our own words.
    #[serde(default)]
    pub notes: Option<Text>,
    /// Where the vendor states it.
    pub source: RawCitation,
    /// The service's name, as for requirements.
    #[serde(default)]
    #[schemars(with = "Option<ServiceName>")]
    pub service: Option<ServiceName>,
}

/// A service name: `{en: …, ja: …}`, or one name for both languages (`VMware heartbeat`).
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum ServiceName {
    /// The same name in both languages.
    One(String),
    /// A name per language.
    Both(Text),
}

impl ServiceName {
    /// The name as a [`Text`].
    pub fn text(self) -> Text {
        match self {
            ServiceName::One(s) => Text::new(s.clone(), s),
            ServiceName::Both(t) => t,
        }
    }
}

impl<'de> Deserialize<'de> for ServiceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServiceName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name, or {en: NAME, ja: NAME}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ServiceName, E> {
                Ok(ServiceName::One(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ServiceName, A::Error> {
                Text::deserialize(de::value::MapAccessDeserializer::new(map)).map(ServiceName::Both)
            }
        }
        d.deserialize_any(V)
    }
}

/// A citation of a vendor document row.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCitation {
    /// Document id (from `sources`).
    #[schemars(with = "String")]
    pub doc: SpStr,
    /// Row of the document's table, counting from 1 at the first data row.
    #[schemars(with = "u32")]
    pub row: Spanned<u32>,
    /// Line(s) of the document holding the row: `"14"` or `"24-30"`.
    #[serde(default)]
    #[schemars(with = "Option<Scalar>")]
    pub lines: Option<Spanned<Scalar>>,
}

/// Severity of a finding.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    JsonSchema,
    serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Review before opening.
    Warning,
    /// Exposes something sensitive; mitigate.
    Critical,
}

/// Risk advice attached to a requirement or to the whole product.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFinding {
    /// How serious.
    pub severity: Severity,
    /// The advice.
    pub message: Text,
    /// Condition over options (beyond the requirement's own); omitted means whenever the
    /// requirement (or, at the top level, the product) is planned.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub when: Option<SpStr>,
}

/// A YAML scalar read as text: `80`, `dynamic`, `true`.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    /// A string.
    Str(String),
    /// A number.
    Int(u64),
    /// A bool.
    Bool(bool),
}

impl Scalar {
    /// The scalar as text.
    pub fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or bool")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                u64::try_from(v)
                    .map(Scalar::Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// One name or a list of names: roles, or the zones of a firewall side (schema only; parsed
/// as [`NameList`]).
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum Names {
    /// One name.
    One(String),
    /// Several names.
    Many(Vec<String>),
}

/// Names with their locations (a single name has none of its own: use the node's).
#[derive(Debug, Clone)]
pub struct NameList(pub Vec<SpStr>);

impl<'de> Deserialize<'de> for NameList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NameList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NameList, E> {
                Ok(NameList(vec![Spanned::new(
                    v.to_string(),
                    serde_saphyr::Location::UNKNOWN,
                    serde_saphyr::Location::UNKNOWN,
                )]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NameList, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<SpStr>()? {
                    out.push(x);
                }
                Ok(NameList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A protocol, a list of protocols, or an option naming one.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum ProtocolSpec {
    /// `tcp` or `udp`.
    One(String),
    /// `[tcp, udp]`.
    Many(Vec<String>),
    /// `{option: syslog_protocol}`.
    Option {
        /// A choice option whose values are protocol names.
        option: String,
    },
}

impl<'de> Deserialize<'de> for ProtocolSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProtocolSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`tcp`, `udp`, a list of them, or `{option: NAME}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProtocolSpec, E> {
                Ok(ProtocolSpec::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ProtocolSpec, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<String>()? {
                    out.push(x);
                }
                Ok(ProtocolSpec::Many(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProtocolSpec, A::Error> {
                let mut option = None;
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "option" => option = Some(map.next_value::<String>()?),
                        other => return Err(de::Error::unknown_field(other, &["option"])),
                    }
                }
                option
                    .map(|option| ProtocolSpec::Option { option })
                    .ok_or_else(|| de::Error::missing_field("option"))
            }
        }
        d.deserialize_any(V)
    }
}

/// One entry of `ports:` (schema only; parsed as [`PortItemSp`]).
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum PortItem {
    /// A port number.
    Number(u64),
    /// A port spec: `1024-65535`, `80,443`.
    Spec(String),
    /// `{option: NAME}`: the value of a port option (or a choice of numbers).
    Option {
        /// The option.
        option: String,
    },
    /// `{when: COND, ports: [...]}`: ports that depend on options.
    When {
        /// Condition over options.
        when: String,
        /// The ports.
        ports: Vec<PortItem>,
    },
}

/// A `ports:` entry as parsed, with locations inside groups.
#[derive(Debug, Clone)]
pub enum PortItemSp {
    /// A port number.
    Number(u64),
    /// A port spec string.
    Spec(String),
    /// An option reference.
    Option(SpStr),
    /// A conditional group.
    When(SpStr, Vec<Spanned<PortItemSp>>),
}

impl<'de> Deserialize<'de> for PortItemSp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PortItemSp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port (443), a range (\"1024-65535\"), {option: NAME} or {when: COND, ports: [...]}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortItemSp, E> {
                Ok(PortItemSp::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortItemSp, E> {
                Err(E::invalid_value(
                    de::Unexpected::Signed(v),
                    &"a port number 1-65535",
                ))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortItemSp, E> {
                Ok(PortItemSp::Spec(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PortItemSp, A::Error> {
                let (mut option, mut when, mut ports) = (None, None, None);
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "option" => option = Some(map.next_value::<SpStr>()?),
                        "when" => when = Some(map.next_value::<SpStr>()?),
                        "ports" => ports = Some(map.next_value::<Vec<Spanned<PortItemSp>>>()?),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["option", "when", "ports"],
                            ));
                        }
                    }
                }
                match (option, when, ports) {
                    (Some(o), None, None) => Ok(PortItemSp::Option(o)),
                    (None, Some(w), Some(p)) => Ok(PortItemSp::When(w, p)),
                    (None, Some(_), None) => Err(de::Error::missing_field("ports")),
                    (None, None, Some(_)) => Err(de::Error::missing_field("when")),
                    _ => Err(de::Error::custom(
                        "a ports entry is either {option: NAME} or {when: COND, ports: [...]}",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}
