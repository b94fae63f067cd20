//! `portplan report`: a firewall request document (XLSX, Markdown, HTML) or a diagram (SVG,
//! DOT), written to stdout or, atomically, to `-o FILE`.

use std::path::{Path, PathBuf};

use crate::app;
use crate::app::report::ReportRequest;
use crate::cli::args::{OutputArg, PointArg, ReportFormatArg, SiteArg};
use crate::cli::{Global, load_site, print};
use crate::diag::{EXIT_OK, Error, Result};
use crate::i18n::Lang;
use crate::report::{Report, ReportFormat};
use crate::tr;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    #[command(flatten)]
    format: ReportFormatArg,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    point: PointArg,
    /// A change request: the openings to add and remove since the site OLD / 変更申請 (変更前のサイト)
    #[arg(long = "diff-from", value_name = "OLD")]
    diff_from: Option<PathBuf>,
}

/// Where the report goes: XLSX is binary, so only to a file; text to a file or stdout.
enum Dest<'a> {
    Xlsx(&'a Path),
    Text(fn(&Report) -> String, Option<&'a Path>),
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let output = args.output.path();
    let format = args
        .format
        .get()
        .or_else(|| output.and_then(ReportFormat::from_extension))
        .unwrap_or(ReportFormat::Md);
    let dest = match format {
        ReportFormat::Xlsx => Dest::Xlsx(output.ok_or_else(|| {
            Error::usage(
                tr!(
                    "XLSX is binary: say where to write it with -o FILE",
                    "XLSX はバイナリです: -o FILE で出力先を指定してください"
                ),
                Some(tr!(
                    "e.g. portplan report site.yaml --format xlsx -o request.xlsx",
                    "例: portplan report site.yaml --format xlsx -o request.xlsx"
                )),
            )
        })?),
        ReportFormat::Md => Dest::Text(crate::report::markdown::render, output),
        ReportFormat::Html => Dest::Text(crate::report::html::render, output),
        ReportFormat::Svg => Dest::Text(crate::report::svg::render, output),
        ReportFormat::Dot => Dest::Text(crate::report::dot::render, output),
    };
    let ctx = g.context()?;
    let loaded = args.site.load(ctx)?;
    let req = ReportRequest {
        point: args.point.id().map(str::to_string),
        diff_from: args.diff_from.map(|old| load_site(ctx, &old)).transpose()?,
    };
    let report = app::report::report(ctx, &loaded, &req, lang)?;
    match dest {
        Dest::Xlsx(path) => {
            let bytes = crate::report::xlsx::render(&report)?;
            crate::fsutil::write_output(path, &bytes)?;
        }
        Dest::Text(render, Some(path)) => {
            crate::fsutil::write_output(path, render(&report).as_bytes())?
        }
        Dest::Text(render, None) => print(&render(&report)),
    }
    Ok(EXIT_OK)
}
