//! `portplan init`: a commented starter site — two zones, every role of the chosen products
//! with its description (roles on the internet mapped to `zone:internet`, the others to `[]`
//! until you give addresses), every option with its default and the values it takes, one
//! firewall and an empty `request:` block. On a terminal it asks for the products when
//! `--products` is not given; otherwise it takes them from the flag (default: every built-in
//! catalog). The file it writes is a valid site: `portplan plan` reads it as it is.

use std::fmt::Write as _;
use std::io::IsTerminal;

use crate::catalog::raw::ZoneHint;
use crate::catalog::{Catalog, Catalogs};
use crate::cli::args::OutputArg;
use crate::cli::{Global, print};
use crate::diag::{EXIT_OK, Error, Result};
use crate::i18n::Lang;
use crate::options::OptionKind;
use crate::tr;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Products to include, comma-separated (default: ask on a terminal, else every built-in catalog) / 含める製品 (カンマ区切り。既定: 端末なら質問、それ以外は組み込みカタログすべて)
    #[arg(long, value_name = "PRODUCTS", value_delimiter = ',')]
    products: Vec<String>,
    /// The site's name / サイト名
    #[arg(long, default_value = "my-site")]
    name: String,
    #[command(flatten)]
    output: OutputArg,
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn comment(s: &str) -> String {
    crate::report::strip_markdown(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The starter site for `products` in `lang`.
pub fn starter(name: &str, products: &[&Catalog], lang: Lang) -> String {
    let mut out = String::new();
    let t = |en: &str, ja: &str| lang.pick(en, ja).to_string();
    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=https://raw.githubusercontent.com/portplan/portplan/main/schema/site.schema.json"
    );
    let _ = writeln!(
        out,
        "# {}",
        t(
            "A starter site from `portplan init`: replace the example networks with yours, give each role its addresses, then run `portplan plan` on it.",
            "`portplan init` が作成したひな形です。例のネットワークを実際のものに置き換え、各ロールにアドレスを割り当ててから `portplan plan` を実行してください。"
        )
    );
    let _ = writeln!(out, "name: {}", yaml_str(name));
    let _ = writeln!(
        out,
        "description: {}",
        yaml_str(&t("What this site is.", "このサイトの説明。"))
    );
    let _ = writeln!(out, "\nzones:");
    let _ = writeln!(
        out,
        "  - id: clients\n    name: {}\n    cidrs: [192.168.10.0/24]   # {}",
        yaml_str(&t("Client LAN", "クライアント LAN")),
        t(
            "example: your client network",
            "例: クライアントのネットワーク"
        )
    );
    let _ = writeln!(
        out,
        "  - id: servers\n    name: {}\n    cidrs: [192.168.20.0/24]   # {}",
        yaml_str(&t("Servers", "サーバー")),
        t("example: your server network", "例: サーバーのネットワーク")
    );
    let _ = writeln!(out, "\nproducts:");
    for c in products {
        let _ = writeln!(
            out,
            "  - product: {}   # {}",
            c.id,
            comment(c.name.get(lang))
        );
        if c.options.is_empty() {
            let _ = writeln!(out, "    options: {{}}");
        } else {
            let _ = writeln!(out, "    options:");
        }
        for o in &c.options {
            let values = match &o.kind {
                OptionKind::Bool => "true, false".to_string(),
                OptionKind::Choice(v) => v.join(", "),
                OptionKind::Port => "1-65535".to_string(),
            };
            let _ = writeln!(
                out,
                "      # {}\n      # {}",
                comment(o.description.get(lang)),
                lang.pick(
                    &format!("values: {values}; default: {}", o.default),
                    &format!("値: {values}、既定値: {}", o.default)
                )
            );
            let default = match &o.default {
                crate::options::Value::Choice(s) => yaml_str(s),
                other => other.to_string(),
            };
            let _ = writeln!(out, "      {}: {default}", o.id);
        }
        let _ = writeln!(out, "    roles:");
        for r in &c.roles {
            let desc = r
                .description
                .as_ref()
                .map(|d| comment(d.get(lang)))
                .unwrap_or_default();
            let _ = writeln!(out, "      # {}: {desc}", comment(r.name.get(lang)));
            if !r.endpoints.is_empty() {
                // Left unmapped, the catalog's default (`pool.ntp.org`) applies.
                let list = r.endpoints.join(", ");
                let _ = writeln!(
                    out,
                    "      # {}: {}",
                    r.id,
                    lang.pick(
                        &format!("not mapped: the catalog's default {list} applies"),
                        &format!("未設定: カタログの既定値 {list} を使います")
                    )
                );
                continue;
            }
            let (value, note) = match r.zone {
                ZoneHint::Internet => (
                    "zone:internet".to_string(),
                    t(
                        "a cloud service on the internet",
                        "インターネット上のクラウドサービス",
                    ),
                ),
                _ => (
                    "[]".to_string(),
                    t(
                        "not deployed yet: give addresses, CIDRs or zone:NAME",
                        "未配置: アドレス、CIDR または zone:NAME を指定してください",
                    ),
                ),
            };
            let _ = writeln!(out, "      {}: {value}   # {note}", r.id);
        }
    }
    let _ = writeln!(
        out,
        "\nfirewalls:\n  - id: fw   # {}\n    between: [clients, servers]\n    target: nftables   # {}",
        t(
            "the firewall between the two zones",
            "2 つのゾーンの間のファイアウォール"
        ),
        t(
            "or iptables, windows, cisco-ios, firewalld",
            "ほかに iptables, windows, cisco-ios, firewalld"
        )
    );
    let _ = writeln!(
        out,
        "\n# {}\nrequest:\n  applicant: {}\n  # department: \n  # date: 2026-12-01\n  # planned_date: 2026-12-15\n  # valid_until: 2027-12-31\n  # purpose: \n  # approvers: [{}]",
        t(
            "For `portplan report`: the change request's paperwork.",
            "`portplan report` 用: 申請書の記載事項。"
        ),
        yaml_str(&t("Your name", "申請者名")),
        t("Approved, Reviewed, Prepared", "承認, 確認, 作成")
    );
    out
}

fn ask_products(cats: &Catalogs, lang: Lang) -> Result<Vec<String>> {
    let ids: Vec<String> = cats.iter().map(|c| c.id.clone()).collect();
    eprint!(
        "{} [{}]: ",
        lang.pick("Products (comma-separated)", "製品 (カンマ区切り)"),
        ids.join(",")
    );
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::io(std::path::Path::new("stdin"), e))?;
    let line = line.trim();
    Ok(if line.is_empty() {
        ids
    } else {
        line.split(',').map(|s| s.trim().to_string()).collect()
    })
}

pub fn run(args: Args, g: &Global, lang: Lang) -> Result<u8> {
    let ctx = g.context()?;
    let cats = &ctx.catalogs;
    let wanted = if !args.products.is_empty() {
        args.products.clone()
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        ask_products(cats, lang)?
    } else {
        cats.iter().map(|c| c.id.clone()).collect()
    };
    let mut chosen = Vec::new();
    for id in &wanted {
        let id = id.trim();
        if id.is_empty() {
            continue;
        }
        chosen.push(cats.get(id)?);
    }
    if chosen.is_empty() {
        return Err(Error::usage(
            tr!("no products chosen", "製品が選ばれていません"),
            Some(tr!(
                "e.g. portplan init --products devicelock,tmws",
                "例: portplan init --products devicelock,tmws"
            )),
        ));
    }
    let text = starter(&args.name, &chosen, lang);
    match args.output.path() {
        Some(p) if p != std::path::Path::new("-") => {
            crate::fsutil::write_output(p, text.as_bytes())?
        }
        _ => print(&text),
    }
    Ok(EXIT_OK)
}
