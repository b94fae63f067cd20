//! `explain`: why a port, packet or requirement is open at a site, or why not.

use crate::app::{Context, Loaded};
use crate::diag::Result;
use crate::explain::{Explanation, Query};

/// Answer `query` (`tcp/139`, `10.20.1.5 -> 10.10.0.4 tcp/445`, `devicelock/smb`) over the
/// site's plan.
pub fn explain(ctx: &Context, loaded: &Loaded, query: &str) -> Result<Explanation> {
    let q = Query::parse(query)?;
    crate::explain::explain(&loaded.site, &ctx.catalogs, &loaded.plan, &q)
}
