//! `portplan plan`: the minimal openings of a site, per enforcement point.

use crate::app;
use crate::cli::args::{FormatArg, PointArg, SiteArg};
use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    #[command(flatten)]
    point: PointArg,
    #[command(flatten)]
    format: FormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let loaded = args.site.load(ctx)?;
    let point = args.point.id();
    let plan = app::plan::plan(&loaded, point)?;
    let format = args.format.get();
    let text = output::plan::render(
        plan,
        &loaded.site,
        &ctx.catalogs,
        point,
        format,
        g.wrap,
        lang,
    );
    print(&text);
    Ok(EXIT_OK)
}
