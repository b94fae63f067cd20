//! `portplan probe`: test every flow of the plan that starts at this host, and that the rest
//! is closed.

use crate::app;
use crate::app::verify::ProbeRequest;
use crate::cli::args::{OutputArg, Protocol, SiteArg, VerifyFormatArg};
use crate::cli::{Global, print, progress_bar};
use crate::diag::{EXIT_NOT_AS_REQUIRED, EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;
use crate::verify::probe::ProbeOptions;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    /// This host: its address(es) in the site, comma-separated, or PRODUCT.ROLE of a one-host role / このホスト
    #[arg(long = "from", value_name = "HOST")]
    host: String,
    /// Only flows to this role (PRODUCT.ROLE or ROLE) or address; an address picks a host of a network role / 宛先の絞り込み
    #[arg(long, value_name = "ROLE|ADDRESS")]
    to: Option<String>,
    /// Per-probe timeout / タイムアウト
    #[arg(long, default_value = "1s", value_parser = crate::verify::parse_duration)]
    timeout: std::time::Duration,
    /// Probes in flight at once (1-1024) / 同時実行数
    #[arg(long, default_value_t = 128)]
    concurrency: usize,
    /// New probes per second at most (1-20000) / 毎秒の最大プローブ数
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    #[command(flatten)]
    output: OutputArg,
    /// Only print the checks; send nothing / 検査内容を表示のみ
    #[arg(long)]
    dry_run: bool,
    /// Skip the must-be-closed checks: only test that required flows pass / 必要な通信のみ検査
    #[arg(long)]
    required_only: bool,
    /// Only this protocol / このプロトコルのみ
    #[arg(long, value_enum)]
    protocol: Option<Protocol>,
    #[command(flatten)]
    format: VerifyFormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let loaded = args.site.load(g.context()?)?;
    let req = ProbeRequest {
        from: args.host,
        to: args.to,
        required_only: args.required_only,
        protocol: args.protocol.map(Into::into),
    };
    let pp = app::verify::probe_plan(&loaded, &req)?;
    let opts = ProbeOptions {
        timeout: args.timeout,
        concurrency: args.concurrency,
        rate: args.rate,
    };
    opts.check()?;
    if args.dry_run {
        print(&output::verify::probe_dry_run(
            &pp,
            args.format.get(),
            g.wrap,
            lang,
        ));
        return Ok(EXIT_OK);
    }
    let bar = progress_bar(pp.checks.len() as u64);
    let report = crate::verify::probe::run(pp, opts, &|_| bar.inc(1))?;
    bar.finish_and_clear();
    let text = output::verify::probe(&report, args.format.get(), g.wrap, lang);
    if let Some(path) = args.output.path() {
        crate::fsutil::write_output(path, text.as_bytes())?;
    }
    print(&text);
    Ok(if report.ok() {
        EXIT_OK
    } else {
        EXIT_NOT_AS_REQUIRED
    })
}
