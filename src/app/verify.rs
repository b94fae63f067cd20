//! `listen` and `probe`: what a host must accept, and what it must be able to reach, by the
//! plan. The sockets themselves are [`crate::verify::listen`] and [`crate::verify::probe`].

use crate::app::Loaded;
use crate::catalog::Protocol;
use crate::diag::Result;
use crate::verify::{Expect, ListenPlan, ProbePlan, resolve_host};

/// The responders the host `host` (`--as`: its addresses, or PRODUCT.ROLE of a one-host role)
/// opens: every port it must accept, and the must-be-closed sample.
pub fn listen_plan(loaded: &Loaded, host: &str) -> Result<ListenPlan> {
    let host = resolve_host(&loaded.site, host)?;
    Ok(crate::verify::listen_plan(&loaded.plan, &host))
}

/// Which checks to plan for `probe`.
#[derive(Debug, Clone, Default)]
pub struct ProbeRequest {
    /// The host probing (`--from`): its addresses, or PRODUCT.ROLE of a one-host role.
    pub from: String,
    /// Only flows to this role (PRODUCT.ROLE or ROLE) or address.
    pub to: Option<String>,
    /// Skip the must-be-closed checks.
    pub required_only: bool,
    /// Only this protocol.
    pub protocol: Option<Protocol>,
}

/// The checks `req.from` runs: every flow of the plan that starts there, and the
/// must-be-closed sample, as the request narrows them.
pub fn probe_plan(loaded: &Loaded, req: &ProbeRequest) -> Result<ProbePlan> {
    let host = resolve_host(&loaded.site, &req.from)?;
    let mut pp = crate::verify::probe_plan(&loaded.site, &loaded.plan, &host, req.to.as_deref())?;
    if req.required_only {
        pp.checks.retain(|c| c.expect == Expect::Open);
    }
    if let Some(p) = req.protocol {
        pp.checks.retain(|c| c.protocol == p);
    }
    Ok(pp)
}
