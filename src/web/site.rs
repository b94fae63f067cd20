//! The Site page: open a site (upload, the editor, or the file given on the command line),
//! edit it as YAML with live validation or in a form (zones, options, role endpoints,
//! firewalls), save or download it. Checking is [`crate::app::Context::load`] — what every
//! CLI command does with a site file — and form edits are [`app::site_edit::apply`].

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::Shared;
use super::page::{Req, esc, layout, query_string};
use super::store::Doc;
use crate::app::site_edit::{self, Node};
use crate::diag::Error;
use crate::i18n::Lang;
use crate::site::Target;

/// Files larger than this (bytes) are not put in the page unless asked for; a role's
/// endpoint list longer than [`MAX_FIELD`] is edited in the YAML.
pub const MAX_INLINE: usize = 96 * 1024;
/// The longest endpoint list shown as a form field.
pub const MAX_FIELD: usize = 2048;

/// What a new site starts from.
pub const TEMPLATE: &str = include_str!("../../examples/minimal.yaml");

/// Every render target, in the order the form lists them.
pub const TARGETS: [Target; 5] = [
    Target::Nftables,
    Target::Iptables,
    Target::Windows,
    Target::CiscoIos,
    Target::Firewalld,
];

/// The site a request names (`s`), or the one the server opened; `Err` is the page to show
/// (a response is large, but it is the rare path and is returned at once).
#[allow(clippy::result_large_err)]
pub fn doc_of(s: &Shared, req: &Req) -> std::result::Result<(String, Arc<Doc>), Response> {
    let id = req
        .get("s")
        .map(String::from)
        .or_else(|| s.opened.as_ref().map(|(_, id)| id.clone()));
    let Some(id) = id else {
        let body = format!(
            "<p id=\"no-site\">{} <a href=\"{}\">{}</a></p>",
            esc(req
                .lang
                .pick("No site is open.", "サイトが開かれていません。")),
            esc(&req.link("/site", None)),
            esc(req.lang.pick("Open or start one", "サイトを開く・新規作成"))
        );
        return Err(Html(layout(s, req, "portplan", None, &body)).into_response());
    };
    match s.sites.get(&id) {
        Some(d) => Ok((id, d)),
        None => Err(super::page::message(
            StatusCode::NOT_FOUND,
            req.lang,
            req.lang.pick(
                "This site is no longer open in this session (the server keeps the last 64 in memory, and forgets them when it stops): open it again on the Site page.",
                "このサイトはこのセッションではもう開かれていません (サーバーはメモリに直近 64 件だけを保持し、終了すると消えます): サイトのページで開き直してください。",
            ),
        )),
    }
}

fn to_site(req: &Req, id: &str, extra: &[(&str, &str)]) -> Response {
    let mut pairs = vec![("s", id), ("lang", req.lang.code())];
    pairs.extend_from_slice(extra);
    Redirect::to(&format!("/site?{}", query_string(pairs))).into_response()
}

fn status_html(s: &Shared, doc: &Doc, lang: Lang) -> (bool, String) {
    match doc.loaded(&s.ctx) {
        Ok(l) => {
            let mut out = format!(
                "<div id=\"problems\" class=\"ok\"><p id=\"check-ok\">✓ {}</p>",
                esc(&match lang {
                    Lang::En => format!(
                        "{}: valid — {} zones, {} products, {} enforcement points",
                        doc.name,
                        l.site.zones.len(),
                        l.site.products.len(),
                        l.site.points.len()
                    ),
                    Lang::Ja => format!(
                        "{}: 正常 — ゾーン {}、製品 {}、適用ポイント {}",
                        doc.name,
                        l.site.zones.len(),
                        l.site.products.len(),
                        l.site.points.len()
                    ),
                })
            );
            if !l.site.warnings.is_empty() {
                out.push_str("<ul class=\"warnings\">");
                for w in &l.site.warnings {
                    let _ = write!(out, "<li>{}</li>", esc(w.get(lang)));
                }
                out.push_str("</ul>");
            }
            out.push_str("</div>");
            (true, out)
        }
        Err(e) => (false, super::error::problems(e, Some(&doc.text), lang)),
    }
}

fn option_select(
    out: &mut String,
    name: &str,
    o: &crate::options::OptionDef,
    cur: &str,
    lang: Lang,
) {
    let dflt = o.default.to_string();
    let _ = write!(out, "<select name=\"{}\">", esc(name));
    let _ = write!(
        out,
        "<option value=\"\"{}>{} ({dflt})</option>",
        if cur.is_empty() { " selected" } else { "" },
        esc(lang.pick("default", "既定値")),
        dflt = esc(&dflt)
    );
    let values: Vec<String> = match &o.kind {
        crate::options::OptionKind::Bool => vec!["true".into(), "false".into()],
        crate::options::OptionKind::Choice(v) => v.clone(),
        crate::options::OptionKind::Port => {
            let mut v = vec![dflt.clone()];
            if !cur.is_empty() && cur != dflt {
                v.push(cur.to_string());
            }
            v
        }
    };
    for v in values {
        let _ = write!(
            out,
            "<option value=\"{v}\"{}>{v}</option>",
            if v == cur { " selected" } else { "" },
            v = esc(&v)
        );
    }
    out.push_str("</select>");
}

fn form_html(s: &Shared, req: &Req, id: &str, tree: &Node) -> String {
    let lang = req.lang;
    let mut out = String::new();
    let action = format!(
        "/site/form?{}",
        query_string([("s", id), ("csrf", s.csrf.as_str()), ("lang", lang.code())])
    );
    let _ = write!(
        out,
        "<form id=\"site-form\" method=\"post\" action=\"{}\"><p class=\"note\">{}</p>",
        esc(&action),
        esc(lang.pick(
            "Form edits rewrite the YAML without its comments; host firewalls and FQDN endpoints given as mappings are edited in the YAML.",
            "フォームで編集すると YAML のコメントは失われます。ホストファイアウォールとマッピング形式の FQDN は YAML で編集してください。"
        ))
    );
    // Zones.
    let _ = write!(
        out,
        "<h3>{}</h3><table id=\"zones\"><thead><tr><th>ID</th><th>CIDR</th><th>{}</th></tr></thead><tbody>",
        esc(lang.pick("Zones", "ゾーン")),
        esc(lang.pick("delete", "削除"))
    );
    let zones = tree.get("zones").map(Node::items).unwrap_or(&[]);
    for (i, z) in zones.iter().enumerate() {
        let zid = z.get("id").and_then(Node::scalar).unwrap_or_default();
        let cidrs = z
            .get("cidrs")
            .and_then(site_edit::list_text)
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><input name=\"zone.{i}.id\" value=\"{}\"></td><td><input class=\"wide\" id=\"zone-{}-cidrs\" name=\"zone.{i}.cidrs\" value=\"{}\"></td><td><input type=\"checkbox\" name=\"zone.{i}.delete\"></td></tr>",
            esc(&zid),
            esc(&zid),
            esc(&cidrs)
        );
    }
    let _ = write!(
        out,
        "<tr class=\"new\"><td><input name=\"zone.new.id\" placeholder=\"{}\"></td><td><input class=\"wide\" name=\"zone.new.cidrs\" placeholder=\"10.30.0.0/16\"></td><td></td></tr></tbody></table>",
        esc(lang.pick("new zone", "新しいゾーン"))
    );
    // Products.
    let products = tree.get("products").map(Node::items).unwrap_or(&[]);
    for (i, p) in products.iter().enumerate() {
        let pid = p.get("product").and_then(Node::scalar).unwrap_or_default();
        let Ok(cat) = s.ctx.catalogs.get(&pid) else {
            continue;
        };
        let _ = write!(
            out,
            "<h3>{} <code>{}</code></h3><table class=\"product\"><tbody>",
            esc(cat.name.get(lang)),
            esc(&pid)
        );
        for o in &cat.options {
            let cur = p
                .get("options")
                .and_then(|x| x.get(&o.id))
                .and_then(Node::scalar)
                .unwrap_or_default();
            let _ = write!(out, "<tr><th>{}</th><td>", esc(&o.id));
            option_select(&mut out, &format!("opt.{i}.{}", o.id), o, &cur, lang);
            let _ = write!(
                out,
                "</td><td><small>{}</small></td></tr>",
                esc(o.description.get(lang))
            );
        }
        for r in &cat.roles {
            let cur = p.get("roles").and_then(|x| x.get(&r.id));
            let text = cur.map(site_edit::list_text);
            let _ = write!(out, "<tr><th>{}</th><td>", esc(&r.id));
            match text {
                Some(Some(t)) if t.len() > MAX_FIELD => {
                    let _ = write!(
                        out,
                        "<em>{} ({} KB)</em>",
                        esc(lang.pick("long list: edit in YAML", "長いリスト: YAML で編集")),
                        t.len() / 1024
                    );
                }
                Some(None) => {
                    let _ = write!(
                        out,
                        "<em>{}</em>",
                        esc(lang.pick("(edit in YAML)", "(YAML で編集)"))
                    );
                }
                t => {
                    let _ = write!(
                        out,
                        "<input class=\"wide\" name=\"role.{i}.{}\" value=\"{}\" placeholder=\"{}\">",
                        esc(&r.id),
                        esc(&t.flatten().unwrap_or_default()),
                        esc(&if r.endpoints.is_empty() {
                            lang.pick("not mapped", "未設定").to_string()
                        } else {
                            format!(
                                "{}: {}",
                                lang.pick("default", "既定"),
                                r.endpoints.join(", ")
                            )
                        })
                    );
                }
            }
            let _ = write!(
                out,
                "</td><td><small>{}</small></td></tr>",
                esc(r.name.get(lang))
            );
        }
        out.push_str("</tbody></table>");
    }
    // Firewalls.
    let _ = write!(
        out,
        "<h3>{}</h3><p class=\"note\">{}</p><table id=\"firewalls\"><thead><tr><th>ID</th><th>between</th><th>target</th><th>{}</th></tr></thead><tbody>",
        esc(lang.pick("Network firewalls", "ネットワークファイアウォール")),
        esc(lang.pick(
            "between: sides separated by `;`, the zones of one side by `,` (clients, servers; internet)",
            "between: 側を `;` で、同じ側のゾーンを `,` で区切ります (clients, servers; internet)"
        )),
        esc(lang.pick("delete", "削除"))
    );
    let fws = tree.get("firewalls").map(Node::items).unwrap_or(&[]);
    let target_select = |out: &mut String, name: &str, cur: &str| {
        let _ = write!(out, "<select name=\"{}\">", esc(name));
        for t in TARGETS {
            let _ = write!(
                out,
                "<option{}>{}</option>",
                if t.as_str() == cur { " selected" } else { "" },
                t.as_str()
            );
        }
        out.push_str("</select>");
    };
    for (i, f) in fws.iter().enumerate() {
        let fid = f.get("id").and_then(Node::scalar).unwrap_or_default();
        let between = f
            .get("between")
            .and_then(site_edit::sides_text)
            .unwrap_or_default();
        let target = f.get("target").and_then(Node::scalar).unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td><input name=\"fw.{i}.id\" value=\"{}\"></td><td><input class=\"wide\" name=\"fw.{i}.between\" value=\"{}\"></td><td>",
            esc(&fid),
            esc(&between)
        );
        target_select(&mut out, &format!("fw.{i}.target"), &target);
        let _ = write!(
            out,
            "</td><td><input type=\"checkbox\" name=\"fw.{i}.delete\"></td></tr>"
        );
    }
    let _ = write!(
        out,
        "<tr class=\"new\"><td><input name=\"fw.new.id\" placeholder=\"{}\"></td><td><input class=\"wide\" name=\"fw.new.between\" placeholder=\"clients; servers\"></td><td>",
        esc(lang.pick("new firewall", "新しいファイアウォール"))
    );
    target_select(&mut out, "fw.new.target", "nftables");
    let _ = write!(
        out,
        "</td><td></td></tr></tbody></table><p><button id=\"apply-form\" type=\"submit\">{}</button></p></form>",
        esc(lang.pick("Apply the changes", "変更を反映"))
    );
    out
}

/// `GET /site`.
pub async fn page(State(s): State<Shared>, req: Req) -> Response {
    let lang = req.lang;
    let (id, doc) = match req.get("s") {
        Some(_) => match doc_of(&s, &req) {
            Ok(x) => x,
            Err(r) => return r,
        },
        None => match &s.opened {
            Some((_, id)) => match s.sites.get(id) {
                Some(d) => (id.clone(), d),
                None => {
                    let id = s.sites.put("new-site.yaml".into(), TEMPLATE.into());
                    (id.clone(), s.sites.get(&id).expect("just put"))
                }
            },
            None => {
                let id = s.sites.put("new-site.yaml".into(), TEMPLATE.into());
                match s.sites.get(&id) {
                    Some(d) => (id, d),
                    None => return super::page::not_found(req).await,
                }
            }
        },
    };
    let (ok, status) = status_html(&s, &doc, lang);
    let csrf = s.csrf.as_str();
    let mut body = String::new();
    let can_save = s
        .opened
        .as_ref()
        .is_some_and(|(p, _)| p.display().to_string() == doc.name);
    let _ = write!(
        body,
        "<p class=\"file\"><strong>{}</strong> · <a id=\"to-plan\" href=\"{}\">{}</a> · <a id=\"download-yaml\" href=\"/site.yaml?{}\">{}</a></p>",
        esc(&doc.name),
        esc(&req.link("/plan", Some(&id))),
        esc(lang.pick("Plan of this site", "このサイトの計画")),
        esc(&query_string([("s", id.as_str())])),
        esc(lang.pick("Download YAML", "YAML をダウンロード")),
    );
    if req.get("saved").is_some() {
        let _ = write!(
            body,
            "<p class=\"ok\" id=\"saved\">{}</p>",
            esc(&match lang {
                Lang::En => format!("Saved to {}.", doc.name),
                Lang::Ja => format!("{} に保存しました。", doc.name),
            })
        );
    }
    if can_save {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/site/save?{}\"><button id=\"save\" type=\"submit\">{}</button></form>",
            esc(&query_string([
                ("s", id.as_str()),
                ("csrf", csrf),
                ("lang", lang.code())
            ])),
            esc(&match lang {
                Lang::En => format!("Save to {}", doc.name),
                Lang::Ja => format!("{} に保存", doc.name),
            })
        );
    }
    let _ = write!(
        body,
        "<form id=\"upload-form\" method=\"post\" enctype=\"multipart/form-data\" action=\"/site/upload?{}\"><label>{} <input id=\"upload\" type=\"file\" name=\"file\" accept=\".yaml,.yml,text/yaml\"></label> <button type=\"submit\">{}</button> <a href=\"{}\">{}</a></form>",
        esc(&query_string([("csrf", csrf), ("lang", lang.code())])),
        esc(lang.pick("Open a site file:", "サイトファイルを開く:")),
        esc(lang.pick("Upload", "アップロード")),
        esc(&format!(
            "/site?{}",
            query_string([
                (
                    "s",
                    s.sites
                        .put("new-site.yaml".into(), TEMPLATE.into())
                        .as_str()
                ),
                ("lang", lang.code())
            ])
        )),
        esc(lang.pick("New site", "新規サイト")),
    );
    // A large file stays out of the page (page weight) unless asked for: download it, or
    // load it into the editor with `full=1`.
    if doc.text.len() > MAX_INLINE && req.get("full").is_none() {
        let _ = write!(
            body,
            "<div class=\"editor\"><p class=\"note\" id=\"large\">{} <a href=\"{}\">{}</a></p><div id=\"status\">{status}</div></div>",
            esc(&match lang {
                Lang::En => format!(
                    "The file is {} KB: it is not put in the page.",
                    doc.text.len() / 1024
                ),
                Lang::Ja => format!(
                    "ファイルが {} KB あるため、ページには載せていません。",
                    doc.text.len() / 1024
                ),
            }),
            esc(&format!("{}&full=1", req.link("/site", Some(&id)))),
            esc(lang.pick("Edit the whole text here", "全文をここで編集")),
        );
    } else {
        let _ = write!(
            body,
            "<div class=\"editor\"><form id=\"yaml-form\" method=\"post\" action=\"/site/open?{}\"><input type=\"hidden\" name=\"name\" value=\"{}\"><textarea id=\"yaml\" name=\"yaml\" rows=\"30\" spellcheck=\"false\" data-name=\"{}\">{}</textarea><p><button type=\"submit\">{}</button></p></form><div id=\"status\">{status}</div></div>",
            esc(&query_string([("csrf", csrf), ("lang", lang.code())])),
            esc(&doc.name),
            esc(&doc.name),
            esc(&doc.text),
            esc(lang.pick("Check and open", "検査して開く")),
        );
    }
    match site_edit::parse(&doc.source()) {
        Ok(tree) => body.push_str(&form_html(&s, &req, &id, &tree)),
        Err(_) => {
            let _ = write!(
                body,
                "<p class=\"note\">{}</p>",
                esc(lang.pick(
                    "The form appears once the YAML can be read.",
                    "YAML が読み込めるようになるとフォームが表示されます。"
                ))
            );
        }
    }
    // The editor page itself is fine when the file is not: its problems are its content
    // (a 4xx here is a console error in the browser).
    let _ = ok;
    let status = StatusCode::OK;
    let title = lang.pick("Site", "サイト");
    (status, Html(layout(&s, &req, title, Some(&id), &body))).into_response()
}

/// `POST /site/check`: the YAML in the body, checked; answers the status fragment.
pub async fn check(State(s): State<Shared>, req: Req, body: axum::body::Bytes) -> Response {
    let name = req.get("name").unwrap_or("site.yaml").to_string();
    let html = match crate::diag::text_from_bytes(&name, body.to_vec()) {
        Ok(text) => {
            let doc = Doc::detached(name, text.into());
            status_html(&s, &doc, req.lang).1
        }
        Err(e) => super::error::problems(&e, None, req.lang),
    };
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// `POST /site/open`: the editor's text becomes an open site.
pub async fn open(
    State(s): State<Shared>,
    req: Req,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let name = get("name").filter(|n| !n.is_empty()).unwrap_or("site.yaml");
    // Browsers send CR LF line breaks from a textarea.
    let text = get("yaml").unwrap_or("").replace("\r\n", "\n");
    let id = s.sites.put(name.to_string(), text.into());
    to_site(&req, &id, &[])
}

/// `POST /site/upload`: a file from the browser (multipart), checked like a file on disk.
pub async fn upload(State(s): State<Shared>, req: Req, mut mp: Multipart) -> Response {
    let lang = req.lang;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field
                    .file_name()
                    .filter(|n| !n.is_empty())
                    .unwrap_or("upload.yaml")
                    .to_string();
                let bytes = match field.bytes().await {
                    Ok(b) => b,
                    Err(e) => return bad_upload(&s, &req, e.status(), &e.body_text()),
                };
                return match crate::diag::text_from_bytes(&name, bytes.to_vec()) {
                    Ok(text) => to_site(&req, &s.sites.put(name, text.into()), &[]),
                    Err(e) => {
                        let body = super::error::problems(&e, None, lang);
                        (
                            super::error::status(&e),
                            Html(layout(&s, &req, lang.pick("Site", "サイト"), None, &body)),
                        )
                            .into_response()
                    }
                };
            }
            Ok(Some(_)) => continue,
            Ok(None) => {
                return bad_upload(
                    &s,
                    &req,
                    StatusCode::BAD_REQUEST,
                    lang.pick("No file was sent.", "ファイルが送られていません。"),
                );
            }
            Err(e) => return bad_upload(&s, &req, e.status(), &e.body_text()),
        }
    }
}

fn bad_upload(s: &Shared, req: &Req, status: StatusCode, text: &str) -> Response {
    let lang = req.lang;
    let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
        match lang {
            Lang::En => format!(
                "The upload is larger than {} MiB: not read.",
                super::MAX_BODY_BYTES >> 20
            ),
            Lang::Ja => format!(
                "アップロードが {} MiB を超えているため読み込みません。",
                super::MAX_BODY_BYTES >> 20
            ),
        }
    } else {
        format!(
            "{}: {text}",
            lang.pick(
                "The upload could not be read",
                "アップロードを読み込めません"
            )
        )
    };
    let body = format!("<p class=\"error\" id=\"upload-error\">{}</p>", esc(&msg));
    (
        status,
        Html(layout(s, req, lang.pick("Site", "サイト"), None, &body)),
    )
        .into_response()
}

/// `POST /site/form?s=`: apply the form's edits to the site, open the result.
pub async fn form(
    State(s): State<Shared>,
    req: Req,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let (_, doc) = match doc_of(&s, &req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match site_edit::apply(&doc.source(), &fields) {
        Ok(text) => to_site(&req, &s.sites.put(doc.name.clone(), text.into()), &[]),
        Err(e) => error_page(&s, &req, &e, Some(&doc.text)),
    }
}

/// An error as a page of its own.
pub fn error_page(s: &Shared, req: &Req, e: &Error, text: Option<&str>) -> Response {
    let body = super::error::problems(e, text, req.lang);
    (
        super::error::status(e),
        Html(layout(s, req, "portplan", req.get("s"), &body)),
    )
        .into_response()
}

/// `POST /site/save?s=`: write the text over the file the server was started with — the
/// only write to disk the server makes (atomically, as `-o` does).
pub async fn save(State(s): State<Shared>, req: Req) -> Response {
    let (id, doc) = match doc_of(&s, &req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some((path, _)) = s
        .opened
        .as_ref()
        .filter(|(p, _)| p.display().to_string() == doc.name)
    else {
        return super::page::message(
            StatusCode::FORBIDDEN,
            req.lang,
            req.lang.pick(
                "Only the file the server was started with can be saved; download this one instead.",
                "保存できるのはサーバー起動時に指定したファイルだけです。このサイトはダウンロードしてください。",
            ),
        );
    };
    match crate::fsutil::write_output(path, doc.text.as_bytes()) {
        Ok(()) => to_site(&req, &id, &[("saved", "1")]),
        Err(e) => error_page(&s, &req, &e, None),
    }
}

/// `GET /site.yaml?s=`: the text as a file.
pub async fn download(State(s): State<Shared>, req: Req) -> Response {
    match doc_of(&s, &req) {
        Ok((_, doc)) => {
            let name = std::path::Path::new(&doc.name)
                .file_name()
                .map_or("site.yaml".to_string(), |n| {
                    n.to_string_lossy().into_owned()
                });
            super::download(
                doc.text.to_string(),
                "application/yaml; charset=utf-8",
                &name,
            )
        }
        Err(r) => r,
    }
}
