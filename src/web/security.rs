//! The server's security rules, applied to every request before any handler:
//!
//! - **Host check** (DNS rebinding): on loopback only `127.0.0.1:PORT`, `localhost:PORT` and
//!   `[::1]:PORT`; on a specific address only that address; a wildcard listen accepts any
//!   Host but requires the access token (a rebinding page never has its cookie).
//! - **Access token** (`--token`): `?token=T` once sets an HttpOnly, SameSite=Strict cookie
//!   and redirects to the same URL without it; afterwards the cookie; compared in constant
//!   time.
//! - **No state change on GET**: every handler that changes something is a POST route, and
//!   every POST must carry the per-session token (`?csrf=` in a form's action, or the
//!   `x-portplan-csrf` header from the script), and an `Origin` header, when sent, must be
//!   this server.
//! - **Headers** on every answer: a CSP without inline script (`script-src 'self'`),
//!   `nosniff`, `frame-ancestors 'none'` (and `X-Frame-Options: DENY`), no referrer, no
//!   caching. The body limit is [`super::MAX_BODY_BYTES`] (axum's `DefaultBodyLimit`).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::page;
use crate::i18n::Lang;

/// The Content-Security-Policy of every page.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Equal in constant time (for tokens).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return s.into();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned().into()
}

fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

fn refuse(status: StatusCode, lang: Lang, en: &str, ja: &str) -> Response {
    page::message(status, lang, lang.pick(en, ja))
}

/// The middleware: Host, access token, POST token and Origin, then the headers.
pub async fn guard(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let lang = super::lang_of(&[], req.headers());
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if let Some(hosts) = &s.hosts
        && !hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    {
        return secured(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            lang,
            "This server answers only at its own address (Host header check against DNS rebinding).",
            "このサーバーは自分のアドレス宛ての要求にだけ応答します (DNS リバインディング対策の Host ヘッダー検査)。",
        ));
    }
    let query = req.uri().query().unwrap_or("").to_string();
    if let Some(token) = &s.token {
        if let Some(given) = query_value(&query, "token") {
            if !same(&given, token) {
                return secured(refuse(
                    StatusCode::UNAUTHORIZED,
                    lang,
                    "Wrong access token.",
                    "アクセストークンが違います。",
                ));
            }
            let rest: Vec<&str> = query
                .split('&')
                .filter(|kv| !kv.starts_with("token=") && !kv.is_empty())
                .collect();
            let to = if rest.is_empty() {
                req.uri().path().to_string()
            } else {
                format!("{}?{}", req.uri().path(), rest.join("&"))
            };
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "portplan_token={token}; HttpOnly; SameSite=Strict; Path=/"
            )) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            return secured(r);
        }
        if !cookie(&req, "portplan_token").is_some_and(|c| same(c, token)) {
            return secured(refuse(
                StatusCode::UNAUTHORIZED,
                lang,
                "This server needs its access token: open the URL it printed at start (…/?token=…).",
                "このサーバーにはアクセストークンが必要です: 起動時に表示された URL (…/?token=…) を開いてください。",
            ));
        }
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let given = req
            .headers()
            .get("x-portplan-csrf")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_string())
            .or_else(|| query_value(&query, "csrf").map(|c| c.into_owned()));
        if !given.is_some_and(|g| same(&g, &s.csrf)) {
            return secured(refuse(
                StatusCode::FORBIDDEN,
                lang,
                "This form is from another session (or another site): reload the page and try again.",
                "このフォームは別のセッション (または別のサイト) のものです: ページを再読み込みしてやり直してください。",
            ));
        }
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            // `Origin: null` is what a browser sends for a form under `Referrer-Policy:
            // no-referrer`; the session token above is the check then.
            .filter(|o| *o != "null")
        {
            let host_of = origin.split_once("://").map_or(origin, |(_, h)| h);
            if !host_of.eq_ignore_ascii_case(host) {
                return secured(refuse(
                    StatusCode::FORBIDDEN,
                    lang,
                    "A request from another site was refused.",
                    "別のサイトからの要求を拒否しました。",
                ));
            }
        }
    }
    secured(next.run(req).await)
}

/// Add the security headers (an SVG answer keeps its own, stricter CSP).
pub fn secured(mut r: Response) -> Response {
    let h = r.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
