//! `portplan report` as a user meets it: the XLSX read back with calamine, the SVG and HTML
//! parsed, Markdown/DOT/SVG snapshots, and the documents rendered by real tools (Chromium,
//! LibreOffice).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use common::{portplan, require_tool, stdout};
use serde_json::Value;

const HQ: &str = "examples/hq.yaml";

fn tmp(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("portplan-report-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn xlsx(args: &[&str], dir: &Path, name: &str) -> Xlsx<std::io::BufReader<std::fs::File>> {
    let out = dir.join(name);
    let mut all: Vec<&str> = args.to_vec();
    let o = out.to_str().unwrap();
    all.extend(["--format", "xlsx", "-o", o]);
    portplan().args(&all).assert().success();
    open_workbook(&out).unwrap()
}

/// The sheet's cells, each with its lines joined by spaces: the workbook writes each cell's
/// line breaks itself (report::wrap), so a long value is split over lines.
fn cells(r: &Range<Data>) -> Vec<Vec<String>> {
    r.rows()
        .map(|row| {
            row.iter()
                .map(|c| c.to_string().replace('\n', " "))
                .collect()
        })
        .collect()
}

/// A Japanese header row as written: a header that wraps has its line break between words
/// (`許可/` `拒否`), which [`cells`] turns into a space; Japanese has none.
fn ja_header(row: &[String]) -> Vec<String> {
    row.iter().map(|h| h.replace(' ', "")).collect()
}

/// The hq plan as JSON: (point id, openings).
fn hq_points() -> Vec<(String, Vec<Value>)> {
    let v: Value = serde_json::from_str(&stdout(&["plan", HQ, "--format", "json"])).unwrap();
    v["enforcement_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["openings"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

fn proto_ports(o: &Value) -> String {
    let ports: Vec<&str> = o["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    format!("{} {}", o["protocol"].as_str().unwrap(), ports.join(","))
}

fn ssh_like_condition(rows: &[Vec<String>]) -> bool {
    rows.iter().any(|r| {
        r[10]
            .replace(" ", "")
            .contains("tmws/syslog-ssh(条件:syslog_tool)")
    })
}

/// A request sheet's (and the HTML table's) headers: each zone heads its address cell
/// instead of having a column of its own.
const JA: [&str; 13] = [
    "申請番号",
    "対象FW",
    "方向",
    "許可/拒否",
    "送信元",
    "宛先",
    "プロトコル",
    "宛先ポート",
    "サービス名",
    "用途",
    "根拠",
    "製品",
    "備考",
];

const EN: [&str; 13] = [
    "Request no.",
    "Firewall",
    "Direction",
    "Action",
    "Source",
    "Destination",
    "Protocol",
    "Destination port",
    "Service name",
    "Purpose",
    "Basis",
    "Product",
    "Notes",
];

#[test]
fn xlsx_ja_sheets_headers_rows_and_options() {
    let dir = tmp("xlsx-ja");
    let mut wb = xlsx(&["report", HQ, "--lang", "ja"], &dir, "hq.xlsx");
    assert_eq!(
        wb.sheet_names(),
        ["概要", "オプション", "fw-core", "fw-edge", "dl-agents"]
    );
    let points = hq_points();
    for (id, openings) in &points {
        let rows = cells(&wb.worksheet_range(id).unwrap());
        assert_eq!(ja_header(&rows[0]), JA, "{id} header");
        assert_eq!(rows.len() - 1, openings.len(), "{id}: one row per opening");
        for (i, r) in rows[1..].iter().enumerate() {
            assert_eq!(r[0], format!("FW-{id}-{:03}", i + 1));
            assert_eq!(r[6], openings[i]["protocol"].as_str().unwrap());
        }
    }
    // The devicelock smb row: AD server → agents, 445/tcp.
    let core = cells(&wb.worksheet_range("fw-core").unwrap());
    let smb = core
        .iter()
        .find(|r| r[4].contains("Active Directory") && r[7] == "445")
        .expect("AD → agents 445/tcp row");
    assert!(
        smb[4].starts_with("サーバーセグメント "),
        "zone first: {smb:?}"
    );
    assert!(smb[4].contains("10.10.0.4/32"), "{smb:?}");
    assert!(smb[5].starts_with("クライアント LAN "), "{smb:?}");
    assert!(smb[5].contains("DeviceLock Service"), "{smb:?}");
    assert!(smb[5].contains("10.20.0.0/16"), "{smb:?}");
    assert_eq!(smb[6], "tcp");
    assert_eq!(smb[8], "445 microsoft-ds");
    assert!(smb[9].contains("SMB"), "purpose: {smb:?}");
    assert!(
        // Compared without spaces: the cell's own line breaks fall between words.
        smb[10].replace(' ', "").contains(
            &"「テクニカルガイド: DeviceLockの通信で使用するポートについて (2020-09-08)」\n表 5 行目 — devicelock/smb"
                .replace([' ', '\n'], "")
        ),
        "basis: {smb:?}"
    );
    assert!(
        smb[10].replace(" ", "").contains("devicelock/smb(常に)"),
        "basis condition: {smb:?}"
    );
    assert!(ssh_like_condition(&core), "conditions are named");
    assert_eq!(smb[11], "DeviceLock");
    // Conditions in the basis: the syslog ssh row holds only with the tool.
    let ssh = core.iter().find(|r| r[7] == "22").unwrap();
    assert!(ssh[10].contains("syslog_tool"), "{ssh:?}");
    assert_eq!(ssh[8], "22 ssh");
    // The captive portal row carries the finding in its notes.
    let portal = core
        .iter()
        .find(|r| r[10].replace(' ', "").contains("agent-captive-portal"))
        .unwrap();
    assert!(portal[12].contains("警告"), "{portal:?}");
    // Host firewall rows say which way.
    let agents = cells(&wb.worksheet_range("dl-agents").unwrap());
    assert_eq!(agents[1][2], "受信");

    // Every option of every product, with its value.
    let opts = cells(&wb.worksheet_range("オプション").unwrap());
    let v: Value = serde_json::from_str(&stdout(&["plan", HQ, "--format", "json"])).unwrap();
    let mut n = 0;
    for p in v["products"].as_array().unwrap() {
        for (k, val) in p["options"].as_object().unwrap() {
            let val = match val {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert!(
                opts.iter().any(|r| r[1] == *k && r[2] == val),
                "option {k}={val} listed"
            );
            n += 1;
        }
    }
    assert!(n >= 16);
    assert!(opts.iter().any(|r| r[0] == "指摘事項"), "findings section");
    assert!(
        opts.iter()
            .any(|r| r[1] == "tmws/agent-captive-portal" && r[0] == "警告"),
        "finding listed"
    );
    assert!(opts.iter().any(|r| r[0] == "サイト定義の警告"));
    // The summary counts the openings per point.
    let summary = cells(&wb.worksheet_range("概要").unwrap());
    for (id, openings) in &points {
        assert!(
            summary
                .iter()
                .any(|r| r[0] == *id && r[3] == openings.len().to_string()),
            "{id} in summary"
        );
    }
    // Real tables on the request sheets.
    wb.load_tables().unwrap();
    for (id, _) in &points {
        assert_eq!(wb.table_names_in_sheet(id).len(), 1, "{id} has a table");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn xlsx_en_headers_frozen_row_and_autofilter() {
    let dir = tmp("xlsx-en");
    let mut wb = xlsx(&["report", HQ, "--lang", "en"], &dir, "hq.xlsx");
    assert_eq!(
        wb.sheet_names(),
        ["Summary", "Options", "fw-core", "fw-edge", "dl-agents"]
    );
    let edge = cells(&wb.worksheet_range("fw-edge").unwrap());
    assert_eq!(edge[0], EN);
    let ntp = edge.iter().find(|r| r[7] == "123").unwrap();
    assert_eq!(ntp[6], "udp");
    assert!(ntp[8].contains("ntp"), "{ntp:?}");
    assert!(ntp[5].starts_with("Internet "), "{ntp:?}");
    assert!(ntp[5].contains("pool.ntp.org"));
    assert!(
        ntp.iter().any(|c| c.contains("(when syslog_tool)")),
        "{ntp:?}"
    );
    // Inside the file: the header row is frozen, the table has an autofilter, long cells wrap.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(dir.join("hq.xlsx")).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let sheet3 = read("xl/worksheets/sheet3.xml");
    assert!(
        sheet3.contains("ySplit=\"1\"") && sheet3.contains("state=\"frozen\""),
        "frozen header"
    );
    assert!(sheet3.contains("<tablePart"), "table on the sheet");
    assert!(sheet3.contains("<col "), "column widths");
    let table = read("xl/tables/table2.xml");
    assert!(table.contains("<autoFilter"), "{table}");
    let styles = read("xl/styles.xml");
    assert!(styles.contains("wrapText=\"1\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn xlsx_change_sheet_from_diff() {
    let dir = tmp("xlsx-diff");
    let hq = std::fs::read_to_string(HQ).unwrap();
    let old = hq
        .replace("rpc_ports: fixed", "rpc_ports: dynamic")
        .replace("captive_portal: true", "captive_portal: false");
    assert_ne!(old, hq);
    let old_path = dir.join("old.yaml");
    std::fs::write(&old_path, old).unwrap();
    let mut wb = xlsx(
        &[
            "report",
            HQ,
            "--diff-from",
            old_path.to_str().unwrap(),
            "--lang",
            "ja",
        ],
        &dir,
        "change.xlsx",
    );
    let core = cells(&wb.worksheet_range("fw-core").unwrap());
    assert_eq!(core[0][0], "申請番号");
    assert_eq!(core[0][1], "変更");
    assert_eq!(&ja_header(&core[0])[2..], &JA[1..]);
    assert_eq!(core[0][2], "対象FW");
    let added = core
        .iter()
        .find(|r| r[1] == "追加")
        .expect("captive portal 443 added");
    assert_eq!(added[8], "443");
    assert!(added[11].replace(' ', "").contains("agent-captive-portal"));
    let removed: Vec<&Vec<String>> = core.iter().filter(|r| r[1] == "削除").collect();
    assert!(
        removed.iter().any(|r| r[8] == "135, 1024-9131, 9134-65535"),
        "dynamic RPC range removed: {removed:?}"
    );
    assert!(
        removed.iter().any(|r| r[9].contains("135 epmap")
            && r[9].contains("9134-65535 (範囲)")
            && r[13].contains("広いポート範囲")),
        "{removed:?}"
    );
    // English labels for the change column.
    let mut wb = xlsx(
        &[
            "report",
            HQ,
            "--diff-from",
            old_path.to_str().unwrap(),
            "--lang",
            "en",
            "--for",
            "fw-core",
        ],
        &dir,
        "change-en.xlsx",
    );
    assert_eq!(wb.sheet_names(), ["Summary", "Options", "fw-core"]);
    let core = cells(&wb.worksheet_range("fw-core").unwrap());
    assert_eq!(core[0][1], "Change");
    assert!(core.iter().any(|r| r[1] == "Add"));
    assert!(core.iter().any(|r| r[1] == "Remove"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The SVG parsed as XML: (zone ids, edge titles and their label texts).
fn svg_parts(svg: &str) -> (Vec<String>, Vec<(String, String)>) {
    let doc = roxmltree::Document::parse(svg).expect("SVG is well-formed XML");
    let zones = doc
        .descendants()
        .filter_map(|n| n.attribute("data-zone").map(String::from))
        .collect();
    let edges = doc
        .descendants()
        .filter(|n| {
            n.tag_name().name() == "g"
                && n.attribute("class").is_some_and(|c| c.starts_with("edge"))
        })
        .map(|g| {
            let title = g
                .children()
                .find(|c| c.tag_name().name() == "title")
                .and_then(|t| t.text())
                .unwrap_or("")
                .to_string();
            let labels: Vec<&str> = g
                .children()
                .filter(|c| c.tag_name().name() == "text")
                .filter_map(|t| t.text())
                .collect();
            (title, labels.join("\n"))
        })
        .collect();
    (zones, edges)
}

fn assert_every_opening_drawn(svg: &str) {
    let (zones, edges) = svg_parts(svg);
    assert_eq!(zones, ["clients", "servers", "internet"]);
    for (id, openings) in hq_points() {
        for (i, o) in openings.iter().enumerate() {
            let no = format!("FW-{id}-{:03}", i + 1);
            let pp = proto_ports(o);
            assert!(
                edges
                    .iter()
                    .any(|(t, l)| t.split(' ').any(|x| x == no) && l.lines().any(|x| x == pp)),
                "{no} ({pp}) is drawn"
            );
        }
    }
}

#[test]
fn svg_is_xml_with_every_zone_and_opening() {
    for lang in ["en", "ja"] {
        let svg = stdout(&["report", HQ, "--format", "svg", "--lang", lang]);
        assert_every_opening_drawn(&svg);
        assert!(svg.contains("Noto Sans CJK JP"));
        assert!(!svg.contains("href=\"http"), "no external references");
    }
}

#[test]
fn html_is_self_contained_and_lists_every_opening() {
    let html = stdout(&["report", HQ, "--format", "html", "--lang", "ja"]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"ja\">"));
    for needle in [
        "src=\"http",
        "href=\"http",
        "<script",
        "<link",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(needle), "external reference {needle}");
    }
    for h in JA {
        // Headers may wrap between words only (`許可/<wbr>拒否`).
        let head = format!("<th>{}</th>", h);
        assert!(html.replace("<wbr>", "").contains(&head), "header {h}");
    }
    // The zones head the address cells instead of having columns of their own.
    assert!(!html.contains("<th>送信元<wbr>ゾーン</th>"));
    for (id, openings) in hq_points() {
        assert!(html.contains(&format!("<h2 id=\"point-{id}\">")));
        for i in 0..openings.len() {
            assert!(html.contains(&format!(
                "<td><span class=\"nb\">FW-{id}-{:03}</span></td>",
                i + 1
            )));
        }
    }
    assert!(html.contains("オプション") && html.contains("指摘事項"));
    // The inline diagram is the SVG report, well-formed.
    let start = html.find("<svg").unwrap();
    let end = html.find("</svg>").unwrap() + "</svg>".len();
    assert_every_opening_drawn(&html[start..end]);
    // Every <tr> is closed: rows = openings + headers.
    assert_eq!(html.matches("<tr").count(), html.matches("</tr>").count());
}

#[test]
fn markdown_escapes_and_snapshots() {
    let md = stdout(&["report", HQ, "--format", "md", "--lang", "ja"]);
    assert!(md.contains("| 申請番号 | 対象FW | 方向 | 許可/拒否 | 送信元ゾーン |"));
    assert!(md.contains("```dot\ndigraph portplan {"));
    insta::assert_snapshot!("report_hq_md_ja", md);
    let md = stdout(&[
        "report", HQ, "--format", "md", "--lang", "en", "--for", "fw-edge",
    ]);
    assert!(!md.contains("## fw-core"));
    insta::assert_snapshot!("report_hq_md_en_fw_edge", md);
}

#[test]
fn dot_and_svg_snapshots() {
    let dot = stdout(&["report", HQ, "--format", "dot", "--lang", "ja"]);
    assert!(dot.contains("subgraph \"cluster_0_clients\""));
    insta::assert_snapshot!("report_hq_dot_ja", dot);
    let svg = stdout(&["report", HQ, "--format", "svg", "--lang", "en"]);
    insta::assert_snapshot!("report_hq_svg_en", svg);
}

#[test]
fn format_follows_the_extension_and_files_are_written() {
    let dir = tmp("ext");
    for (name, head) in [
        ("r.md", "# "),
        ("r.html", "<!DOCTYPE html>"),
        ("r.svg", "<svg "),
        ("r.dot", "digraph "),
    ] {
        let p = dir.join(name);
        let out = portplan()
            .args(["report", HQ, "-o", p.to_str().unwrap()])
            .assert()
            .success()
            .get_output()
            .clone();
        assert!(out.stdout.is_empty());
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with(head), "{name}: {}", &text[..40]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_exits_2_with_help() {
    let out = portplan()
        .args(["report", HQ, "--format", "xlsx"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o FILE"));
    let out = portplan()
        .args(["report", HQ, "--for", "fw-cor", "--format", "md"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `fw-core`"), "{err}");
    assert!(out.stdout.is_empty());
    let out = portplan()
        .args(["report", "examples/nope.yaml", "--format", "md"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
}

#[test]
fn html_renders_in_chromium() {
    if !require_tool(&["chromium"], "html_renders_in_chromium") {
        return;
    }
    let dir = tmp("chromium");
    let html = dir.join("hq.html");
    portplan()
        .args(["report", HQ, "--lang", "ja", "-o", html.to_str().unwrap()])
        .assert()
        .success();
    let png = dir.join("hq.png");
    let profile = dir.join("profile");
    let status = std::process::Command::new("timeout")
        .args(["120", "chromium"])
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,3000")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(status.status.success(), "chromium: {status:?}");
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        bytes.len() > 50_000,
        "a page with content: {} bytes",
        bytes.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The page's widths as Chromium lays it out in a window `width` px wide: (document
/// scrollWidth, viewport width, the widest table's right edge, and every word of a `th` —
/// its text between `<wbr>`s — that is broken over two lines), measured by a script added to a copy of the page (the report
/// itself has none) and read back with `--dump-dom`.
fn chromium_widths(html: &Path, width: u32) -> (u32, u32, u32, Vec<String>) {
    let dir = html.parent().unwrap();
    let page = std::fs::read_to_string(html).unwrap();
    let probe = r#"<script>
addEventListener('load', () => {
  const d = document.documentElement;
  let right = 0;
  for (const t of document.querySelectorAll('table')) right = Math.max(right, t.getBoundingClientRect().right);
  const wrapped = [];
  for (const th of document.querySelectorAll('th')) for (const n of th.childNodes) {
    if (n.nodeType !== 3) continue;
    for (const m of n.textContent.matchAll(/\S+/g)) {
      const r = document.createRange();
      r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
      if (r.getClientRects().length > 1) wrapped.push(m[0]);
    }
  }
  for (const s of document.querySelectorAll('.nb')) if (s.getClientRects().length > 1) wrapped.push(s.textContent);
  const p = document.createElement('pre'); p.id = 'pp-widths';
  p.textContent = JSON.stringify({scroll: d.scrollWidth, client: d.clientWidth, right: Math.ceil(right), wrapped});
  document.body.appendChild(p);
});
</script></body>"#;
    let probed = dir.join("probed.html");
    std::fs::write(&probed, page.replace("</body>", probe)).unwrap();
    let out = std::process::Command::new("timeout")
        .args(["120", "chromium"])
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join("profile-w").display()
        ))
        .arg(format!("--window-size={width},900"))
        .arg("--dump-dom")
        .arg(format!("file://{}", probed.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium: {out:?}");
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"pp-widths\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("no measurement in the DOM:\n{dom}"));
    let v: Value = serde_json::from_str(&json.replace("&quot;", "\"").replace("&amp;", "&"))
        .unwrap_or_else(|e| panic!("{e}: {json}"));
    let n = |k: &str| v[k].as_u64().unwrap() as u32;
    let wrapped = v["wrapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    (n("scroll"), n("client"), n("right"), wrapped)
}

#[test]
fn html_fits_1200_px_without_horizontal_scrolling() {
    if !require_tool(
        &["chromium"],
        "html_fits_1200_px_without_horizontal_scrolling",
    ) {
        return;
    }
    let dir = tmp("width");
    let html = dir.join("hq.html");
    // Also with the widest request numbers and the 有効期限 column a request block adds.
    let request = dir.join("hq-request.yaml");
    std::fs::write(
        &request,
        std::fs::read_to_string(HQ).unwrap()
            + "request:\n  number_prefix: NET-2026-\n  valid_until: 2027-12-31\n",
    )
    .unwrap();
    let cases = [
        (HQ, "ja"),
        (HQ, "en"),
        (request.to_str().unwrap(), "ja"),
        (request.to_str().unwrap(), "en"),
    ];
    for (site, lang) in cases {
        portplan()
            .args(["report", site, "--lang", lang, "-o", html.to_str().unwrap()])
            .assert()
            .success();
        let (scroll, client, right, wrapped) = chromium_widths(&html, 1200);
        eprintln!("{lang}: scrollWidth {scroll}, viewport {client}, widest table ends at {right}");
        assert!((1100..=1200).contains(&client), "viewport {client}");
        assert!(
            scroll <= client,
            "{lang}: the page scrolls sideways at 1200 px: scrollWidth {scroll} > {client}"
        );
        assert!(
            right <= client,
            "{lang}: a table ends at {right} px > {client}"
        );
        // Header words, and the labels of the openings (zones, hosts, request numbers,
        // firewalls, ports: `.nb`), each on one line.
        assert!(
            wrapped.is_empty(),
            "{lang}: header words or labels broken inside: {wrapped:?}"
        );
        let page = std::fs::read_to_string(&html).unwrap();
        let no = if site == HQ {
            "FW-fw-core-001"
        } else {
            "NET-2026-fw-core-001"
        };
        for label in [no, "fw-core", "445 microsoft-ds"] {
            assert!(
                page.contains(&format!("<span class=\"nb\">{label}</span>")),
                "{lang}: {label} kept whole"
            );
        }
        let zone = if lang == "ja" {
            "サーバーセグメント"
        } else {
            "Server segment"
        };
        assert!(
            page.contains(&format!(
                "<span class=\"zone\"><span class=\"nb\">{zone}</span></span>"
            )),
            "{lang}: the zone heads the address cell"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn xlsx_converts_to_pdf_in_libreoffice() {
    if !require_tool(&["libreoffice"], "xlsx_converts_to_pdf_in_libreoffice") {
        return;
    }
    let dir = tmp("libreoffice");
    let x = dir.join("hq.xlsx");
    portplan()
        .args(["report", HQ, "--lang", "ja", "-o", x.to_str().unwrap()])
        .assert()
        .success();
    let out = std::process::Command::new("timeout")
        .args(["180", "libreoffice"])
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("lo").display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(&x)
        .output()
        .unwrap();
    assert!(out.status.success(), "libreoffice: {out:?}");
    let pdf = std::fs::read(dir.join("hq.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    assert!(pdf.len() > 10_000, "with content: {} bytes", pdf.len());
    std::fs::remove_dir_all(&dir).unwrap();
}
