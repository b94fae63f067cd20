//! `fleet` and `fleet merge`: the files of a fleet run for a site, and the merged answer of
//! its result files. The work is in [`crate::fleet`].

use crate::app::Loaded;
use crate::diag::{Result, SourceFile};
use crate::fleet::merge::FleetReport;
use crate::fleet::{Fleet, FleetOptions};

/// What `portplan fleet` writes.
#[derive(Debug, Clone)]
pub struct FleetRequest {
    /// An existing inventory to map the site's addresses onto; `None`: hosts from the site.
    pub inventory: Option<SourceFile>,
    /// Limits and places.
    pub options: FleetOptions,
}

/// The fleet of the site and the files of its run: (file name, content).
pub fn generate(
    loaded: &Loaded,
    site: &SourceFile,
    req: &FleetRequest,
) -> Result<(Fleet, Vec<(String, String)>)> {
    req.options.check()?;
    let fleet = match &req.inventory {
        Some(inv) => {
            let hosts = crate::fleet::inventory::read(inv)?;
            crate::fleet::hosts_from_inventory(&loaded.site, &loaded.plan, &hosts)?
        }
        None => crate::fleet::hosts(&loaded.site, &loaded.plan, site)?,
    };
    let files = crate::fleet::ansible::files(&fleet, &req.options, &site.text)?;
    Ok((fleet, files))
}

/// Merge result files (`probe --format json`) against the site's plan.
pub fn merge(loaded: &Loaded, results: &[SourceFile]) -> Result<FleetReport> {
    crate::fleet::merge::merge(&loaded.site, &loaded.plan, results)
}
