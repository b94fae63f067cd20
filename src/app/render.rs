//! `render`: one enforcement point's openings as firewall configuration.

use crate::app::Loaded;
use crate::plan::PointPlan;
use crate::render::{Rendered, RuleSet};
use crate::site::{EnforcementPoint, Target};

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderRequest {
    /// The target; `None` is the enforcement point's own.
    pub target: Option<Target>,
}

/// A point's rules, as the typed IR and as the target's files.
#[derive(Debug)]
pub struct Rendering {
    /// The rule IR.
    pub rules: RuleSet,
    /// The configuration: files by suffix, and what the target could not express.
    pub rendered: Rendered,
}

/// Lower `point` (as [`Loaded::point`] returns it) into rules and render them.
pub fn render(
    loaded: &Loaded,
    point: (&EnforcementPoint, &PointPlan),
    req: &RenderRequest,
) -> Rendering {
    let (pt, point_plan) = point;
    let rules = crate::render::lower(&loaded.site, pt, point_plan);
    let rendered = crate::render::render(&rules, req.target.unwrap_or(pt.target));
    Rendering { rules, rendered }
}
