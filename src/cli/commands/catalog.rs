//! `portplan catalog`: list, show and check product catalogs, and print their JSON Schema.

use std::path::PathBuf;

use crate::catalog;
use crate::cli::args::FormatArg;
use crate::cli::{Global, print};
use crate::diag::{EXIT_BAD_INPUT, EXIT_OK, Result};
use crate::i18n::Lang;
use crate::output;
use crate::tr;

#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// List the known products / 製品の一覧
    List {
        #[command(flatten)]
        format: FormatArg,
    },
    /// Show a product's options, roles and requirements / 製品のオプション・ロール・要件
    Show {
        /// Product id, e.g. devicelock / 製品 ID
        product: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Check catalog files; errors name file, line and column / カタログファイルの検査
    Check {
        /// Catalog YAML files / カタログファイル (YAML)
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of catalog files / カタログの JSON Schema
    Schema,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    match args {
        Args::List { format } => {
            print(&output::catalog::list(
                &g.context()?.catalogs,
                format.get(),
                g.wrap,
                lang,
            ));
        }
        Args::Show { product, format } => {
            let cats = &g.context()?.catalogs;
            print(&output::catalog::show(
                cats.get(&product)?,
                format.get(),
                g.wrap,
                lang,
            ));
        }
        Args::Check { files } => {
            let mut failed = 0;
            for f in files {
                match catalog::load_path(&f) {
                    Ok(c) => {
                        let (path, id, n) = (f.display(), &c.id, c.requirements.len());
                        print(&format!(
                            "{}\n",
                            tr!(
                                "ok   {path} ({id}, {n} requirements)",
                                "OK   {path} ({id}、要件 {n} 件)"
                            )
                            .get(lang)
                        ));
                        for w in &c.warnings {
                            eprintln!("{}", w.get(lang));
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        eprint!("{}", e.report_text(lang));
                    }
                }
            }
            return Ok(if failed > 0 { EXIT_BAD_INPUT } else { EXIT_OK });
        }
        Args::Schema => {
            print(&(serde_json::to_string_pretty(&catalog::schema()).unwrap_or_default() + "\n"));
        }
    }
    Ok(EXIT_OK)
}
