//! `portplan ports`: the ports one or more products need, for the options you use.

use crate::app;
use crate::app::ports::PortsRequest;
use crate::cli::args::FormatArg;
use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Product ids, e.g. devicelock tmws / 製品 ID
    #[arg(required = true)]
    products: Vec<String>,
    /// Set an option: NAME=VALUE, or PRODUCT.NAME=VALUE when several products have NAME / オプション指定
    #[arg(long = "set", value_name = "OPTION=VALUE")]
    set: Vec<String>,
    /// Only these roles are deployed (comma-separated; PRODUCT.ROLE to be specific) / 配置するロール
    #[arg(long, value_delimiter = ',', value_name = "ROLE,...")]
    roles: Vec<String>,
    #[command(flatten)]
    format: FormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let req = PortsRequest {
        products: args.products,
        set: args.set,
        roles: args.roles,
    };
    let report = app::ports::ports(ctx, &req)?;
    print(&output::ports::render(
        &report,
        &ctx.catalogs,
        args.format.get(),
        g.wrap,
        lang,
    ));
    Ok(EXIT_OK)
}
