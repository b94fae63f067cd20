//! `report`: the typed firewall request document of a site, or of a change between two
//! versions of it. Rendering it (XLSX, Markdown, HTML, SVG, DOT) is [`crate::report`]'s.

use crate::app::{Context, Loaded};
use crate::diag::{Result, SourceFile};
use crate::i18n::Lang;
use crate::report::Report;

/// What to report.
#[derive(Debug, Default)]
pub struct ReportRequest {
    /// Only this enforcement point (`--for`); `None` is all of them.
    pub point: Option<String>,
    /// A change request: the site as it was (`--diff-from`).
    pub diff_from: Option<Loaded>,
    /// The request's paperwork from `--request FILE`, replacing the site's `request:` block.
    pub request: Option<SourceFile>,
}

/// The report of `loaded`, or of the change from `req.diff_from` to `loaded`. In a change
/// report `point` may name an enforcement point that only the old site has: its removals are
/// the change.
pub fn report(ctx: &Context, loaded: &Loaded, req: &ReportRequest, lang: Lang) -> Result<Report> {
    let point = req.point.as_deref();
    let request = match &req.request {
        Some(file) => {
            let known =
                |k: &str| crate::site::request_key_known(&loaded.site.products, &ctx.catalogs, k);
            Some(crate::site::request::load(file.clone(), &known)?)
        }
        None => None,
    };
    let request = request.as_ref();
    Ok(match &req.diff_from {
        Some(old) => {
            if let Some(id) = point
                && loaded.site.point(id).is_none()
                && old.site.point(id).is_some()
            {
                // A point that only the old site has: its removals are the change.
            } else if let Some(id) = point {
                loaded.point(Some(id))?;
            }
            crate::report::build_diff(
                (&old.plan, &old.site),
                (&loaded.plan, &loaded.site),
                &ctx.catalogs,
                point,
                request,
                lang,
            )
        }
        None => {
            if let Some(id) = point {
                loaded.point(Some(id))?;
            }
            crate::report::build(
                &loaded.plan,
                &loaded.site,
                &ctx.catalogs,
                point,
                request,
                lang,
            )
        }
    })
}
