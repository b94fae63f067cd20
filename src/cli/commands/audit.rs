//! `portplan audit`: an existing ruleset against the plan.

use std::path::PathBuf;

use crate::app;
use crate::app::audit::AuditRequest;
use crate::cli::args::{FormatArg, Kind, PointArg, SiteArg};
use crate::cli::{Global, print, read_source};
use crate::diag::{EXIT_NOT_AS_REQUIRED, EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    /// The ruleset: `nft -j list ruleset` JSON or `iptables-save` text / 監査するルールセット
    #[arg(long, value_name = "FILE")]
    ruleset: PathBuf,
    /// Input format (default: guessed from the content) / 入力形式 (既定: 内容から判定)
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    #[command(flatten)]
    point: PointArg,
    /// Only check reachability: excess does not fail the audit / 到達性のみ検査 (過剰な許可では不合格にしない)
    #[arg(long)]
    allow_excess: bool,
    #[command(flatten)]
    format: FormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let loaded = args.site.load(g.context()?)?;
    // The point before the ruleset: a wrong --for is reported first.
    let point = loaded.point(args.point.id())?;
    let req = AuditRequest {
        ruleset: read_source(&args.ruleset)?,
        kind: args.kind.map(Into::into),
        allow_excess: args.allow_excess,
    };
    let audited = app::audit::audit(point, &req)?;
    print(&output::audit::render(
        &audited.report,
        args.format.get(),
        lang,
    ));
    Ok(if audited.passed {
        EXIT_OK
    } else {
        EXIT_NOT_AS_REQUIRED
    })
}
