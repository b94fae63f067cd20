//! The command line: [`Cli`], the dispatch of one line per subcommand (each in its own file
//! under `commands/`), printing and the terminal's concerns. No application logic of its own:
//! commands turn arguments into [`crate::app`] requests and print what comes back.

use std::cell::OnceCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app;
use crate::catalog::Catalogs;
use crate::diag::{EXIT_BAD_INPUT, EXIT_OK, Result, SourceFile};
use crate::i18n::Lang;

mod args;
mod commands;
pub(crate) mod localize;

/// Which ports must I open for this product? Vendor port requirements as data, the minimal
/// openings, each traced to the vendor document row that needs it.
///
/// どのポートを開ければよいか: ベンダーのポート要件をデータとして持ち、必要最小限の開放を根拠付きで示します。
#[derive(Debug, Parser)]
#[command(name = "portplan", version, max_term_width = 110)]
pub struct Cli {
    /// Output language (default: from LC_ALL / LC_MESSAGES / LANG) / 出力言語
    #[arg(long, global = true, value_enum, env = "PORTPLAN_LANG")]
    lang: Option<args::Lang>,
    /// Also load every catalog (*.yaml) in DIR; one with a built-in id replaces it / 追加のカタログ
    #[arg(long, global = true, value_name = "DIR")]
    catalog_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect and check product catalogs / カタログの一覧・表示・検査
    #[command(subcommand)]
    Catalog(commands::catalog::Args),
    /// The ports one or more products need, for the options you use / 製品に必要なポート
    Ports(commands::ports::Args),
    /// The minimal openings of a site, per enforcement point / サイトの開放計画
    Plan(commands::plan::Args),
    /// Why is this open, or why not: QUERY is tcp/139, "10.20.1.5 -> 10.10.0.4 tcp/445" or devicelock/smb / 開放の理由
    Explain(commands::explain::Args),
    /// Openings to add and remove per enforcement point between two versions of a site / 変更差分
    Diff(commands::diff::Args),
    /// Render one enforcement point's openings as firewall configuration / FW 設定の生成
    ///
    /// With -o, iptables' IPv6 rules go to FILE.v6.
    ///
    /// -o を指定すると、iptables の IPv6 ルールは FILE.v6 に書き込みます。
    Render(commands::render::Args),
    /// Audit an existing ruleset against the plan: missing, excess, shadowed / 既存ルールの監査
    Audit(commands::audit::Args),
    /// Open responders on every port this host must accept, for a while / 必要なポートで待ち受け
    ///
    /// Binds only this host's addresses in the site; also opens the must-be-closed sample
    /// (canaries) so `probe` can tell a firewall letting too much in. Long ranges are sampled.
    ///
    /// サイト上のこのホストのアドレスだけで待ち受けます。閉じているべきポートの標本 (カナリア) も
    /// 開くので、`probe` は許可しすぎのファイアウォールを検出できます。広い範囲は標本を使います。
    Listen(commands::listen::Args),
    /// Test every flow of the plan that starts at this host, and that the rest is closed / 疎通検査
    ///
    /// Sends only to addresses and names of the plan, to the plan's ports and a bounded
    /// must-be-closed sample; concurrency, rate and time are bounded. Exit 1 when a required
    /// flow does not pass or a must-be-closed port answers. With -o the report is also written
    /// to FILE, e.g. `--format junit` for CI.
    ///
    /// 送信先は計画上のアドレス・名前、計画上のポートと、閉じているべきポートの限られた標本だけです。
    /// 同時実行数・送信レート・時間には上限があります。必要な通信が通らないとき、または閉じているべき
    /// ポートが応答したときは終了コード 1 です。-o を指定すると結果をファイルにも書き込みます
    /// (例: CI 向けの `--format junit`)。
    Probe(commands::probe::Args),
    /// A firewall request document: XLSX, Markdown, HTML, or a diagram (SVG, DOT) / 申請書・構成図の作成
    ///
    /// Text formats go to stdout, or to FILE with -o; XLSX needs -o.
    ///
    /// テキスト形式は標準出力へ (-o を指定するとファイルへ)。XLSX には -o が必要です。
    Report(commands::report::Args),
    /// A local web UI: ports, site editor, plan, downloads (http://localhost:8470) / ローカルの Web UI
    Serve(commands::serve::Args),
    /// Print the JSON Schema of site files / サイト定義の JSON Schema
    SiteSchema(commands::site_schema::Args),
    /// Write a commented starter site for the products you use / サイト定義のひな形を作成
    Init(commands::init::Args),
    /// Print a shell completion script: bash, zsh, fish, powershell, elvish / シェル補完スクリプトを出力
    Completions(commands::completions::Args),
    /// Print the man page (roff): portplan man > portplan.1 / man ページ (roff) を出力
    Man(commands::completions::ManArgs),
    /// Verify a whole site through Ansible: inventory and playbook; `fleet merge` the results / Ansible でサイト全体を検査
    ///
    /// `portplan fleet SITE -o DIR` writes an inventory, a playbook and its vars that start
    /// `listen` on every destination and run `probe` on every source, bounded per host and in
    /// total. `portplan fleet merge SITE DIR/results/*.json` merges the results: exit 1 when a
    /// required flow failed or a must-be-closed port answered.
    ///
    /// `portplan fleet SITE -o DIR` は、全宛先で `listen`、全送信元で `probe` を実行するインベントリ・
    /// プレイブック・変数を書き出します (ホストごとと全体でレートに上限あり)。`portplan fleet merge
    /// SITE DIR/results/*.json` は結果を統合し、必要な通信の失敗や閉じるべきポートの応答があれば終了コード 1 です。
    Fleet(commands::fleet::Args),
    /// Draft a catalog from a vendor's port table, with a review list / ベンダーの表からカタログの下書き
    Import(commands::import::Args),
}

/// The language asked for before the command line is parsed (for `--help` and clap's errors):
/// `--lang` (last one wins), then `PORTPLAN_LANG`, then the locale.
fn early_lang(args: &[std::ffi::OsString]) -> Lang {
    let mut lang = None;
    let mut it = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let v = match a.strip_prefix("--lang") {
            Some("") => it.next().map(|v| v.into_owned()),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => None,
        };
        match v.as_deref() {
            Some("ja") => lang = Some(Lang::Ja),
            Some("en") => lang = Some(Lang::En),
            _ => {}
        }
    }
    lang.or_else(|| match std::env::var("PORTPLAN_LANG").ok().as_deref() {
        Some("ja") => Some(Lang::Ja),
        Some("en") => Some(Lang::En),
        _ => None,
    })
    .unwrap_or_else(Lang::from_env)
}

/// The clap command with its help in `lang` (see [`localize`]).
pub fn command(lang: Lang) -> clap::Command {
    use clap::CommandFactory;
    localize::command(Cli::command(), lang)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    use clap::FromArgMatches;
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let early = early_lang(&argv);
    let parsed = command(early)
        .try_get_matches_from(&argv)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let text = match localize::error_text(&e, early) {
                Some(t) if e.use_stderr() => t,
                _ => localize::help_text(&e.render().to_string(), early),
            };
            if e.use_stderr() {
                eprint!("{text}");
            } else {
                print(&text);
            }
            return ExitCode::from(code);
        }
    };
    let lang = cli.lang.map_or_else(Lang::from_env, Lang::from);
    install_error_style();
    match run(cli, lang) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprint!("{}", e.report_text(lang));
            ExitCode::from(e.exit_code())
        }
    }
}

/// On a terminal, miette's default; elsewhere (logs, `2>file`, tests) no line wrapping, so a
/// message stays on one greppable line.
fn install_error_style() {
    if !std::io::stderr().is_terminal() {
        let _ = miette::set_hook(Box::new(|_| {
            Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
        }));
    }
}

fn print(text: &str) {
    // Values are escaped where they are placed; this is the net behind that (crate::escape).
    let text = crate::escape::terminal_safe(text);
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// What every command gets besides its own arguments.
struct Global {
    catalog_dir: Option<PathBuf>,
    context: OnceCell<app::Context>,
    /// Tables fit the terminal's width: stdout is a terminal. Decided once, here.
    wrap: bool,
}

impl Global {
    /// The application context, built on first use and then shared: commands that need no
    /// catalogs (`catalog check`, `catalog schema`, `site-schema`) never read `--catalog-dir`,
    /// and `report` checks its own arguments before it does.
    fn context(&self) -> Result<&app::Context> {
        if let Some(c) = self.context.get() {
            return Ok(c);
        }
        let catalogs = match &self.catalog_dir {
            Some(d) => Catalogs::with_dir(d)?,
            None => Catalogs::builtin(),
        };
        Ok(self.context.get_or_init(|| app::Context::new(catalogs)))
    }
}

/// A file's text, named by its path for error messages.
fn read_source(path: &Path) -> Result<SourceFile> {
    let text = crate::diag::read_text(path)?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// Read, check and plan the site file at `path`.
fn load_site(ctx: &app::Context, path: &Path) -> Result<app::Loaded> {
    ctx.load(read_source(path)?)
}

/// Run a parsed command line; returns the exit code.
pub fn run(cli: Cli, lang: Lang) -> Result<u8> {
    let g = Global {
        catalog_dir: cli.catalog_dir.clone(),
        context: OnceCell::new(),
        wrap: std::io::stdout().is_terminal(),
    };
    match cli.command {
        Command::Catalog(args) => commands::catalog::run(args, &g, lang),
        Command::Ports(args) => commands::ports::run(args, &g, lang),
        Command::Plan(args) => commands::plan::run(args, &g, lang),
        Command::Explain(args) => commands::explain::run(args, &g, lang),
        Command::Diff(args) => commands::diff::run(args, &g, lang),
        Command::Render(args) => commands::render::run(args, &g, lang),
        Command::Audit(args) => commands::audit::run(args, &g, lang),
        Command::Listen(args) => commands::listen::run(args, &g, lang),
        Command::Probe(args) => commands::probe::run(args, &g, lang),
        Command::Report(args) => commands::report::run(args, &g, lang),
        Command::Serve(args) => commands::serve::run(args, &g, lang),
        Command::SiteSchema(args) => commands::site_schema::run(args, &g, lang),
        Command::Init(args) => commands::init::run(args, &g, lang),
        Command::Completions(args) => commands::completions::run(args, &g, lang),
        Command::Man(args) => commands::completions::run_man(args, &g, lang),
        Command::Fleet(args) => commands::fleet::run(args, &g, lang),
        Command::Import(args) => commands::import::run(args, &g, lang),
    }
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} ({per_sec}, {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}
