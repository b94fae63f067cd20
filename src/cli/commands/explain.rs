//! `portplan explain`: why is this open, or why not.

use crate::app;
use crate::cli::args::{FormatArg, SiteArg};
use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    /// The query; words are joined, so `10.20.1.5 to 10.10.0.4 tcp/445` needs no quotes / 問い合わせ (語は連結されるので引用符は不要)
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    #[command(flatten)]
    format: FormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let loaded = args.site.load(ctx)?;
    let ex = app::explain::explain(ctx, &loaded, &args.query.join(" "))?;
    print(&output::explain::explanation(&ex, args.format.get(), lang));
    Ok(EXIT_OK)
}
