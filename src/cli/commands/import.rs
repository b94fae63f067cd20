//! `portplan import`: a vendor's port table to a draft catalog and a review list.

use std::io::Read;
use std::path::PathBuf;

use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Error, Result, SourceFile, yaml_options};
use crate::i18n::Lang;
use crate::import::{self, Format, ImportRequest, Review};
use crate::tr;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Auto,
    Md,
    Csv,
    Tsv,
    Xlsx,
    Html,
    Text,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The vendor's table; `-` reads standard input / ベンダーの表 (`-` で標準入力)
    file: PathBuf,
    /// Input format / 入力形式
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// Product id of the draft / 下書きの製品 ID
    #[arg(long, value_name = "ID")]
    product: Option<String>,
    /// XLSX sheet (default: the first) / XLSX のシート
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// The table's subject, for 受信/送信 (default: found above the table) / 表の主体
    #[arg(long, value_name = "NAME")]
    subject: Option<String>,
    /// Also write the review list (YAML) to FILE / 確認リスト (YAML) の出力先
    #[arg(long, value_name = "FILE")]
    review: Option<PathBuf>,
    /// Apply the items marked `decision: accept` in this review list / 採用した確認項目を適用
    #[arg(long, value_name = "FILE")]
    apply_review: Option<PathBuf>,
    /// Where to write the draft catalog / 下書きカタログの出力先
    #[arg(short, long, value_name = "DRAFT.yaml")]
    output: PathBuf,
}

pub fn run(args: Args, _g: &Global, lang: Lang) -> Result<u8> {
    let (name, bytes) = if args.file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .take(crate::diag::MAX_INPUT_BYTES + 1)
            .read_to_end(&mut b)
            .map_err(|e| Error::io("-", e))?;
        ("stdin".to_string(), b)
    } else {
        let mut b = Vec::new();
        std::fs::File::open(&args.file)
            .and_then(|f| f.take(crate::diag::MAX_INPUT_BYTES + 1).read_to_end(&mut b))
            .map_err(|e| Error::io(&args.file, e))?;
        (args.file.display().to_string(), b)
    };
    if bytes.len() as u64 > crate::diag::MAX_INPUT_BYTES {
        return Err(import::ImportError::TooLarge.to_error(&name));
    }
    let apply =
        match &args.apply_review {
            Some(p) => {
                let text = crate::diag::read_text(p)?;
                let file = SourceFile::new(p.display().to_string(), text.clone());
                let r: Review = serde_saphyr::from_str_with_options(&text, yaml_options())
                    .map_err(|e| Error::Yaml {
                        file,
                        error: Box::new(e),
                    })?;
                Some(r)
            }
            None => None,
        };
    let req = ImportRequest {
        name,
        bytes,
        format: match args.format {
            FormatArg::Auto => Format::Auto,
            FormatArg::Md => Format::Md,
            FormatArg::Csv => Format::Csv,
            FormatArg::Tsv => Format::Tsv,
            FormatArg::Xlsx => Format::Xlsx,
            FormatArg::Html => Format::Html,
            FormatArg::Text => Format::Text,
        },
        product: args.product,
        sheet: args.sheet,
        subject: args.subject,
        apply,
    };
    let out = import::import(&req)?;
    let mut files = vec![(args.output.clone(), out.yaml.into_bytes())];
    if let Some(r) = &args.review {
        files.push((r.clone(), out.review.to_yaml().into_bytes()));
    }
    crate::fsutil::write_all_atomic(&files)?;
    print(&out.review.to_text(lang));
    if args.apply_review.is_some() {
        let n = out.applied;
        print(&format!(
            "{}\n",
            tr!(
                "applied {n} accepted item(s)",
                "採用済みの {n} 件を適用しました"
            )
            .get(lang)
        ));
    }
    Ok(EXIT_OK)
}
