//! `portplan plan` output.

use std::fmt::Write as _;

use serde::Serialize;

use crate::addr::AddrSet;
use crate::catalog::Catalogs;
use crate::flows::{ActiveFinding, ProductOptions};
use crate::i18n::{Lang, Text};
use crate::output::{Format, csv_text, md_table, new_table};
use crate::plan::{Direction, MustStayClosed, Opening, Plan, PointPlan, Provenance};
use crate::site::Site;
use crate::text::{severity_text, side_text};

/// JSON view of an opening (the plan IR plus zones and a flat requirement list).
#[derive(Serialize)]
pub struct OpeningView<'a> {
    direction: Direction,
    from: &'a AddrSet,
    to: &'a AddrSet,
    from_zones: Vec<String>,
    to_zones: Vec<String>,
    from_roles: Vec<&'a str>,
    to_roles: Vec<&'a str>,
    protocol: crate::catalog::Protocol,
    ports: &'a crate::portset::PortSet,
    requirements: Vec<String>,
    provenance: &'a [Provenance],
}

/// JSON view of an enforcement point.
#[derive(Serialize)]
pub struct PointView<'a> {
    id: &'a str,
    kind: &'a str,
    target: &'a str,
    openings: Vec<OpeningView<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    must_stay_closed: &'a [MustStayClosed],
}

#[derive(Serialize)]
struct PlanView<'a> {
    site: &'a str,
    products: &'a [ProductOptions],
    enforcement_points: Vec<PointView<'a>>,
    findings: &'a [ActiveFinding],
    warnings: &'a [Text],
}

/// The JSON view of one opening.
pub fn opening_view<'a>(site: &Site, o: &'a Opening) -> OpeningView<'a> {
    OpeningView {
        direction: o.direction,
        from: &o.from,
        to: &o.to,
        from_zones: site.zones_of(&o.from),
        to_zones: site.zones_of(&o.to),
        from_roles: o.from_roles.iter().map(String::as_str).collect(),
        to_roles: o.to_roles.iter().map(String::as_str).collect(),
        protocol: o.protocol,
        ports: &o.ports,
        requirements: o.requirements(),
        provenance: &o.provenance,
    }
}

fn point_view<'a>(site: &Site, p: &'a PointPlan) -> PointView<'a> {
    PointView {
        id: &p.id,
        kind: p.kind,
        target: p.target.as_str(),
        openings: p.openings.iter().map(|o| opening_view(site, o)).collect(),
        must_stay_closed: &p.must_stay_closed,
    }
}

fn direction_text(d: Direction, lang: Lang) -> &'static str {
    match d {
        Direction::Forward => lang.pick("forward", "転送"),
        Direction::In => lang.pick("in", "受信"),
        Direction::Out => lang.pick("out", "送信"),
    }
}

/// `product/requirement (doc#row)` per provenance entry, with the service's name when the
/// catalog gives one.
fn why_text(o: &Opening, catalogs: &Catalogs, lang: Lang) -> String {
    o.provenance
        .iter()
        .map(|p| {
            let service = p
                .requirement
                .split_once('/')
                .and_then(|(prod, req)| catalogs.get(prod).ok()?.requirement(req)?.service.clone())
                .map(|s| format!(" [{}]", s.get(lang)))
                .unwrap_or_default();
            // Ports of one requirement under different conditions: say which is which.
            let split = o
                .provenance
                .iter()
                .filter(|x| x.requirement == p.requirement)
                .count()
                > 1;
            let ports = if split {
                format!(
                    ": {} {}",
                    p.ports.to_strings().join(","),
                    crate::text::because_text(&p.because, lang)
                )
            } else {
                String::new()
            };
            format!("{} ({}){service}{ports}", p.requirement, p.source)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Render the plan (restricted to `only` when given).
pub fn render(
    plan: &Plan,
    site: &Site,
    catalogs: &Catalogs,
    only: Option<&str>,
    format: Format,
    wrap: bool,
    lang: Lang,
) -> String {
    let points: Vec<&PointPlan> = plan
        .enforcement_points
        .iter()
        .filter(|p| only.is_none_or(|id| p.id == id))
        .collect();
    match format {
        Format::Json => {
            let v = PlanView {
                site: &plan.site,
                products: &plan.products,
                enforcement_points: points.iter().map(|p| point_view(site, p)).collect(),
                findings: &plan.findings,
                warnings: &plan.warnings,
            };
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Csv => {
            let header: Vec<String> = [
                "point",
                "target",
                "direction",
                "from",
                "to",
                "protocol",
                "ports",
                "requirements",
                "sources",
            ]
            .map(String::from)
            .to_vec();
            let rows: Vec<Vec<String>> = points
                .iter()
                .flat_map(|p| {
                    p.openings.iter().map(move |o| {
                        vec![
                            p.id.clone(),
                            p.target.as_str().to_string(),
                            format!("{:?}", o.direction).to_lowercase(),
                            o.from.cidrs().join(" "),
                            o.to.cidrs().join(" "),
                            o.protocol.to_string(),
                            o.ports.to_strings().join(" "),
                            o.requirements().join(" "),
                            o.provenance
                                .iter()
                                .map(|p| p.source.clone())
                                .collect::<Vec<_>>()
                                .join(" "),
                        ]
                    })
                })
                .collect();
            csv_text(&header, &rows)
        }
        Format::Table | Format::Md => {
            let md = format == Format::Md;
            let mut out = String::new();
            let title = lang.pick("Plan for site", "サイトの開放計画");
            let _ = writeln!(
                out,
                "{}{title} `{}`\n",
                if md { "# " } else { "" },
                crate::escape::escape_line(&plan.site)
            );
            for p in &plan.products {
                let opts: Vec<String> = p.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = writeln!(
                    out,
                    "{}{}: {}",
                    if md { "- " } else { "  " },
                    p.id,
                    opts.join(", ")
                );
            }
            for p in points {
                let kind = if p.kind == "network" {
                    lang.pick("network firewall", "ネットワーク FW")
                } else {
                    lang.pick("host firewall", "ホスト FW")
                };
                let n = p.openings.len();
                let count = lang
                    .pick(&format!("{n} opening(s)"), &format!("開放 {n} 件"))
                    .to_string();
                let _ = writeln!(
                    out,
                    "\n{}{} ({kind}, {}): {count}\n",
                    if md { "## " } else { "" },
                    crate::escape::escape_line(&p.id),
                    p.target.as_str()
                );
                let header: Vec<String> = [
                    ("#", "#"),
                    ("Dir", "方向"),
                    ("From", "送信元"),
                    ("To", "宛先"),
                    ("Proto", "プロトコル"),
                    ("Ports", "ポート"),
                    ("Why (requirement, source)", "根拠 (要件、資料)"),
                ]
                .iter()
                .map(|(e, j)| lang.pick(e, j).to_string())
                .collect();
                let rows: Vec<Vec<String>> = p
                    .openings
                    .iter()
                    .enumerate()
                    .map(|(i, o)| {
                        vec![
                            (i + 1).to_string(),
                            direction_text(o.direction, lang).to_string(),
                            side_text(site, catalogs, &o.from_roles, &o.from, lang, 6),
                            side_text(site, catalogs, &o.to_roles, &o.to, lang, 6),
                            o.protocol.to_string(),
                            o.ports.to_strings().join(", "),
                            why_text(o, catalogs, lang),
                        ]
                    })
                    .collect();
                if md {
                    out.push_str(&md_table(&header, &rows));
                } else {
                    let mut t = new_table(header, wrap);
                    for r in rows {
                        t.add_row(crate::output::row(r));
                    }
                    let _ = writeln!(out, "{t}");
                }
                if !p.must_stay_closed.is_empty() {
                    let _ = writeln!(
                        out,
                        "\n{}",
                        lang.pick(
                            "Must stay closed here (the catalogs say so):",
                            "ここで閉じたままにするポート (カタログの指定):"
                        )
                    );
                    for c in &p.must_stay_closed {
                        let from = if c.from_roles.is_empty() {
                            lang.pick("any source", "すべての送信元").to_string()
                        } else {
                            side_text(site, catalogs, &c.from_roles, &c.from, lang, 3)
                                .replace('\n', " ")
                        };
                        let _ = writeln!(
                            out,
                            "{}{} {} -> {} {} {}: {} ({}, {})",
                            if md { "- " } else { "  " },
                            direction_text(c.direction, lang),
                            from.trim(),
                            side_text(site, catalogs, &c.to_roles, &c.to, lang, 3)
                                .replace('\n', " ")
                                .trim(),
                            c.protocol,
                            c.ports.to_strings().join(", "),
                            c.purpose.get(lang),
                            c.requirement,
                            c.source
                        );
                    }
                }
            }
            if !plan.findings.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{}{}",
                    if md { "## " } else { "" },
                    lang.pick("Findings", "指摘事項")
                );
                for f in &plan.findings {
                    let _ = writeln!(
                        out,
                        "{}[{}] {}: {}",
                        if md { "- " } else { "  " },
                        severity_text(f.severity, lang),
                        f.requirement,
                        f.message.get(lang)
                    );
                }
            }
            if !plan.warnings.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{}{}",
                    if md { "## " } else { "" },
                    lang.pick("Site warnings", "サイト定義の警告")
                );
                for w in &plan.warnings {
                    let _ = writeln!(out, "{}{}", if md { "- " } else { "  " }, w.get(lang));
                }
            }
            out
        }
    }
}
