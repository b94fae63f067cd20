//! `portplan diff`: openings to add and remove between two versions of a site.

use std::path::PathBuf;

use crate::app;
use crate::cli::args::FormatArg;
use crate::cli::{Global, load_site, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The site as it is / 変更前のサイト
    old: PathBuf,
    /// The site as it will be / 変更後のサイト
    new: PathBuf,
    #[command(flatten)]
    format: FormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let old = load_site(ctx, &args.old)?;
    let new = load_site(ctx, &args.new)?;
    let changes = app::diff::diff(&old, &new);
    print(&output::explain::diff(
        &changes,
        &new.site,
        &ctx.catalogs,
        args.format.get(),
        g.wrap,
        lang,
    ));
    Ok(EXIT_OK)
}
