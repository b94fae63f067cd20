//! The application layer: what the command line and (later) the web UI both do, as plain data
//! in and typed results out. No clap, no HTTP, no printing, and no paths: callers read files
//! and hand over [`SourceFile`]s, so a web upload and a file on disk take the same road.
//!
//! [`Context`] is built once per process (the CLI: from `--catalog-dir`; a server: at start-up)
//! and shared; [`Lang`](crate::i18n::Lang) stays a per-call argument.

pub mod audit;
pub mod diff;
pub mod explain;
pub mod fleet;
pub mod plan;
pub mod ports;
pub mod render;
pub mod report;
pub mod site_edit;
pub mod verify;

use crate::catalog::Catalogs;
use crate::diag::{Error, Result, SourceFile};
use crate::i18n::Text;
use crate::plan::{Plan, PointPlan};
use crate::site::{EnforcementPoint, Site};
use crate::suggest::closest;
use crate::tr;

/// What every operation shares: the catalogs, loaded once.
#[derive(Debug)]
pub struct Context {
    /// The built-in catalogs, plus those of `--catalog-dir`.
    pub catalogs: Catalogs,
}

/// A checked site and its plan.
#[derive(Debug)]
pub struct Loaded {
    /// The site.
    pub site: Site,
    /// Its plan.
    pub plan: Plan,
}

impl Context {
    /// A context over these catalogs.
    pub fn new(catalogs: Catalogs) -> Context {
        Context { catalogs }
    }

    /// Check a site file and plan it. Pure: reading the file is the caller's job.
    pub fn load(&self, file: SourceFile) -> Result<Loaded> {
        let site = crate::site::load(file, &self.catalogs)?;
        let plan = crate::plan::plan(&site, &self.catalogs);
        Ok(Loaded { site, plan })
    }
}

impl Loaded {
    /// The enforcement point `id` names (`--for`), or the site's only one when `id` is `None`;
    /// otherwise a usage error listing the points (with a suggestion for a near miss).
    pub fn point(&self, id: Option<&str>) -> Result<(&EnforcementPoint, &PointPlan)> {
        let both = |id: &str| self.site.point(id).zip(self.plan.point(id));
        let ids: Vec<&str> = self.site.points.iter().map(|p| p.id.as_str()).collect();
        let list = ids.join(", ");
        match id {
            Some(id) => both(id).ok_or_else(|| {
                let hint = closest(id, ids.iter().copied())
                    .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                    .unwrap_or_default();
                Error::usage(
                    Text::new(
                        format!("site has no enforcement point `{id}`{}", hint.en),
                        format!("サイトに適用ポイント `{id}` はありません{}", hint.ja),
                    ),
                    Some(tr!("enforcement points: {list}", "適用ポイント: {list}")),
                )
            }),
            None => match ids.as_slice() {
                [only] => both(only),
                _ => None,
            }
            .ok_or_else(|| {
                Error::usage(
                    tr!(
                        "the site has several enforcement points: say which with --for",
                        "サイトに適用ポイントが複数あります: --for で指定してください"
                    ),
                    Some(tr!("enforcement points: {list}", "適用ポイント: {list}")),
                )
            }),
        }
    }
}
