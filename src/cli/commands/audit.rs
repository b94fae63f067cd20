//! `portplan audit`: existing rulesets against the plan.

use std::path::{Path, PathBuf};

use crate::app;
use crate::app::audit::AuditRequest;
use crate::cli::args::{FormatArg, Kind, PointArg, SiteArg};
use crate::cli::{Global, print};
use crate::diag::{EXIT_NOT_AS_REQUIRED, EXIT_OK, Result, SourceFile};
use crate::i18n::Lang;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    /// The ruleset: `nft -j list ruleset` JSON or `iptables-save` text; give it twice for an
    /// iptables-save and an ip6tables-save / 監査するルールセット (iptables と ip6tables は 2 回指定)
    #[arg(long, value_name = "FILE", required = true)]
    ruleset: Vec<PathBuf>,
    /// `ipset save` output, for `-m set` matches / `-m set` が参照する `ipset save` の出力
    #[arg(long, value_name = "FILE")]
    ipset: Option<PathBuf>,
    /// Input format (default: recognised from the content) / 入力形式 (既定: 内容から判定)
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

/// A ruleset file as text (UTF-8 checked and located, size capped).
fn read(path: &Path) -> Result<SourceFile> {
    Ok(SourceFile::new(
        path.display().to_string(),
        crate::diag::read_text(path)?,
    ))
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let loaded = args.site.load(g.context()?)?;
    // The point before the ruleset: a wrong --for is reported first.
    let point = loaded.point(args.point.id())?;
    let req = AuditRequest {
        rulesets: args
            .ruleset
            .iter()
            .map(|p| read(p))
            .collect::<Result<_>>()?,
        ipset: args.ipset.as_deref().map(read).transpose()?,
        kind: args.kind.map(Into::into),
        allow_excess: args.allow_excess,
    };
    let audited = app::audit::audit(&loaded.site, point, &req)?;
    print(&output::audit::render(
        &audited.report,
        args.format.get(),
        args.allow_excess,
        lang,
    ));
    Ok(if audited.passed {
        EXIT_OK
    } else {
        EXIT_NOT_AS_REQUIRED
    })
}
