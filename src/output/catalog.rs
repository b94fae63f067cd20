//! `portplan catalog list | show` output.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::json;

use crate::catalog::{Catalog, Catalogs, PortRef, ProtocolRef};
use crate::i18n::Lang;
use crate::options::OptionKind;
use crate::output::{Format, md_table, new_table};
use crate::text::severity_text;

/// `catalog list`: each product with the vendor documents it follows (title, URL, the product
/// version covered).
pub fn list(catalogs: &Catalogs, format: Format, wrap: bool, lang: Lang) -> String {
    let header: Vec<String> = [
        lang.pick("Product", "製品"),
        lang.pick("Name", "名称"),
        lang.pick("Vendor", "ベンダー"),
        lang.pick("Product version", "対象バージョン"),
        lang.pick("Document", "資料"),
        "URL",
        lang.pick("Requirements", "要件数"),
        lang.pick("Origin", "定義元"),
    ]
    .map(String::from)
    .to_vec();
    // Sources joined by "; " (cells are one line: control characters are escaped).
    let docs = |c: &Catalog| -> [String; 3] {
        let join = |f: &dyn Fn(&crate::catalog::SourceDoc) -> String| {
            c.sources.iter().map(f).collect::<Vec<_>>().join("; ")
        };
        [
            join(&|s| s.version.clone().unwrap_or_else(|| "-".into())),
            join(&|s| s.title.get(lang).to_string()),
            join(&|s| s.url.clone().unwrap_or_else(|| "-".into())),
        ]
    };
    let rows: Vec<Vec<String>> = catalogs
        .iter()
        .map(|c| {
            let [version, title, url] = docs(c);
            vec![
                c.id.clone(),
                c.name.get(lang).to_string(),
                c.vendor.clone(),
                version,
                title,
                url,
                c.requirements.len().to_string(),
                c.origin.clone(),
            ]
        })
        .collect();
    match format {
        Format::Json => {
            let v: Vec<_> = catalogs
                .iter()
                .map(|c| json!({"id": c.id, "name": c.name, "vendor": c.vendor, "sources": c.sources, "requirements": c.requirements.len(), "origin": c.origin}))
                .collect();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Md => md_table(&header, &rows),
        Format::Csv => crate::output::csv_text(&header, &rows),
        Format::Table => {
            let mut t = new_table(header, wrap);
            for r in rows {
                t.add_row(crate::output::row(r));
            }
            format!("{t}\n")
        }
    }
}

/// How a requirement's ports read in a catalog listing: `135`, `{service_port}`, `389,3268 (when not ldap_ssl)`.
pub fn ports_text(items: &[PortRef]) -> String {
    items
        .iter()
        .map(|p| match p {
            PortRef::Fixed(s) => s.to_string(),
            PortRef::Option(o) => format!("{{{o}}}"),
            PortRef::When(c, inner) => format!("{} ({c})", ports_text(inner)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn protocol_text(p: &ProtocolRef) -> String {
    match p {
        ProtocolRef::Fixed(ps) => ps.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("+"),
        ProtocolRef::Option(o) => format!("{{{o}}}"),
    }
}

#[derive(Serialize)]
struct ShowRequirement<'a> {
    id: &'a str,
    purpose: &'a crate::i18n::Text,
    from: &'a [String],
    to: &'a [String],
    both_ways: bool,
    protocol: String,
    ports: String,
    when: String,
    notes: &'a crate::i18n::Text,
    source: String,
    findings: Vec<serde_json::Value>,
}

/// `catalog show PRODUCT`.
pub fn show(c: &Catalog, format: Format, wrap: bool, lang: Lang) -> String {
    if format == Format::Json {
        let options: Vec<_> = c
            .options
            .iter()
            .map(|o| {
                let values = match &o.kind {
                    OptionKind::Choice(v) => Some(v.clone()),
                    _ => None,
                };
                json!({"id": o.id, "type": o.kind.name(), "values": values, "default": o.default, "description": o.description})
            })
            .collect();
        let reqs: Vec<_> = c
            .requirements
            .iter()
            .map(|r| ShowRequirement {
                id: &r.id,
                purpose: &r.purpose,
                from: &r.from,
                to: &r.to,
                both_ways: r.both_ways,
                protocol: protocol_text(&r.protocol),
                ports: ports_text(&r.ports),
                when: r.when.to_string(),
                notes: &r.notes,
                source: r.source.to_string(),
                findings: r
                    .findings
                    .iter()
                    .map(|f| json!({"severity": f.severity, "message": f.message}))
                    .collect(),
            })
            .collect();
        let v = json!({
            "id": c.id, "name": c.name, "vendor": c.vendor, "summary": c.summary, "origin": c.origin,
            "sources": c.sources, "options": options, "roles": c.roles, "requirements": reqs,
        });
        return serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    }
    let md = format == Format::Md;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}{} ({}) — {}",
        if md { "# " } else { "" },
        crate::escape::escape_line(c.name.get(lang)),
        c.id,
        crate::escape::escape_line(&c.vendor)
    );
    if let Some(s) = &c.summary {
        let _ = writeln!(out, "\n{}", s.get(lang));
    }
    let section = |out: &mut String, title: &str, header: Vec<String>, rows: Vec<Vec<String>>| {
        let _ = writeln!(out, "\n{}{title}\n", if md { "## " } else { "" });
        if md {
            out.push_str(&md_table(&header, &rows));
        } else {
            let mut t = new_table(header, wrap);
            for r in rows {
                t.add_row(crate::output::row(r));
            }
            let _ = writeln!(out, "{t}");
        }
    };
    let h = |xs: &[(&str, &str)]| {
        xs.iter()
            .map(|(e, j)| lang.pick(e, j).to_string())
            .collect::<Vec<_>>()
    };
    section(
        &mut out,
        lang.pick("Options", "オプション"),
        h(&[
            ("Option", "オプション"),
            ("Type", "型"),
            ("Values", "値"),
            ("Default", "既定値"),
            ("Meaning", "意味"),
        ]),
        c.options
            .iter()
            .map(|o| {
                vec![
                    o.id.clone(),
                    o.kind.name().into(),
                    o.kind.allowed(),
                    o.default.to_string(),
                    o.description.get(lang).into(),
                ]
            })
            .collect(),
    );
    section(
        &mut out,
        lang.pick("Roles", "ロール"),
        h(&[
            ("Role", "ロール"),
            ("Name", "名称"),
            ("Zone", "ゾーン"),
            ("Default endpoints", "既定の接続先"),
        ]),
        c.roles
            .iter()
            .map(|r| {
                let zone = format!("{:?}", r.zone).to_lowercase();
                vec![
                    r.id.clone(),
                    r.name.get(lang).into(),
                    zone,
                    r.endpoints.join(", "),
                ]
            })
            .collect(),
    );
    section(
        &mut out,
        lang.pick("Requirements", "要件"),
        h(&[
            ("Id", "ID"),
            ("From", "送信元"),
            ("To", "宛先"),
            ("Proto", "プロトコル"),
            ("Ports", "ポート"),
            ("When", "条件"),
            ("Purpose", "用途"),
            ("Source", "根拠"),
        ]),
        c.requirements
            .iter()
            .map(|r| {
                let arrow = if r.both_ways { " <->" } else { "" };
                vec![
                    r.id.clone(),
                    format!("{}{arrow}", r.from.join(", ")),
                    r.to.join(", "),
                    protocol_text(&r.protocol),
                    ports_text(&r.ports),
                    r.when.to_string(),
                    r.purpose.get(lang).into(),
                    r.source.to_string(),
                ]
            })
            .collect(),
    );
    let findings: Vec<String> = c
        .requirements
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .map(|(r, f)| {
            format!(
                "[{}] {}: {}",
                severity_text(f.severity, lang),
                r.id,
                f.message.get(lang)
            )
        })
        .collect();
    if !findings.is_empty() {
        let _ = writeln!(
            out,
            "\n{}{}\n",
            if md { "## " } else { "" },
            lang.pick("Findings", "指摘事項")
        );
        for f in findings {
            let _ = writeln!(out, "{}{f}", if md { "- " } else { "  " });
        }
    }
    out
}
