//! `portplan explain`: why is this open, or why not.

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
    /// The query; words are joined, so `10.20.1.5 to 10.10.0.4 tcp/445` needs no quotes
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let loaded = load_site(ctx, &args.site)?;
    let ex = app::explain::explain(ctx, &loaded, &args.query.join(" "))?;
    print(&output::explain::explanation(&ex, args.format.into(), lang));
    Ok(EXIT_OK)
}
