//! `portplan report`: a firewall request document (XLSX, Markdown, HTML) or a diagram (SVG,
//! DOT), written to stdout or, atomically, to `-o FILE`.

use std::path::{Path, PathBuf};

use crate::app;
use crate::app::report::ReportRequest;
use crate::cli::args::{OutputArg, PointArg, ReportFormatArg, SiteArg};
use crate::cli::{Global, load_site, print, read_source};
use crate::diag::{EXIT_OK, Error, Result};
use crate::i18n::Lang;
use crate::report::{Report, ReportFormat};
use crate::tr;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    site: SiteArg,
    #[command(flatten)]
    format: ReportFormatArg,
    #[command(flatten)]
    output: OutputArg,
    #[command(flatten)]
    point: PointArg,
    /// A change request: the openings to add and remove since the site OLD / 変更申請 (変更前のサイト)
    #[arg(long = "diff-from", value_name = "OLD")]
    diff_from: Option<PathBuf>,
    /// The request's paperwork (applicant, dates, validity, approvers): the fields of a site's `request:` block, replacing it / 申請情報 (申請者、日付、有効期限、承認欄): サイトの `request:` と同じ項目のファイル (サイトの指定を置き換え)
    #[arg(long = "request", value_name = "FILE")]
    request: Option<PathBuf>,
    /// Fill this Excel request form (your company's own) instead of portplan's workbook; needs --map and -o FILE.xlsx / この Excel 申請書の様式 (自社の様式) に記入する (--map と -o FILE.xlsx が必要)
    #[arg(long = "template", value_name = "FORM.xlsx", requires = "map")]
    template: Option<PathBuf>,
    /// Where the report goes in the form: `cells` (C3: applicant) and `rows` (start: A9, columns: {A: request_no, …}) / 様式のどこに何を書くか: `cells` (C3: applicant) と `rows` (start: A9, columns: {A: request_no, …})
    #[arg(long = "map", value_name = "MAP.yaml", requires = "template")]
    map: Option<PathBuf>,
}

/// Where the report goes: XLSX is binary, so only to a file; text to a file or stdout.
enum Dest<'a> {
    Xlsx(&'a Path),
    Text(fn(&Report) -> String, Option<&'a Path>),
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let output = args.output.path();
    if let (Some(form), Some(map)) = (&args.template, &args.map) {
        return fill_form(&args, form, map, g, lang);
    }
    let from_ext = match (args.format.get(), output) {
        (None, Some(path)) if path != Path::new("-") => {
            Some(ReportFormat::from_extension(path).ok_or_else(|| unknown_extension(path))?)
        }
        _ => None,
    };
    let format = args.format.get().or(from_ext).unwrap_or(ReportFormat::Md);
    let dest = match format {
        ReportFormat::Xlsx => Dest::Xlsx(output.ok_or_else(|| {
            Error::usage(
                tr!(
                    "XLSX is binary: say where to write it with -o FILE",
                    "XLSX はバイナリです: -o FILE で出力先を指定してください"
                ),
                Some(tr!(
                    "e.g. portplan report site.yaml --format xlsx -o request.xlsx",
                    "例: portplan report site.yaml --format xlsx -o request.xlsx"
                )),
            )
        })?),
        ReportFormat::Md => Dest::Text(crate::report::markdown::render, output),
        ReportFormat::Html => Dest::Text(crate::report::html::render, output),
        ReportFormat::Svg => Dest::Text(crate::report::svg::render, output),
        ReportFormat::Dot => Dest::Text(crate::report::dot::render, output),
    };
    let ctx = g.context()?;
    let loaded = args.site.load(ctx)?;
    let req = ReportRequest {
        point: args.point.id().map(str::to_string),
        diff_from: args.diff_from.map(|old| load_site(ctx, &old)).transpose()?,
        request: args.request.as_deref().map(read_source).transpose()?,
    };
    let report = app::report::report(ctx, &loaded, &req, lang)?;
    match dest {
        Dest::Xlsx(path) => {
            let bytes = crate::report::xlsx::render(&report)?;
            crate::fsutil::write_output(path, &bytes)?;
        }
        Dest::Text(render, Some(path)) => {
            crate::fsutil::write_output(path, render(&report).as_bytes())?
        }
        Dest::Text(render, None) => print(&render(&report)),
    }
    Ok(EXIT_OK)
}

/// `--template FORM.xlsx --map MAP.yaml -o OUT.xlsx`.
fn fill_form(args: &Args, form: &Path, map: &Path, g: &Global, lang: Lang) -> Result<u8> {
    let output = args
        .output
        .path()
        .filter(|p| *p != Path::new("-"))
        .ok_or_else(|| {
            Error::usage(
                tr!(
                    "the filled form is an XLSX workbook: say where to write it with -o FILE.xlsx",
                    "記入した様式は XLSX ブックです: -o FILE.xlsx で出力先を指定してください"
                ),
                None,
            )
        })?;
    if ReportFormat::from_extension(output) != Some(ReportFormat::Xlsx) {
        let name = output.display().to_string();
        return Err(Error::usage(
            tr!(
                "the filled form is an XLSX workbook, but `{name}` does not end in .xlsx",
                "記入した様式は XLSX ブックですが、`{name}` の拡張子が .xlsx ではありません"
            ),
            None,
        ));
    }
    if let Some(f) = args.format.get()
        && f != ReportFormat::Xlsx
    {
        return Err(Error::usage(
            tr!(
                "--template fills an Excel form: --format can only be xlsx",
                "--template は Excel の様式に記入します: --format は xlsx だけです"
            ),
            None,
        ));
    }
    let map = crate::report::template::load_map(read_source(map)?)?;
    let bytes = read_form(form)?;
    let ctx = g.context()?;
    let loaded = args.site.load(ctx)?;
    let req = ReportRequest {
        point: args.point.id().map(str::to_string),
        diff_from: args
            .diff_from
            .as_deref()
            .map(|old| load_site(ctx, old))
            .transpose()?,
        request: args.request.as_deref().map(read_source).transpose()?,
    };
    let report = app::report::report(ctx, &loaded, &req, lang)?;
    let filled = crate::report::template::fill(
        &bytes,
        &crate::escape::escape_controls(&form.display().to_string()),
        &map,
        &report,
    )?;
    crate::fsutil::write_output(output, &filled)?;
    Ok(EXIT_OK)
}

/// The form's bytes (at most [`crate::diag::MAX_INPUT_BYTES`]).
fn read_form(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(crate::diag::MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > crate::diag::MAX_INPUT_BYTES {
        let name = crate::escape::escape_controls(&path.display().to_string()).into_owned();
        return Err(Error::usage(
            tr!(
                "{name}: too large for an Excel form",
                "{name}: Excel の様式としては大きすぎます"
            ),
            None,
        ));
    }
    Ok(bytes)
}

/// `-o report.pdf` (or any extension no format has) without `--format`: refuse rather than
/// write Markdown into a file its name says is something else.
fn unknown_extension(path: &Path) -> Error {
    let name = path.display().to_string();
    let formats = ReportFormat::EXTENSIONS;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let message = if ext.is_empty() {
        tr!(
            "`{name}` has no extension, so the report format is unknown; the formats are {formats}",
            "`{name}` に拡張子がないため、レポートの形式が決まりません。形式は {formats} です"
        )
    } else if ext.eq_ignore_ascii_case("pdf") {
        tr!(
            "portplan does not write PDF (`{name}`); the formats are {formats}",
            "portplan は PDF を出力しません (`{name}`)。形式は {formats} です"
        )
    } else {
        tr!(
            "no report format has the extension `.{ext}` (`{name}`); the formats are {formats}",
            "拡張子 `.{ext}` のレポート形式はありません (`{name}`)。形式は {formats} です"
        )
    };
    Error::usage(
        message,
        Some(tr!(
            "name the file with one of those extensions, or give --format; for a PDF, write .xlsx or .html and print it to PDF",
            "これらの拡張子のファイル名にするか --format を指定してください。PDF が必要なら .xlsx か .html を出力して PDF に印刷してください"
        )),
    )
}
