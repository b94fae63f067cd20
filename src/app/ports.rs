//! `ports`: the ports one or more products need, for the options and roles asked for.

use std::collections::BTreeSet;

use crate::app::Context;
use crate::catalog::Catalogs;
use crate::diag::{Error, Result};
use crate::flows::{Deployment, Inactive, PortsReport, ports_report};
use crate::i18n::Text;
use crate::suggest::closest;
use crate::tr;

/// Products, options and roles, as `portplan ports` takes them.
#[derive(Debug, Clone, Default)]
pub struct PortsRequest {
    /// Product ids.
    pub products: Vec<String>,
    /// `NAME=VALUE` or `PRODUCT.NAME=VALUE`, as typed (`--set`).
    pub set: Vec<String>,
    /// Deployed roles, `ROLE` or `PRODUCT.ROLE` (`--roles`); empty means all.
    pub roles: Vec<String>,
}

/// The flows, openings and findings of the products asked for.
pub fn ports(ctx: &Context, req: &PortsRequest) -> Result<PortsReport> {
    let deps = deployments(&ctx.catalogs, &req.products, &req.set, &req.roles)?;
    Ok(ports_report(&deps))
}

/// A requirement of a product asked for that yields no flow, and why ("why not open").
#[derive(Debug, Clone)]
pub struct NotNeeded {
    /// Product id.
    pub product: String,
    /// Requirement id (unqualified).
    pub requirement: String,
    /// What it would be for.
    pub purpose: Text,
    /// Vendor document row, `doc#row`.
    pub source: String,
    /// Why it is off.
    pub why: Inactive,
}

/// Every requirement of the products asked for that is off under the request's options and
/// roles, in catalog order, with the reason.
pub fn why_not(ctx: &Context, req: &PortsRequest) -> Result<Vec<NotNeeded>> {
    let deps = deployments(&ctx.catalogs, &req.products, &req.set, &req.roles)?;
    Ok(deps
        .iter()
        .flat_map(|d| {
            d.catalog.requirements.iter().filter_map(move |r| {
                d.why_inactive(r).map(|why| NotNeeded {
                    product: d.catalog.id.clone(),
                    requirement: r.id.clone(),
                    purpose: r.purpose.clone(),
                    source: r.source.to_string(),
                    why,
                })
            })
        })
        .collect())
}

/// Resolve products, `--set` and `--roles` into deployments.
pub fn deployments<'c>(
    cats: &'c Catalogs,
    products: &[String],
    sets: &[String],
    roles: &[String],
) -> Result<Vec<Deployment<'c>>> {
    let mut deps: Vec<Deployment<'c>> = Vec::new();
    for p in products {
        let c = cats.get(p)?;
        if !deps.iter().any(|d| d.catalog.id == c.id) {
            deps.push(Deployment::new(c));
        }
    }
    for s in sets {
        let Some((name, value)) = s.split_once('=') else {
            return Err(Error::usage(
                tr!(
                    "`--set {s}` is not OPTION=VALUE",
                    "`--set {s}` が OPTION=VALUE の形ではありません"
                ),
                Some(tr!(
                    "e.g. --set rpc_ports=fixed",
                    "例: --set rpc_ports=fixed"
                )),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        let targets: Vec<usize> = match name.split_once('.') {
            Some((prod, opt)) => {
                let i = deps
                    .iter()
                    .position(|d| d.catalog.id == prod)
                    .ok_or_else(|| {
                        Error::usage(
                            tr!(
                                "`--set {s}`: product `{prod}` is not among the products asked for",
                                "`--set {s}`: 製品 `{prod}` は指定されていません"
                            ),
                            None,
                        )
                    })?;
                set_one(&mut deps[i], s, opt, value)?;
                continue;
            }
            None => deps
                .iter()
                .enumerate()
                .filter(|(_, d)| d.catalog.option(name).is_some())
                .map(|(i, _)| i)
                .collect(),
        };
        match targets.as_slice() {
            [i] => set_one(&mut deps[*i], s, name, value)?,
            [] => {
                let all: Vec<String> = deps
                    .iter()
                    .flat_map(|d| {
                        d.catalog
                            .options
                            .iter()
                            .map(move |o| format!("{}.{}", d.catalog.id, o.id))
                    })
                    .collect();
                let short: Vec<&str> = deps
                    .iter()
                    .flat_map(|d| d.catalog.options.iter().map(|o| o.id.as_str()))
                    .collect();
                let hint = closest(name, short.iter().copied())
                    .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                    .unwrap_or_default();
                let list = all.join(", ");
                return Err(Error::usage(
                    Text::new(
                        format!("`--set {s}`: unknown option `{name}`{}", hint.en),
                        format!("`--set {s}`: オプション `{name}` はありません{}", hint.ja),
                    ),
                    Some(tr!("options: {list}", "指定できるオプション: {list}")),
                ));
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|i| format!("{}.{name}", deps[*i].catalog.id))
                    .collect();
                let list = names.join(", ");
                return Err(Error::usage(
                    tr!(
                        "`--set {s}`: several products have option `{name}`",
                        "`--set {s}`: オプション `{name}` は複数の製品にあります"
                    ),
                    Some(tr!("qualify it: {list}", "製品名を付けてください: {list}")),
                ));
            }
        }
    }
    if !roles.is_empty() {
        let mut chosen: Vec<BTreeSet<String>> = vec![BTreeSet::new(); deps.len()];
        for r in roles.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
            let (prod, role) = match r.split_once('.') {
                Some((p, x)) => (Some(p), x),
                None => (None, r),
            };
            let mut found = false;
            for (i, d) in deps.iter().enumerate() {
                if prod.is_none_or(|p| p == d.catalog.id) && d.catalog.role(role).is_some() {
                    chosen[i].insert(role.to_string());
                    found = true;
                }
            }
            if !found {
                let all: Vec<&str> = deps
                    .iter()
                    .flat_map(|d| d.catalog.roles.iter().map(|x| x.id.as_str()))
                    .collect();
                let hint = closest(role, all.iter().copied())
                    .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                    .unwrap_or_default();
                let list = all.join(", ");
                return Err(Error::usage(
                    Text::new(
                        format!("`--roles`: unknown role `{r}`{}", hint.en),
                        format!("`--roles`: ロール `{r}` はありません{}", hint.ja),
                    ),
                    Some(tr!("roles: {list}", "指定できるロール: {list}")),
                ));
            }
        }
        for (d, set) in deps.iter_mut().zip(chosen) {
            d.roles = Some(set);
        }
    }
    Ok(deps)
}

fn set_one(dep: &mut Deployment<'_>, arg: &str, name: &str, value: &str) -> Result<()> {
    dep.options
        .set(&dep.catalog.options, name, value)
        .map_err(|e| {
            Error::usage(
                Text::new(
                    format!("`--set {arg}`: {}", e.message.en),
                    format!("`--set {arg}`: {}", e.message.ja),
                ),
                Some(e.help),
            )
        })
}
