//! `portplan explain` and `portplan diff` output.

use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::Catalogs;
use crate::diff::PointChanges;
use crate::explain::{Explanation, Query, reason_text};
use crate::i18n::Lang;
use crate::output::plan::{OpeningView, opening_view};
use crate::output::{Format, csv_text, md_table, new_table};
use crate::plan::Direction;
use crate::site::Site;
use crate::text::side_text;

fn query_text(q: &Query) -> String {
    match q {
        Query::Port { protocol, port } => format!("{protocol}/{port}"),
        Query::Packet {
            from,
            to,
            protocol,
            port,
        } => format!("{from} -> {to} {protocol}/{port}"),
        Query::Requirement { product, id } => {
            product.as_ref().map_or(id.clone(), |p| format!("{p}/{id}"))
        }
    }
}

fn dir_text(d: Direction, lang: Lang) -> &'static str {
    match d {
        Direction::Forward => lang.pick("forward", "転送"),
        Direction::In => lang.pick("in", "受信"),
        Direction::Out => lang.pick("out", "送信"),
    }
}

/// Render an explanation.
pub fn explanation(ex: &Explanation, format: Format, lang: Lang) -> String {
    if format == Format::Json {
        return serde_json::to_string_pretty(ex).unwrap_or_default() + "\n";
    }
    let md = format == Format::Md;
    let (h, li) = if md { ("## ", "- ") } else { ("", "  ") };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}{} {}",
        if md { "# " } else { "" },
        lang.pick("Query:", "問い合わせ:"),
        query_text(&ex.query)
    );
    if !ex.crossings.is_empty() {
        let _ = writeln!(
            out,
            "\n{h}{}",
            lang.pick("On its path", "経路上の適用ポイント")
        );
        for c in &ex.crossings {
            let verdict = if c.permitted {
                lang.pick("permitted", "許可")
            } else {
                lang.pick("NOT permitted", "許可されない")
            };
            let _ = writeln!(
                out,
                "{li}{} ({}): {verdict}",
                crate::escape::escape_line(&c.point),
                dir_text(c.direction, lang)
            );
        }
    } else if matches!(ex.query, Query::Packet { .. }) {
        let _ = writeln!(
            out,
            "\n{}",
            lang.pick(
                "No enforcement point of the site lies on its path.",
                "このサイトの適用ポイントはこの経路上にありません。"
            )
        );
    }
    let _ = writeln!(
        out,
        "\n{h}{}",
        lang.pick("Open because", "開放されている理由")
    );
    if ex.open.is_empty() {
        let _ = writeln!(
            out,
            "{li}{}",
            lang.pick("Nothing opens it.", "開放しているものはありません。")
        );
    }
    for o in &ex.open {
        let _ = writeln!(
            out,
            "{li}{} ({}): {} -> {} {} {}",
            crate::escape::escape_line(&o.point),
            dir_text(o.direction, lang),
            o.from.join(" "),
            o.to.join(" "),
            o.protocol,
            o.ports.join(",")
        );
        for p in &o.provenance {
            let because = crate::text::because_text(&p.because, lang);
            let _ = writeln!(
                out,
                "{li}    {} — {} {because} — {} {}",
                p.requirement,
                lang.pick("when", "条件:"),
                lang.pick("source", "根拠:"),
                p.source
            );
        }
    }
    if let (
        Some(nr),
        Query::Packet {
            from,
            to,
            protocol,
            port,
        },
    ) = (&ex.no_requirement, &ex.query)
    {
        let _ = writeln!(
            out,
            "\n{h}{}",
            lang.pick("Not open because", "開放されない理由")
        );
        let _ = writeln!(
            out,
            "{li}{}",
            crate::tr!(
                "No requirement of the site's products targets {to} on {protocol}/{port} from {from}: nothing needs this packet.",
                "このサイトの製品には、{from} から {to} への {protocol}/{port} を必要とする要件はありません: このパケットを必要とするものはありません。"
            )
            .get(lang)
        );
        for u in &nr.unknown {
            let a = &u.address;
            let side = if u.side == "from" {
                lang.pick("source", "送信元")
            } else {
                lang.pick("destination", "宛先")
            };
            let zone = u.zone.as_deref().unwrap_or("-");
            let _ = writeln!(
                out,
                "{li}{}",
                crate::tr!(
                    "The {side} {a} is in no role of the site's products (zone {zone}).",
                    "{side} {a} はこのサイトの製品のどのロールにも含まれません (ゾーン {zone})。"
                )
                .get(lang)
            );
        }
    }
    if !ex.not_open.is_empty() {
        let _ = writeln!(
            out,
            "\n{h}{}",
            lang.pick("Not open because", "開放されない理由")
        );
        for n in &ex.not_open {
            let _ = writeln!(
                out,
                "{li}{} ({}): {}",
                n.requirement,
                n.source,
                reason_text(&n.reason).get(lang)
            );
        }
    }
    out
}

#[derive(Serialize)]
struct DiffPoint<'a> {
    id: &'a str,
    target: &'a str,
    add: Vec<OpeningView<'a>>,
    remove: Vec<OpeningView<'a>>,
}

/// Render a diff. `new_site` labels zones (the old one for removals is close enough for labels).
pub fn diff(
    changes: &[PointChanges],
    new_site: &Site,
    catalogs: &Catalogs,
    format: Format,
    wrap: bool,
    lang: Lang,
) -> String {
    match format {
        Format::Json => {
            let v: Vec<DiffPoint<'_>> = changes
                .iter()
                .map(|c| DiffPoint {
                    id: &c.id,
                    target: c.target.as_str(),
                    add: c.add.iter().map(|o| opening_view(new_site, o)).collect(),
                    remove: c.remove.iter().map(|o| opening_view(new_site, o)).collect(),
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({ "enforcement_points": v }))
                .unwrap_or_default()
                + "\n"
        }
        _ => {
            if changes.is_empty() {
                return lang
                    .pick("No changes.\n", "変更はありません。\n")
                    .to_string();
            }
            let header: Vec<String> = [
                ("Point", "適用ポイント"),
                ("Change", "変更"),
                ("Dir", "方向"),
                ("From", "送信元"),
                ("To", "宛先"),
                ("Proto", "プロトコル"),
                ("Ports", "ポート"),
                ("Requirements", "要件"),
            ]
            .iter()
            .map(|(e, j)| lang.pick(e, j).to_string())
            .collect();
            let mut rows = Vec::new();
            for c in changes {
                for (ops, label) in [
                    (&c.add, lang.pick("add", "追加")),
                    (&c.remove, lang.pick("remove", "削除")),
                ] {
                    for o in ops {
                        let csv = format == Format::Csv;
                        rows.push(vec![
                            c.id.clone(),
                            label.to_string(),
                            dir_text(o.direction, lang).to_string(),
                            if csv {
                                o.from.cidrs().join(" ")
                            } else {
                                side_text(new_site, catalogs, &o.from_roles, &o.from, lang, 6)
                            },
                            if csv {
                                o.to.cidrs().join(" ")
                            } else {
                                side_text(new_site, catalogs, &o.to_roles, &o.to, lang, 6)
                            },
                            o.protocol.to_string(),
                            o.ports.to_strings().join(", "),
                            o.requirements().join(if csv { " " } else { "\n" }),
                        ]);
                    }
                }
            }
            match format {
                Format::Csv => csv_text(&header, &rows),
                Format::Md => md_table(&header, &rows),
                _ => {
                    let mut t = new_table(header, wrap);
                    for r in rows {
                        t.add_row(crate::output::row(r));
                    }
                    format!("{t}\n")
                }
            }
        }
    }
}
