//! The Ports page: pick products, options and roles; the minimal port table with conditions,
//! findings and "why / why not"; Markdown, CSV and XLSX. Everything comes from
//! [`app::ports::ports`] and [`app::ports::why_not`] — what `portplan ports` prints — and the
//! rows from [`output::ports::rows`], so the page and the command cannot disagree.
//!
//! The URL is the state: `p` (products), `roles` (`PRODUCT.ROLE`), `lang`, and every other
//! pair `NAME=VALUE` is an option, as `--set NAME=VALUE` (`PRODUCT.NAME=VALUE` too). An option
//! of a catalog that is not picked is dropped (the form of a product just unticked); a name no
//! catalog has goes through and gets the CLI's error with suggestions.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use super::page::{Req, esc, layout};
use crate::app;
use crate::app::ports::{NotNeeded, PortsRequest};
use crate::catalog::Catalogs;
use crate::diag::Result;
use crate::flows::{Inactive, PortsReport};
use crate::i18n::Lang;
use crate::options::OptionKind;
use crate::output::{self, Format};
use crate::text::severity_text;

/// Query keys that are not options.
const RESERVED: [&str; 6] = ["p", "roles", "lang", "s", "csrf", "token"];

/// The request the URL describes.
pub fn request(cats: &Catalogs, req: &Req) -> PortsRequest {
    let mut products: Vec<String> = Vec::new();
    for p in req.all("p") {
        for p in p.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if !products.iter().any(|x| x == p) {
                products.push(p.to_string());
            }
        }
    }
    let picked = |id: &str| products.iter().any(|p| p == id);
    let mut set = Vec::new();
    for (k, v) in &req.query {
        if RESERVED.contains(&k.as_str()) || v.is_empty() {
            continue;
        }
        let keep = match k.split_once('.') {
            Some((prod, _)) => picked(prod) || cats.get(prod).is_err(),
            None => {
                let of = |c: &crate::catalog::Catalog| c.option(k).is_some();
                cats.iter().any(|c| picked(&c.id) && of(c)) || !cats.iter().any(of)
            }
        };
        if keep {
            set.push(format!("{k}={v}"));
        }
    }
    let roles = req
        .all("roles")
        .iter()
        .flat_map(|r| r.split(','))
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    PortsRequest {
        products,
        set,
        roles,
    }
}

fn reason(why: &Inactive, lang: Lang) -> String {
    match why {
        Inactive::Condition { when, values } => {
            let vals: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let vals = vals.join(", ");
            match lang {
                Lang::En => format!("condition `{when}` does not hold ({vals})"),
                Lang::Ja => format!("条件 `{when}` が成り立ちません ({vals})"),
            }
        }
        Inactive::NoPorts => lang
            .pick(
                "the options' values select no ports",
                "オプションの値ではポートがありません",
            )
            .to_string(),
        Inactive::RolesNotDeployed(r) => {
            let r = r.join(", ");
            match lang {
                Lang::En => format!("not deployed: {r}"),
                Lang::Ja => format!("配置されていません: {r}"),
            }
        }
    }
}

fn form(cats: &Catalogs, req: &Req, preq: &PortsRequest, report: Option<&PortsReport>) -> String {
    let lang = req.lang;
    let mut out = String::new();
    let _ = write!(
        out,
        "<form id=\"ports-form\" class=\"live\" method=\"get\" action=\"/ports\">\
<input type=\"hidden\" name=\"lang\" value=\"{}\"><fieldset class=\"products\"><legend>{}</legend>",
        lang.code(),
        esc(lang.pick("Products", "製品"))
    );
    for c in cats.iter() {
        let checked = preq.products.contains(&c.id);
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" name=\"p\" value=\"{id}\"{}> {} <code>{id}</code></label> ",
            if checked { " checked" } else { "" },
            esc(c.name.get(lang)),
            id = esc(&c.id),
        );
    }
    out.push_str("</fieldset>");
    let picked: Vec<&crate::catalog::Catalog> = preq
        .products
        .iter()
        .filter_map(|p| cats.get(p).ok())
        .collect();
    for c in &picked {
        let resolved = report.and_then(|r| r.products.iter().find(|p| p.id == c.id));
        let _ = write!(
            out,
            "<fieldset class=\"options\" id=\"options-{id}\"><legend>{} — {}</legend><table class=\"opts\">",
            esc(c.name.get(lang)),
            esc(lang.pick("options", "オプション")),
            id = esc(&c.id)
        );
        for o in &c.options {
            let shared = picked.iter().filter(|d| d.option(&o.id).is_some()).count() > 1;
            let name = if shared {
                format!("{}.{}", c.id, o.id)
            } else {
                o.id.clone()
            };
            let current = resolved
                .and_then(|r| r.options.get(&o.id).map(|v| v.to_string()))
                .or_else(|| {
                    req.get(&name)
                        .or_else(|| req.get(&format!("{}.{}", c.id, o.id)))
                        .map(String::from)
                })
                .unwrap_or_else(|| o.default.to_string());
            let dflt = o.default.to_string();
            let field_id = format!("opt-{}-{}", c.id, o.id);
            let _ = write!(
                out,
                "<tr><th><label for=\"{fid}\">{}</label></th><td>",
                esc(&o.id),
                fid = esc(&field_id)
            );
            let values: Vec<String> = match &o.kind {
                OptionKind::Bool => vec!["true".into(), "false".into()],
                OptionKind::Choice(v) => v.clone(),
                OptionKind::Port => Vec::new(),
            };
            if values.is_empty() {
                let _ = write!(
                    out,
                    "<input type=\"number\" min=\"1\" max=\"65535\" id=\"{}\" name=\"{}\" value=\"{}\" data-default=\"{}\">",
                    esc(&field_id),
                    esc(&name),
                    esc(&current),
                    esc(&dflt)
                );
            } else {
                let _ = write!(
                    out,
                    "<select id=\"{}\" name=\"{}\" data-default=\"{}\">",
                    esc(&field_id),
                    esc(&name),
                    esc(&dflt)
                );
                for v in &values {
                    let _ = write!(
                        out,
                        "<option value=\"{v}\"{}>{v}{}</option>",
                        if *v == current { " selected" } else { "" },
                        if *v == dflt {
                            lang.pick(" (default)", " (既定)")
                        } else {
                            ""
                        },
                        v = esc(v)
                    );
                }
                out.push_str("</select>");
            }
            let _ = write!(
                out,
                "</td><td>{}<br><small>{}: {} · {}: {}</small></td></tr>",
                esc(o.description.get(lang)),
                esc(lang.pick("default", "既定値")),
                esc(&dflt),
                esc(lang.pick("values", "値")),
                esc(&o.kind.allowed())
            );
        }
        let _ = write!(
            out,
            "</table><div class=\"roles\"><span>{}</span> ",
            esc(lang.pick(
                "Roles deployed (role filter):",
                "配置するロール (ロールで絞り込み):"
            ))
        );
        for r in &c.roles {
            let key = format!("{}.{}", c.id, r.id);
            let on = preq.roles.is_empty() || preq.roles.iter().any(|x| *x == key || *x == r.id);
            let _ = write!(
                out,
                "<label title=\"{}\"><input type=\"checkbox\" name=\"roles\" value=\"{}\"{}> {}</label> ",
                esc(r.description.as_ref().map_or("", |d| d.get(lang))),
                esc(&key),
                if on { " checked" } else { "" },
                esc(r.name.get(lang))
            );
        }
        out.push_str("</div></fieldset>");
    }
    let _ = write!(
        out,
        "<p><button type=\"submit\">{}</button></p></form>",
        esc(lang.pick("Show the ports", "ポートを表示"))
    );
    out
}

fn result(cats: &Catalogs, req: &Req, report: &PortsReport, not: &[NotNeeded]) -> String {
    let lang = req.lang;
    let mut out = String::new();
    if !report.findings.is_empty() {
        let _ = write!(
            out,
            "<h2>{}</h2><ul class=\"findings\" id=\"findings\">",
            esc(lang.pick("Findings", "指摘事項"))
        );
        for f in &report.findings {
            let sev = severity_text(f.severity, lang);
            let _ = write!(
                out,
                "<li><strong class=\"sev\">{}</strong> <code>{}</code>: {}</li>",
                esc(sev),
                esc(&f.requirement),
                esc(f.message.get(lang))
            );
        }
        out.push_str("</ul>");
    }
    let rows = output::ports::rows(report, cats, lang);
    let _ = write!(
        out,
        "<h2>{}</h2>",
        esc(lang.pick("Required openings", "必要な通信"))
    );
    if rows.is_empty() {
        let _ = write!(
            out,
            "<p id=\"no-openings\">{}</p>",
            esc(lang.pick(
                "No openings are required.",
                "開放が必要な通信はありません。"
            ))
        );
    } else {
        out.push_str("<table id=\"ports-table\"><thead><tr>");
        for h in output::ports::header(lang) {
            let _ = write!(out, "<th>{}</th>", esc(&h));
        }
        let _ = write!(
            out,
            "<th>{}</th></tr></thead><tbody>",
            esc(lang.pick("Why", "理由"))
        );
        let mut prev: Option<&(String, String)> = None;
        for r in &rows {
            let first = prev != Some(&r.group);
            prev = Some(&r.group);
            let _ = write!(
                out,
                "<tr data-proto=\"{}\" data-port=\"{}\"{}><td>{}</td><td>{}</td><td>{}</td><td class=\"port\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td>",
                esc(&r.protocol),
                esc(&r.port),
                if first { " class=\"group\"" } else { "" },
                esc(&r.from),
                esc(&r.to),
                esc(&r.protocol),
                esc(&r.port),
                esc(&r.service),
                esc(&r.purpose),
                esc(&r.when),
                esc(&r.source)
            );
            let _ = write!(
                out,
                "<td><details><summary>{}</summary><dl><dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><code>{}</code></dd></dl></details></td></tr>",
                esc(lang.pick("why", "理由")),
                esc(lang.pick("requirement", "要件")),
                esc(&r.requirement),
                esc(lang.pick("needed because", "必要な理由")),
                esc(&r.when),
                esc(lang.pick("vendor document row", "ベンダー資料の行")),
                esc(&r.source)
            );
        }
        out.push_str("</tbody></table>");
        let _ = write!(
            out,
            "<h3>{}</h3><ul class=\"openings\" id=\"openings\">",
            esc(lang.pick("Openings (merged)", "開放するポート (集約)"))
        );
        for o in &report.openings {
            let cat = cats.get(&o.product).ok();
            let name =
                |r: &str| cat.map_or(r.to_string(), |c| c.role_name(r).get(lang).to_string());
            let _ = write!(
                out,
                "<li>{} → {} <code>{} {}</code></li>",
                esc(&name(&o.from)),
                esc(&name(&o.to)),
                esc(o.protocol.as_str()),
                esc(&o.ports.to_strings().join(", "))
            );
        }
        out.push_str("</ul>");
    }
    let _ = write!(
        out,
        "<details id=\"why-not\"><summary>{} ({})</summary><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(lang.pick(
            "Why not: requirements that are off",
            "不要な理由: 対象外の要件"
        )),
        not.len(),
        esc(lang.pick("Requirement", "要件")),
        esc(lang.pick("Purpose", "用途")),
        esc(lang.pick("Why not needed", "不要な理由")),
        esc(lang.pick("Source", "根拠")),
    );
    for n in not {
        let _ = write!(
            out,
            "<tr><td><code>{}/{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&n.product),
            esc(&n.requirement),
            esc(n.purpose.get(lang)),
            esc(&reason(&n.why, lang)),
            esc(&n.source)
        );
    }
    out.push_str("</tbody></table></details>");
    // Exports: the same text `portplan ports --format md|csv` prints.
    let q = req.with("lang", lang.code());
    let q = q.split_once('?').map_or("", |(_, q)| q);
    let md = output::ports::render(report, cats, Format::Md, false, lang);
    let csv = output::ports::render(report, cats, Format::Csv, false, lang);
    let _ = write!(
        out,
        "<div class=\"exports\"><button type=\"button\" class=\"copy\" data-copy=\"md-text\" hidden>{cm}</button> \
<button type=\"button\" class=\"copy\" data-copy=\"csv-text\" hidden>{cc}</button> \
<a id=\"dl-md\" href=\"/ports.md?{q}\">Markdown</a> · <a id=\"dl-csv\" href=\"/ports.csv?{q}\">CSV</a> · <a id=\"dl-xlsx\" href=\"/ports.xlsx?{q}\">XLSX</a>\
<textarea id=\"md-text\" readonly hidden>{md}</textarea><textarea id=\"csv-text\" readonly hidden>{csv}</textarea></div>",
        cm = esc(lang.pick("Copy as Markdown", "Markdown でコピー")),
        cc = esc(lang.pick("Copy as CSV", "CSV でコピー")),
        q = esc(q),
        md = esc(&md),
        csv = esc(&csv),
    );
    out
}

fn compute(s: &Shared, preq: &PortsRequest) -> Result<(PortsReport, Vec<NotNeeded>)> {
    Ok((
        app::ports::ports(&s.ctx, preq)?,
        app::ports::why_not(&s.ctx, preq)?,
    ))
}

/// `GET /ports`.
pub async fn page(State(s): State<Shared>, req: Req) -> Response {
    let cats = &s.ctx.catalogs;
    let preq = request(cats, &req);
    let lang = req.lang;
    let (status, form_html, result_html) = if preq.products.is_empty() {
        (
            axum::http::StatusCode::OK,
            form(cats, &req, &preq, None),
            format!(
                "<p>{}</p>",
                esc(lang.pick(
                    "Pick one or more products.",
                    "製品を 1 つ以上選んでください。"
                ))
            ),
        )
    } else {
        match compute(&s, &preq) {
            Ok((report, not)) => (
                axum::http::StatusCode::OK,
                form(cats, &req, &preq, Some(&report)),
                result(cats, &req, &report, &not),
            ),
            Err(e) => (
                super::error::status(&e),
                form(cats, &req, &preq, None),
                super::error::problems(&e, None, lang),
            ),
        }
    };
    let body =
        format!("{form_html}<section id=\"result\" aria-live=\"polite\">{result_html}</section>");
    let title = lang.pick("Which ports?", "どのポートを開けるか");
    (status, Html(layout(&s, &req, title, None, &body))).into_response()
}

fn export(s: &Shared, req: &Req, ext: &str) -> Response {
    let preq = request(&s.ctx.catalogs, req);
    let report = match app::ports::ports(&s.ctx, &preq) {
        Ok(r) => r,
        Err(e) => {
            let body = super::error::problems(&e, None, req.lang);
            return (
                super::error::status(&e),
                Html(layout(s, req, "portplan", None, &body)),
            )
                .into_response();
        }
    };
    let cats = &s.ctx.catalogs;
    let name = format!("ports-{}.{ext}", preq.products.join("-"));
    match ext {
        "md" => super::download(
            output::ports::render(&report, cats, Format::Md, false, req.lang),
            "text/markdown; charset=utf-8",
            &name,
        ),
        "csv" => super::download(
            output::ports::render(&report, cats, Format::Csv, false, req.lang),
            "text/csv; charset=utf-8",
            &name,
        ),
        _ => match output::ports::xlsx(&report, cats, req.lang) {
            Ok(bytes) => super::download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &name,
            ),
            Err(e) => super::page::message(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                req.lang,
                &e.to_string(),
            ),
        },
    }
}

/// `GET /ports.md`.
pub async fn markdown(State(s): State<Shared>, req: Req) -> Response {
    export(&s, &req, "md")
}

/// `GET /ports.csv`.
pub async fn csv(State(s): State<Shared>, req: Req) -> Response {
    export(&s, &req, "csv")
}

/// `GET /ports.xlsx`.
pub async fn xlsx(State(s): State<Shared>, req: Req) -> Response {
    export(&s, &req, "xlsx")
}
