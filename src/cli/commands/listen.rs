//! `portplan listen`: responders on every port this host must accept, for a while.

use crate::app;
use crate::cli::args::{SiteArg, VerifyFormatArg};
use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    /// This host: its address(es) in the site, comma-separated, or PRODUCT.ROLE of a one-host role / このホスト
    #[arg(long = "as", value_name = "HOST")]
    host: String,
    /// Stop after this long (e.g. 90s, 10m, 1h; at most 7 days) / 待ち受け時間
    #[arg(long, default_value = "10m", value_parser = crate::verify::parse_duration)]
    duration: std::time::Duration,
    /// Only print what would be opened / 開くポートを表示のみ
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    format: VerifyFormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let loaded = args.site.load(g.context()?)?;
    let lp = app::verify::listen_plan(&loaded, &args.host)?;
    let (duration, format) = (args.duration, args.format.get());
    // With nothing to accept, say so and stop rather than wait out the duration.
    if args.dry_run || lp.ports.is_empty() {
        print(&output::verify::listen_dry_run(&lp, format, g.wrap, lang));
        return Ok(EXIT_OK);
    }
    let (report, bound) = crate::verify::listen::bind(&lp)?;
    print(&output::verify::listen_ready(
        &report, duration, format, g.wrap, lang,
    ));
    let (stop, hits) = crate::verify::listen::serve(bound, duration)?;
    print(&output::verify::listen_done(
        stop, &hits, format, g.wrap, lang,
    ));
    Ok(EXIT_OK)
}
