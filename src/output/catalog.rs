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
            PortRef::Choice(o, _) => format!("{{{o}}}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An option's type as shown: the YAML keyword in English, its meaning in Japanese.
fn kind_text(k: &OptionKind, lang: Lang) -> &'static str {
    match k {
        OptionKind::Bool => lang.pick("bool", "真偽値"),
        OptionKind::Choice(_) => lang.pick("choice", "選択"),
        OptionKind::Port => lang.pick("port", "ポート"),
    }
}

/// An option's values as shown: `true, false`; a choice's values with the ports they open
/// (`postgresql → 5432, mysql → 3306`).
fn values_text(o: &crate::options::OptionDef, lang: Lang) -> String {
    match &o.kind {
        OptionKind::Choice(vs) if !o.ports.is_empty() => vs
            .iter()
            .map(|v| match o.ports.iter().find(|(k, _)| k == v) {
                Some((_, p)) => format!("{v} → {p}"),
                None => format!("{v} → {}", lang.pick("no port", "ポートなし")),
            })
            .collect::<Vec<_>>()
            .join(", "),
        OptionKind::Bool if lang == Lang::Ja => "true (はい), false (いいえ)".into(),
        OptionKind::Port if lang == Lang::Ja => "1～65535 または範囲 (例: 5000-5100)".into(),
        OptionKind::Port => "1-65535".into(),
        k => k.allowed(),
    }
}

/// A typical zone as shown.
fn zone_text(z: crate::catalog::ZoneHint, lang: Lang) -> &'static str {
    use crate::catalog::ZoneHint::*;
    match z {
        Internet => lang.pick("internet", "インターネット"),
        Intranet => lang.pick("intranet", "社内ネットワーク"),
        Any => lang.pick("any", "どちらでも"),
    }
}

/// A condition as shown: `always` is a word of the language, the rest is the syntax written
/// in the catalog.
fn when_text(e: &crate::condition::Expr, lang: Lang) -> String {
    if e.is_always() {
        lang.pick("always", "常に").to_string()
    } else {
        e.to_string()
    }
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
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a crate::i18n::Text>,
}

#[derive(Serialize)]
struct ShowClosed<'a> {
    id: &'a str,
    purpose: &'a crate::i18n::Text,
    /// `null`: every source.
    from: Option<&'a [String]>,
    to: &'a [String],
    protocol: String,
    ports: String,
    when: String,
    notes: Option<&'a crate::i18n::Text>,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a crate::i18n::Text>,
}

fn finding_json(f: &crate::catalog::Finding) -> serde_json::Value {
    let mut v = json!({"severity": f.severity, "message": f.message});
    if !f.when.is_always() {
        v["when"] = json!(f.when.to_string());
    }
    v
}

/// `catalog show PRODUCT`. In Japanese, roles are shown by name and types, zones and `always`
/// in words; conditions stay as written (they are the syntax of `--set` and site files).
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
                let ports: Option<serde_json::Map<String, serde_json::Value>> =
                    (!o.ports.is_empty()).then(|| {
                        o.ports
                            .iter()
                            .map(|(v, p)| (v.clone(), json!(p.to_strings())))
                            .collect()
                    });
                let mut v = json!({"id": o.id, "type": o.kind.name(), "values": values, "default": o.default, "description": o.description});
                if let Some(p) = ports {
                    v["ports"] = serde_json::Value::Object(p);
                }
                v
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
                findings: r.findings.iter().map(finding_json).collect(),
                service: r.service.as_ref(),
            })
            .collect();
        let closed: Vec<_> = c
            .closed
            .iter()
            .map(|k| ShowClosed {
                id: &k.id,
                purpose: &k.purpose,
                from: k.from.as_deref(),
                to: &k.to,
                protocol: protocol_text(&k.protocol),
                ports: ports_text(&k.ports),
                when: k.when.to_string(),
                notes: k.notes.as_ref(),
                source: k.source.to_string(),
                service: k.service.as_ref(),
            })
            .collect();
        let v = json!({
            "id": c.id, "name": c.name, "vendor": c.vendor, "summary": c.summary, "origin": c.origin,
            "sources": c.sources, "options": options, "roles": c.roles, "requirements": reqs,
            "closed": closed,
            "findings": c.findings.iter().map(finding_json).collect::<Vec<_>>(),
            "notes": c.notes,
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
    if let Some(n) = &c.notes {
        let _ = writeln!(out, "\n{}: {}", lang.pick("Note", "注記"), n.get(lang));
    }
    // Role ids in English (they are what sites and conditions use), names in Japanese.
    let role = |id: &String| -> String {
        match lang {
            Lang::Ja => c.role_name(id).get(lang).to_string(),
            _ => id.clone(),
        }
    };
    let roles = |ids: &[String]| ids.iter().map(role).collect::<Vec<_>>().join(", ");
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
                    kind_text(&o.kind, lang).into(),
                    values_text(o, lang),
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
                let zone = zone_text(r.zone, lang).to_string();
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
                    format!("{}{arrow}", roles(&r.from)),
                    roles(&r.to),
                    protocol_text(&r.protocol),
                    ports_text(&r.ports),
                    when_text(&r.when, lang),
                    r.purpose.get(lang).into(),
                    r.source.to_string(),
                ]
            })
            .collect(),
    );
    if !c.closed.is_empty() {
        section(
            &mut out,
            lang.pick(
                "Must stay closed (no opening)",
                "閉じたままにするポート (開放不要)",
            ),
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
            c.closed
                .iter()
                .map(|k| {
                    vec![
                        k.id.clone(),
                        k.from.as_ref().map_or_else(
                            || lang.pick("any source", "すべての送信元").to_string(),
                            |f| roles(f),
                        ),
                        roles(&k.to),
                        protocol_text(&k.protocol),
                        ports_text(&k.ports),
                        when_text(&k.when, lang),
                        k.purpose.get(lang).into(),
                        k.source.to_string(),
                    ]
                })
                .collect(),
        );
    }
    // Notes and service names of the requirements and closed entries: in JSON they always
    // were; the text shows them too.
    let bullet = if md { "- " } else { "  " };
    let notes: Vec<String> = c
        .requirements
        .iter()
        .map(|r| (&r.id, &r.service, Some(&r.notes)))
        .chain(
            c.closed
                .iter()
                .map(|k| (&k.id, &k.service, k.notes.as_ref())),
        )
        .filter_map(|(id, service, notes)| {
            let service = service
                .as_ref()
                .map(|s| format!(" [{}: {}]", lang.pick("service", "サービス"), s.get(lang)))
                .unwrap_or_default();
            let notes = notes.map(|n| n.get(lang)).filter(|n| !n.is_empty());
            (!service.is_empty() || notes.is_some())
                .then(|| format!("{id}{service}: {}", notes.unwrap_or("-")))
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}{}\n",
            if md { "## " } else { "" },
            lang.pick("Notes", "注記")
        );
        for n in notes {
            let _ = writeln!(out, "{bullet}{n}");
        }
    }
    let cond = |w: &crate::condition::Expr| {
        if w.is_always() {
            String::new()
        } else {
            format!(" ({} {w})", lang.pick("when", "条件:"))
        }
    };
    let findings: Vec<String> = c
        .requirements
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r.id.as_str(), f)))
        .chain(c.findings.iter().map(|f| (c.id.as_str(), f)))
        .map(|(id, f)| {
            format!(
                "[{}] {id}{}: {}",
                severity_text(f.severity, lang),
                cond(&f.when),
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
