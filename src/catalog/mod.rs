//! Catalogs: each product's port requirements, as checked, typed data.
//!
//! A catalog is one YAML file (see `catalogs/` and `schema/catalog.schema.json`). Loading it
//! ([`load`]) parses it with locations ([`raw`]) and then checks everything a typo could break —
//! ids, role references, option types, conditions, port specs, citations — reporting every
//! problem with file, line and column. A [`Catalog`] that exists is therefore consistent:
//! later stages never re-validate it.
//!
//! The built-in catalogs are embedded in the binary ([`Catalogs::builtin`]); `--catalog-dir`
//! adds more, a file with the id of a built-in one replacing it ([`Catalogs::with_dir`]).

mod fold;
pub mod raw;
mod sat;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Serialize;
use serde_saphyr::Spanned;

use crate::condition::Expr;
use crate::diag::{Error, Problem, Result, SourceFile, span_of};
use crate::i18n::Text;
use crate::options::{OptionDef, OptionKind, OptionValues, Value};
use crate::portset::{PortSet, check_port};
use crate::suggest::closest;
use crate::tr;

use raw::{NameList, PortItemSp, ProtocolSpec, RawCatalog, RawOptionType};
pub use raw::{Severity, ZoneHint};

/// A transport protocol with ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// Parse `tcp` / `udp` (case-insensitive).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            _ => None,
        }
    }

    /// `tcp` / `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product's requirements.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Product id (`tmws`).
    pub id: String,
    /// Product name.
    pub name: Text,
    /// Vendor.
    pub vendor: String,
    /// One-paragraph description.
    pub summary: Option<Text>,
    /// Cited vendor documents.
    pub sources: Vec<SourceDoc>,
    /// Options, in file order.
    pub options: Vec<OptionDef>,
    /// Roles, in file order.
    pub roles: Vec<Role>,
    /// Requirements, in file order.
    pub requirements: Vec<Requirement>,
    /// Ports that must stay closed, in file order.
    pub closed: Vec<Closed>,
    /// Risk advice about the product as a whole.
    pub findings: Vec<Finding>,
    /// Notes about the product as a whole.
    pub notes: Option<Text>,
    /// What `catalog check` warns about (conditions that can never hold), each naming file,
    /// line and column.
    pub warnings: Vec<Text>,
    /// Where the catalog came from (`builtin:tmws.yaml` or a path).
    pub origin: String,
    /// Role id → index in `roles`.
    role_index: HashMap<String, usize>,
    /// Requirement id → index in `requirements`.
    requirement_index: HashMap<String, usize>,
}

/// A cited vendor document.
#[derive(Debug, Clone, Serialize)]
pub struct SourceDoc {
    /// Id (file name).
    pub id: String,
    /// Title.
    pub title: Text,
    /// URL.
    pub url: Option<String>,
    /// Product version(s) the document covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Date the document was read (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
}

/// A component of a product.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: Text,
    /// Typical zone.
    pub zone: ZoneHint,
    /// Default endpoints when a site maps none.
    pub endpoints: Vec<String>,
    /// Description.
    pub description: Option<Text>,
}

/// Which protocol(s) a requirement uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolRef {
    /// Fixed protocols.
    Fixed(Vec<Protocol>),
    /// The value of a choice option.
    Option(String),
}

/// One entry of a requirement's ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    /// Fixed ports.
    Fixed(PortSet),
    /// The value of a port option or a numeric choice option.
    Option(String),
    /// Ports that apply only when a condition holds.
    When(Expr, Vec<PortRef>),
    /// The ports a choice option's value maps to (`database` → `postgresql: 5432`).
    Choice(String, Vec<(String, PortSet)>),
}

impl PortRef {
    /// The ports of an entry that is not a conditional group, under `vals`; `None` for a group.
    pub fn leaf_ports(&self, vals: &OptionValues) -> Option<PortSet> {
        match self {
            PortRef::Fixed(p) => Some(p.clone()),
            PortRef::Option(o) => Some(
                vals.get(o)
                    .and_then(Value::ports)
                    .map_or_else(PortSet::new, |(a, b)| PortSet::range(a, b)),
            ),
            PortRef::Choice(o, map) => Some(
                vals.get(o)
                    .and_then(|v| map.iter().find(|(k, _)| *k == v.to_string()))
                    .map_or_else(PortSet::new, |(_, p)| p.clone()),
            ),
            PortRef::When(..) => None,
        }
    }
}

/// A citation: document and table row (and the lines holding it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// Document id.
    pub doc: String,
    /// Table row, from 1.
    pub row: u32,
    /// Lines of the document: `(first, last)`.
    pub lines: Option<(u32, u32)>,
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.doc, self.row)
    }
}

/// Risk advice shown when a requirement is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// The advice.
    pub message: Text,
    /// When it applies (beyond its requirement's condition).
    pub when: Expr,
}

/// A connection a product needs.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// Id, unique in the catalog.
    pub id: String,
    /// What for.
    pub purpose: Text,
    /// Initiating roles.
    pub from: Vec<String>,
    /// Accepting roles.
    pub to: Vec<String>,
    /// Each pair is also required in reverse.
    pub both_ways: bool,
    /// Protocol(s).
    pub protocol: ProtocolRef,
    /// Destination ports.
    pub ports: Vec<PortRef>,
    /// When it is needed.
    pub when: Expr,
    /// Notes.
    pub notes: Text,
    /// Vendor document row.
    pub source: Citation,
    /// Risk advice.
    pub findings: Vec<Finding>,
    /// The service's name, when the catalog gives one (else the IANA name applies).
    pub service: Option<Text>,
}

/// Ports of a product that must stay closed (the vendor: "internal only, do not open").
#[derive(Debug, Clone)]
pub struct Closed {
    /// Id, unique among the catalog's requirements and closed entries.
    pub id: String,
    /// What the port is for.
    pub purpose: Text,
    /// Sources it must stay closed to; `None`: every source.
    pub from: Option<Vec<String>>,
    /// Roles whose ports must stay closed.
    pub to: Vec<String>,
    /// Protocol(s).
    pub protocol: ProtocolRef,
    /// The ports.
    pub ports: Vec<PortRef>,
    /// When it applies.
    pub when: Expr,
    /// Notes.
    pub notes: Option<Text>,
    /// Vendor document row.
    pub source: Citation,
    /// The service's name, when the catalog gives one.
    pub service: Option<Text>,
}

impl Closed {
    /// The protocols under `vals`.
    pub fn protocols(&self, vals: &OptionValues) -> Vec<Protocol> {
        protocols_of(&self.protocol, vals)
    }

    /// The ports under `vals`.
    pub fn ports(&self, vals: &OptionValues) -> PortSet {
        let mut set = PortSet::new();
        collect_ports(&self.ports, vals, &mut set, &mut Vec::new());
        set
    }

    /// Whether it applies under `vals` (its condition holds and it has ports).
    pub fn is_active(&self, vals: &OptionValues) -> bool {
        self.when.eval(vals) && !self.ports(vals).is_empty() && !self.protocols(vals).is_empty()
    }
}

fn protocols_of(p: &ProtocolRef, vals: &OptionValues) -> Vec<Protocol> {
    match p {
        ProtocolRef::Fixed(p) => p.clone(),
        ProtocolRef::Option(o) => vals
            .get(o)
            .and_then(|v| Protocol::parse(&v.to_string()))
            .into_iter()
            .collect(),
    }
}

/// At most this many role pairs (from × to, twice when both ways) over a catalog's
/// requirements; real catalogs have dozens.
pub const MAX_ROLE_PAIRS: usize = 20_000;

impl Requirement {
    /// Every (initiator, acceptor) pair, forward pairs first, then the reversed ones when
    /// `both_ways`; no pair twice.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        let forward = self
            .from
            .iter()
            .flat_map(|f| self.to.iter().map(move |t| (f.as_str(), t.as_str())));
        let reverse = self
            .to
            .iter()
            .flat_map(|t| self.from.iter().map(move |f| (t.as_str(), f.as_str())));
        let mut out: Vec<(&str, &str)> = Vec::new();
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        let all: Box<dyn Iterator<Item = (&str, &str)>> = if self.both_ways {
            Box::new(forward.chain(reverse))
        } else {
            Box::new(forward)
        };
        // A set, not `out.contains`: a hostile catalog's 1,000 × 1,000 roles were quadratic.
        for p in all {
            if seen.insert(p) {
                out.push(p);
            }
        }
        out
    }

    /// The protocols under `vals`.
    pub fn protocols(&self, vals: &OptionValues) -> Vec<Protocol> {
        protocols_of(&self.protocol, vals)
    }

    /// The destination ports under `vals`, and the conditions of the port groups that
    /// contributed (beyond the requirement's own `when`).
    pub fn ports(&self, vals: &OptionValues) -> (PortSet, Vec<String>) {
        let mut set = PortSet::new();
        let mut because = Vec::new();
        collect_ports(&self.ports, vals, &mut set, &mut because);
        (set, because)
    }

    /// The destination ports under `vals`, grouped by the port-level conditions that brought
    /// them in (beyond the requirement's own `when`): the ports listed without a condition
    /// first (with none), then each conditional group's ports not already present, with the
    /// conditions of its nesting. Groups with the same conditions are merged; every port is in
    /// exactly one group, so each port's provenance names only the conditions it depends on.
    pub fn port_groups(&self, vals: &OptionValues) -> Vec<(PortSet, Vec<String>)> {
        let mut leaves = Vec::new();
        collect_groups(&self.ports, vals, &mut Vec::new(), &mut leaves);
        // Fewer conditions first: a port listed unconditionally and again in a group is
        // needed unconditionally.
        leaves.sort_by_key(|(_, conds)| conds.len());
        let mut seen = PortSet::new();
        let mut out: Vec<(PortSet, Vec<String>)> = Vec::new();
        for (ports, conds) in leaves {
            let new = ports.difference(&seen);
            if new.is_empty() {
                continue;
            }
            seen.extend(&new);
            match out.iter_mut().find(|(_, c)| *c == conds) {
                Some((p, _)) => p.extend(&new),
                None => out.push((new, conds)),
            }
        }
        out
    }

    /// Whether the requirement is needed under `vals` (its condition holds and it has ports).
    pub fn is_active(&self, vals: &OptionValues) -> bool {
        self.when.eval(vals) && !self.ports(vals).0.is_empty()
    }

    /// Whether the requirement touches `role` on either side.
    pub fn touches(&self, role: &str) -> bool {
        self.from.iter().chain(&self.to).any(|r| r == role)
    }
}

fn collect_groups(
    items: &[PortRef],
    vals: &OptionValues,
    path: &mut Vec<String>,
    out: &mut Vec<(PortSet, Vec<String>)>,
) {
    for item in items {
        match item {
            PortRef::When(cond, inner) => {
                if cond.eval(vals) {
                    path.push(cond.to_string());
                    collect_groups(inner, vals, path, out);
                    path.pop();
                }
            }
            leaf => {
                if let Some(p) = leaf.leaf_ports(vals).filter(|p| !p.is_empty()) {
                    out.push((p, path.clone()));
                }
            }
        }
    }
}

fn collect_ports(
    items: &[PortRef],
    vals: &OptionValues,
    set: &mut PortSet,
    because: &mut Vec<String>,
) {
    for item in items {
        match item {
            PortRef::Fixed(_) | PortRef::Option(_) | PortRef::Choice(..) => {
                if let Some(p) = item.leaf_ports(vals) {
                    set.extend(&p);
                }
            }
            PortRef::When(cond, inner) => {
                if cond.eval(vals) {
                    let s = cond.to_string();
                    if !because.contains(&s) {
                        because.push(s);
                    }
                    collect_ports(inner, vals, set, because);
                }
            }
        }
    }
}

impl Catalog {
    /// The option `id`.
    pub fn option(&self, id: &str) -> Option<&OptionDef> {
        self.options.iter().find(|o| o.id == id)
    }

    /// The role `id`.
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.role_index.get(id).map(|i| &self.roles[*i])
    }

    /// The requirement `id`.
    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirement_index
            .get(id)
            .map(|i| &self.requirements[*i])
    }

    /// The closed entry `id`.
    pub fn closed_entry(&self, id: &str) -> Option<&Closed> {
        self.closed.iter().find(|c| c.id == id)
    }

    /// Every option at its default.
    pub fn default_options(&self) -> OptionValues {
        OptionValues::defaults(&self.options)
    }

    /// Display name of role `id` (the id itself if unknown).
    pub fn role_name(&self, id: &str) -> Text {
        self.role(id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| Text::new(id, id))
    }
}

/// The built-in catalogs: (file name, YAML).
pub const BUILTIN: &[(&str, &str)] = &[
    ("tmws.yaml", include_str!("../../catalogs/tmws.yaml")),
    (
        "devicelock.yaml",
        include_str!("../../catalogs/devicelock.yaml"),
    ),
    // The catalog library (issue 15): one vendor document each, row ledgers in catalogs/rows/.
    ("ad-ds.yaml", include_str!("../../catalogs/ad-ds.yaml")),
    (
        "windows-remote.yaml",
        include_str!("../../catalogs/windows-remote.yaml"),
    ),
    ("wsus.yaml", include_str!("../../catalogs/wsus.yaml")),
    (
        "exchange.yaml",
        include_str!("../../catalogs/exchange.yaml"),
    ),
    (
        "entra-connect.yaml",
        include_str!("../../catalogs/entra-connect.yaml"),
    ),
    (
        "sql-server.yaml",
        include_str!("../../catalogs/sql-server.yaml"),
    ),
    // The catalog library, second half (branch library2).
    (
        "jp1-base.yaml",
        include_str!("../../catalogs/jp1-base.yaml"),
    ),
    ("scom.yaml", include_str!("../../catalogs/scom.yaml")),
    ("scvmm.yaml", include_str!("../../catalogs/scvmm.yaml")),
    ("zabbix.yaml", include_str!("../../catalogs/zabbix.yaml")),
    (
        "kubernetes.yaml",
        include_str!("../../catalogs/kubernetes.yaml"),
    ),
    ("consul.yaml", include_str!("../../catalogs/consul.yaml")),
    ("nomad.yaml", include_str!("../../catalogs/nomad.yaml")),
    ("wazuh.yaml", include_str!("../../catalogs/wazuh.yaml")),
    (
        "proxmox-ve.yaml",
        include_str!("../../catalogs/proxmox-ve.yaml"),
    ),
    ("nps.yaml", include_str!("../../catalogs/nps.yaml")),
];

/// A set of catalogs, by product id.
#[derive(Debug, Clone)]
pub struct Catalogs {
    items: Vec<Catalog>,
}

impl Catalogs {
    /// The built-in catalogs.
    pub fn builtin() -> Catalogs {
        let items = BUILTIN
            .iter()
            .map(|(name, text)| {
                load(SourceFile::new(format!("builtin:{name}"), *text)).unwrap_or_else(|e| {
                    panic!(
                        "built-in catalog {name} is invalid: {}",
                        e.plain(crate::i18n::Lang::En)
                    )
                })
            })
            .collect();
        Catalogs { items }
    }

    /// The built-in catalogs plus every `*.yaml`/`*.yml` in `dir` (sorted by name); a catalog
    /// with the id of a built-in one replaces it. Two files of `dir` with the same id are an
    /// error (located at the second one's `id:`), not a silent "last file wins".
    pub fn with_dir(dir: &Path) -> Result<Catalogs> {
        let mut set = Catalogs::builtin();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        paths.sort();
        let mut seen: HashMap<String, String> = HashMap::new();
        for p in paths {
            let file = SourceFile::new(p.display().to_string(), crate::diag::read_text(&p)?);
            let c = load(file.clone())?;
            if let Some(first) = seen.get(&c.id) {
                let (id, first) = (&c.id, crate::escape::escape_controls(first));
                // The top-level `id:` line; the file checked, so it has one.
                let mut at = 0;
                let span = file.text.split_inclusive('\n').find_map(|l| {
                    let start = at;
                    at += l.len();
                    l.starts_with("id:")
                        .then(|| start..start + l.trim_end().len())
                });
                return Err(Error::Invalid {
                    file,
                    problems: vec![Problem::at(
                        span,
                        tr!(
                            "product id `{id}` is already defined by {first}",
                            "製品 id `{id}` は {first} ですでに定義されています"
                        ),
                        Some(tr!(
                            "each catalog of --catalog-dir needs its own id: remove or rename one",
                            "--catalog-dir のカタログには別々の id が必要です: どちらかを削除するか id を変えてください"
                        )),
                    )],
                });
            }
            seen.insert(c.id.clone(), file.name.clone());
            set.insert(c);
        }
        Ok(set)
    }

    /// Add a catalog, replacing one with the same id.
    pub fn insert(&mut self, c: Catalog) {
        match self.items.iter_mut().find(|x| x.id == c.id) {
            Some(slot) => *slot = c,
            None => self.items.push(c),
        }
    }

    /// All catalogs.
    pub fn iter(&self) -> impl Iterator<Item = &Catalog> {
        self.items.iter()
    }

    /// The vendor document a `doc#row` reference of `product`'s requirements names.
    pub fn source_doc(&self, product: &str, reference: &str) -> Option<&SourceDoc> {
        let doc = reference.rsplit_once('#').map_or(reference, |(d, _)| d);
        self.get(product)
            .ok()
            .and_then(|c| c.sources.iter().find(|s| s.id == doc))
    }

    /// The catalog for `product`, or a usage error listing the products there are.
    pub fn get(&self, product: &str) -> Result<&Catalog> {
        self.items.iter().find(|c| c.id == product).ok_or_else(|| {
            let ids: Vec<&str> = self.items.iter().map(|c| c.id.as_str()).collect();
            let list = ids.join(", ");
            let hint = closest(product, ids.iter().copied())
                .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                .unwrap_or_default();
            Error::usage(
                Text::new(
                    format!("unknown product `{product}`{}", hint.en),
                    format!("製品 `{product}` のカタログはありません{}", hint.ja),
                ),
                Some(tr!(
                    "products: {list} (more with --catalog-dir DIR)",
                    "指定できる製品: {list} (--catalog-dir DIR で追加できます)"
                )),
            )
        })
    }
}

/// Load and check a catalog file.
pub fn load_path(path: &Path) -> Result<Catalog> {
    let text = crate::diag::read_text(path)?;
    load(SourceFile::new(path.display().to_string(), text))
}

/// Parse and check a catalog.
pub fn load(file: SourceFile) -> Result<Catalog> {
    let opts = crate::diag::yaml_options();
    let mut raw: RawCatalog =
        serde_saphyr::from_str_with_options(&file.text, opts).map_err(|e| Error::Yaml {
            file: file.clone(),
            error: Box::new(e),
        })?;
    fold::unfold_cjk(&file.text, &mut raw);
    let mut v = Checker {
        file: &file,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let catalog = v.catalog(raw);
    if v.problems.is_empty() {
        Ok(catalog)
    } else {
        let mut problems = v.problems;
        problems.sort_by_key(|p| p.span.as_ref().map_or(0, |s| s.start));
        Err(Error::Invalid { file, problems })
    }
}

/// `YYYY-MM-DD` with a month 01-12 and a day 01-31.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) {
        return false;
    }
    if !digits(5..7) || !digits(8..10) {
        return false;
    }
    let (m, d) = (&s[5..7], &s[8..10]);
    ("01"..="12").contains(&m) && ("01"..="31").contains(&d)
}

/// The JSON Schema of catalog files.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawCatalog)).unwrap_or_default()
}

struct Checker<'f> {
    file: &'f SourceFile,
    problems: Vec<Problem>,
    warnings: Vec<Text>,
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

const RESERVED: [&str; 7] = ["and", "or", "not", "in", "always", "true", "false"];

impl Checker<'_> {
    fn span<T>(&self, s: &Spanned<T>) -> Option<Range<usize>> {
        span_of(self.file, &s.referenced)
    }

    fn problem(&mut self, span: Option<Range<usize>>, message: Text, help: Option<Text>) {
        self.problems.push(Problem::at(span, message, help));
    }

    /// Warn (file:line:col) when `conds` together can never hold: whatever they guard never
    /// applies. The literal `false` is deliberate and not warned about.
    fn warn_unsatisfiable(
        &mut self,
        node: &Spanned<String>,
        conds: &[&Expr],
        what: Text,
        options: &[OptionDef],
    ) {
        if conds.iter().any(|c| **c == Expr::Never) {
            return;
        }
        let all = Expr::And(conds.iter().map(|c| (*c).clone()).collect());
        if sat::satisfiable(&all, options) != Some(false) {
            return;
        }
        let (line, col) = self
            .span(node)
            .map_or((0, 0), |s| self.file.line_col(s.start));
        let (name, cond) = (
            crate::escape::escape_line(&self.file.name).into_owned(),
            &node.value,
        );
        let shown = conds
            .iter()
            .map(|c| c.to_string())
            .filter(|c| c != "always")
            .collect::<Vec<_>>()
            .join(" and ");
        self.warnings.push(Text::new(
            format!(
                "{name}:{line}:{col}: warning: `{cond}` can never hold ({shown} is unsatisfiable): {} never applies; write `when: \"false\"` to keep it on file on purpose, or a `closed:` entry for ports that must not be opened",
                what.en
            ),
            format!(
                "{name}:{line}:{col}: 警告: `{cond}` は成り立ちません ({shown} を満たす値がありません): {} は適用されません。意図的に残すなら `when: \"false\"`、開放してはならないポートなら `closed:` に書いてください",
                what.ja
            ),
        ));
    }

    fn check_id(&mut self, what: Text, id: &Spanned<String>, seen: &mut HashSet<String>) {
        let v = &id.value;
        if !is_ident(v) || RESERVED.contains(&v.as_str()) {
            self.problem(
                self.span(id),
                Text::new(format!("invalid {} id `{v}`", what.en), format!("{} の id `{v}` は使えません", what.ja)),
                Some(tr!(
                    "ids use lower-case letters, digits, `_` and `-` and are not `and`, `or`, `not`, `in`, `always`, `true` or `false`",
                    "id には英小文字・数字・`_`・`-` を使います (`and` `or` `not` `in` `always` `true` `false` は不可)"
                )),
            );
        }
        if !seen.insert(v.clone()) {
            self.problem(
                self.span(id),
                Text::new(
                    format!("duplicate {} id `{v}`", what.en),
                    format!("{} の id `{v}` が重複しています", what.ja),
                ),
                None,
            );
        }
    }

    /// Where a condition starts inside the YAML scalar that holds it, for precise spans.
    fn cond_span(&self, node: &Spanned<String>, inner: Range<usize>) -> Option<Range<usize>> {
        let whole = self.span(node)?;
        let text = &self.file.text;
        let mut base = whole.start;
        if matches!(text.as_bytes().get(base), Some(b'"' | b'\'')) {
            base += 1;
        }
        if text
            .get(base..)
            .is_some_and(|rest| rest.starts_with(node.value.as_str()))
        {
            Some(base + inner.start..base + inner.end.max(inner.start))
        } else {
            Some(whole)
        }
    }

    fn condition(&mut self, node: &Spanned<String>, options: &[OptionDef]) -> Expr {
        match Expr::parse(&node.value) {
            Ok(e) => {
                for err in e.check(options) {
                    let span = self.cond_span(node, err.span.clone());
                    self.problem(span, err.message, err.help);
                }
                e
            }
            Err(err) => {
                let span = self.cond_span(node, err.span.clone());
                self.problem(span, err.message, err.help);
                Expr::Never
            }
        }
    }

    fn catalog(&mut self, raw: RawCatalog) -> Catalog {
        if !is_ident(&raw.id.value) {
            let id = &raw.id.value;
            self.problem(
                self.span(&raw.id),
                tr!("invalid product id `{id}`", "製品 id `{id}` は使えません"),
                Some(tr!(
                    "use lower-case letters, digits, `_` and `-`",
                    "英小文字・数字・`_`・`-` を使ってください"
                )),
            );
        }
        let mut seen = HashSet::new();
        let sources: Vec<SourceDoc> = raw
            .sources
            .into_iter()
            .map(|s| {
                if !seen.insert(s.id.value.clone()) {
                    let id = &s.id.value;
                    self.problem(
                        self.span(&s.id),
                        tr!("duplicate source `{id}`", "資料 `{id}` が重複しています"),
                        None,
                    );
                }
                if let Some(read) = &s.read
                    && !is_date(&read.value)
                {
                    let v = &read.value;
                    self.problem(
                        self.span(read),
                        tr!(
                            "`read: {v}` is not a date",
                            "`read: {v}` は日付ではありません"
                        ),
                        Some(tr!(
                            "write the date the document was read as YYYY-MM-DD",
                            "資料を参照した日付を YYYY-MM-DD で書いてください"
                        )),
                    );
                }
                SourceDoc {
                    id: s.id.value,
                    title: s.title,
                    url: s.url,
                    version: s.version,
                    read: s.read.map(|r| r.value),
                }
            })
            .collect();

        let mut seen = HashSet::new();
        let mut options = Vec::new();
        for o in raw.options {
            self.check_id(tr!("option", "オプション"), &o.id, &mut seen);
            if let Some(def) = self.option(o) {
                options.push(def);
            }
        }

        let mut seen = HashSet::new();
        let roles: Vec<Role> = raw
            .roles
            .into_iter()
            .map(|r| {
                self.check_id(tr!("role", "ロール"), &r.id, &mut seen);
                Role {
                    id: r.id.value,
                    name: r.name,
                    zone: r.zone,
                    endpoints: r.endpoints,
                    description: r.description,
                }
            })
            .collect();

        let known: HashSet<&str> = roles.iter().map(|r| r.id.as_str()).collect();
        let mut seen = HashSet::new();
        let mut requirements = Vec::new();
        let mut pairs = 0usize;
        let mut over = false;
        for r in raw.requirements {
            self.check_id(tr!("requirement", "要件"), &r.id, &mut seen);
            let span = self.span(&r.id);
            let req = self.requirement(r, &options, &roles, &known, &sources);
            // Every role pair becomes flows, rows and rules: bound them, or one requirement
            // from 1,000 roles to 1,000 roles takes minutes and gigabytes downstream.
            pairs = pairs.saturating_add(
                req.from
                    .len()
                    .saturating_mul(req.to.len())
                    .saturating_mul(if req.both_ways { 2 } else { 1 }),
            );
            if pairs > MAX_ROLE_PAIRS && !over {
                over = true;
                self.problem(
                    span,
                    tr!(
                        "the requirements connect more than {MAX_ROLE_PAIRS} role pairs (from × to, counted up to here)",
                        "要件がつなぐロールの組が {MAX_ROLE_PAIRS} を超えています (from × to をここまで数えた数)"
                    ),
                    Some(tr!(
                        "a catalog describes a product's few components: list fewer roles in from and to",
                        "カタログは製品の少数の構成要素を記述するものです: from と to のロールを減らしてください"
                    )),
                );
            }
            requirements.push(req);
        }

        let mut closed = Vec::new();
        for c in raw.closed {
            self.check_id(tr!("closed port", "閉じるポート"), &c.id, &mut seen);
            let span = self.span(&c.id);
            let entry = self.closed(c, &options, &roles, &known, &sources);
            pairs = pairs.saturating_add(
                entry
                    .from
                    .as_ref()
                    .map_or(1, Vec::len)
                    .saturating_mul(entry.to.len()),
            );
            if pairs > MAX_ROLE_PAIRS && !over {
                over = true;
                self.problem(
                    span,
                    tr!(
                        "the requirements and closed entries connect more than {MAX_ROLE_PAIRS} role pairs",
                        "要件と閉じるポートがつなぐロールの組が {MAX_ROLE_PAIRS} を超えています"
                    ),
                    None,
                );
            }
            closed.push(entry);
        }

        // The first of duplicate ids (an error anyway), as a linear search would find.
        let mut requirement_index = HashMap::new();
        for (i, r) in requirements.iter().enumerate() {
            requirement_index.entry(r.id.clone()).or_insert(i);
        }
        let role_index = roles
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let mut findings = Vec::new();
        for f in raw.findings {
            let when = match &f.when {
                Some(w) => {
                    let e = self.condition(w, &options);
                    self.warn_unsatisfiable(
                        w,
                        &[&e],
                        tr!("the product's finding", "製品の指摘事項"),
                        &options,
                    );
                    e
                }
                None => Expr::Always,
            };
            findings.push(Finding {
                severity: f.severity,
                message: f.message,
                when,
            });
        }
        Catalog {
            role_index,
            requirement_index,
            findings,
            notes: raw.notes,
            warnings: std::mem::take(&mut self.warnings),
            id: raw.id.value,
            name: raw.name,
            vendor: raw.vendor,
            summary: raw.summary,
            sources,
            options,
            roles,
            requirements,
            closed,
            origin: self.file.name.clone(),
        }
    }

    fn option(&mut self, o: raw::RawOption) -> Option<OptionDef> {
        let id = o.id.value.clone();
        let kind = match o.kind.value {
            RawOptionType::Choice => {
                let Some(values) = &o.values else {
                    self.problem(
                        self.span(&o.kind),
                        tr!(
                            "choice option `{id}` has no `values`",
                            "choice 型のオプション `{id}` に `values` がありません"
                        ),
                        Some(tr!(
                            "list the values, e.g. `values: [dynamic, fixed]`",
                            "値を列挙してください (例: `values: [dynamic, fixed]`)"
                        )),
                    );
                    return None;
                };
                let mut vs: Vec<String> = Vec::new();
                for v in values {
                    let t = v.value.text();
                    if !t
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                        || t.is_empty()
                    {
                        self.problem(
                            self.span(v),
                            tr!(
                                "choice value `{t}` cannot be written in a condition",
                                "選択値 `{t}` は条件式に書けません"
                            ),
                            Some(tr!(
                                "use letters, digits, `_` and `-`",
                                "英数字・`_`・`-` を使ってください"
                            )),
                        );
                    } else if vs.contains(&t) {
                        self.problem(
                            self.span(v),
                            tr!("duplicate value `{t}`", "値 `{t}` が重複しています"),
                            None,
                        );
                    } else {
                        vs.push(t);
                    }
                }
                if vs.is_empty() {
                    return None;
                }
                OptionKind::Choice(vs)
            }
            k => {
                if let Some(values) = o.values.as_ref().and_then(|v| v.first()) {
                    self.problem(
                        self.span(values),
                        tr!(
                            "only choice options have `values`",
                            "`values` を持てるのは choice 型だけです"
                        ),
                        None,
                    );
                }
                if k == RawOptionType::Bool {
                    OptionKind::Bool
                } else {
                    OptionKind::Port
                }
            }
        };
        let text = o.default.value.text();
        let default = match kind.parse(&text) {
            Some(v) => v,
            None => {
                let allowed = kind.allowed();
                self.problem(
                    self.span(&o.default),
                    tr!(
                        "default `{text}` is not a value of option `{id}`",
                        "既定値 `{text}` はオプション `{id}` の値ではありません"
                    ),
                    Some(tr!("its values: {allowed}", "取り得る値: {allowed}")),
                );
                return None;
            }
        };
        let mut ports = Vec::new();
        if let Some(map) = &o.ports {
            match &kind {
                OptionKind::Choice(values) => {
                    for (value, spec) in &map.value {
                        if !values.contains(value) {
                            let list = values.join(", ");
                            let hint = closest(value, values.iter().map(String::as_str))
                                .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                                .unwrap_or_default();
                            self.problem(
                                self.span(spec).or_else(|| self.span(map)),
                                Text::new(
                                    format!("`{value}` is not a value of option `{id}`{}", hint.en),
                                    format!(
                                        "`{value}` はオプション `{id}` の値ではありません{}",
                                        hint.ja
                                    ),
                                ),
                                Some(tr!("its values: {list}", "取り得る値: {list}")),
                            );
                            continue;
                        }
                        let text = spec.value.text();
                        match PortSet::parse(&text) {
                            Ok(set) => ports.push((value.clone(), set)),
                            Err(e) => self.problem(
                                self.span(spec),
                                Text::new(
                                    format!("bad port spec `{text}` for `{value}`: {e}"),
                                    format!("`{value}` のポート指定 `{text}` が不正です: {e}"),
                                ),
                                Some(tr!(
                                    "write `5432`, `1024-65535` or `80,443`",
                                    "`5432`、`1024-65535`、`80,443` の形で書いてください"
                                )),
                            ),
                        }
                    }
                    // Value order, as `values` lists them.
                    ports.sort_by_key(|(v, _)| values.iter().position(|x| x == v));
                }
                _ => self.problem(
                    self.span(map),
                    tr!(
                        "only choice options map their values to ports",
                        "値をポートに対応付けられるのは choice 型だけです"
                    ),
                    Some(tr!(
                        "a port option holds its port (or range) as its value",
                        "port 型はポート (または範囲) そのものを値に持ちます"
                    )),
                ),
            }
        }
        Some(OptionDef {
            id,
            kind,
            default,
            description: o.description,
            ports,
        })
    }

    fn roles_of(
        &mut self,
        list: &Spanned<NameList>,
        roles: &[Role],
        known: &HashSet<&str>,
    ) -> Vec<String> {
        let outer = self.span(list);
        if list.value.0.is_empty() {
            self.problem(
                outer.clone(),
                tr!("no roles listed", "ロールが指定されていません"),
                None,
            );
        }
        let mut out = Vec::new();
        for name in &list.value.0 {
            let n = &name.value;
            if known.contains(n.as_str()) {
                if !out.contains(n) {
                    out.push(n.clone());
                }
                continue;
            }
            let span = self.span(name).or_else(|| outer.clone());
            let ids: Vec<&str> = roles.iter().map(|r| r.id.as_str()).collect();
            let hint = closest(n, ids.iter().copied())
                .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                .unwrap_or_default();
            let list = ids.join(", ");
            self.problem(
                span,
                Text::new(
                    format!("unknown role `{n}`{}", hint.en),
                    format!("ロール `{n}` はありません{}", hint.ja),
                ),
                Some(tr!(
                    "roles of this catalog: {list}",
                    "このカタログのロール: {list}"
                )),
            );
        }
        out
    }

    fn requirement(
        &mut self,
        r: raw::RawRequirement,
        options: &[OptionDef],
        roles: &[Role],
        known: &HashSet<&str>,
        sources: &[SourceDoc],
    ) -> Requirement {
        let from = self.roles_of(&r.from, roles, known);
        let to = self.roles_of(&r.to, roles, known);
        let protocol = self.protocol(&r.protocol, options);
        if r.ports.is_empty() {
            let id = &r.id.value;
            self.problem(
                self.span(&r.id),
                tr!(
                    "requirement `{id}` lists no ports",
                    "要件 `{id}` にポートがありません"
                ),
                None,
            );
        }
        let id = r.id.value.clone();
        let when = match &r.when {
            Some(w) => {
                let e = self.condition(w, options);
                self.warn_unsatisfiable(
                    w,
                    &[&e],
                    tr!("requirement `{id}`", "要件 `{id}`"),
                    options,
                );
                e
            }
            None => Expr::Always,
        };
        let ports = self.ports(&r.ports, options, &[&when], &id);
        let mut findings = Vec::new();
        for f in r.findings {
            let fwhen = match &f.when {
                Some(w) => {
                    let e = self.condition(w, options);
                    self.warn_unsatisfiable(
                        w,
                        &[&when, &e],
                        tr!("a finding of requirement `{id}`", "要件 `{id}` の指摘事項"),
                        options,
                    );
                    e
                }
                None => Expr::Always,
            };
            findings.push(Finding {
                severity: f.severity,
                message: f.message,
                when: fwhen,
            });
        }
        let source = self.citation(&r.source, sources);
        Requirement {
            id: r.id.value,
            purpose: r.purpose,
            from,
            to,
            both_ways: r.both_ways,
            protocol,
            ports,
            when,
            notes: r.notes,
            source,
            service: r.service.map(raw::ServiceName::text),
            findings,
        }
    }

    fn citation(&mut self, c: &raw::RawCitation, sources: &[SourceDoc]) -> Citation {
        let doc = &c.doc.value;
        if !sources.iter().any(|s| &s.id == doc) {
            let list: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
            let list = list.join(", ");
            self.problem(
                self.span(&c.doc),
                tr!(
                    "`{doc}` is not in this catalog's sources",
                    "`{doc}` はこのカタログの sources にありません"
                ),
                Some(tr!("sources: {list}", "sources: {list}")),
            );
        }
        if c.row.value == 0 {
            self.problem(
                self.span(&c.row),
                tr!("rows count from 1", "行番号は 1 から数えます"),
                None,
            );
        }
        let lines = c.lines.as_ref().and_then(|l| {
            let t = l.value.text();
            let parsed = match t.split_once('-') {
                Some((a, b)) => a.trim().parse().ok().zip(b.trim().parse().ok()),
                None => t.trim().parse().ok().map(|n| (n, n)),
            };
            match parsed {
                Some((a, b)) if a >= 1 && a <= b => Some((a, b)),
                _ => {
                    self.problem(
                        self.span(l),
                        tr!(
                            "`{t}` is not a line or line range",
                            "`{t}` は行番号または行範囲ではありません"
                        ),
                        Some(tr!(
                            "write `14` or `24-30`",
                            "`14` または `24-30` の形で書いてください"
                        )),
                    );
                    None
                }
            }
        });
        Citation {
            doc: c.doc.value.clone(),
            row: c.row.value,
            lines,
        }
    }

    fn closed(
        &mut self,
        c: raw::RawClosed,
        options: &[OptionDef],
        roles: &[Role],
        known: &HashSet<&str>,
        sources: &[SourceDoc],
    ) -> Closed {
        let from = c.from.as_ref().map(|f| self.roles_of(f, roles, known));
        let to = self.roles_of(&c.to, roles, known);
        let protocol = self.protocol(&c.protocol, options);
        if c.ports.is_empty() {
            let id = &c.id.value;
            self.problem(
                self.span(&c.id),
                tr!(
                    "closed entry `{id}` lists no ports",
                    "閉じるポート `{id}` にポートがありません"
                ),
                None,
            );
        }
        let id = c.id.value.clone();
        let when = match &c.when {
            Some(w) => {
                let e = self.condition(w, options);
                self.warn_unsatisfiable(
                    w,
                    &[&e],
                    tr!("closed entry `{id}`", "閉じるポート `{id}`"),
                    options,
                );
                e
            }
            None => Expr::Always,
        };
        let ports = self.ports(&c.ports, options, &[&when], &id);
        let source = self.citation(&c.source, sources);
        Closed {
            id: c.id.value,
            purpose: c.purpose,
            from,
            to,
            protocol,
            ports,
            when,
            notes: c.notes,
            source,
            service: c.service.map(raw::ServiceName::text),
        }
    }

    fn protocol(&mut self, p: &Spanned<ProtocolSpec>, options: &[OptionDef]) -> ProtocolRef {
        let span = self.span(p);
        let bad = |s: &str| {
            (
                tr!("unknown protocol `{s}`", "プロトコル `{s}` は使えません"),
                Some(tr!("protocols: tcp, udp", "使えるプロトコル: tcp, udp")),
            )
        };
        match &p.value {
            ProtocolSpec::One(s) => match Protocol::parse(s) {
                Some(x) => ProtocolRef::Fixed(vec![x]),
                None => {
                    let (m, h) = bad(s);
                    self.problem(span, m, h);
                    ProtocolRef::Fixed(vec![])
                }
            },
            ProtocolSpec::Many(list) => {
                let mut out = BTreeSet::new();
                for s in list {
                    match Protocol::parse(s) {
                        Some(x) => {
                            out.insert(x);
                        }
                        None => {
                            let (m, h) = bad(s);
                            self.problem(span.clone(), m, h);
                        }
                    }
                }
                if list.is_empty() {
                    self.problem(
                        span,
                        tr!("no protocol listed", "プロトコルが指定されていません"),
                        None,
                    );
                }
                ProtocolRef::Fixed(out.into_iter().collect())
            }
            ProtocolSpec::Option { option } => {
                match options.iter().find(|o| &o.id == option) {
                    Some(OptionDef {
                        kind: OptionKind::Choice(vs),
                        ..
                    }) if vs.iter().all(|v| Protocol::parse(v).is_some()) => {}
                    Some(_) => self.problem(
                        span,
                        tr!(
                            "option `{option}` is not a choice of protocols",
                            "オプション `{option}` はプロトコルの選択肢ではありません"
                        ),
                        Some(tr!(
                            "use a choice option with values such as [udp, tcp]",
                            "値が [udp, tcp] のような choice 型オプションを指定してください"
                        )),
                    ),
                    None => self.unknown_option(span, option, options),
                }
                ProtocolRef::Option(option.clone())
            }
        }
    }

    fn unknown_option(&mut self, span: Option<Range<usize>>, name: &str, options: &[OptionDef]) {
        let ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
        let list = ids.join(", ");
        self.problem(
            span,
            tr!(
                "unknown option `{name}`",
                "オプション `{name}` はありません"
            ),
            Some(tr!(
                "options of this catalog: {list}",
                "このカタログのオプション: {list}"
            )),
        );
    }

    /// Check a `ports:` list; `outer` are the conditions around it (the requirement's `when`
    /// and enclosing groups), for the warning about groups that can never apply.
    fn ports(
        &mut self,
        items: &[Spanned<PortItemSp>],
        options: &[OptionDef],
        outer: &[&Expr],
        id: &str,
    ) -> Vec<PortRef> {
        let mut out = Vec::new();
        for item in items {
            let span = self.span(item);
            match &item.value {
                PortItemSp::Number(n) => match check_port(*n) {
                    Some(p) => out.push(PortRef::Fixed(PortSet::single(p))),
                    None => self.problem(
                        span,
                        tr!(
                            "port {n} is outside 1-65535",
                            "ポート {n} は 1～65535 の範囲外です"
                        ),
                        None,
                    ),
                },
                PortItemSp::Spec(s) => match PortSet::parse(s) {
                    Ok(set) => out.push(PortRef::Fixed(set)),
                    Err(e) => self.problem(
                        span,
                        Text::new(
                            format!("bad port spec `{s}`: {e}"),
                            format!("ポート指定 `{s}` が不正です: {e}"),
                        ),
                        Some(tr!(
                            "write `443`, `1024-65535` or `80,443`",
                            "`443`、`1024-65535`、`80,443` の形で書いてください"
                        )),
                    ),
                },
                PortItemSp::Option(o) => {
                    let name = &o.value;
                    let ospan = self.span(o).or(span);
                    match options.iter().find(|d| &d.id == name) {
                        Some(d) if !d.ports.is_empty() => {
                            out.push(PortRef::Choice(name.clone(), d.ports.clone()));
                            continue;
                        }
                        Some(OptionDef {
                            kind: OptionKind::Port,
                            ..
                        }) => {}
                        Some(OptionDef {
                            kind: OptionKind::Choice(vs),
                            ..
                        }) if vs
                            .iter()
                            .all(|v| v.parse::<u64>().ok().and_then(check_port).is_some()) => {}
                        Some(_) => self.problem(
                            ospan,
                            tr!(
                                "option `{name}` does not hold a port number",
                                "オプション `{name}` はポート番号を持ちません"
                            ),
                            Some(tr!(
                                "use a port option, a choice whose values are port numbers, or a choice with `ports:` mapping its values to ports",
                                "port 型、値がポート番号の choice 型、または `ports:` で値をポートに対応付けた choice 型オプションを指定してください"
                            )),
                        ),
                        None => self.unknown_option(ospan, name, options),
                    }
                    out.push(PortRef::Option(name.clone()));
                }
                PortItemSp::When(cond, inner) => {
                    let e = self.condition(cond, options);
                    let mut all: Vec<&Expr> = outer.to_vec();
                    all.push(&e);
                    self.warn_unsatisfiable(
                        cond,
                        &all,
                        tr!("this port group of `{id}`", "`{id}` のこのポートグループ"),
                        options,
                    );
                    if inner.is_empty() {
                        self.problem(
                            span,
                            tr!(
                                "conditional group lists no ports",
                                "条件付きグループにポートがありません"
                            ),
                            None,
                        );
                    }
                    let inner = self.ports(inner, options, &all, id);
                    out.push(PortRef::When(e.clone(), inner));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
