//! `audit`: an existing ruleset against one enforcement point's plan.

use crate::audit::{AuditReport, Kind};
use crate::diag::{Error, Result, SourceFile};
use crate::i18n::Text;
use crate::plan::PointPlan;
use crate::site::{EnforcementPoint, PointKind};

/// What to audit.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// The ruleset: `nft -j list ruleset` JSON or `iptables-save` text.
    pub ruleset: SourceFile,
    /// Its format; `None` guesses from the content.
    pub kind: Option<Kind>,
    /// Only reachability counts: excess openings do not fail the audit.
    pub allow_excess: bool,
}

/// The audit and its verdict.
#[derive(Debug)]
pub struct Audited {
    /// Missing, excess and shadowed rules.
    pub report: AuditReport,
    /// Whether the ruleset is as required (excess counting unless `allow_excess`).
    pub passed: bool,
}

/// Read the ruleset, compare it with `point`'s plan (as [`crate::app::Loaded::point`]
/// returns it) and decide.
pub fn audit(point: (&EnforcementPoint, &PointPlan), req: &AuditRequest) -> Result<Audited> {
    let (pt, pp) = point;
    let rs = crate::audit::read(&req.ruleset.text, req.kind).map_err(|m| {
        let f = &req.ruleset.name;
        Error::usage(
            Text::new(format!("{f}: {}", m.en), format!("{f}: {}", m.ja)),
            None,
        )
    })?;
    let host = matches!(pt.kind, PointKind::Host { .. });
    let report = crate::audit::audit(&rs, pp, host)
        .map_err(|_| Error::usage(crate::audit::exhausted_text(), None))?;
    let passed = report.ok(req.allow_excess);
    Ok(Audited { report, passed })
}
