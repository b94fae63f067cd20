//! `portplan render`: one enforcement point's openings as firewall configuration.

use std::path::PathBuf;

use crate::app;
use crate::app::render::RenderRequest;
use crate::cli::{Global, args, load_site, print};
use crate::diag::{EXIT_OK, Result};
use crate::i18n::Lang;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site file (YAML)
    site: PathBuf,
    /// Target (default: the enforcement point's own) / 出力形式
    #[arg(long, value_enum)]
    target: Option<args::Target>,
    /// Enforcement point (needed when the site has several) / 適用ポイント
    #[arg(long = "for", value_name = "POINT")]
    point: Option<String>,
    /// Write to FILE atomically (iptables IPv6 rules go to FILE.v6) / 出力ファイル
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// `text` is the configuration; `json` the typed rule IR
    #[arg(long, value_enum, default_value_t = RenderFormat::Text)]
    format: RenderFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RenderFormat {
    Text,
    Json,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let loaded = load_site(g.context()?, &args.site)?;
    let point = loaded.point(args.point.as_deref())?;
    let req = RenderRequest {
        target: args.target.map(Into::into),
    };
    let app::render::Rendering { rules, rendered } = app::render::render(&loaded, point, &req);
    if args.format == RenderFormat::Json {
        print(&(serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"));
        return Ok(EXIT_OK);
    }
    for n in &rendered.notes {
        eprintln!("{}: {}", lang.pick("note", "注意"), n.message.get(lang));
    }
    match &args.output {
        Some(path) => {
            let files: Vec<(PathBuf, String)> = rendered
                .files
                .iter()
                .map(|(suffix, text)| {
                    let mut p = path.clone().into_os_string();
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
