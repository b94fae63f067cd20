//! `portplan audit`: an existing ruleset against the plan.

use std::path::PathBuf;

use crate::app;
use crate::app::audit::AuditRequest;
use crate::cli::{Global, load_site, print, read_source};
use crate::diag::{EXIT_NOT_AS_REQUIRED, EXIT_OK, Result};
use crate::i18n::Lang;
use crate::cli::args::{self, Format};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site file (YAML)
    site: PathBuf,
    /// The ruleset: `nft -j list ruleset` JSON or `iptables-save` text
    #[arg(long, value_name = "FILE")]
    ruleset: PathBuf,
    /// Input format (default: guessed from the content)
    #[arg(long, value_enum)]
    kind: Option<args::Kind>,
    /// Enforcement point (needed when the site has several)
    #[arg(long = "for", value_name = "POINT")]
    point: Option<String>,
    /// Only check reachability: excess does not fail the audit
    #[arg(long)]
    allow_excess: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let loaded = load_site(g.context()?, &args.site)?;
    // The point before the ruleset: a wrong --for is reported first.
    let point = loaded.point(args.point.as_deref())?;
    let req = AuditRequest {
        ruleset: read_source(&args.ruleset)?,
        kind: args.kind.map(Into::into),
        allow_excess: args.allow_excess,
    };
    let audited = app::audit::audit(point, &req)?;
    print(&output::audit::render(&audited.report, args.format.into(), lang));
    Ok(if audited.passed {
        EXIT_OK
    } else {
        EXIT_NOT_AS_REQUIRED
    })
}
