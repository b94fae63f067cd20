//! The Plan page — per enforcement point the openings with provenance (the report's rows),
//! the diagram, `explain` for a typed query, `diff` against another open version — and the
//! downloads: `render` for any target in both modes, the report (XLSX, HTML, Markdown, SVG,
//! DOT), and `audit` of an uploaded ruleset. Each calls the `app` function of the command of
//! the same name.

use std::fmt::Write as _;

use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use super::page::{Req, esc, layout, query_string};
use super::site::{TARGETS, doc_of, error_page};
use crate::app;
use crate::app::Loaded;
use crate::app::audit::AuditRequest;
use crate::app::render::RenderRequest;
use crate::app::report::ReportRequest;
use crate::diag::SourceFile;
use crate::i18n::Lang;
use crate::output::Format;
use crate::report::Report;

fn report_rows(out: &mut String, report: &Report, lang: Lang) {
    let cols = report.columns();
    for p in &report.points {
        let _ = write!(
            out,
            "<section class=\"point\" id=\"point-{id}\"><h3>{id} <small>{} · {}</small></h3>",
            esc(&p.kind_text),
            esc(&p.target),
            id = esc(&p.id)
        );
        if p.rows.is_empty() {
            let _ = write!(
                out,
                "<p>{}</p>",
                esc(lang.pick("Nothing to open here.", "ここで開放するものはありません。"))
            );
        } else {
            out.push_str("<table class=\"openings\"><thead><tr>");
            for c in &cols {
                let _ = write!(out, "<th>{}</th>", esc(c.header(lang)));
            }
            out.push_str("</tr></thead><tbody>");
            for r in &p.rows {
                let class = r.change.map_or("", |c| match c {
                    crate::report::Change::Add => " class=\"add\"",
                    crate::report::Change::Remove => " class=\"remove\"",
                });
                let _ = write!(out, "<tr{class}>");
                for c in &cols {
                    let cell = esc(&r.cell(*c, lang)).replace('\n', "<br>");
                    let _ = write!(out, "<td>{cell}</td>");
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>");
        }
        out.push_str("</section>");
    }
}

fn downloads(out: &mut String, s: &Shared, req: &Req, id: &str, loaded: &Loaded) {
    let lang = req.lang;
    let _ = write!(
        out,
        "<h2 id=\"downloads\">{}</h2><p>{}: ",
        esc(lang.pick("Downloads", "ダウンロード")),
        esc(lang.pick("Request document / diagram", "申請書・構成図"))
    );
    for f in ["xlsx", "html", "md", "svg", "dot"] {
        let _ = write!(
            out,
            "<a id=\"report-{f}\" href=\"/report?{}\">{}</a> ",
            esc(&query_string([
                ("s", id),
                ("format", f),
                ("lang", lang.code())
            ])),
            f.to_uppercase()
        );
    }
    out.push_str("</p><table id=\"render-links\"><thead><tr><th>");
    let _ = write!(
        out,
        "{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(lang.pick("Enforcement point", "適用ポイント")),
        esc(lang.pick(
            "Configuration (merge / replace / remove)",
            "設定 (マージ / 置換 / 削除)"
        )),
        esc(lang.pick("Audit a ruleset", "既存ルールの監査"))
    );
    for pt in &loaded.site.points {
        let _ = write!(out, "<tr><td>{}</td><td>", esc(&pt.id));
        for t in TARGETS {
            let link = |mode: &str, remove: bool| {
                let mut q = vec![("s", id), ("point", pt.id.as_str()), ("target", t.as_str())];
                q.push(("mode", mode));
                if remove {
                    q.push(("remove", "1"));
                }
                query_string(q)
            };
            let own = if t == pt.target { " class=\"own\"" } else { "" };
            let _ = write!(
                out,
                "<span{own}>{}: <a href=\"/render?{}\">merge</a> / <a href=\"/render?{}\">replace</a> / <a href=\"/render?{}\">remove</a></span><br>",
                t.as_str(),
                esc(&link("merge", false)),
                esc(&link("replace", false)),
                esc(&link("merge", true)),
            );
        }
        let _ = write!(
            out,
            "</td><td><form method=\"post\" enctype=\"multipart/form-data\" action=\"/audit?{}\"><input type=\"file\" name=\"ruleset\" multiple> <label><input type=\"checkbox\" name=\"allow_excess\" value=\"1\"> {}</label> <button type=\"submit\">{}</button></form></td></tr>",
            esc(&query_string([
                ("s", id),
                ("point", pt.id.as_str()),
                ("csrf", s.csrf.as_str()),
                ("lang", lang.code())
            ])),
            esc(lang.pick("reachability only", "到達性のみ")),
            esc(lang.pick("Audit", "監査"))
        );
    }
    out.push_str("</tbody></table>");
    let _ = write!(
        out,
        "<p class=\"note\">{}</p>",
        esc(lang.pick(
            "nft: `nft -j list ruleset`; iptables: `iptables-save` (and `ip6tables-save`).",
            "nft: `nft -j list ruleset`、iptables: `iptables-save` (と `ip6tables-save`)。"
        ))
    );
}

/// `GET /plan?s=[&q=][&diff=]`.
pub async fn page(State(s): State<Shared>, req: Req) -> Response {
    let lang = req.lang;
    let (id, doc) = match doc_of(&s, &req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let loaded = match doc.loaded(&s.ctx) {
        Ok(l) => l,
        Err(e) => {
            let mut body = super::error::problems(e, Some(&doc.text), lang);
            let _ = write!(
                body,
                "<p><a href=\"{}\">{}</a></p>",
                esc(&req.link("/site", Some(&id))),
                esc(lang.pick("Fix it in the editor", "エディタで修正"))
            );
            return (
                super::error::status(e),
                Html(layout(
                    &s,
                    &req,
                    lang.pick("Plan", "計画"),
                    Some(&id),
                    &body,
                )),
            )
                .into_response();
        }
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"file\"><strong>{}</strong> · <a href=\"{}\">{}</a></p>",
        esc(&doc.name),
        esc(&req.link("/site", Some(&id))),
        esc(lang.pick("Edit", "編集"))
    );
    // Explain.
    let q = req.get("q").unwrap_or("");
    let _ = write!(
        body,
        "<form id=\"explain-form\" method=\"get\" action=\"/plan\"><input type=\"hidden\" name=\"s\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\"><label>{} <input id=\"q\" name=\"q\" value=\"{}\" placeholder=\"tcp/445 · 10.20.1.5 -> 10.10.0.4 tcp/445 · devicelock/smb\"></label> <button type=\"submit\">{}</button></form>",
        esc(&id),
        lang.code(),
        esc(lang.pick(
            "Why is this open, or why not:",
            "開放の理由 (開いていない理由):"
        )),
        esc(q),
        esc(lang.pick("Explain", "説明"))
    );
    if !q.is_empty() {
        match app::explain::explain(&s.ctx, loaded, q) {
            Ok(ex) => {
                let _ = write!(
                    body,
                    "<pre id=\"explain-out\">{}</pre>",
                    esc(&crate::output::explain::explanation(
                        &ex,
                        Format::Table,
                        lang
                    ))
                );
            }
            Err(e) => body.push_str(&super::error::problems(&e, None, lang)),
        }
    }
    // Diff against another open version.
    let others: Vec<(String, String)> = s
        .sites
        .list()
        .into_iter()
        .filter(|(k, _)| *k != id)
        .collect();
    let diff = req.get("diff");
    if !others.is_empty() {
        let _ = write!(
            body,
            "<form id=\"diff-form\" method=\"get\" action=\"/plan\"><input type=\"hidden\" name=\"s\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\"><label>{} <select name=\"diff\"><option value=\"\">—</option>",
            esc(&id),
            lang.code(),
            esc(lang.pick("Changes since:", "比較元 (変更前):"))
        );
        for (k, name) in &others {
            let _ = write!(
                body,
                "<option value=\"{}\"{}>{} ({})</option>",
                esc(k),
                if diff == Some(k.as_str()) {
                    " selected"
                } else {
                    ""
                },
                esc(name),
                esc(&k[..6.min(k.len())])
            );
        }
        let _ = write!(
            body,
            "</select></label> <button type=\"submit\">{}</button></form>",
            esc(lang.pick("Diff", "差分"))
        );
    }
    let diff_from = match diff.map(|d| s.sites.get(d)) {
        Some(Some(old)) => match s.ctx.load(old.source()) {
            Ok(l) => Some(l),
            Err(e) => {
                body.push_str(&super::error::problems(&e, Some(&old.text), lang));
                None
            }
        },
        _ => None,
    };
    let is_diff = diff_from.is_some();
    let rreq = ReportRequest {
        point: None,
        diff_from,
        request: None,
    };
    match app::report::report(&s.ctx, loaded, &rreq, lang) {
        Ok(report) => {
            let _ = write!(
                body,
                "<h2>{}</h2>",
                esc(if is_diff {
                    lang.pick("Openings to add and remove", "追加・削除する開放")
                } else {
                    lang.pick("Openings per enforcement point", "適用ポイントごとの開放")
                })
            );
            if !report.findings.is_empty() {
                body.push_str("<ul class=\"findings\">");
                for f in &report.findings {
                    let _ = write!(
                        body,
                        "<li><strong>{}</strong> {}</li>",
                        esc(&f.severity_text),
                        esc(&f.message)
                    );
                }
                body.push_str("</ul>");
            }
            report_rows(&mut body, &report, lang);
        }
        Err(e) => body.push_str(&super::error::problems(&e, None, lang)),
    }
    let _ = write!(
        body,
        "<h2>{}</h2><div class=\"diagram\"><img id=\"diagram\" alt=\"{}\" src=\"/plan/diagram.svg?{}\"></div>",
        esc(lang.pick("Diagram", "構成図")),
        esc(lang.pick("diagram of the openings", "開放の構成図")),
        esc(&query_string([("s", id.as_str()), ("lang", lang.code())]))
    );
    downloads(&mut body, &s, &req, &id, loaded);
    let title = lang.pick("Plan", "計画");
    Html(layout(&s, &req, title, Some(&id), &body)).into_response()
}

fn with_loaded(s: &Shared, req: &Req, f: impl FnOnce(&Loaded) -> Response) -> Response {
    let (_, doc) = match doc_of(s, req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match doc.loaded(&s.ctx) {
        Ok(l) => f(l),
        Err(e) => error_page(s, req, e, Some(&doc.text)),
    }
}

/// `GET /plan/diagram.svg?s=`: the report's diagram (its own CSP: the SVG styles itself).
pub async fn diagram(State(s): State<Shared>, req: Req) -> Response {
    with_loaded(&s, &req, |l| {
        match app::report::report(&s.ctx, l, &ReportRequest::default(), req.lang) {
            Ok(r) => {
                let mut resp = (
                    [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
                    crate::report::svg::render(&r),
                )
                    .into_response();
                resp.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
                );
                resp
            }
            Err(e) => error_page(&s, &req, &e, None),
        }
    })
}

/// `GET /report?s=&format=`: the request document or diagram as a file.
pub async fn report(State(s): State<Shared>, req: Req) -> Response {
    with_loaded(&s, &req, |l| {
        let rreq = ReportRequest {
            point: req.get("point").map(String::from),
            diff_from: None,
            request: None,
        };
        let r = match app::report::report(&s.ctx, l, &rreq, req.lang) {
            Ok(r) => r,
            Err(e) => return error_page(&s, &req, &e, None),
        };
        let base = format!("{}-request", l.site.name);
        match req.get("format").unwrap_or("xlsx") {
            "html" => super::download(
                crate::report::html::render(&r),
                "text/html; charset=utf-8",
                &format!("{base}.html"),
            ),
            "md" => super::download(
                crate::report::markdown::render(&r),
                "text/markdown; charset=utf-8",
                &format!("{base}.md"),
            ),
            "svg" => super::download(
                crate::report::svg::render(&r),
                "image/svg+xml",
                &format!("{base}.svg"),
            ),
            "dot" => super::download(
                crate::report::dot::render(&r),
                "text/vnd.graphviz; charset=utf-8",
                &format!("{base}.dot"),
            ),
            "xlsx" => match crate::report::xlsx::render(&r) {
                Ok(b) => super::download(
                    b,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    &format!("{base}.xlsx"),
                ),
                Err(e) => error_page(&s, &req, &e, None),
            },
            other => super::page::message(
                StatusCode::BAD_REQUEST,
                req.lang,
                &format!("format {other}: xlsx, html, md, svg, dot"),
            ),
        }
    })
}

/// `GET /render?s=&point=&target=&mode=[&remove=1][&allow_partial=1][&file=.v6]`.
pub async fn render(State(s): State<Shared>, req: Req) -> Response {
    with_loaded(&s, &req, |l| {
        let point = match l.point(req.get("point")) {
            Ok(p) => p,
            Err(e) => return error_page(&s, &req, &e, None),
        };
        let target = req
            .get("target")
            .and_then(|t| TARGETS.into_iter().find(|x| x.as_str() == t));
        let mode = match req.get("mode") {
            Some("merge") => Some(crate::render::Mode::Merge),
            Some("replace") => Some(crate::render::Mode::Replace),
            _ => None,
        };
        let rreq = RenderRequest {
            target,
            mode,
            remove: req.get("remove").is_some(),
            allow_partial: req.get("allow_partial").is_some(),
            lang: req.lang,
            ..RenderRequest::default()
        };
        match app::render::render(&s.ctx, l, point, &rreq) {
            Ok(r) => {
                let suffix = req.get("file").unwrap_or("");
                let Some((_, text)) = r.rendered.files.iter().find(|(suf, _)| suf == suffix) else {
                    return super::page::message(StatusCode::NOT_FOUND, req.lang, "no such file");
                };
                let t = target.unwrap_or(point.0.target);
                let ext = match t {
                    crate::site::Target::Nftables => "nft",
                    crate::site::Target::Iptables => "rules",
                    crate::site::Target::Windows => "ps1",
                    crate::site::Target::CiscoIos => "txt",
                    crate::site::Target::Firewalld => "sh",
                };
                let name = format!(
                    "{}{}.{ext}{suffix}",
                    point.0.id,
                    if rreq.remove { "-remove" } else { "" }
                );
                super::download(text.clone(), "text/plain; charset=utf-8", &name)
            }
            Err(e) => error_page(&s, &req, &e, None),
        }
    })
}

/// `POST /audit?s=&point=`: rulesets uploaded (multipart `ruleset`, `allow_excess`), compared
/// with the point's plan; the findings with their witnesses, as `portplan audit` prints them.
pub async fn audit(State(s): State<Shared>, req: Req, mut mp: Multipart) -> Response {
    let lang = req.lang;
    let mut rulesets = Vec::new();
    let mut allow_excess = false;
    loop {
        match mp.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or("").to_string();
                let file = f.file_name().unwrap_or("ruleset").to_string();
                let bytes = match f.bytes().await {
                    Ok(b) => b,
                    Err(e) => return super::page::message(e.status(), lang, &e.body_text()),
                };
                match name.as_str() {
                    "allow_excess" => allow_excess = true,
                    "ruleset" if !bytes.is_empty() => {
                        match crate::diag::text_from_bytes(&file, bytes.to_vec()) {
                            Ok(t) => rulesets.push(SourceFile::new(file, t)),
                            Err(e) => return error_page(&s, &req, &e, None),
                        }
                    }
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return super::page::message(e.status(), lang, &e.body_text()),
        }
    }
    if rulesets.is_empty() {
        return super::page::message(
            StatusCode::BAD_REQUEST,
            lang,
            lang.pick(
                "Choose a ruleset file to audit.",
                "監査するルールセットのファイルを選んでください。",
            ),
        );
    }
    let (id, doc) = match doc_of(&s, &req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let point = req.get("point").map(String::from);
    let s2 = s.clone();
    let doc2 = doc.clone();
    // The audit is CPU-bound (decision diagrams): off the async thread.
    let result = tokio::task::spawn_blocking(move || {
        let l = doc2.loaded(&s2.ctx).map_err(|e| e.plain(lang))?;
        let pt = l.point(point.as_deref()).map_err(|e| e.plain(lang))?;
        let areq = AuditRequest {
            rulesets,
            ipset: None,
            kind: None,
            allow_excess,
        };
        let a = app::audit::audit(&l.site, pt, &areq).map_err(|e| e.plain(lang))?;
        Ok::<_, String>((
            a.passed,
            crate::output::audit::render(&a.report, Format::Table, allow_excess, lang),
        ))
    })
    .await;
    let body = match result {
        Ok(Ok((passed, text))) => format!(
            "<p id=\"audit-verdict\" class=\"{}\">{}</p><pre id=\"audit-out\">{}</pre><p><a href=\"{}\">{}</a></p>",
            if passed { "ok" } else { "error" },
            esc(if passed {
                lang.pick("As required.", "要件どおりです。")
            } else {
                lang.pick("Not as required.", "要件どおりではありません。")
            }),
            esc(&text),
            esc(&req.link("/plan", Some(&id))),
            esc(lang.pick("Back to the plan", "計画に戻る"))
        ),
        Ok(Err(msg)) => {
            let body = format!(
                "<div id=\"problems\"><p class=\"error\">{}</p></div>",
                esc(&msg)
            );
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(layout(&s, &req, "portplan", Some(&id), &body)),
            )
                .into_response();
        }
        Err(_) => {
            return super::page::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                lang.pick(
                    "The audit stopped unexpectedly.",
                    "監査が予期せず停止しました。",
                ),
            );
        }
    };
    Html(layout(
        &s,
        &req,
        lang.pick("Audit", "監査"),
        Some(&id),
        &body,
    ))
    .into_response()
}
