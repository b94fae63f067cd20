//! `portplan serve` at the HTTP level: the security rules (Host check, per-session token on
//! POST, access token, body limit, headers), the pages' answers against the CLI's, and bad
//! uploads getting the CLI's located errors. Requests go through the real router with
//! `tower::ServiceExt::oneshot`; `serve_binary_refuses_*` runs the binary.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use portplan::app::Context;
use portplan::catalog::Catalogs;
use portplan::diag::SourceFile;
use portplan::web::{self, AppState, Config};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8470";
const HQ: &str = include_str!("../examples/hq.yaml");

fn state(token: Option<&str>, listen: &str) -> Arc<AppState> {
    let config = Config {
        listen: listen.parse().unwrap(),
        token: token.map(String::from),
        site: Some((
            "examples/hq.yaml".into(),
            SourceFile::new("examples/hq.yaml", HQ),
        )),
    };
    web::state(Context::new(Catalogs::builtin()), &config).unwrap()
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(s: &Arc<AppState>, req: Request<Body>) -> Answer {
    let r = web::router(s.clone()).oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(s: &Arc<AppState>, uri: &str) -> Answer {
    send(
        s,
        Request::get(uri)
            .header(header::HOST, HOST)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn multipart(field: &str, file: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "XyZportplanBoundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(s: &Arc<AppState>, name: &str, content: &[u8]) -> Answer {
    let (ct, body) = multipart("file", name, content);
    send(
        s,
        Request::post(format!("/site/upload?csrf={}&lang=en", s.csrf))
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn follow(s: &Arc<AppState>, a: &Answer) -> Answer {
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    let to = a.headers[header::LOCATION].to_str().unwrap().to_string();
    get(s, &to).await
}

#[tokio::test]
async fn wrong_host_is_refused_dns_rebinding() {
    let s = state(None, HOST);
    for host in [
        "evil.example:8470",
        "127.0.0.1:9999",
        "attacker.localhost.example",
        "",
    ] {
        let a = send(
            &s,
            Request::get("/ports")
                .header(header::HOST, host)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST, "host {host}");
        assert!(!a.text().contains("<form"), "no page for host {host}");
    }
    for host in [HOST, "localhost:8470", "[::1]:8470", "LOCALHOST:8470"] {
        let a = send(
            &s,
            Request::get("/ports")
                .header(header::HOST, host)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "host {host}");
    }
}

#[tokio::test]
async fn post_needs_the_session_token_and_get_changes_nothing() {
    let s = state(None, HOST);
    let post = |uri: String, csrf: Option<String>| {
        let mut b = Request::post(uri)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "text/plain");
        if let Some(c) = csrf {
            b = b.header("x-portplan-csrf", c);
        }
        b.body(Body::from("name: x\nproducts: []\n")).unwrap()
    };
    let a = send(&s, post("/site/check".into(), None)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send(&s, post("/site/check".into(), Some("0".repeat(32)))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send(&s, post("/site/check".into(), Some(s.csrf.clone()))).await;
    assert_eq!(a.status, StatusCode::OK);
    let a = send(&s, post(format!("/site/check?csrf={}", s.csrf), None)).await;
    assert_eq!(a.status, StatusCode::OK);
    // A cross-site Origin is refused even with the token.
    let a = send(
        &s,
        Request::post("/site/check")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, "http://evil.example")
            .header("x-portplan-csrf", s.csrf.clone())
            .body(Body::from("x"))
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Every route that changes something is POST only.
    for uri in [
        "/site/save",
        "/site/open",
        "/site/upload",
        "/site/form",
        "/audit",
    ] {
        let a = get(&s, uri).await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "GET {uri}");
    }
}

#[tokio::test]
async fn security_headers_on_every_answer() {
    let s = state(None, HOST);
    for uri in [
        "/",
        "/ports?p=devicelock",
        "/site",
        "/plan",
        "/nope",
        "/assets/app.js",
    ] {
        let a = get(&s, uri).await;
        let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{uri}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{uri}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert_eq!(
            a.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{uri}"
        );
        assert_eq!(a.headers[header::X_FRAME_OPTIONS], "DENY", "{uri}");
        if a.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
        {
            let t = a.text();
            assert!(!t.contains("<script>"), "{uri}: inline script");
            assert!(!t.contains(" onclick="), "{uri}: inline handler");
            assert!(!t.contains("style=\""), "{uri}: inline style");
        }
    }
}

#[tokio::test]
async fn oversize_upload_is_refused() {
    let s = state(None, HOST);
    let big = vec![b'#'; web::MAX_BODY_BYTES + 1024];
    let a = upload(&s, "big.yaml", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text());
    assert!(a.text().contains("MiB"));
    let a = send(
        &s,
        Request::post(format!("/site/check?csrf={}", s.csrf))
            .header(header::HOST, HOST)
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn access_token_sets_a_cookie_and_is_then_required() {
    let s = state(Some("sekrit-token"), "0.0.0.0:8470");
    let any = |uri: &str, cookie: Option<&str>| {
        let mut b = Request::get(uri).header(header::HOST, "192.0.2.7:8470");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::empty()).unwrap()
    };
    let a = send(&s, any("/ports", None)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = send(&s, any("/ports?token=wrong", None)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = send(&s, any("/ports?p=tmws&token=sekrit-token", None)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/ports?p=tmws");
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let a = send(
        &s,
        any("/ports?p=tmws", Some("portplan_token=sekrit-token")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = send(&s, any("/ports", Some("portplan_token=sekrit-tokeN"))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn non_loopback_listen_requires_a_token() {
    let config = Config {
        listen: "0.0.0.0:8470".parse().unwrap(),
        token: None,
        site: None,
    };
    let e = web::state(Context::new(Catalogs::builtin()), &config)
        .err()
        .unwrap();
    assert!(e.plain(portplan::i18n::Lang::En).contains("--token"));
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn serve_binary_refuses_a_public_listen_without_token() {
    let out = assert_cmd::Command::cargo_bin("portplan")
        .unwrap()
        .args(["serve", "--listen", "0.0.0.0:0", "--lang", "ja"])
        .env_remove("PORTPLAN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--token が必要です"), "{err}");
}

#[tokio::test]
async fn ports_page_matches_the_cli_and_keeps_state_in_the_url() {
    let s = state(None, HOST);
    let dynamic = get(&s, "/ports?p=devicelock").await.text();
    assert!(dynamic.contains("data-port=\"135\""));
    assert!(dynamic.contains("data-port=\"1024-65535\""));
    let fixed = get(&s, "/ports?p=devicelock&rpc_ports=fixed&lang=ja").await;
    assert_eq!(fixed.status, StatusCode::OK);
    let t = fixed.text();
    assert!(!t.contains("data-port=\"135\""), "135 left the table");
    assert!(!t.contains("data-port=\"1024-65535\""));
    assert!(t.contains("<html lang=\"ja\""));
    assert!(t.contains("必要な通信"));
    // Why not: the endpoint mapper's condition, with the option's value.
    assert!(
        t.contains("rpc_ports == dynamic"),
        "why-not names the condition"
    );
    // The copy text is exactly what `portplan ports --format md` prints.
    let md = get(&s, "/ports.md?p=devicelock&rpc_ports=fixed&lang=ja").await;
    let cli = assert_cmd::Command::cargo_bin("portplan")
        .unwrap()
        .args([
            "ports",
            "devicelock",
            "--set",
            "rpc_ports=fixed",
            "--format",
            "md",
            "--lang",
            "ja",
        ])
        .output()
        .unwrap();
    assert_eq!(md.text(), String::from_utf8_lossy(&cli.stdout));
    let csv = get(
        &s,
        "/ports.csv?p=devicelock&roles=devicelock.service,devicelock.console",
    )
    .await;
    let cli = assert_cmd::Command::cargo_bin("portplan")
        .unwrap()
        .args([
            "ports",
            "devicelock",
            "--roles",
            "service,console",
            "--format",
            "csv",
            "--lang",
            "en",
        ])
        .output()
        .unwrap();
    assert_eq!(csv.text(), String::from_utf8_lossy(&cli.stdout));
    // A stale option of a product no longer picked is dropped, not an error.
    let a = get(&s, "/ports?p=tmws&rpc_ports=fixed").await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn language_follows_accept_language_unless_the_url_says() {
    let s = state(None, HOST);
    let with = |al: &str, uri: &str| {
        Request::get(uri.to_string())
            .header(header::HOST, HOST)
            .header(header::ACCEPT_LANGUAGE, al)
            .body(Body::empty())
            .unwrap()
    };
    let a = send(&s, with("ja-JP,ja;q=0.9,en;q=0.8", "/")).await;
    assert!(a.text().contains("<html lang=\"ja\""));
    let a = send(&s, with("en-US,ja;q=0.5", "/")).await;
    assert!(a.text().contains("<html lang=\"en\""));
    let a = send(&s, with("ja", "/ports?lang=en")).await;
    assert!(a.text().contains("<html lang=\"en\""));
    // Every page links both languages.
    for uri in ["/", "/ports", "/site", "/plan"] {
        let t = get(&s, uri).await.text();
        assert!(
            t.contains("id=\"lang-ja\"") && t.contains("id=\"lang-en\""),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn bad_option_and_unknown_product_get_the_cli_message() {
    let s = state(None, HOST);
    let a = get(&s, "/ports?p=devicelock&rpc_ports=sometimes").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let t = a.text();
    assert!(
        t.contains("rpc_ports") && t.contains("dynamic, fixed"),
        "{t}"
    );
    let a = get(&s, "/ports?p=devicelok").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text().contains("devicelock"), "suggests the near miss");
    let a = get(&s, "/ports?p=devicelock&rpc_portz=fixed").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text().contains("rpc_ports"));
}

#[tokio::test]
async fn broken_uploads_get_located_errors_never_a_500() {
    let s = state(None, HOST);
    // A wrong value at a known line.
    let broken = HQ.replace("rpc_ports: fixed", "rpc_ports: sometimes");
    let line = broken
        .lines()
        .position(|l| l.contains("rpc_ports: sometimes"))
        .unwrap()
        + 1;
    let a = upload(&s, "broken.yaml", broken.as_bytes()).await;
    let page = follow(&s, &a).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the editor page, with the problems"
    );
    let t = page.text();
    assert!(t.contains(&format!("data-line=\"{line}\"")), "{t}");
    assert!(t.contains(&format!("broken.yaml:{line}:")));
    // The same text the CLI prints for that file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, &broken).unwrap();
    let cli = assert_cmd::Command::cargo_bin("portplan")
        .unwrap()
        .current_dir(dir.path())
        .args(["plan", "broken.yaml", "--lang", "en"])
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&cli.stderr).contains(&format!("broken.yaml:{line}:")));
    // Degenerate files: empty, not YAML, truncated, binary, not UTF-8.
    let cases: [(&str, &[u8]); 5] = [
        ("empty.yaml", b""),
        ("other.yaml", b"%PDF-1.7\n1 0 obj\n<< >>\n"),
        ("truncated.yaml", &HQ.as_bytes()[..HQ.len() / 2]),
        ("zeros.yaml", &[0u8; 64]),
        ("sjis.yaml", b"name: \x82\xa0\nproducts: []\n"),
    ];
    for (name, bytes) in cases {
        let a = upload(&s, name, bytes).await;
        let page = if a.status == StatusCode::SEE_OTHER {
            follow(&s, &a).await
        } else {
            a
        };
        assert!(
            page.status == StatusCode::OK || page.status == StatusCode::BAD_REQUEST,
            "{name}: {}",
            page.status
        );
        let t = page.text();
        assert!(t.contains("class=\"problems\""), "{name}: {t}");
        assert!(t.contains(name), "{name}: names the file");
        assert!(!t.contains("panicked") && !t.contains("RUST_BACKTRACE"));
    }
    let a = upload(&s, "sjis.yaml", b"name: \x82\xa0\n").await;
    assert!(
        a.text().contains("sjis.yaml:1:7: not UTF-8"),
        "{}",
        a.text()
    );
    // A multipart body that is not one.
    let a = send(
        &s,
        Request::post(format!("/site/upload?csrf={}", s.csrf))
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=zz")
            .body(Body::from("garbage"))
            .unwrap(),
    )
    .await;
    assert!(a.status.is_client_error(), "{}", a.status);
}

#[tokio::test]
async fn a_zone_edit_in_the_form_changes_the_plan() {
    let s = state(None, HOST);
    let id = s.opened.as_ref().unwrap().1.clone();
    let before = get(&s, &format!("/plan?s={id}")).await.text();
    assert!(before.contains("10.20.0.0/16"));
    assert!(!before.contains("10.30.0.0/16"));
    let a = send(
        &s,
        Request::post(format!("/site/form?s={id}&csrf={}", s.csrf))
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            // As a browser sends it: every field, the empty new rows included.
            .body(Body::from(
                "zone.0.cidrs=10.20.0.0%2F16%2C+10.30.0.0%2F16&zone.new.id=&zone.new.cidrs=&fw.new.id=&fw.new.between=&fw.new.target=nftables&opt.0.netbios=&role.0.gpm=%5B%5D",
            ))
            .unwrap(),
    )
    .await;
    let site_page = follow(&s, &a).await;
    assert_eq!(site_page.status, StatusCode::OK, "{}", site_page.text());
    let loc = a.headers[header::LOCATION].to_str().unwrap();
    let new_id = loc.split("s=").nth(1).unwrap().split('&').next().unwrap();
    assert_ne!(new_id, id);
    let after = get(&s, &format!("/plan?s={new_id}")).await.text();
    assert!(after.contains("10.30.0.0/16"), "the new CIDR is planned");
    // diff against the old version: the change report shows additions.
    let d = get(&s, &format!("/plan?s={new_id}&diff={id}")).await.text();
    assert!(d.contains("class=\"add\""), "diff shows additions");
}

#[tokio::test]
async fn downloads_render_report_and_xlsx_read_back() {
    use calamine::Reader;
    let s = state(None, HOST);
    let id = s.opened.as_ref().unwrap().1.clone();
    let a = get(&s, "/ports.xlsx?p=devicelock&rpc_ports=fixed&lang=en").await;
    assert_eq!(a.status, StatusCode::OK);
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(a.body.clone())).unwrap();
    let sheet = wb.worksheet_range("Ports").unwrap();
    let ports: Vec<String> = sheet.rows().skip(1).map(|r| r[3].to_string()).collect();
    assert!(!ports.is_empty());
    assert!(
        !ports.iter().any(|p| p == "135" || p == "1024-65535"),
        "{ports:?}"
    );
    let a = get(&s, &format!("/report?s={id}&format=xlsx")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.starts_with(b"PK"));
    let a = get(
        &s,
        &format!("/render?s={id}&point=fw-core&target=nftables&mode=replace"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let cli = assert_cmd::Command::cargo_bin("portplan")
        .unwrap()
        .args([
            "render",
            "examples/hq.yaml",
            "--for",
            "fw-core",
            "--target",
            "nftables",
            "--mode",
            "replace",
        ])
        .output()
        .unwrap();
    assert_eq!(a.text(), String::from_utf8_lossy(&cli.stdout));
    // A refusal (partial target) is the CLI's message, 400.
    let a = get(&s, &format!("/render?s={id}&point=fw-edge&target=iptables")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    let a = get(&s, &format!("/plan/diagram.svg?s={id}")).await;
    assert!(a.text().starts_with("<svg") || a.text().starts_with("<?xml"));
}

#[tokio::test]
async fn audit_upload_shows_findings() {
    let s = state(None, HOST);
    let id = s.opened.as_ref().unwrap().1.clone();
    let rules =
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
    let (ct, body) = multipart("ruleset", "now.rules", rules.as_bytes());
    let a = send(
        &s,
        Request::post(format!("/audit?s={id}&point=fw-edge&csrf={}", s.csrf))
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.text().contains("id=\"audit-verdict\" class=\"error\""));
    let (ct, body) = multipart("ruleset", "junk.rules", b"\x00\x01garbage");
    let a = send(
        &s,
        Request::post(format!("/audit?s={id}&point=fw-edge&csrf={}", s.csrf))
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert!(a.status.is_client_error(), "{}", a.status);
    assert!(a.text().contains("junk.rules"));
}

#[tokio::test]
async fn pages_weigh_under_200_kb() {
    let s = state(None, HOST);
    let id = s.opened.as_ref().unwrap().1.clone();
    for uri in [
        "/".to_string(),
        "/ports?p=devicelock&p=tmws".into(),
        format!("/site?s={id}"),
        format!("/plan?s={id}"),
    ] {
        let a = get(&s, &uri).await;
        assert!(a.body.len() < 200 * 1024, "{uri}: {} bytes", a.body.len());
    }
}

/// `app::site_edit`: the Site page's form edits.
mod site_edit {
    use portplan::app::site_edit::{Node, apply, list_text, parse, sides_text};
    use portplan::diag::SourceFile;

    fn hq() -> SourceFile {
        SourceFile::new("hq.yaml", include_str!("../examples/hq.yaml"))
    }

    #[test]
    fn a_zone_edit_changes_only_that_zone_and_the_site_still_loads() {
        let out = apply(
            &hq(),
            &[
                ("zone.0.cidrs".into(), "10.20.0.0/16, 10.30.0.0/16".into()),
                ("zone.1.cidrs".into(), "10.10.0.0/24".into()),
            ],
        )
        .unwrap();
        let back = parse(&SourceFile::new("x", out.as_str())).unwrap();
        let zones = back.get("zones").unwrap().items();
        assert_eq!(
            list_text(zones[0].get("cidrs").unwrap()).unwrap(),
            "10.20.0.0/16, 10.30.0.0/16"
        );
        assert_eq!(
            list_text(zones[1].get("cidrs").unwrap()).unwrap(),
            "10.10.0.0/24"
        );
        // Key order is the file's.
        let Node::Map(m) = &back else { panic!() };
        assert_eq!(m[0].0, "name");
        let cats = portplan::catalog::Catalogs::builtin();
        let ctx = portplan::app::Context::new(cats);
        let loaded = ctx.load(SourceFile::new("edited.yaml", out)).unwrap();
        assert!(loaded.site.zones.iter().any(|z| z.id == "clients"));
    }

    #[test]
    fn options_roles_and_firewalls_round_trip() {
        let out = apply(
            &hq(),
            &[
                ("opt.0.rpc_ports".into(), "dynamic".into()),
                ("role.0.gpm".into(), "".into()),
                ("role.0.console".into(), "10.10.0.10, 10.10.0.12".into()),
                ("fw.1.between".into(), "clients, servers; internet".into()),
                ("fw.0.delete".into(), "on".into()),
                ("fw.new.id".into(), "fw-new".into()),
                ("fw.new.between".into(), "clients; servers".into()),
                ("fw.new.target".into(), "nftables".into()),
            ],
        )
        .unwrap();
        let back = parse(&SourceFile::new("x", out.as_str())).unwrap();
        let dl = &back.get("products").unwrap().items()[0];
        assert_eq!(
            dl.get("options").unwrap().get("rpc_ports"),
            Some(&Node::Str("dynamic".into()))
        );
        assert!(dl.get("roles").unwrap().get("gpm").is_none());
        let fws = back.get("firewalls").unwrap().items();
        assert_eq!(fws.len(), 2);
        assert_eq!(fws[0].get("id").and_then(Node::scalar).unwrap(), "fw-edge");
        assert_eq!(
            sides_text(fws[0].get("between").unwrap()).unwrap(),
            "clients, servers; internet"
        );
        assert_eq!(
            sides_text(fws[1].get("between").unwrap()).unwrap(),
            "clients; servers"
        );
        let ctx = portplan::app::Context::new(portplan::catalog::Catalogs::builtin());
        ctx.load(SourceFile::new("edited.yaml", out)).unwrap();
    }

    #[test]
    fn a_field_naming_nothing_is_an_error_and_broken_yaml_is_located() {
        let e = apply(&hq(), &[("zone.9.cidrs".into(), "10.0.0.0/8".into())]).unwrap_err();
        assert!(e.plain(portplan::i18n::Lang::En).contains("zone.9.cidrs"));
        let e = apply(&SourceFile::new("b.yaml", "a: [1,\n"), &[]).unwrap_err();
        assert!(e.located(portplan::i18n::Lang::En)[0].line.is_some());
    }
}
