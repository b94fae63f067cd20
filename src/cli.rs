//! The command line: parses arguments, calls the pipeline, prints. No logic of its own.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::catalog::{self, Catalogs};
use crate::diag::{EXIT_BAD_INPUT, EXIT_OK, Error, Result};
use crate::flows::{Deployment, ports_report};
use crate::i18n::{Lang, Text};
use crate::output::{self, Format};
use crate::suggest::closest;
use crate::tr;

/// Which ports must I open for this product? Vendor port requirements as data, the minimal
/// openings, each traced to the vendor document row that needs it.
///
/// どのポートを開ければよいか: ベンダーのポート要件をデータとして持ち、必要最小限の開放を根拠付きで示します。
#[derive(Debug, Parser)]
#[command(name = "portplan", version, max_term_width = 110)]
pub struct Cli {
    /// Output language (default: from LC_ALL / LC_MESSAGES / LANG) / 出力言語
    #[arg(long, global = true, value_enum, env = "PORTPLAN_LANG")]
    pub lang: Option<Lang>,
    /// Also load every catalog (*.yaml) in DIR; one with a built-in id replaces it / 追加のカタログ
    #[arg(long, global = true, value_name = "DIR")]
    pub catalog_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect and check product catalogs / カタログの一覧・表示・検査
    #[command(subcommand)]
    Catalog(CatalogCmd),
    /// The ports one or more products need, for the options you use / 製品に必要なポート
    Ports(PortsArgs),
    /// The minimal openings of a site, per enforcement point / サイトの開放計画
    Plan {
        /// Site file (YAML)
        site: PathBuf,
        /// Only this enforcement point / 対象の適用ポイント
        #[arg(long = "for", value_name = "POINT")]
        point: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Why is this open, or why not: QUERY is tcp/139, "10.20.1.5 -> 10.10.0.4 tcp/445" or devicelock/smb / 開放の理由
    Explain {
        /// Site file (YAML)
        site: PathBuf,
        /// The query; words are joined, so `10.20.1.5 to 10.10.0.4 tcp/445` needs no quotes
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Openings to add and remove per enforcement point between two versions of a site / 変更差分
    Diff {
        /// The site as it is
        old: PathBuf,
        /// The site as it will be
        new: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Render one enforcement point's openings as firewall configuration / FW 設定の生成
    Render {
        /// Site file (YAML)
        site: PathBuf,
        /// Target (default: the enforcement point's own) / 出力形式
        #[arg(long, value_enum)]
        target: Option<crate::site::Target>,
        /// Enforcement point (needed when the site has several) / 適用ポイント
        #[arg(long = "for", value_name = "POINT")]
        point: Option<String>,
        /// Write to FILE atomically (iptables IPv6 rules go to FILE.v6) / 出力ファイル
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// `text` is the configuration; `json` the typed rule IR
        #[arg(long, value_enum, default_value_t = RenderFormat::Text)]
        format: RenderFormat,
    },
    /// Audit an existing ruleset against the plan: missing, excess, shadowed / 既存ルールの監査
    Audit {
        /// Site file (YAML)
        site: PathBuf,
        /// The ruleset: `nft -j list ruleset` JSON or `iptables-save` text
        #[arg(long, value_name = "FILE")]
        ruleset: PathBuf,
        /// Input format (default: guessed from the content)
        #[arg(long, value_enum)]
        kind: Option<crate::audit::Kind>,
        /// Enforcement point (needed when the site has several)
        #[arg(long = "for", value_name = "POINT")]
        point: Option<String>,
        /// Only check reachability: excess does not fail the audit
        #[arg(long)]
        allow_excess: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Open responders on every port this host must accept, for a while / 必要なポートで待ち受け
    ///
    /// Binds only this host's addresses in the site; also opens the must-be-closed sample
    /// (canaries) so `probe` can tell a firewall letting too much in. Long ranges are sampled.
    Listen {
        /// Site file (YAML)
        site: PathBuf,
        /// This host: its address(es) in the site, comma-separated, or PRODUCT.ROLE of a one-host role / このホスト
        #[arg(long = "as", value_name = "HOST")]
        host: String,
        /// Stop after this long (e.g. 90s, 10m, 1h; at most 7 days) / 待ち受け時間
        #[arg(long, default_value = "10m", value_parser = crate::verify::parse_duration)]
        duration: std::time::Duration,
        /// Only print what would be opened / 開くポートを表示のみ
        #[arg(long)]
        dry_run: bool,
        /// `json` prints one JSON object when ready and one when done
        #[arg(long, value_enum, default_value_t)]
        format: output::verify::VerifyFormat,
    },
    /// Test every flow of the plan that starts at this host, and that the rest is closed / 疎通検査
    ///
    /// Sends only to addresses and names of the plan, to the plan's ports and a bounded
    /// must-be-closed sample; concurrency, rate and time are bounded. Exit 1 when a required
    /// flow does not pass or a must-be-closed port answers.
    Probe {
        /// Site file (YAML)
        site: PathBuf,
        /// This host: its address(es) in the site, comma-separated, or PRODUCT.ROLE of a one-host role / このホスト
        #[arg(long = "from", value_name = "HOST")]
        host: String,
        /// Only flows to this role (PRODUCT.ROLE or ROLE) or address; an address picks a host of a network role / 宛先の絞り込み
        #[arg(long, value_name = "ROLE|ADDRESS")]
        to: Option<String>,
        /// Per-probe timeout / タイムアウト
        #[arg(long, default_value = "1s", value_parser = crate::verify::parse_duration)]
        timeout: std::time::Duration,
        /// Probes in flight at once (1-1024) / 同時実行数
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
        /// New probes per second at most (1-20000) / 毎秒の最大プローブ数
        #[arg(long, default_value_t = 2000)]
        rate: u32,
        /// Also write the report to FILE (atomically), e.g. JUnit for CI / 出力ファイル
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only print the checks; send nothing / 検査内容を表示のみ
        #[arg(long)]
        dry_run: bool,
        /// Skip the must-be-closed checks: only test that required flows pass / 必要な通信のみ検査
        #[arg(long)]
        required_only: bool,
        /// Only this protocol / このプロトコルのみ
        #[arg(long, value_enum)]
        protocol: Option<ProtocolArg>,
        #[arg(long, value_enum, default_value_t)]
        format: output::verify::VerifyFormat,
    },
    /// A firewall request document: XLSX, Markdown, HTML, or a diagram (SVG, DOT) / 申請書・構成図の作成
    Report {
        /// Site file (YAML)
        site: PathBuf,
        /// Output format (default: from the -o extension, else md) / 出力形式
        #[arg(long, value_enum)]
        format: Option<crate::report::ReportFormat>,
        /// Write to FILE atomically (required for xlsx; text formats go to stdout without it) / 出力ファイル
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only this enforcement point / 対象の適用ポイント
        #[arg(long = "for", value_name = "POINT")]
        point: Option<String>,
        /// A change request: the openings to add and remove since the site OLD / 変更申請 (変更前のサイト)
        #[arg(long = "diff-from", value_name = "OLD")]
        diff_from: Option<PathBuf>,
    },
    /// Print the JSON Schema of site files / サイト定義の JSON Schema
    SiteSchema,
}

#[derive(Debug, Subcommand)]
enum CatalogCmd {
    /// List the known products / 製品の一覧
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show a product's options, roles and requirements / 製品のオプション・ロール・要件
    Show {
        /// Product id, e.g. devicelock
        product: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Check catalog files; errors name file, line and column / カタログファイルの検査
    Check {
        /// Catalog YAML files
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of catalog files / カタログの JSON Schema
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProtocolArg {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RenderFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct PortsArgs {
    /// Product ids, e.g. devicelock tmws
    #[arg(required = true)]
    products: Vec<String>,
    /// Set an option: NAME=VALUE, or PRODUCT.NAME=VALUE when several products have NAME / オプション指定
    #[arg(long = "set", value_name = "OPTION=VALUE")]
    set: Vec<String>,
    /// Only these roles are deployed (comma-separated; PRODUCT.ROLE to be specific) / 配置するロール
    #[arg(long, value_delimiter = ',', value_name = "ROLE,...")]
    roles: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            });
        }
    };
    let lang = cli.lang.unwrap_or_else(Lang::from_env);
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
    use std::io::IsTerminal;
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

fn catalogs(cli: &Cli) -> Result<Catalogs> {
    match &cli.catalog_dir {
        Some(d) => Catalogs::with_dir(d),
        None => Ok(Catalogs::builtin()),
    }
}

/// Run a parsed command line; returns the exit code.
pub fn run(cli: Cli, lang: Lang) -> Result<u8> {
    match &cli.command {
        Command::Catalog(CatalogCmd::Schema) => {
            print(&(serde_json::to_string_pretty(&catalog::schema()).unwrap_or_default() + "\n"));
        }
        Command::Catalog(CatalogCmd::Check { files }) => {
            let mut failed = 0;
            for f in files {
                match catalog::load_path(f) {
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
                    }
                    Err(e) => {
                        failed += 1;
                        eprint!("{}", e.report_text(lang));
                    }
                }
            }
            return Ok(if failed > 0 { EXIT_BAD_INPUT } else { EXIT_OK });
        }
        Command::Catalog(CatalogCmd::List { format }) => {
            print(&output::catalog::list(&catalogs(&cli)?, *format, lang));
        }
        Command::Catalog(CatalogCmd::Show { product, format }) => {
            let cats = catalogs(&cli)?;
            print(&output::catalog::show(cats.get(product)?, *format, lang));
        }
        Command::SiteSchema => {
            print(
                &(serde_json::to_string_pretty(&crate::site::schema()).unwrap_or_default() + "\n"),
            );
        }
        Command::Plan {
            site,
            point,
            format,
        } => {
            let cats = catalogs(&cli)?;
            let site = crate::site::load_path(site, &cats)?;
            check_point(&site, point.as_deref())?;
            let plan = crate::plan::plan(&site, &cats);
            print(&output::plan::render(
                &plan,
                &site,
                &cats,
                point.as_deref(),
                *format,
                lang,
            ));
        }
        Command::Explain {
            site,
            query,
            format,
        } => {
            let cats = catalogs(&cli)?;
            let site = crate::site::load_path(site, &cats)?;
            let q = crate::explain::Query::parse(&query.join(" "))?;
            let plan = crate::plan::plan(&site, &cats);
            let ex = crate::explain::explain(&site, &cats, &plan, &q)?;
            print(&output::explain::explanation(&ex, *format, lang));
        }
        Command::Diff { old, new, format } => {
            let cats = catalogs(&cli)?;
            let old_site = crate::site::load_path(old, &cats)?;
            let new_site = crate::site::load_path(new, &cats)?;
            let changes = crate::diff::diff(
                &crate::plan::plan(&old_site, &cats),
                &crate::plan::plan(&new_site, &cats),
            );
            print(&output::explain::diff(
                &changes, &new_site, &cats, *format, lang,
            ));
        }
        Command::Render {
            site,
            target,
            point,
            output,
            format,
        } => {
            let cats = catalogs(&cli)?;
            let site = crate::site::load_path(site, &cats)?;
            let pt = match point {
                Some(id) => {
                    check_point(&site, Some(id))?;
                    site.point(id).expect("checked")
                }
                None if site.points.len() == 1 => &site.points[0],
                None => {
                    let ids: Vec<&str> = site.points.iter().map(|p| p.id.as_str()).collect();
                    let list = ids.join(", ");
                    return Err(Error::usage(
                        tr!(
                            "the site has several enforcement points: say which with --for",
                            "サイトに適用ポイントが複数あります: --for で指定してください"
                        ),
                        Some(tr!("enforcement points: {list}", "適用ポイント: {list}")),
                    ));
                }
            };
            let plan = crate::plan::plan(&site, &cats);
            let point_plan = plan.point(&pt.id).expect("plan has every point");
            let rs = crate::render::lower(&site, pt, point_plan);
            if *format == RenderFormat::Json {
                print(&(serde_json::to_string_pretty(&rs).unwrap_or_default() + "\n"));
                return Ok(EXIT_OK);
            }
            let rendered = crate::render::render(&rs, target.unwrap_or(pt.target));
            for n in &rendered.notes {
                let msg = crate::escape::terminal_safe(n.message.get(lang));
                eprintln!("{}: {msg}", lang.pick("note", "注意"));
            }
            match output {
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
        }
        Command::Audit {
            site,
            ruleset,
            kind,
            point,
            allow_excess,
            format,
        } => {
            let cats = catalogs(&cli)?;
            let site = crate::site::load_path(site, &cats)?;
            let pt = one_point(&site, point.as_deref())?;
            let text = crate::diag::read_text(ruleset)?;
            let rs = crate::audit::read(&text, *kind).map_err(|m| {
                let f = ruleset.display().to_string();
                Error::usage(
                    Text::new(format!("{f}: {}", m.en), format!("{f}: {}", m.ja)),
                    None,
                )
            })?;
            let plan = crate::plan::plan(&site, &cats);
            let pp = plan.point(&pt.id).expect("plan has every point");
            let host = matches!(pt.kind, crate::site::PointKind::Host { .. });
            let report = crate::audit::audit(&rs, pp, host)
                .map_err(|_| Error::usage(crate::audit::exhausted_text(), None))?;
            print(&output::audit::render(&report, *format, lang));
            return Ok(if report.ok(*allow_excess) {
                EXIT_OK
            } else {
                crate::diag::EXIT_NOT_AS_REQUIRED
            });
        }
        Command::Listen {
            site,
            host,
            duration,
            dry_run,
            format,
        } => {
            let (_, plan, host) = host_plan(&cli, site, host)?;
            let lp = crate::verify::listen_plan(&plan, &host);
            // With nothing to accept, say so and stop rather than wait out the duration.
            if *dry_run || lp.ports.is_empty() {
                print(&output::verify::listen_dry_run(&lp, *format, lang));
                return Ok(EXIT_OK);
            }
            let (report, bound) = crate::verify::listen::bind(&lp)?;
            print(&output::verify::listen_ready(
                &report, *duration, *format, lang,
            ));
            let (stop, hits) = crate::verify::listen::serve(bound, *duration)?;
            print(&output::verify::listen_done(stop, &hits, *format, lang));
        }
        Command::Probe {
            site,
            host,
            to,
            timeout,
            concurrency,
            rate,
            output: out_file,
            dry_run,
            required_only,
            protocol,
            format,
        } => {
            let (site, plan, host) = host_plan(&cli, site, host)?;
            let mut pp = crate::verify::probe_plan(&site, &plan, &host, to.as_deref())?;
            if *required_only {
                pp.checks
                    .retain(|c| c.expect == crate::verify::Expect::Open);
            }
            if let Some(p) = protocol {
                let p = match p {
                    ProtocolArg::Tcp => crate::catalog::Protocol::Tcp,
                    ProtocolArg::Udp => crate::catalog::Protocol::Udp,
                };
                pp.checks.retain(|c| c.protocol == p);
            }
            let opts = crate::verify::probe::ProbeOptions {
                timeout: *timeout,
                concurrency: *concurrency,
                rate: *rate,
            };
            opts.check()?;
            if *dry_run {
                print(&output::verify::probe_dry_run(&pp, *format, lang));
                return Ok(EXIT_OK);
            }
            let bar = progress_bar(pp.checks.len() as u64);
            let report = crate::verify::probe::run(pp, opts, &|_| bar.inc(1))?;
            bar.finish_and_clear();
            let text = output::verify::probe(&report, *format, lang);
            if let Some(path) = out_file {
                crate::fsutil::write_output(path, text.as_bytes())?;
            }
            print(&text);
            return Ok(if report.ok() {
                EXIT_OK
            } else {
                crate::diag::EXIT_NOT_AS_REQUIRED
            });
        }
        Command::Report {
            site,
            format,
            output,
            point,
            diff_from,
        } => {
            use crate::report::ReportFormat;
            let format = format
                .or_else(|| output.as_deref().and_then(ReportFormat::from_extension))
                .unwrap_or(ReportFormat::Md);
            if format == ReportFormat::Xlsx && output.is_none() {
                return Err(Error::usage(
                    tr!(
                        "XLSX is binary: say where to write it with -o FILE",
                        "XLSX はバイナリです: -o FILE で出力先を指定してください"
                    ),
                    Some(tr!(
                        "e.g. portplan report site.yaml --format xlsx -o request.xlsx",
                        "例: portplan report site.yaml --format xlsx -o request.xlsx"
                    )),
                ));
            }
            let cats = catalogs(&cli)?;
            let new_site = crate::site::load_path(site, &cats)?;
            let new_plan = crate::plan::plan(&new_site, &cats);
            let report = match diff_from {
                Some(old) => {
                    let old_site = crate::site::load_path(old, &cats)?;
                    if let Some(id) = point.as_deref()
                        && new_site.point(id).is_none()
                        && old_site.point(id).is_some()
                    {
                        // A point that only the old site has: its removals are the change.
                    } else {
                        check_point(&new_site, point.as_deref())?;
                    }
                    let old_plan = crate::plan::plan(&old_site, &cats);
                    crate::report::build_diff(
                        (&old_plan, &old_site),
                        (&new_plan, &new_site),
                        &cats,
                        point.as_deref(),
                        lang,
                    )
                }
                None => {
                    check_point(&new_site, point.as_deref())?;
                    crate::report::build(&new_plan, &new_site, &cats, point.as_deref(), lang)
                }
            };
            let text = match format {
                ReportFormat::Xlsx => {
                    let bytes = crate::report::xlsx::render(&report)?;
                    let path = output.as_deref().expect("checked above");
                    crate::fsutil::write_output(path, &bytes)?;
                    return Ok(EXIT_OK);
                }
                ReportFormat::Md => crate::report::markdown::render(&report),
                ReportFormat::Html => crate::report::html::render(&report),
                ReportFormat::Svg => crate::report::svg::render(&report),
                ReportFormat::Dot => crate::report::dot::render(&report),
            };
            match output {
                Some(path) => crate::fsutil::write_output(path, text.as_bytes())?,
                None => print(&text),
            }
        }
        Command::Ports(args) => {
            let cats = catalogs(&cli)?;
            let deps = deployments(&cats, &args.products, &args.set, &args.roles)?;
            let report = ports_report(&deps);
            print(&output::ports::render(&report, &cats, args.format, lang));
        }
    }
    Ok(EXIT_OK)
}

/// The site, its plan and the host `--as` / `--from` names.
fn host_plan(
    cli: &Cli,
    site: &std::path::Path,
    host: &str,
) -> Result<(crate::site::Site, crate::plan::Plan, crate::verify::Host)> {
    let cats = catalogs(cli)?;
    let site = crate::site::load_path(site, &cats)?;
    let plan = crate::plan::plan(&site, &cats);
    let host = crate::verify::resolve_host(&site, host)?;
    Ok((site, plan, host))
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
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

/// The enforcement point `--for` names, or the only one.
fn one_point<'s>(
    site: &'s crate::site::Site,
    point: Option<&str>,
) -> Result<&'s crate::site::EnforcementPoint> {
    match point {
        Some(id) => {
            check_point(site, Some(id))?;
            Ok(site.point(id).expect("checked"))
        }
        None if site.points.len() == 1 => Ok(&site.points[0]),
        None => {
            let ids: Vec<&str> = site.points.iter().map(|p| p.id.as_str()).collect();
            let list = ids.join(", ");
            Err(Error::usage(
                tr!(
                    "the site has several enforcement points: say which with --for",
                    "サイトに適用ポイントが複数あります: --for で指定してください"
                ),
                Some(tr!("enforcement points: {list}", "適用ポイント: {list}")),
            ))
        }
    }
}

/// A usage error unless `point` names an enforcement point of the site.
fn check_point(site: &crate::site::Site, point: Option<&str>) -> Result<()> {
    let Some(id) = point else { return Ok(()) };
    if site.point(id).is_some() {
        return Ok(());
    }
    let ids: Vec<&str> = site.points.iter().map(|p| p.id.as_str()).collect();
    let hint = closest(id, ids.iter().copied())
        .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
        .unwrap_or_default();
    let list = ids.join(", ");
    Err(Error::usage(
        Text::new(
            format!("site has no enforcement point `{id}`{}", hint.en),
            format!("サイトに適用ポイント `{id}` はありません{}", hint.ja),
        ),
        Some(tr!("enforcement points: {list}", "適用ポイント: {list}")),
    ))
}

/// Resolve products, `--set` and `--roles` into deployments.
pub fn deployments<'c>(
    cats: &'c Catalogs,
    products: &[String],
    sets: &[String],
    roles: &[String],
) -> Result<Vec<Deployment<'c>>> {
    let mut deps: Vec<Deployment<'c>> = Vec::new();
    for p in products {
        let c = cats.get(p)?;
        if !deps.iter().any(|d| d.catalog.id == c.id) {
            deps.push(Deployment::new(c));
        }
    }
    for s in sets {
        let Some((name, value)) = s.split_once('=') else {
            return Err(Error::usage(
                tr!(
                    "`--set {s}` is not OPTION=VALUE",
                    "`--set {s}` が OPTION=VALUE の形ではありません"
                ),
                Some(tr!(
                    "e.g. --set rpc_ports=fixed",
                    "例: --set rpc_ports=fixed"
                )),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        let targets: Vec<usize> = match name.split_once('.') {
            Some((prod, opt)) => {
                let i = deps
                    .iter()
                    .position(|d| d.catalog.id == prod)
                    .ok_or_else(|| {
                        Error::usage(
                            tr!(
                                "`--set {s}`: product `{prod}` is not among the products asked for",
                                "`--set {s}`: 製品 `{prod}` は指定されていません"
                            ),
                            None,
                        )
                    })?;
                set_one(&mut deps[i], s, opt, value)?;
                continue;
            }
            None => deps
                .iter()
                .enumerate()
                .filter(|(_, d)| d.catalog.option(name).is_some())
                .map(|(i, _)| i)
                .collect(),
        };
        match targets.as_slice() {
            [i] => set_one(&mut deps[*i], s, name, value)?,
            [] => {
                let all: Vec<String> = deps
                    .iter()
                    .flat_map(|d| {
                        d.catalog
                            .options
                            .iter()
                            .map(move |o| format!("{}.{}", d.catalog.id, o.id))
                    })
                    .collect();
                let short: Vec<&str> = deps
                    .iter()
                    .flat_map(|d| d.catalog.options.iter().map(|o| o.id.as_str()))
                    .collect();
                let hint = closest(name, short.iter().copied())
                    .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                    .unwrap_or_default();
                let list = all.join(", ");
                return Err(Error::usage(
                    Text::new(
                        format!("`--set {s}`: unknown option `{name}`{}", hint.en),
                        format!("`--set {s}`: オプション `{name}` はありません{}", hint.ja),
                    ),
                    Some(tr!("options: {list}", "指定できるオプション: {list}")),
                ));
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|i| format!("{}.{name}", deps[*i].catalog.id))
                    .collect();
                let list = names.join(", ");
                return Err(Error::usage(
                    tr!(
                        "`--set {s}`: several products have option `{name}`",
                        "`--set {s}`: オプション `{name}` は複数の製品にあります"
                    ),
                    Some(tr!("qualify it: {list}", "製品名を付けてください: {list}")),
                ));
            }
        }
    }
    if !roles.is_empty() {
        let mut chosen: Vec<BTreeSet<String>> = vec![BTreeSet::new(); deps.len()];
        for r in roles.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
            let (prod, role) = match r.split_once('.') {
                Some((p, x)) => (Some(p), x),
                None => (None, r),
            };
            let mut found = false;
            for (i, d) in deps.iter().enumerate() {
                if prod.is_none_or(|p| p == d.catalog.id) && d.catalog.role(role).is_some() {
                    chosen[i].insert(role.to_string());
                    found = true;
                }
            }
            if !found {
                let all: Vec<&str> = deps
                    .iter()
                    .flat_map(|d| d.catalog.roles.iter().map(|x| x.id.as_str()))
                    .collect();
                let hint = closest(role, all.iter().copied())
                    .map(|c| tr!(" (did you mean `{c}`?)", " (`{c}` のことですか?)"))
                    .unwrap_or_default();
                let list = all.join(", ");
                return Err(Error::usage(
                    Text::new(
                        format!("`--roles`: unknown role `{r}`{}", hint.en),
                        format!("`--roles`: ロール `{r}` はありません{}", hint.ja),
                    ),
                    Some(tr!("roles: {list}", "指定できるロール: {list}")),
                ));
            }
        }
        for (d, set) in deps.iter_mut().zip(chosen) {
            d.roles = Some(set);
        }
    }
    Ok(deps)
}

fn set_one(dep: &mut Deployment<'_>, arg: &str, name: &str, value: &str) -> Result<()> {
    dep.options
        .set(&dep.catalog.options, name, value)
        .map_err(|e| {
            Error::usage(
                Text::new(
                    format!("`--set {arg}`: {}", e.message.en),
                    format!("`--set {arg}`: {}", e.message.ja),
                ),
                Some(e.help),
            )
        })
}
