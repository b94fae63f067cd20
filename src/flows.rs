//! From catalog + options to role-level flows: the answer to "which ports, between which
//! components, and why" before any address is known (`portplan ports`).
//!
//! A [`Deployment`] is one product with resolved options and, optionally, the subset of roles
//! in use. [`flows`] yields one [`Flow`] per active requirement per (from, to) pair and
//! protocol; [`openings`] merges them per (product, from, to, protocol) into the minimal
//! port sets. The site plan (`plan`) starts from the same flows and maps roles to addresses.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::catalog::{Catalog, Protocol, Requirement, Severity};
use crate::i18n::Text;
use crate::options::{OptionValues, Value};
use crate::portset::PortSet;

/// One product as deployed: its catalog, option values and the roles in use.
#[derive(Debug, Clone)]
pub struct Deployment<'c> {
    /// The product's catalog.
    pub catalog: &'c Catalog,
    /// Every option's value.
    pub options: OptionValues,
    /// Roles in use; `None` means all.
    pub roles: Option<BTreeSet<String>>,
}

impl<'c> Deployment<'c> {
    /// All roles, default options.
    pub fn new(catalog: &'c Catalog) -> Deployment<'c> {
        Deployment {
            catalog,
            options: catalog.default_options(),
            roles: None,
        }
    }

    /// Whether `role` is deployed.
    pub fn deploys(&self, role: &str) -> bool {
        self.roles.as_ref().is_none_or(|r| r.contains(role))
    }

    /// Why requirement `req` yields no flow, or `None` when it is active.
    pub fn why_inactive(&self, req: &Requirement) -> Option<Inactive> {
        if !req.when.eval(&self.options) {
            let values = req
                .when
                .options()
                .into_iter()
                .filter_map(|o| self.options.get(o).map(|v| (o.to_string(), v.clone())))
                .collect();
            return Some(Inactive::Condition {
                when: req.when.to_string(),
                values,
            });
        }
        if req.ports(&self.options).0.is_empty() || req.protocols(&self.options).is_empty() {
            return Some(Inactive::NoPorts);
        }
        if !req
            .pairs()
            .iter()
            .any(|(a, b)| self.deploys(a) && self.deploys(b))
        {
            let mut missing: Vec<String> = req
                .from
                .iter()
                .chain(&req.to)
                .filter(|r| !self.deploys(r))
                .cloned()
                .collect();
            missing.dedup();
            return Some(Inactive::RolesNotDeployed(missing));
        }
        None
    }
}

/// Why a requirement is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inactive {
    /// Its condition is false under these option values.
    Condition {
        /// The condition.
        when: String,
        /// The values of the options it reads.
        values: Vec<(String, Value)>,
    },
    /// Its ports depend on options that select none.
    NoPorts,
    /// The roles on one side are not deployed.
    RolesNotDeployed(Vec<String>),
}

/// One active requirement between two roles over one protocol.
#[derive(Debug, Clone, Serialize)]
pub struct Flow {
    /// Product id.
    pub product: String,
    /// Requirement id (unqualified).
    pub requirement: String,
    /// Initiating role.
    pub from: String,
    /// Accepting role.
    pub to: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination ports.
    pub ports: PortSet,
    /// The conditions that held (`always` when none).
    pub because: Vec<String>,
    /// What for.
    pub purpose: Text,
    /// Vendor document row, `doc#row`.
    pub source: String,
    /// The service's name, when the catalog gives one (else the IANA name applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Text>,
}

impl Flow {
    /// `product/requirement`.
    pub fn qualified(&self) -> String {
        format!("{}/{}", self.product, self.requirement)
    }
}

/// Every flow of a deployment, in catalog order. A requirement whose ports depend on
/// different port-level conditions yields one flow per group of ports
/// ([`Requirement::port_groups`]), so each port's `because` names only what it depends on
/// (`3268` always, `3269` because `ldap_ssl`).
pub fn flows(dep: &Deployment<'_>) -> Vec<Flow> {
    let mut out = Vec::new();
    for req in &dep.catalog.requirements {
        if dep.why_inactive(req).is_some() {
            continue;
        }
        let groups: Vec<(PortSet, Vec<String>)> = req
            .port_groups(&dep.options)
            .into_iter()
            .map(|(ports, extra)| {
                let mut because: Vec<String> = Vec::new();
                if !req.when.is_always() {
                    because.push(req.when.to_string());
                }
                because.extend(extra);
                if because.is_empty() {
                    because.push("always".into());
                }
                (ports, because)
            })
            .collect();
        for (from, to) in req.pairs() {
            if !dep.deploys(from) || !dep.deploys(to) {
                continue;
            }
            for protocol in req.protocols(&dep.options) {
                for (ports, because) in &groups {
                    out.push(Flow {
                        product: dep.catalog.id.clone(),
                        requirement: req.id.clone(),
                        from: from.to_string(),
                        to: to.to_string(),
                        protocol,
                        ports: ports.clone(),
                        because: because.clone(),
                        purpose: req.purpose.clone(),
                        source: req.source.to_string(),
                        service: req.service.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Ports of a product that must stay closed, between two roles (or from anywhere).
#[derive(Debug, Clone, Serialize)]
pub struct ClosedFlow {
    /// Product id.
    pub product: String,
    /// Id of the catalog's closed entry (unqualified).
    pub requirement: String,
    /// The source role it must stay closed to; `null`: every source.
    pub from: Option<String>,
    /// The role whose ports must stay closed.
    pub to: String,
    /// Protocol.
    pub protocol: Protocol,
    /// The ports.
    pub ports: PortSet,
    /// The conditions that held (`always` when none).
    pub because: Vec<String>,
    /// What the port is for.
    pub purpose: Text,
    /// Vendor document row, `doc#row`.
    pub source: String,
    /// The service's name, when the catalog gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Text>,
}

impl ClosedFlow {
    /// `product/id`.
    pub fn qualified(&self) -> String {
        format!("{}/{}", self.product, self.requirement)
    }
}

/// The ports of a deployment that must stay closed, in catalog order: one per active closed
/// entry, deployed role pair (or destination, when from anywhere) and protocol.
pub fn closed(dep: &Deployment<'_>) -> Vec<ClosedFlow> {
    let mut out = Vec::new();
    for c in &dep.catalog.closed {
        if !c.is_active(&dep.options) {
            continue;
        }
        let ports = c.ports(&dep.options);
        let because = if c.when.is_always() {
            vec!["always".to_string()]
        } else {
            vec![c.when.to_string()]
        };
        let froms: Vec<Option<&str>> = match &c.from {
            None => vec![None],
            Some(v) => v
                .iter()
                .filter(|r| dep.deploys(r))
                .map(|r| Some(r.as_str()))
                .collect(),
        };
        for to in c.to.iter().filter(|r| dep.deploys(r)) {
            for from in &froms {
                for protocol in c.protocols(&dep.options) {
                    out.push(ClosedFlow {
                        product: dep.catalog.id.clone(),
                        requirement: c.id.clone(),
                        from: from.map(str::to_string),
                        to: to.clone(),
                        protocol,
                        ports: ports.clone(),
                        because: because.clone(),
                        purpose: c.purpose.clone(),
                        source: c.source.to_string(),
                        service: c.service.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The merged openings between two roles over one protocol.
#[derive(Debug, Clone, Serialize)]
pub struct RoleOpening {
    /// Initiating role.
    pub from: String,
    /// Accepting role.
    pub to: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Union of the flows' ports.
    pub ports: PortSet,
    /// `product/requirement` ids, sorted.
    pub requirements: Vec<String>,
    /// Product id.
    pub product: String,
}

/// Merge flows per (product, from, to, protocol), keeping first-appearance order.
pub fn openings(flows: &[Flow]) -> Vec<RoleOpening> {
    let mut out: Vec<RoleOpening> = Vec::new();
    let mut index: HashMap<(&str, &str, &str, Protocol), usize> = HashMap::new();
    for f in flows {
        let key = (
            f.product.as_str(),
            f.from.as_str(),
            f.to.as_str(),
            f.protocol,
        );
        let i = *index.entry(key).or_insert_with(|| {
            out.push(RoleOpening {
                from: f.from.clone(),
                to: f.to.clone(),
                protocol: f.protocol,
                ports: PortSet::new(),
                requirements: Vec::new(),
                product: f.product.clone(),
            });
            out.len() - 1
        });
        let o = &mut out[i];
        o.ports.extend(&f.ports);
        o.requirements.push(f.qualified());
    }
    for o in &mut out {
        o.requirements.sort();
        o.requirements.dedup();
    }
    out
}

/// Risk advice of an active requirement.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveFinding {
    /// How serious.
    pub severity: Severity,
    /// `product/requirement`.
    pub requirement: String,
    /// The advice.
    pub message: Text,
}

/// Findings of the requirements that have at least one flow (and whose own `when` holds),
/// then the product's own findings whose `when` holds (their `requirement` is the product id).
pub fn findings(dep: &Deployment<'_>, flows: &[Flow]) -> Vec<ActiveFinding> {
    let active: BTreeSet<&str> = flows
        .iter()
        .filter(|f| f.product == dep.catalog.id)
        .map(|f| f.requirement.as_str())
        .collect();
    let mut out = Vec::new();
    for req in &dep.catalog.requirements {
        if !active.contains(req.id.as_str()) {
            continue;
        }
        for f in req.findings.iter().filter(|f| f.when.eval(&dep.options)) {
            out.push(ActiveFinding {
                severity: f.severity,
                requirement: format!("{}/{}", dep.catalog.id, req.id),
                message: f.message.clone(),
            });
        }
    }
    for f in dep
        .catalog
        .findings
        .iter()
        .filter(|f| f.when.eval(&dep.options))
    {
        out.push(ActiveFinding {
            severity: f.severity,
            requirement: dep.catalog.id.clone(),
            message: f.message.clone(),
        });
    }
    out
}

/// A product and its resolved options (SPEC §6.1 `products`).
#[derive(Debug, Clone, Serialize)]
pub struct ProductOptions {
    /// Product id.
    pub id: String,
    /// Every option with its resolved value, defaults included.
    pub options: OptionValues,
}

/// The answer of `portplan ports` (SPEC §6.1).
#[derive(Debug, Clone, Serialize)]
pub struct PortsReport {
    /// Products and options.
    pub products: Vec<ProductOptions>,
    /// One per active requirement per (from, to) pair and protocol.
    pub flows: Vec<Flow>,
    /// Minimal merged set per (product, from, to, protocol).
    pub openings: Vec<RoleOpening>,
    /// Risk advice of the active requirements, most severe first.
    pub findings: Vec<ActiveFinding>,
    /// Ports the catalogs say must stay closed (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<ClosedFlow>,
    /// The products' own notes (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<ProductNote>,
}

/// A note about a product as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct ProductNote {
    /// Product id.
    pub product: String,
    /// The note.
    pub note: Text,
}

/// Compute the role-level answer for several products.
pub fn ports_report(deps: &[Deployment<'_>]) -> PortsReport {
    let mut products = Vec::new();
    let mut all_flows = Vec::new();
    let mut all_findings = Vec::new();
    let mut all_closed = Vec::new();
    let mut notes = Vec::new();
    for dep in deps {
        all_closed.extend(closed(dep));
        if let Some(n) = &dep.catalog.notes {
            notes.push(ProductNote {
                product: dep.catalog.id.clone(),
                note: n.clone(),
            });
        }
        products.push(ProductOptions {
            id: dep.catalog.id.clone(),
            options: dep.options.clone(),
        });
        let fl = flows(dep);
        all_findings.extend(findings(dep, &fl));
        all_flows.extend(fl);
    }
    all_findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    PortsReport {
        products,
        openings: openings(&all_flows),
        flows: all_flows,
        findings: all_findings,
        closed: all_closed,
        notes,
    }
}
