//! `portplan import` on small tables written for these tests, one per input format; bad input;
//! the port-spec parser's properties; random bytes never panic the importer.

use assert_cmd::Command;
use portplan::catalog::{self, Catalog};
use portplan::diag::SourceFile;
use portplan::flows::{Deployment, flows};
use portplan::import::{Format, ImportRequest, import, portspec};
use proptest::prelude::*;

fn run(name: &str, bytes: Vec<u8>, format: Format) -> Catalog {
    let out = import(&ImportRequest {
        name: name.into(),
        bytes,
        format,
        product: Some("t".into()),
        sheet: None,
        subject: None,
        apply: None,
    })
    .unwrap_or_else(|e| panic!("{name}: {}", e.plain(portplan::i18n::Lang::En)));
    catalog::load(SourceFile::new(name, out.yaml)).expect("draft is a valid catalog")
}

/// Sorted `from>to proto ports` lines of the default deployment.
fn flat(c: &Catalog) -> Vec<String> {
    let mut v: Vec<String> = flows(&Deployment::new(c))
        .iter()
        .map(|f| {
            format!(
                "{}>{} {} {}",
                f.from,
                f.to,
                f.protocol,
                f.ports.to_strings().join(",")
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

const EXPECT: [&str; 4] = [
    "client_pc>web_server tcp 443",
    "web_server>client_pc tcp 443",
    "web_server>dns_server tcp 53",
    "web_server>dns_server udp 53",
];

#[test]
fn markdown_with_br_and_ditto() {
    let md = "# ports\n\n| 用途 | 接続元 | 接続先 | ポート | 方向 | 備考 |\n|---|---|---|---|---|---|\n\
              | web | Client PC | Web Server | TCP:443 | 双方向 | |\n\
              | dns | Web Server | DNS Server | TCP/UDP 53 | → | |\n";
    assert_eq!(
        flat(&run("t.md", md.as_bytes().to_vec(), Format::Auto)),
        EXPECT
    );
    let md2 = "| purpose | from | to | port |\n|---|---|---|---|\n| a | Client PC<br>Admin PC | Web Server | TCP 443 |\n| b | 同上 | Web Server | TCP 8443 |\n";
    let c = run("t2.md", md2.as_bytes().to_vec(), Format::Md);
    assert_eq!(
        flat(&c),
        [
            "admin_pc>web_server tcp 443",
            "admin_pc>web_server tcp 8443",
            "client_pc>web_server tcp 443",
            "client_pc>web_server tcp 8443"
        ]
    );
}

fn csv_text() -> String {
    "# exported list\r\n用途,接続元,接続先,プロトコル,ポート番号,方向,備考\r\n\
     web,Client PC,Web Server,TCP,443,双方向,\"HTTPS, always\"\r\n\
     dns,Web Server,DNS Server,TCP/UDP,53,→,\r\n"
        .to_string()
}

#[test]
fn csv_utf8_bom_crlf_comments_quotes() {
    let mut b = vec![0xef, 0xbb, 0xbf];
    b.extend(csv_text().into_bytes());
    assert_eq!(flat(&run("t.csv", b, Format::Auto)), EXPECT);
}

#[test]
fn csv_shift_jis() {
    let text = csv_text();
    let (sjis, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!bad);
    assert_eq!(flat(&run("t.csv", sjis.into_owned(), Format::Csv)), EXPECT);
}

#[test]
fn tsv() {
    let t = csv_text()
        .replace(',', "\t")
        .replace("\"HTTPS\t always\"", "HTTPS");
    assert_eq!(flat(&run("t.tsv", t.into_bytes(), Format::Auto)), EXPECT);
}

#[test]
fn html_rowspan_colspan() {
    let h = "<html><body><p>x</p><table><tr><th>用途</th><th>接続元</th><th>接続先</th><th>ポート</th><th>方向</th></tr>\
             <tr><td>web</td><td>Client PC</td><td rowspan=2>Web Server</td><td>TCP:443</td><td>双方向</td></tr>\
             <tr><td colspan=2>Admin PC</td><td>TCP:8443</td><td>→</td></tr></table></body></html>";
    let c = run("t.html", h.as_bytes().to_vec(), Format::Auto);
    assert_eq!(
        flat(&c),
        [
            "admin_pc>web_server tcp 8443",
            "client_pc>web_server tcp 443",
            "web_server>client_pc tcp 443"
        ]
    );
}

#[test]
fn xlsx_first_and_named_sheet() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("cover").unwrap();
    ws.write(0, 0, "nothing here").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("ports").unwrap();
    let rows = [
        ["用途", "接続元", "接続先", "ポート", "方向"],
        ["web", "Client PC", "Web Server", "TCP:443", "双方向"],
        ["dns", "Web Server", "DNS Server", "TCP/UDP 53", "→"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write(r as u32, c as u16, *v).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let req = |sheet: Option<&str>| ImportRequest {
        name: "t.xlsx".into(),
        bytes: bytes.clone(),
        format: Format::Auto,
        product: Some("t".into()),
        sheet: sheet.map(String::from),
        subject: None,
        apply: None,
    };
    let out = import(&req(Some("ports"))).expect("sheet ports");
    let c = catalog::load(SourceFile::new("x", out.yaml)).unwrap();
    assert_eq!(flat(&c), EXPECT);
    assert!(import(&req(None)).is_err(), "the first sheet has no table");
    assert!(import(&req(Some("nope"))).is_err());
}

#[test]
fn text_one_cell_per_line_with_subject() {
    let t = "以下、Agentの通信要件となります。\n\n用途\nプロトコル\nポート番号\n受/送信\n通信先ホスト\n備考\n\
             管理通信\nTCP\n9000\n受信\nManager Server\n常に必要です。\n\
             ログ\nUDP\n514\n送信\nLog Server\nSyslog を使用する場合のみ必要です。\n";
    let out = import(&ImportRequest {
        name: "t.txt".into(),
        bytes: t.as_bytes().to_vec(),
        format: Format::Text,
        product: Some("t".into()),
        sheet: None,
        subject: None,
        apply: None,
    })
    .expect("import");
    assert!(out.review.items.iter().any(|i| i.kind == "subject"));
    assert!(out.review.items.iter().any(|i| i.kind == "condition"));
    let c = catalog::load(SourceFile::new("x", out.yaml)).unwrap();
    assert_eq!(
        flat(&c),
        ["agent>log_server udp 514", "manager_server>agent tcp 9000"]
    );
}

#[test]
fn bad_input_exits_2_with_a_located_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("empty.csv", b""),
        ("bin.dat", b"\x00\x01\x02\x03ELF\x00"),
        ("prose.txt", b"Just some text.\nNo table here.\n"),
        ("trunc.xlsx", b"PK\x03\x04\x14\x00"),
    ];
    for (name, bytes) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out_path = dir.path().join("draft.yaml");
        for (lang, word) in [("en", name), ("ja", name)] {
            let a = Command::cargo_bin("portplan")
                .unwrap()
                .args(["--lang", lang, "import"])
                .arg(&p)
                .arg("-o")
                .arg(&out_path)
                .assert()
                .code(2);
            let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
            assert!(err.contains(word), "{name} {lang}: {err}");
            assert!(!out_path.exists(), "nothing written for {name}");
        }
    }
    Command::cargo_bin("portplan")
        .unwrap()
        .args(["import", "-", "--format", "csv", "-o"])
        .arg(dir.path().join("d.yaml"))
        .write_stdin(csv_text())
        .assert()
        .code(0);
}

fn group() -> impl Strategy<Value = portspec::PortGroup> {
    use portplan::catalog::Protocol;
    (
        prop::sample::subsequence(vec![Protocol::Tcp, Protocol::Udp], 0..=2),
        prop::collection::vec((1u16..=65535, 0u16..200), 1..4),
        any::<bool>(),
        prop::option::of("[a-zA-Z]( ?[a-zA-Z]){0,8}"),
    )
        .prop_map(|(protocols, ports, alt, qualifier)| {
            let ports: Vec<(u16, u16)> = ports
                .into_iter()
                .map(|(lo, d)| (lo, lo.saturating_add(d)))
                .collect();
            let alternatives = alt && ports.len() >= 2 && ports.iter().all(|(a, b)| a == b);
            portspec::PortGroup {
                protocols,
                ports,
                alternatives,
                qualifier,
                wide: None,
            }
        })
}

proptest! {
    #[test]
    fn portspec_round_trips(groups in prop::collection::vec(group(), 1..4)) {
        // Consecutive groups without protocols would merge when printed; give each a protocol
        // after the first.
        let mut groups = groups;
        for g in groups.iter_mut().skip(1) {
            if g.protocols.is_empty() {
                g.protocols = vec![portplan::catalog::Protocol::Tcp];
            }
        }
        let spec = portspec::PortSpec { groups };
        let text = spec.to_string();
        prop_assert_eq!(portspec::parse(&text), Ok(spec), "{}", text);
    }

    #[test]
    fn portspec_never_panics(s in "\\PC{0,40}") {
        let _ = portspec::parse(&s);
    }

    #[test]
    fn import_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), f in 0usize..7) {
        let format = [Format::Auto, Format::Md, Format::Csv, Format::Tsv, Format::Html, Format::Text, Format::Xlsx][f];
        let _ = import(&ImportRequest {
            name: "fuzz".into(),
            bytes,
            format,
            product: None,
            sheet: None,
            subject: None,
            apply: None,
        });
    }

    #[test]
    fn import_never_panics_on_mutated_tables(cut in 0usize..400, junk in "\\PC{0,20}") {
        let base = csv_text();
        let cut = base.char_indices().map(|(i, _)| i).nth(cut % base.chars().count()).unwrap_or(0);
        let text = format!("{}{junk}{}", &base[..cut], &base[cut..]);
        for f in [Format::Csv, Format::Text, Format::Md] {
            let _ = import(&ImportRequest {
                name: "m".into(),
                bytes: text.clone().into_bytes(),
                format: f,
                product: None,
                sheet: None,
                subject: None,
                apply: None,
            });
        }
    }
}
