//! `portplan site-schema`: the JSON Schema of site files.

use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _g: &Global, _lang: Lang) -> Result<u8> {
    print(&(serde_json::to_string_pretty(&crate::site::schema()).unwrap_or_default() + "\n"));
    Ok(EXIT_OK)
}
