//! `portplan fleet`: the Ansible files of a fleet run; `portplan fleet merge`: its answer.

use std::path::{Path, PathBuf};

use crate::app;
use crate::app::fleet::FleetRequest;
use crate::cli::args::OutputArg;
use crate::cli::{Global, print, read_source};
use crate::diag::{EXIT_NOT_AS_REQUIRED, EXIT_OK, Error, Result};
use crate::fleet::FleetOptions;
use crate::fleet::render::MergeFormat;
use crate::i18n::Lang;
use crate::tr;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    merge: Option<Sub>,
    #[command(flatten)]
    generate: Generate,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Merge the fetched results: one answer per enforcement point and opening / 結果の統合
    ///
    /// Exit 1 when a required flow failed or a must-be-closed port answered.
    ///
    /// 必要な通信の失敗、または閉じるべきポートの応答があれば終了コード 1 です。
    Merge(Merge),
}

#[derive(Debug, clap::Args)]
struct Generate {
    /// Site file (YAML) / サイト定義ファイル (YAML)
    #[arg(required = true)]
    site: Option<PathBuf>,
    /// Directory to write the inventory, playbook, vars, ansible.cfg and site into / 出力ディレクトリ
    #[arg(short = 'o', long = "output", value_name = "DIR", required = true)]
    dir: Option<PathBuf>,
    /// Map the site's addresses onto this inventory (INI, YAML, or `ansible-inventory --list` JSON) / 既存インベントリへの対応付け
    #[arg(long, value_name = "INVENTORY")]
    inventory: Option<PathBuf>,
    /// The portplan binary to copy to the hosts (default: this one) / ホストにコピーする portplan
    #[arg(long, value_name = "FILE")]
    binary: Option<PathBuf>,
    /// Work directory on the hosts / ホスト上の作業ディレクトリ
    #[arg(long, default_value = "/var/tmp/portplan", value_name = "DIR")]
    remote_dir: String,
    /// How long listeners stay up at most (e.g. 30m) / 待ち受けの最大時間
    #[arg(long, default_value = "30m", value_parser = crate::verify::parse_duration)]
    listen_duration: std::time::Duration,
    /// Per-probe timeout / プローブのタイムアウト
    #[arg(long, default_value = "1s", value_parser = crate::verify::parse_duration)]
    timeout: std::time::Duration,
    /// New probes per second per host (1-20000) / ホストごとの毎秒の最大プローブ数
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Probes in flight per host (1-1024) / ホストごとの同時実行数
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// New probes per second over the whole fleet: probers at once = total / rate / 全体の毎秒の最大プローブ数
    #[arg(long, default_value_t = 2000)]
    total_rate: u32,
    /// Ansible forks (1-1000) / Ansible の forks
    #[arg(long, default_value_t = 50)]
    forks: u32,
    /// Hosts per batch of the probe play / probe プレイの 1 バッチのホスト数
    #[arg(long, default_value_t = 100)]
    serial: u32,
    /// Seconds one host's probe may run before Ansible stops it / 1 ホストの probe の制限時間 (秒)
    #[arg(long, default_value_t = 900)]
    probe_task_timeout: u32,
    /// SSH connection timeout, seconds / SSH 接続のタイムアウト (秒)
    #[arg(long, default_value_t = 30)]
    ssh_timeout: u32,
}

#[derive(Debug, clap::Args)]
struct Merge {
    /// Site file (YAML): DIR/site.yaml / サイト定義ファイル (DIR/site.yaml)
    site: PathBuf,
    /// Result files (`probe --format json`): DIR/results/*.json / 結果ファイル
    #[arg(required = true, value_name = "RESULT")]
    results: Vec<PathBuf>,
    /// Output format / 出力形式
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    output: OutputArg,
}

/// How `fleet merge` prints ([`MergeFormat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
enum Format {
    /// Human-readable table / 表
    #[default]
    Table,
    /// JSON / JSON
    Json,
    /// JUnit XML, for CI pipelines / JUnit XML (CI 向け)
    Junit,
    /// An XLSX workbook (needs -o) / XLSX ブック (-o が必要)
    Xlsx,
}

impl From<Format> for MergeFormat {
    fn from(f: Format) -> MergeFormat {
        match f {
            Format::Table => MergeFormat::Table,
            Format::Json => MergeFormat::Json,
            Format::Junit => MergeFormat::Junit,
            Format::Xlsx => MergeFormat::Xlsx,
        }
    }
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    match args.merge {
        Some(Sub::Merge(m)) => merge(m, g, lang),
        None => generate(args.generate, g, lang),
    }
}

fn generate(a: Generate, g: &Global, lang: Lang) -> Result<u8> {
    let (Some(site_path), Some(dir)) = (a.site, a.dir) else {
        return Err(Error::usage(
            tr!("give SITE and -o DIR", "SITE と -o DIR を指定してください"),
            None,
        ));
    };
    let binary = match a.binary {
        Some(b) => b,
        None => std::env::current_exe().map_err(|e| Error::io("portplan", e))?,
    };
    let options = FleetOptions {
        binary: binary.display().to_string(),
        remote_dir: a.remote_dir,
        listen_duration: a.listen_duration,
        probe_timeout: a.timeout,
        probe_rate: a.rate,
        probe_concurrency: a.concurrency,
        total_rate: a.total_rate,
        forks: a.forks,
        serial: a.serial,
        probe_task_timeout: a.probe_task_timeout,
        ssh_timeout: a.ssh_timeout,
    };
    options.check()?;
    if !binary.is_file() {
        let b = crate::escape::escape_line(&binary.display().to_string()).into_owned();
        return Err(Error::usage(
            tr!(
                "--binary {b} is not a file",
                "--binary {b} はファイルではありません"
            ),
            None,
        ));
    }
    check_dir(&dir)?;
    let source = read_source(&site_path)?;
    let loaded = g.context()?.load(source.clone())?;
    let req = FleetRequest {
        inventory: a.inventory.as_deref().map(read_source).transpose()?,
        options,
    };
    let (fleet, files) = app::fleet::generate(&loaded, &source, &req)?;
    if fleet.hosts.is_empty() {
        return Err(Error::usage(
            tr!(
                "no host of the site listens or probes: nothing for Ansible to do",
                "サイトに待ち受け・検査するホストがありません: Ansible で実行することがありません"
            ),
            Some(if req.inventory.is_some() {
                tr!(
                    "the inventory's hosts need the site's addresses: ansible_host, their name, or portplan_addresses",
                    "インベントリのホストにサイトのアドレスが必要です: ansible_host、ホスト名、または portplan_addresses"
                )
            } else {
                tr!(
                    "roles written as networks or names need --inventory to map their hosts",
                    "ネットワークや名前で書かれたロールは --inventory でホストを対応付けてください"
                )
            }),
        ));
    }
    // DIR itself is made (with what goes under it), not the directory it is to be in.
    crate::fsutil::check_output_dir(&dir)?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let paths: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|(name, text)| (dir.join(name), text))
        .collect();
    crate::fsutil::write_all_atomic(&paths)?;
    print(&crate::fleet::render::summary(
        &fleet,
        &req.options,
        &dir,
        lang,
    ));
    Ok(EXIT_OK)
}

/// `-o DIR` must be a directory or not exist yet.
fn check_dir(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => {
            let d = crate::escape::escape_line(&dir.display().to_string()).into_owned();
            Err(Error::usage(
                tr!(
                    "-o {d} is not a directory: fleet writes several files into a directory",
                    "-o {d} はディレクトリではありません: fleet はディレクトリに複数のファイルを書き込みます"
                ),
                None,
            ))
        }
        Err(_) => Ok(()),
    }
}

fn merge(m: Merge, g: &Global, lang: Lang) -> Result<u8> {
    let format: MergeFormat = m.format.into();
    let output = m.output.path();
    if format == MergeFormat::Xlsx && output.is_none() {
        return Err(Error::usage(
            tr!(
                "XLSX is binary: say where to write it with -o FILE",
                "XLSX はバイナリです: -o FILE で出力先を指定してください"
            ),
            None,
        ));
    }
    let loaded = g.context()?.load(read_source(&m.site)?)?;
    let results = m
        .results
        .iter()
        .map(|p| read_source(p))
        .collect::<Result<Vec<_>>>()?;
    let report = app::fleet::merge(&loaded, &results)?;
    if format == MergeFormat::Xlsx {
        let bytes = crate::fleet::render::xlsx(&report, lang).map_err(|e| {
            Error::usage(
                tr!(
                    "cannot write the workbook: {e}",
                    "ブックを書き出せません: {e}"
                ),
                None,
            )
        })?;
        if let Some(path) = output {
            crate::fsutil::write_output(path, &bytes)?;
        }
        print(&crate::fleet::render::text(
            &report,
            MergeFormat::Table,
            g.wrap,
            lang,
        ));
    } else {
        let text = crate::fleet::render::text(&report, format, g.wrap, lang);
        if let Some(path) = output {
            crate::fsutil::write_output(path, text.as_bytes())?;
        }
        print(&text);
    }
    Ok(if report.ok {
        EXIT_OK
    } else {
        EXIT_NOT_AS_REQUIRED
    })
}
