//! `plan`: the minimal openings of a site, for every enforcement point or for one.

use crate::app::Loaded;
use crate::diag::Result;
use crate::plan::Plan;

/// The site's plan, once `point` (when given) is known to name one of its enforcement points;
/// without `point` the plan covers them all.
pub fn plan<'l>(loaded: &'l Loaded, point: Option<&str>) -> Result<&'l Plan> {
    if let Some(id) = point {
        loaded.point(Some(id))?;
    }
    Ok(&loaded.plan)
}
