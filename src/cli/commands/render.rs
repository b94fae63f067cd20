//! `portplan render`: one enforcement point's openings as firewall configuration.

use crate::app;
use crate::app::render::RenderRequest;
use crate::cli::args::{Mode, OutputArg, PointArg, RenderFormat, RenderFormatArg, SiteArg, Target};
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
    /// How the file meets the existing firewall (default: merge for network firewalls, replace for host firewalls) / 既存のファイアウォールとの関係 (既定: ネットワーク FW は merge、ホスト FW は replace)
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// Merge into: nft 'FAMILY TABLE [CHAIN...]' (default 'inet filter forward', hosts 'inet filter input output'), iptables chain(s) (FORWARD; INPUT OUTPUT), a firewalld zone (public) / マージ先: nft は 'ファミリ テーブル [チェーン...]'、iptables はチェーン、firewalld はゾーン
    #[arg(long, value_name = "WHERE")]
    into: Option<String>,
    /// cisco-ios merge: the existing ACL to add to, NAME (every side) or ZONE=NAME per side; repeatable / cisco-ios のマージ先 ACL (NAME は全側、ZONE=NAME は側ごと、複数可)
    #[arg(long, value_name = "[ZONE=]NAME")]
    acl: Vec<String>,
    /// cisco-ios merge: first sequence number of the added entries (default 1) / cisco-ios のマージで追加するエントリの最初の番号 (既定 1)
    #[arg(long, value_name = "N")]
    seq: Option<u32>,
    /// Write the commands that take the mode's rules out again / そのモードで追加したルールを取り除くコマンドを書き出す
    #[arg(long)]
    remove: bool,
    /// Write what the target can express even if it cannot express everything (each omission is a note) / 表現できない部分があっても残りを書き出す (省いた部分は注意として示す)
    #[arg(long)]
    allow_partial: bool,
    #[command(flatten)]
    point: PointArg,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    format: RenderFormatArg,
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let loaded = args.site.load(ctx)?;
    let point = loaded.point(args.point.id())?;
    let json = args.format.get() == RenderFormat::Json;
    let req = RenderRequest {
        target: args.target.map(Into::into),
        mode: args.mode.map(Into::into),
        remove: args.remove,
        into: args.into,
        acls: args.acl,
        seq: args.seq,
        allow_partial: args.allow_partial,
        ir_only: json,
        lang,
    };
    let app::render::Rendering {
        rules, rendered, ..
    } = app::render::render(ctx, &loaded, point, &req)?;
    if json {
        print(&(serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"));
        return Ok(EXIT_OK);
    }
    for n in &rendered.notes {
        let msg = crate::escape::terminal_safe(n.message.get(lang));
        eprintln!("{}: {msg}", lang.pick("note", "注意"));
    }
    match args.output.path() {
        Some(path) => {
            // FILE + suffix each, all or nothing; `-` or a device gets what stdout gets.
            crate::fsutil::write_output_set(path, &rendered.files, |suffix| {
                format!("\n# ---- {suffix} ----\n")
            })?;
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
