//! `portplan render`: one enforcement point's openings as firewall configuration.

use std::path::PathBuf;

use crate::app;
use crate::app::render::RenderRequest;
use crate::cli::args::{OutputArg, PointArg, RenderFormat, RenderFormatArg, SiteArg, Target};
use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    /// Target (default: the enforcement point's own) / 出力先の種類 (既定: 適用ポイントの指定)
    #[arg(long, value_enum)]
    target: Option<Target>,
    #[command(flatten)]
    point: PointArg,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    format: RenderFormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let loaded = args.site.load(g.context()?)?;
    let point = loaded.point(args.point.id())?;
    let req = RenderRequest {
        target: args.target.map(Into::into),
    };
    let app::render::Rendering { rules, rendered } = app::render::render(&loaded, point, &req);
    if args.format.get() == RenderFormat::Json {
        print(&(serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"));
        return Ok(EXIT_OK);
    }
    for n in &rendered.notes {
        eprintln!("{}: {}", lang.pick("note", "注意"), n.message.get(lang));
    }
    match args.output.path() {
        Some(path) => {
            let files: Vec<(PathBuf, String)> = rendered
                .files
                .iter()
                .map(|(suffix, text)| {
                    let mut p = path.as_os_str().to_owned();
                    p.push(suffix);
                    (PathBuf::from(p), text.clone())
                })
                .collect();
            crate::fsutil::write_all_atomic(&files)?;
        }
        None => {
            for (i, (suffix, text)) in rendered.files.iter().enumerate() {
                if i > 0 {
                    print(&format!("\n# ---- {suffix} ----\n"));
                }
                print(text);
            }
        }
    }
    Ok(EXIT_OK)
}
