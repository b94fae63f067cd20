//! The page frame (navigation, language switch), escaping, URL building, the request's
//! language and query ([`Req`]), and the embedded assets.

use std::convert::Infallible;
use std::fmt::Write as _;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use crate::i18n::Lang;

/// The script: live updates, live validation, copy buttons. Plain JS, no framework.
pub const SCRIPT: &str = include_str!("assets/app.js");
/// The style sheet.
pub const STYLE: &str = include_str!("assets/app.css");

/// Escape text for HTML (text and attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::escape::escape_controls(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a query component.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A query string from pairs (without the `?`).
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What every page needs of its request: the language, the query pairs in order, the path.
#[derive(Debug, Clone)]
pub struct Req {
    /// Language of the answer.
    pub lang: Lang,
    /// Query pairs, in order (repeated keys kept).
    pub query: Vec<(String, String)>,
    /// Path.
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Req {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Req, Infallible> {
        let query = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        Ok(Req {
            lang: super::lang_of(&query, &parts.headers),
            query,
            path: parts.uri.path().to_string(),
        })
    }
}

impl Req {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// This page's URL with `key` set to `value` (other pairs kept).
    pub fn with(&self, key: &str, value: &str) -> String {
        let q = query_string(
            self.query
                .iter()
                .filter(|(k, _)| k != key)
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain([(key, value)]),
        );
        format!("{}?{q}", self.path)
    }

    /// `path` in this language (and with the site `s`, when there is one).
    pub fn link(&self, path: &str, site: Option<&str>) -> String {
        let mut pairs = vec![("lang", self.lang.code())];
        if let Some(s) = site {
            pairs.push(("s", s));
        }
        format!("{path}?{}", query_string(pairs))
    }
}

/// A whole page: the frame around `body`.
pub fn layout(s: &Shared, req: &Req, title: &str, site: Option<&str>, body: &str) -> String {
    let lang = req.lang;
    let nav = [
        ("/ports", lang.pick("Ports", "ポート")),
        ("/site", lang.pick("Site", "サイト")),
        ("/plan", lang.pick("Plan", "計画")),
    ];
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} — portplan</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/app.css\">\
<script src=\"/assets/app.js\" defer></script></head>\n\
<body data-csrf=\"{csrf}\" data-lang=\"{code}\"><header><a class=\"brand\" href=\"{home}\">portplan</a><nav>",
        code = lang.code(),
        t = esc(title),
        csrf = esc(&s.csrf),
        home = esc(&req.link("/", site)),
    );
    for (path, label) in nav {
        let cls = if req.path.starts_with(path) {
            " class=\"here\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<a href=\"{}\"{cls}>{}</a>",
            esc(&req.link(path, if path == "/ports" { None } else { site })),
            esc(label)
        );
    }
    let _ = write!(
        out,
        "</nav><span class=\"langs\"><a id=\"lang-en\" href=\"{}\" hreflang=\"en\"{}>English</a> | <a id=\"lang-ja\" href=\"{}\" hreflang=\"ja\"{}>日本語</a></span></header>\n<main id=\"main\">\n<h1>{}</h1>\n{body}\n</main></body></html>\n",
        esc(&req.with("lang", "en")),
        if lang == Lang::En {
            " class=\"here\""
        } else {
            ""
        },
        esc(&req.with("lang", "ja")),
        if lang == Lang::Ja {
            " class=\"here\""
        } else {
            ""
        },
        esc(title),
    );
    out
}

/// A page of one message (errors of the frame: Host, tokens, not found).
pub fn message(status: StatusCode, lang: Lang, text: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>portplan</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/app.css\"></head><body><main><p class=\"error\">{}</p></main></body></html>\n",
            lang.code(),
            esc(text)
        )),
    )
        .into_response()
}

/// `/`: what each page does.
pub async fn home(axum::extract::State(s): axum::extract::State<Shared>, req: Req) -> Response {
    let lang = req.lang;
    let site = s.opened.as_ref().map(|(_, id)| id.as_str());
    let items = [
        (
            "/ports",
            lang.pick("Ports", "ポート"),
            lang.pick(
                "Which ports a product needs for the options you use — and why.",
                "使うオプションで製品に必要なポートと、その理由。",
            ),
        ),
        (
            "/site",
            lang.pick("Site", "サイト"),
            lang.pick(
                "Open, edit and check a site file (zones, products, firewalls).",
                "サイト定義 (ゾーン・製品・ファイアウォール) を開いて編集・検査します。",
            ),
        ),
        (
            "/plan",
            lang.pick("Plan", "計画"),
            lang.pick(
                "The minimal openings per firewall, the diagram, explain, diff, and downloads.",
                "ファイアウォールごとの最小の開放、構成図、理由の説明、差分、ダウンロード。",
            ),
        ),
    ];
    let mut body = String::from("<ul class=\"cards\">");
    for (path, title, what) in items {
        let _ = write!(
            body,
            "<li><a href=\"{}\">{}</a><p>{}</p></li>",
            esc(&req.link(path, if path == "/ports" { None } else { site })),
            esc(title),
            esc(what)
        );
    }
    body.push_str("</ul>");
    Html(layout(&s, &req, "portplan", site, &body)).into_response()
}

/// `/assets/app.js`.
pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

/// `/assets/app.css`.
pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// Anything else.
pub async fn not_found(req: Req) -> Response {
    message(
        StatusCode::NOT_FOUND,
        req.lang,
        req.lang.pick("No such page.", "そのページはありません。"),
    )
}
