//! `diff`: the openings to add and remove between two versions of a site.

use crate::app::Loaded;
use crate::diff::PointChanges;

/// Per enforcement point, what changes from `old`'s plan to `new`'s.
pub fn diff(old: &Loaded, new: &Loaded) -> Vec<PointChanges> {
    crate::diff::diff(&old.plan, &new.plan)
}
