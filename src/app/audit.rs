//! `audit`: existing rulesets against one enforcement point's plan.

use crate::audit::{AuditReport, Interfaces, Kind, Point};
use crate::diag::{Error, Result, SourceFile};
use crate::i18n::Text;
use crate::plan::PointPlan;
use crate::site::{EnforcementPoint, PointKind, Site};

/// What to audit.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// The rulesets: `nft -j list ruleset` JSON, or `iptables-save` and `ip6tables-save` text.
    pub rulesets: Vec<SourceFile>,
    /// `ipset save` output for `-m set` matches.
    pub ipset: Option<SourceFile>,
    /// Their format; `None` recognises it from the content.
    pub kind: Option<Kind>,
    /// Only reachability counts: excess openings do not fail the audit.
    pub allow_excess: bool,
}

/// The audit and its verdict.
#[derive(Debug)]
pub struct Audited {
    /// Missing, excess, shadowed and redundant rules.
    pub report: AuditReport,
    /// Whether the ruleset is as required (excess counting unless `allow_excess`).
    pub passed: bool,
}

fn in_file(f: &SourceFile, m: Text) -> Error {
    let f = &f.name;
    Error::usage(
        Text::new(format!("{f}: {}", m.en), format!("{f}: {}", m.ja)),
        None,
    )
}

/// The interfaces of a network firewall as the audit needs them: per interface the
/// addresses of each zone behind it and the side that zone is on.
pub fn interfaces(site: &Site, pt: &EnforcementPoint) -> Option<Interfaces> {
    let PointKind::Network { sides, interfaces } = &pt.kind else {
        return None;
    };
    if interfaces.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for (name, zones) in interfaces {
        for z in zones {
            let side = sides.iter().position(|s| s.contains(z)).unwrap_or(0);
            list.push((name.clone(), site.zones_set(std::slice::from_ref(z)), side));
        }
    }
    Some(Interfaces(list))
}

/// Read the rulesets, compare them with `point`'s plan (as [`crate::app::Loaded::point`]
/// returns it) and decide.
pub fn audit(
    site: &Site,
    point: (&EnforcementPoint, &PointPlan),
    req: &AuditRequest,
) -> Result<Audited> {
    let (pt, pp) = point;
    let sets = match &req.ipset {
        Some(f) => crate::audit::ipset::parse(&f.text).map_err(|m| in_file(f, m))?,
        None => crate::audit::ipset::Sets::none(),
    };
    let mut parts = Vec::new();
    for f in &req.rulesets {
        parts.push(crate::audit::read(&f.text, req.kind, &sets).map_err(|m| in_file(f, m))?);
    }
    let rs = crate::audit::merge(parts);
    let ifs = interfaces(site, pt);
    let report = crate::audit::audit(
        &rs,
        Point {
            plan: pp,
            host: matches!(pt.kind, PointKind::Host { .. }),
            interfaces: ifs.as_ref(),
        },
    )
    .map_err(|_| Error::usage(crate::audit::exhausted_text(), None))?;
    let passed = report.ok(req.allow_excess);
    Ok(Audited { report, passed })
}
