//! Arguments shared by several commands, and the clap mirrors of the stages' enums.
//!
//! Each shared argument is one struct, flattened into the commands that take it
//! (`#[command(flatten)]`), so its name and its help (English / Japanese) are written once.
//! What a flag means for one command in particular goes in that command's own help.
//!
//! The stages do not depend on clap: each enum a flag takes has a mirror here with the same
//! variants, converted with `From`. The mirrors' doc comments are the help of the values
//! (`--help` shows them), in both languages. The reverse `From` is there so that a variant
//! added to a stage enum fails to compile until its mirror has it too.

use std::path::{Path, PathBuf};

use crate::app::{Context, Loaded};
use crate::diag::Result;

/// The site file, the first positional argument of the commands that read one.
#[derive(Debug, clap::Args)]
pub struct SiteArg {
    /// Site file (YAML) / サイト定義ファイル (YAML)
    site: PathBuf,
}

impl SiteArg {
    /// Read, check and plan the site.
    pub fn load(&self, ctx: &Context) -> Result<Loaded> {
        super::load_site(ctx, &self.site)
    }
}

/// `--for POINT`.
#[derive(Debug, clap::Args)]
pub struct PointArg {
    /// Enforcement point: only this one, or the one to use when the site has several / 適用ポイント (対象の絞り込み、または複数あるときの指定)
    #[arg(long = "for", value_name = "POINT")]
    point: Option<String>,
}

impl PointArg {
    /// The point's id, as given.
    pub fn id(&self) -> Option<&str> {
        self.point.as_deref()
    }
}

/// `-o FILE`.
#[derive(Debug, clap::Args)]
pub struct OutputArg {
    /// Write the output to FILE, atomically: all of it or, on failure, nothing / 出力ファイル (アトミックに書き込み)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

impl OutputArg {
    /// The file, if one was given.
    pub fn path(&self) -> Option<&Path> {
        self.output.as_deref()
    }
}

/// `--format` of the commands that print data: table, JSON, CSV or Markdown.
#[derive(Debug, clap::Args)]
pub struct FormatArg {
    /// Output format / 出力形式
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

impl FormatArg {
    /// The format.
    pub fn get(&self) -> crate::output::Format {
        self.format.into()
    }
}

/// `--format` of `listen` and `probe`: table, JSON or JUnit.
#[derive(Debug, clap::Args)]
pub struct VerifyFormatArg {
    /// Output format / 出力形式
    #[arg(long, value_enum, default_value_t)]
    format: VerifyFormat,
}

impl VerifyFormatArg {
    /// The format.
    pub fn get(&self) -> crate::output::verify::VerifyFormat {
        self.format.into()
    }
}

/// `--format` of `render`: the configuration or the rule IR.
#[derive(Debug, clap::Args)]
pub struct RenderFormatArg {
    /// Output format / 出力形式
    #[arg(long, value_enum, default_value_t = RenderFormat::Text)]
    format: RenderFormat,
}

impl RenderFormatArg {
    /// The format.
    pub fn get(&self) -> RenderFormat {
        self.format
    }
}

/// What `render` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RenderFormat {
    /// The target's configuration / FW 設定
    Text,
    /// The typed rule IR / 型付きのルール IR
    Json,
}

/// `--format` of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportFormatArg {
    /// Output format (default: from the -o extension, else md) / 出力形式 (既定: -o の拡張子、なければ md)
    #[arg(long, value_enum)]
    format: Option<ReportFormat>,
}

impl ReportFormatArg {
    /// The format, if one was given.
    pub fn get(&self) -> Option<crate::report::ReportFormat> {
        self.format.map(Into::into)
    }
}

/// A clap mirror of a stage enum: the same variants in the same order.
macro_rules! mirror {
    (
        $(#[$meta:meta])*
        enum $name:ident => $stage:ty {
            $( $(#[$vmeta:meta])* $variant:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl From<$name> for $stage {
            fn from(v: $name) -> $stage {
                match v {
                    $( $name::$variant => <$stage>::$variant, )*
                }
            }
        }

        impl From<$stage> for $name {
            fn from(v: $stage) -> $name {
                match v {
                    $( <$stage>::$variant => $name::$variant, )*
                }
            }
        }
    };
}

mirror! {
    /// Output language ([`crate::i18n::Lang`]).
    enum Lang => crate::i18n::Lang {
        /// English / 英語
        En,
        /// 日本語.
        Ja,
    }
}

mirror! {
    /// Output format of data-printing commands ([`crate::output::Format`]).
    #[derive(Default)]
    enum Format => crate::output::Format {
        /// Human-readable table / 表
        #[default]
        Table,
        /// JSON (stable schema, see README) / JSON (安定したスキーマ、README 参照)
        Json,
        /// CSV, one row per port range / CSV (ポート範囲ごとに 1 行)
        Csv,
        /// Markdown, for tickets and wikis / Markdown (チケット・Wiki 向け)
        Md,
    }
}

mirror! {
    /// How listen and probe results are printed ([`crate::output::verify::VerifyFormat`]).
    #[derive(Default)]
    enum VerifyFormat => crate::output::verify::VerifyFormat {
        /// Human-readable / 表
        #[default]
        Table,
        /// JSON (listen: one JSON object per line, `ready` then `done`) / JSON (listen は 1 行に 1 オブジェクト、`ready` と `done`)
        Json,
        /// JUnit XML, for CI pipelines (probe only) / JUnit XML (CI 向け、probe のみ)
        Junit,
    }
}

mirror! {
    /// Output format of `portplan report` ([`crate::report::ReportFormat`]).
    enum ReportFormat => crate::report::ReportFormat {
        /// Excel workbook: a summary, the options, one sheet per enforcement point / Excel ブック (概要、オプション、適用ポイントごとのシート)
        Xlsx,
        /// Markdown
        Md,
        /// Self-contained HTML (inline CSS and SVG diagram) / 単体で表示できる HTML (CSS と SVG 構成図を内蔵)
        Html,
        /// The diagram as SVG / 構成図 (SVG)
        Svg,
        /// The diagram as Graphviz DOT / 構成図 (Graphviz DOT)
        Dot,
    }
}

mirror! {
    /// Render target ([`crate::site::Target`]).
    enum Target => crate::site::Target {
        /// nftables (`nft -f`).
        Nftables,
        /// iptables-restore / ip6tables-restore.
        Iptables,
        /// Windows Defender Firewall (PowerShell).
        Windows,
        /// Cisco IOS extended ACLs / Cisco IOS 拡張 ACL
        CiscoIos,
        /// firewalld.
        Firewalld,
    }
}

mirror! {
    /// How a rendered file meets an existing firewall ([`crate::render::Mode`]).
    enum Mode => crate::render::Mode {
        /// The file owns what it writes (its table, the filter table, whole ACLs) and replaces it / ファイルが書く対象 (専用テーブル、filter テーブル、ACL 全体) を置き換える
        Replace,
        /// portplan's rules in a chain or ACL section of their own, added next to what exists, plus one hook-up / 既存の設定の横に portplan 専用のチェーン・ACL エントリを追加し、1 か所だけ接続する
        Merge,
    }
}

mirror! {
    /// Input format of `portplan audit` ([`crate::audit::Kind`]).
    enum Kind => crate::audit::Kind {
        /// `nft -j list ruleset`.
        NftJson,
        /// `iptables-save`.
        IptablesSave,
        /// `ip6tables-save`.
        Ip6tablesSave,
    }
}

mirror! {
    /// A transport protocol ([`crate::catalog::Protocol`]).
    enum Protocol => crate::catalog::Protocol {
        Tcp,
        Udp,
    }
}
