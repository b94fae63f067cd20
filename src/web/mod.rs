//! `portplan serve`: a local web UI over the same application layer as the command line.
//!
//! Handlers are thin (kanidm's `views/` pattern, STYLE.md P8): they read the request, call one
//! [`crate::app`] function — the one the matching CLI command calls — and render the typed
//! result as server-side HTML. Pages work without JavaScript; `assets/app.js` (plain JS, no
//! framework, no build step) only swaps in fresh results, validates the YAML editor as one
//! types and copies tables. Every asset is embedded with `include_str!`; nothing is fetched
//! from elsewhere.
//!
//! State lives in the URL (`/ports?p=devicelock&rpc_ports=fixed&lang=ja`). Site files the
//! user opens are kept in memory only ([`store::Sites`], a bounded set keyed by a hash of the
//! text); the server writes to disk only when the user saves the file it was started with.
//! The security rules (Host check, per-session token on POST, limits, headers) are in
//! [`security`].

pub mod error;
pub mod page;
pub mod plan;
pub mod ports;
pub mod security;
pub mod site;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::Context;
use crate::diag::{Error, Result, SourceFile};
use crate::i18n::Lang;
use crate::tr;

/// Largest request body (uploads of sites and rulesets, the YAML editor): real sites and
/// rulesets are far smaller; a 10,000-host site is about 0.5 MB.
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// How the server is started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Access token: required for a non-loopback `listen`; when set, every request must carry
    /// it (`?token=…` once, then a cookie).
    pub token: Option<String>,
    /// The site file given on the command line: its path (for saving) and text.
    pub site: Option<(PathBuf, SourceFile)>,
}

/// What every handler shares.
pub struct AppState {
    /// Catalogs, loaded once.
    pub ctx: Context,
    /// The per-session token every POST must carry (`?csrf=` or the `x-portplan-csrf`
    /// header); random, new at every start.
    pub csrf: String,
    /// The access token of `--token`.
    pub token: Option<String>,
    /// Host header values accepted; `None` accepts any (a non-loopback wildcard listen, which
    /// requires the access token).
    pub hosts: Option<Vec<String>>,
    /// Site files opened in this session, in memory.
    pub sites: store::Sites,
    /// The file the server was started with, and the id of its text as opened.
    pub opened: Option<(PathBuf, String)>,
}

/// Shared state handle.
pub type Shared = Arc<AppState>;

/// Random bytes as hex, from the operating system.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS RNG failing is not something a user can fix; the fallback is the clock and
    // address-space layout, still unguessable across sessions for a local tool.
    if getrandom::fill(&mut buf).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = t ^ (&buf as *const _ as u128);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Build the state: check the configuration (a non-loopback listen needs a token), open the
/// site of the command line.
pub fn state(ctx: Context, config: &Config) -> Result<Shared> {
    let ip = config.listen.ip();
    if !ip.is_loopback() && config.token.as_deref().is_none_or(str::is_empty) {
        return Err(Error::usage(
            tr!(
                "--listen {ip} is not a loopback address: anyone who can reach it could use the server, so --token is required",
                "--listen {ip} はループバックアドレスではありません: 届く人は誰でも使えてしまうため --token が必要です"
            ),
            Some(tr!(
                "e.g. --listen 0.0.0.0:8470 --token \"$(openssl rand -hex 16)\"; or leave --listen out for 127.0.0.1:8470",
                "例: --listen 0.0.0.0:8470 --token \"$(openssl rand -hex 16)\" (--listen を省くと 127.0.0.1:8470)"
            )),
        ));
    }
    let port = config.listen.port();
    let hosts = if ip.is_loopback() {
        Some(vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ])
    } else if ip.is_unspecified() {
        None
    } else {
        Some(vec![SocketAddr::new(ip, port).to_string()])
    };
    let sites = store::Sites::new();
    let opened = config.site.as_ref().map(|(path, file)| {
        (
            path.clone(),
            sites.put(file.name.clone(), file.text.clone()),
        )
    });
    Ok(Arc::new(AppState {
        ctx,
        csrf: random_hex(16),
        token: config.token.clone(),
        hosts,
        sites,
        opened,
    }))
}

/// The route table.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(page::home))
        .route("/assets/app.js", get(page::script))
        .route("/assets/app.css", get(page::style))
        .route("/ports", get(ports::page))
        .route("/ports.md", get(ports::markdown))
        .route("/ports.csv", get(ports::csv))
        .route("/ports.xlsx", get(ports::xlsx))
        .route("/site", get(site::page))
        .route("/site.yaml", get(site::download))
        .route("/site/check", post(site::check))
        .route("/site/open", post(site::open))
        .route("/site/upload", post(site::upload))
        .route("/site/form", post(site::form))
        .route("/site/save", post(site::save))
        .route("/plan", get(plan::page))
        .route("/plan/diagram.svg", get(plan::diagram))
        .route("/render", get(plan::render))
        .route("/report", get(plan::report))
        .route("/audit", post(plan::audit))
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The language of a request: `?lang=` wins, then the browser's `Accept-Language` (the
/// first of `ja`/`en` by quality), then English.
pub fn lang_of(query: &[(String, String)], headers: &HeaderMap) -> Lang {
    match query
        .iter()
        .rev()
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.as_str())
    {
        Some("ja") => return Lang::Ja,
        Some("en") => return Lang::En,
        _ => {}
    }
    let Some(accept) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::En;
    };
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',') {
        let mut it = part.split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let lang = if tag == "ja" || tag.starts_with("ja-") {
            Lang::Ja
        } else if tag == "en" || tag.starts_with("en-") {
            Lang::En
        } else {
            continue;
        };
        if best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

/// A download: bytes with a type and a file name.
pub fn download(bytes: impl Into<axum::body::Body>, mime: &str, name: &str) -> Response {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes.into(),
    )
        .into_response()
}

/// Run the server until Ctrl-C. Prints the URL to open (with the token when there is one).
pub fn serve(ctx: Context, config: Config, open: bool, lang: Lang) -> Result<()> {
    let state = state(ctx, &config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| Error::io(config.listen.to_string(), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io(config.listen.to_string(), e))?;
        let host = if addr.ip().is_loopback() {
            format!("localhost:{}", addr.port())
        } else {
            addr.to_string()
        };
        let url = match &config.token {
            Some(t) => format!("http://{host}/?token={t}"),
            None => format!("http://{host}/"),
        };
        eprintln!(
            "{}",
            tr!(
                "portplan serve: open {url} (Ctrl-C stops)",
                "portplan serve: {url} を開いてください (Ctrl-C で終了)"
            )
            .get(lang)
        );
        if open {
            open_browser(&url);
        }
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Error::io(addr.to_string(), e))
    })
}

fn open_browser(url: &str) {
    let cmd = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    // Failing to start a browser is not fatal: the URL is printed.
    let _ = std::process::Command::new(cmd)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
