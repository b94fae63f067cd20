//! Issue 16, the report's diagram and the printed workbook's layout: the SVG stays within the
//! page width however many zones the site has (zones wrap into rows), every arrow crosses the
//! badge of the firewalls it is requested on, nodes show their addresses and a host several
//! products use is drawn once; XLSX columns are sized to their content and long Japanese text
//! wraps.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::{portplan, stdout};

/// The widest the diagram may be: about the printable width of A4 landscape at 96 dpi.
const MAX_W: f64 = 1100.0;

fn tmp(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("portplan-diag-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

fn num(n: roxmltree::Node, a: &str) -> f64 {
    n.attribute(a).unwrap_or("0").parse().unwrap()
}

fn rect(n: roxmltree::Node) -> Rect {
    Rect {
        x: num(n, "x"),
        y: num(n, "y"),
        w: num(n, "width"),
        h: num(n, "height"),
    }
}

/// The points of an SVG path `M x,y L x,y …`.
fn path_points(d: &str) -> Vec<(f64, f64)> {
    d.split_whitespace()
        .map(|p| {
            let (x, y) = p[1..].split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// A site of nine zones, each with hosts of DeviceLock and TMWS, and firewalls between them.
fn nine_zones(dir: &Path) -> PathBuf {
    let mut zones = String::from(
        "  - id: clients\n    name: {en: Client LAN, ja: クライアント LAN}\n    cidrs: [10.20.0.0/16]\n",
    );
    for i in 1..=8 {
        zones.push_str(&format!(
            "  - id: z{i}\n    name: {{en: Segment {i}, ja: サーバーセグメント {i}}}\n    cidrs: [10.10.{i}.0/24]\n"
        ));
    }
    let site = format!(
        "name: many
zones:
{zones}
products:
  - product: devicelock
    options: {{rpc_ports: fixed, connect_by: ip, netbios: false}}
    roles:
      service: zone:clients
      console: 10.10.1.10
      enterprise_server: 10.10.2.11
      ad: 10.10.3.4
      enterprise_manager: []
      gpm: []
  - product: tmws
    options: {{auth: agent, syslog_tool: true}}
    roles:
      client: zone:clients
      admin_terminal: 10.20.0.50
      cloud_console: zone:internet
      cloud_proxy: zone:internet
      cloud: zone:internet
      syslog_tool: 10.10.4.20
      dns: 10.10.5.53
      syslog_server: 10.10.6.30
      ad: 10.10.3.4
      sync_agent: 10.10.7.21
      auth_agent: 10.10.8.22
      proxy: []
      adfs: []
firewalls:
  - id: fw-core
    between: [clients, [z1, z2, z3, z4, z5, z6, z7, z8]]
    target: nftables
  - id: fw-inner
    between: [[z1, z2, z3, z4], [z5, z6, z7, z8]]
    target: nftables
  - id: fw-edge
    between: [[clients, z1, z2, z3, z4, z5, z6, z7, z8], internet]
    target: iptables
"
    );
    let p = dir.join("many.yaml");
    std::fs::write(&p, site).unwrap();
    p
}

/// Checks of one rendered SVG: within the page width and its view box, node boxes apart,
/// every arrow through its firewall badge. Returns the node texts.
fn check_svg(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let root = doc.root_element();
    let vb: Vec<f64> = root
        .attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    let (vw, vh) = (vb[2], vb[3]);
    assert!(vw <= MAX_W, "view box {vw} wide, at most {MAX_W}");
    assert_eq!(num(root, "width"), vw);
    // No element outside the view box.
    for n in doc.descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "rect" => {
                let r = rect(n);
                assert!(
                    r.x >= 0.0 && r.y >= 0.0 && r.x + r.w <= vw + 0.5 && r.y + r.h <= vh + 0.5,
                    "rect {r:?} inside {vw}x{vh}"
                );
            }
            "text" | "tspan" => {
                let (x, y) = (num(n, "x"), num(n, "y"));
                assert!(x >= 0.0 && x <= vw && y <= vh, "text at {x},{y}");
            }
            "path" if n.ancestors().all(|a| a.tag_name().name() != "marker") => {
                for (x, y) in path_points(n.attribute("d").unwrap()) {
                    assert!(x >= 0.0 && x <= vw && y >= 0.0 && y <= vh, "path {x},{y}");
                }
            }
            _ => {}
        }
    }
    // Node boxes do not overlap.
    let nodes: Vec<(Rect, String)> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("node"))
        .map(|g| {
            let r = rect(g.children().find(|c| c.has_tag_name("rect")).unwrap());
            let text: Vec<&str> = g
                .descendants()
                .filter(|t| t.has_tag_name("tspan"))
                .filter_map(|t| t.text())
                .collect();
            (r, text.join("\n"))
        })
        .collect();
    assert!(!nodes.is_empty());
    for (i, (a, ta)) in nodes.iter().enumerate() {
        for (b, tb) in &nodes[i + 1..] {
            assert!(!a.overlaps(b), "{ta:?} {a:?} overlaps {tb:?} {b:?}");
        }
    }
    // Every arrow passes through the badge naming its firewalls.
    let edges: Vec<_> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("g")
                && n.attribute("class")
                    .is_some_and(|c| c.split(' ').next() == Some("edge"))
        })
        .collect();
    assert!(!edges.is_empty());
    for g in edges {
        let badge = g
            .children()
            .find(|c| c.attribute("class") == Some("fw"))
            .expect("a firewall badge");
        let fws = badge.attribute("data-fw").unwrap();
        assert!(!fws.is_empty());
        let b = rect(badge);
        let (cx, cy) = (b.x + b.w / 2.0, b.y + b.h / 2.0);
        let through = g
            .children()
            .filter(|c| c.has_tag_name("path"))
            .flat_map(|p| {
                let pts = path_points(p.attribute("d").unwrap());
                pts.windows(2)
                    .filter(|w| w[0].1 == w[1].1)
                    .map(|w| (w[0].1, w[0].0.min(w[1].0), w[0].0.max(w[1].0)))
                    .collect::<Vec<_>>()
            })
            .any(|(y, x0, x1)| (y - cy).abs() < b.h / 2.0 && x0 <= cx && x1 >= cx);
        assert!(through, "the arrow through {fws} crosses its badge");
    }
    nodes.into_iter().map(|(_, t)| t).collect()
}

#[test]
fn nine_zones_fit_the_page_width() {
    let dir = tmp("nine");
    let site = nine_zones(&dir);
    for lang in ["ja", "en"] {
        let svg = stdout(&[
            "report",
            site.to_str().unwrap(),
            "--format",
            "svg",
            "--lang",
            lang,
        ]);
        let nodes = check_svg(&svg);
        // Zones wrap into more than one row.
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let tops: std::collections::BTreeSet<i64> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("zone"))
            .map(|g| num(g.children().find(|c| c.has_tag_name("rect")).unwrap(), "y") as i64)
            .collect();
        assert!(tops.len() >= 2, "zones in rows: {tops:?}");
        assert!(nodes.iter().any(|n| n.contains("10.10.8.22")), "{nodes:?}");
        // fw-inner is drawn on the paths it enforces.
        assert!(svg.contains("data-fw=\"fw-inner\""), "fw-inner on a path");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hq_diagram_shows_firewalls_addresses_and_each_host_once() {
    let svg = stdout(&[
        "report",
        "examples/hq.yaml",
        "--format",
        "svg",
        "--lang",
        "ja",
    ]);
    let nodes = check_svg(&svg);
    // The AD server: one node, its name wrapped between words, its address under it.
    let ad: Vec<&String> = nodes.iter().filter(|n| n.contains("10.10.0.4")).collect();
    assert_eq!(ad.len(), 1, "{nodes:?}");
    assert_eq!(ad[0].as_str(), "Active Directory\nサーバー\n10.10.0.4");
    // The DeviceLock agents and TMWS clients are both the client LAN: one node listing both.
    let lan: Vec<&String> = nodes
        .iter()
        .filter(|n| n.contains("10.20.0.0/16"))
        .collect();
    assert_eq!(lan.len(), 1, "{nodes:?}");
    assert!(
        lan[0].lines().count() >= 3,
        "two roles and the address: {lan:?}"
    );
    for fw in ["fw-core", "fw-edge", "dl-agents"] {
        assert!(svg.contains(fw), "{fw} drawn");
    }
}

#[test]
fn windows_domain_draws_each_host_once() {
    let svg = stdout(&[
        "report",
        "examples/windows-domain.yaml",
        "--format",
        "svg",
        "--lang",
        "ja",
    ]);
    let nodes = check_svg(&svg);
    // No two nodes show the same addresses.
    let addrs: Vec<Vec<&str>> = nodes
        .iter()
        .map(|n| {
            n.lines()
                .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
                .collect()
        })
        .filter(|a: &Vec<&str>| !a.is_empty())
        .collect();
    for (i, a) in addrs.iter().enumerate() {
        assert!(!addrs[i + 1..].contains(a), "{a:?} drawn twice: {nodes:#?}");
    }
    // The domain controllers serve AD DS, DNS, Entra Connect, DeviceLock and TMWS: one node.
    let dc: Vec<&String> = nodes
        .iter()
        .filter(|n| n.ends_with("\n10.10.0.4\n10.10.0.5"))
        .collect();
    assert_eq!(dc.len(), 1, "{nodes:#?}");
    assert!(dc[0].contains("ドメインコントローラー"), "{dc:?}");
    assert!(dc[0].contains("Active Directory"), "{dc:?}");
}

fn zip_text(path: &Path, part: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(part).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// Display width: East Asian wide characters count 2.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

#[test]
fn xlsx_columns_fit_content_and_long_japanese_wraps() {
    let dir = tmp("cols");
    let x = dir.join("hq.xlsx");
    portplan()
        .args(["report", "examples/hq.yaml", "--lang", "ja", "-o"])
        .arg(&x)
        .assert()
        .success();
    // sheet3 is fw-core.
    let sheet = zip_text(&x, "xl/worksheets/sheet3.xml");
    let doc = roxmltree::Document::parse(&sheet).unwrap();
    let cols: Vec<(usize, usize, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("col"))
        .map(|c| {
            (
                c.attribute("min").unwrap().parse().unwrap(),
                c.attribute("max").unwrap().parse().unwrap(),
                c.attribute("width").unwrap().parse().unwrap(),
            )
        })
        .collect();
    let width_of = |col: usize| {
        cols.iter()
            .find(|(a, b, _)| (*a..=*b).contains(&col))
            .map(|c| c.2)
    };
    // Every used column has a width, none wider than the cap, none narrower than its header.
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&x).unwrap();
    use calamine::Reader;
    let range = wb.worksheet_range("fw-core").unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let header = &rows[0];
    for (i, h) in header.iter().enumerate() {
        let w = width_of(i + 1).unwrap_or_else(|| panic!("column {h} has a width"));
        assert!(w <= 61.0, "{h}: {w} capped");
        // A header wraps between its words only: the column holds its widest word.
        let widest = h.lines().map(width).max().unwrap_or(0);
        assert!(w >= widest as f64, "{h}: {w} holds its header's lines");
    }
    // The request number column is narrower than the purpose column.
    let purpose = header.iter().position(|h| h == "用途").unwrap();
    let pw = width_of(purpose + 1).unwrap();
    // Some purpose is longer than its column: that cell wraps and its row is taller.
    let (ri, long) = rows
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, r)| r[purpose].lines().any(|l| width(l) as f64 > pw))
        .expect("a purpose longer than its column");
    assert!(
        long[purpose].chars().any(|c| (c as u32) >= 0x3040),
        "Japanese"
    );
    let row = doc
        .descendants()
        .find(|n| n.has_tag_name("row") && n.attribute("r") == Some(&(ri + 1).to_string()))
        .unwrap();
    let ht: f64 = row.attribute("ht").unwrap().parse().unwrap();
    assert!(
        ht >= 30.0,
        "row {} is {ht} pt tall for its wrapped purpose",
        ri + 1
    );
    let styles = zip_text(&x, "xl/styles.xml");
    assert!(styles.contains("wrapText=\"1\""), "cells wrap");
    std::fs::remove_dir_all(&dir).unwrap();
}
