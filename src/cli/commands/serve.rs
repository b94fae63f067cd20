//! `portplan serve`: the local web UI ([`crate::web`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cli::{Global, read_source};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;
use crate::web;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site file to open (it may be saved back from the Site page) / 開くサイトファイル
    site: Option<PathBuf>,
    /// Address and port to listen on; not loopback needs --token / 待ち受けアドレス (ループバック以外は --token が必要)
    #[arg(long, default_value = "127.0.0.1:8470", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Access token every request must carry (required off loopback) / アクセストークン
    #[arg(long, env = "PORTPLAN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Open the browser / ブラウザを開く
    #[arg(long)]
    open: bool,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let site = match &args.site {
        Some(p) => Some((p.clone(), read_source(p)?)),
        None => None,
    };
    let config = web::Config {
        listen: args.listen,
        token: args.token,
        site,
    };
    let catalogs = g.context()?.catalogs.clone();
    web::serve(crate::app::Context::new(catalogs), config, args.open, lang)?;
    Ok(EXIT_OK)
}
