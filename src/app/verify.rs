//! `listen` and `probe`: what a host must accept, and what it must be able to reach, by the
//! plan. The sockets themselves are [`crate::verify::listen`] and [`crate::verify::probe`].

use crate::app::Loaded;
use crate::diag::Result;
use crate::verify::{ListenPlan, resolve_host};

/// The responders the host `host` (`--as`: its addresses, or PRODUCT.ROLE of a one-host role)
/// opens: every port it must accept, and the must-be-closed sample.
pub fn listen_plan(loaded: &Loaded, host: &str) -> Result<ListenPlan> {
    let host = resolve_host(&loaded.site, host)?;
    Ok(crate::verify::listen_plan(&loaded.plan, &host))
}
