//! `portplan plan`: the minimal openings of a site, per enforcement point.

use std::path::PathBuf;

use crate::app;
use crate::cli::{Global, load_site, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;
use crate::cli::args::Format;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site file (YAML)
    site: PathBuf,
    /// Only this enforcement point / 対象の適用ポイント
    #[arg(long = "for", value_name = "POINT")]
    point: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let loaded = load_site(ctx, &args.site)?;
    let point = args.point.as_deref();
    let plan = app::plan::plan(&loaded, point)?;
    let text = output::plan::render(plan, &loaded.site, &ctx.catalogs, point, args.format.into(), g.wrap, lang);
    print(&text);
    Ok(EXIT_OK)
}
