//! Issue 16, reports: the request's paperwork, the extra columns, change requests with
//! before/after option values, citations by document title, the company's own Excel form
//! (`--template`), unknown output extensions, and printing (LibreOffice → PDF, checked with
//! poppler: page count and the size of every font on every page).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};
use common::{portplan, require_tool};

const HQ: &str = "examples/hq.yaml";

const REQUEST: &str = "
request:
  number_prefix: NET-2026-
  kind: new
  applicant: 山田 太郎
  department: {en: IT department, ja: 情報システム部}
  date: 2026-12-01
  planned_date: 2026-12-15
  valid_until: 2027-12-31
  validity: {tmws: 2027-03-31}
  purpose: DeviceLock と TMWS の導入に伴う通信許可
  approvers: [部長, 課長, 担当]
";

fn tmp(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("portplan-req-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// hq with the request block, written into `dir`.
fn hq_with_request(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(HQ).unwrap().replace(
        "# yaml-language-server: $schema=../schema/site.schema.json\n",
        "",
    ) + REQUEST;
    let p = dir.join("hq-request.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn cells(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str) -> Vec<Vec<String>> {
    wb.worksheet_range(sheet)
        .unwrap()
        .rows()
        .map(|r| r.iter().map(Data::to_string).collect())
        .collect()
}

fn zip_text(path: &Path, part: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(part).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn request_block_fills_summary_and_columns() {
    let dir = tmp("block");
    let site = hq_with_request(&dir);
    let x = dir.join("r.xlsx");
    portplan()
        .args(["report", site.to_str().unwrap(), "--lang", "ja", "-o"])
        .arg(&x)
        .assert()
        .success();
    let mut wb: Xlsx<_> = open_workbook(&x).unwrap();
    let summary = cells(&mut wb, "概要");
    let field = |k: &str| {
        summary
            .iter()
            .find(|r| r[0] == k)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("{k} in {summary:?}"))
    };
    assert_eq!(field("申請区分"), "新規");
    assert_eq!(field("申請者"), "山田 太郎");
    assert_eq!(field("所属"), "情報システム部");
    assert_eq!(field("申請日"), "2026-12-01");
    assert_eq!(field("実施予定日"), "2026-12-15");
    assert_eq!(field("有効期限"), "2027-12-31");
    assert!(field("目的").contains("TMWS"));
    assert!(field("説明").starts_with("本社"), "the site's description");
    // 承認欄: the three labels side by side.
    assert!(
        summary
            .iter()
            .any(|r| r.windows(3).any(|w| w == ["部長", "課長", "担当"])),
        "{summary:?}"
    );
    let core = cells(&mut wb, "fw-core");
    let h = &core[0];
    let col = |name: &str| {
        // A header that wraps has a line break between its words (`許可/` `拒否`).
        h.iter()
            .position(|c| c.replace('\n', "") == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let (no, fw, dir_, act, valid, basis) = (
        col("申請番号"),
        col("対象FW"),
        col("方向"),
        col("許可/拒否"),
        col("有効期限"),
        col("根拠"),
    );
    for r in &core[1..] {
        assert!(r[no].starts_with("NET-2026-fw-core-"), "{r:?}");
        assert_eq!(r[fw], "fw-core");
        assert_eq!(r[dir_], "転送");
        assert_eq!(r[act], "許可");
        assert!(!r[basis].contains(".txt#"), "no file names: {}", r[basis]);
        assert!(r[basis].contains("行目"), "row cited: {}", r[basis]);
    }
    let smb = core
        .iter()
        .find(|r| r[basis].contains("devicelock/smb"))
        .unwrap();
    assert_eq!(smb[valid], "2027-12-31");
    // Without spaces and line breaks: the workbook writes each cell's own line breaks.
    assert!(smb[basis].replace([' ', '\n'], "").contains(
        &"「テクニカルガイド: DeviceLockの通信で使用するポートについて (2020-09-08)」\n表 5 行目 — devicelock/smb"
            .replace([' ', '\n'], "")
    ));
    let tmws_row = core.iter().find(|r| r[basis].contains("tmws/")).unwrap();
    assert_eq!(tmws_row[valid], "2027-03-31", "per product validity");
    let agents = cells(&mut wb, "dl-agents");
    let d = agents[0].iter().position(|c| c == "方向").unwrap();
    assert!(agents[1..].iter().all(|r| r[d] == "受信" || r[d] == "送信"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn request_file_replaces_the_block_and_bad_dates_point_at_the_line() {
    let dir = tmp("file");
    let req = dir.join("req.yaml");
    std::fs::write(&req, "applicant: 佐藤 花子\nkind: delete\n").unwrap();
    let md = String::from_utf8(
        portplan()
            .args(["report", HQ, "--lang", "ja", "--request"])
            .arg(&req)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(md.contains("| 申請者 | 佐藤 花子 |"), "{md}");
    assert!(md.contains("| 申請区分 | 削除 |"));
    std::fs::write(&req, "applicant: x\nplanned_date: 2026-02-30\n").unwrap();
    let out = portplan()
        .args(["report", HQ, "--lang", "ja", "--request"])
        .arg(&req)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("日付ではありません"), "{err}");
    assert!(err.contains(":2:"), "line 2: {err}");
    // Validity keyed by something not deployed.
    std::fs::write(&req, "validity: {nope: 2026-01-01}\n").unwrap();
    let out = portplan()
        .args(["report", HQ, "--request"])
        .arg(&req)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("`nope`"));
    // Empty, of another kind.
    for text in ["", "- a\n- b\n", "applicant: [\n"] {
        std::fs::write(&req, text).unwrap();
        portplan()
            .args(["report", HQ, "--request"])
            .arg(&req)
            .assert()
            .code(2);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn change_request_shows_options_before_and_after() {
    let dir = tmp("diff");
    let old = dir.join("old.yaml");
    std::fs::write(
        &old,
        std::fs::read_to_string(HQ)
            .unwrap()
            .replace("rpc_ports: fixed", "rpc_ports: dynamic"),
    )
    .unwrap();
    let x = dir.join("c.xlsx");
    portplan()
        .args(["report", HQ, "--lang", "ja", "--diff-from"])
        .arg(&old)
        .arg("-o")
        .arg(&x)
        .assert()
        .success();
    let mut wb: Xlsx<_> = open_workbook(&x).unwrap();
    let opts = cells(&mut wb, "オプション");
    let h = &opts[1];
    assert_eq!(h[2], "変更前");
    assert_eq!(h[3], "変更後");
    let rpc = opts.iter().find(|r| r[1] == "rpc_ports").unwrap();
    assert_eq!((rpc[2].as_str(), rpc[3].as_str()), ("dynamic", "fixed"));
    let nb = opts.iter().find(|r| r[1] == "netbios").unwrap();
    assert_eq!(nb[2], "(変更なし)");
    let summary = cells(&mut wb, "概要");
    assert!(summary.iter().any(|r| r[0] == "申請区分" && r[1] == "変更"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_output_extension_is_refused_naming_the_formats() {
    let dir = tmp("ext");
    for (name, lang, expect) in [
        ("r.pdf", "en", "does not write PDF"),
        ("r.pdf", "ja", "PDF を出力しません"),
        ("r.docx", "en", "`.docx`"),
        ("report", "en", "no extension"),
    ] {
        let p = dir.join(name);
        let out = portplan()
            .args(["report", HQ, "--lang", lang, "-o"])
            .arg(&p)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{name}: {err}");
        assert!(err.contains(".xlsx, .md, .html, .svg, .dot"), "{err}");
        assert!(!p.exists(), "nothing written");
    }
    // --format still wins over the name.
    let p = dir.join("r.txt");
    portplan()
        .args(["report", HQ, "--format", "md", "-o"])
        .arg(&p)
        .assert()
        .success();
    assert!(std::fs::read_to_string(&p).unwrap().starts_with("# "));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn html_puts_the_summary_first_and_keeps_headers_whole() {
    let html = String::from_utf8(
        portplan()
            .args(["report", HQ, "--lang", "ja", "--format", "html"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s}"));
    // Headers wrap only between words.
    assert!(html.contains("<th>許可/<wbr>拒否</th>"));
    assert!(html.contains("<th>宛先<wbr>ポート</th>"));
    assert!(html.contains("<th>プロトコル</th>"));
    assert!(at("<h2>概要</h2>") < at("<h2 id=\"point-fw-core\">"));
    assert!(at("<h2 id=\"point-fw-core\">") < at("<h2>オプション</h2>"));
    assert!(html.contains("th { background: #eceff1; word-break: keep-all; }"));
    assert!(html.contains(".diagram svg { max-width: 100%; height: auto; }"));
    // Catalog descriptions, purposes and findings carry no raw Markdown (site warnings quote
    // YAML to type, e.g. `internet: {include_private: true}`, and keep their code spans).
    let before_warnings = &html[..at("<h2>サイト定義の警告</h2>")];
    assert!(!before_warnings.contains('`'), "no raw Markdown code spans");
    assert!(!html.contains("**"), "no raw Markdown bold");
    assert!(!html.contains(".txt#"), "citations by title");
}

/// `pdfinfo` page count and every font size (`pdftohtml -xml -zoom 1`, points) of a PDF.
fn pdf_pages_and_fonts(pdf: &Path) -> (usize, Vec<f64>, String) {
    let info = std::process::Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let xml = std::process::Command::new("pdftohtml")
        .args(["-xml", "-i", "-zoom", "1", "-stdout", "-q"])
        .arg(pdf)
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&xml.stdout).into_owned();
    let sizes = xml
        .lines()
        .filter(|l| l.contains("<fontspec"))
        .filter_map(|l| {
            let i = l.find("size=\"")? + 6;
            l[i..].split('"').next()?.parse().ok()
        })
        .collect();
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    (
        pages,
        sizes,
        String::from_utf8_lossy(&text.stdout).into_owned(),
    )
}

fn to_pdf(dir: &Path, x: &Path) -> PathBuf {
    let out = std::process::Command::new("timeout")
        .args(["300", "libreoffice"])
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("lo").display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir)
        .arg(x)
        .output()
        .unwrap();
    assert!(out.status.success(), "libreoffice: {out:?}");
    x.with_extension("pdf")
}

#[test]
fn xlsx_prints_legibly_in_libreoffice() {
    if !require_tool(
        &["libreoffice", "pdfinfo", "pdftohtml", "pdftotext"],
        "xlsx_prints_legibly_in_libreoffice",
    ) {
        return;
    }
    let dir = tmp("print");
    let site = hq_with_request(&dir);
    let x = dir.join("hq.xlsx");
    portplan()
        .args(["report", site.to_str().unwrap(), "--lang", "ja", "-o"])
        .arg(&x)
        .assert()
        .success();
    // Page setup inside: every sheet landscape, fit to one page wide, paper A4 or A3.
    for n in 1..=5 {
        let sheet = zip_text(&x, &format!("xl/worksheets/sheet{n}.xml"));
        assert!(sheet.contains("orientation=\"landscape\""), "sheet{n}");
        assert!(
            sheet.contains("fitToWidth=\"1\"") || sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"),
            "sheet{n}"
        );
        assert!(
            sheet.contains("paperSize=\"9\"") || sheet.contains("paperSize=\"8\""),
            "sheet{n}"
        );
    }
    let wbxml = zip_text(&x, "xl/workbook.xml");
    assert!(wbxml.contains("_xlnm.Print_Titles"), "header rows repeat");
    // The request sheets' columns are sized by their content and the tallest row kept as
    // low as the page allows: no row is taller than 12 lines of 16 pt (equal narrow columns
    // made rows of 23 lines, mostly blank; widening one column at a time, 17).
    for n in 3..=5 {
        let sheet = zip_text(&x, &format!("xl/worksheets/sheet{n}.xml"));
        let tallest = sheet
            .split(" ht=\"")
            .skip(1)
            .filter_map(|t| t.split('"').next()?.parse::<f64>().ok())
            .fold(0.0, f64::max);
        assert!(
            tallest > 0.0 && tallest <= 12.0 * 16.0 + 3.0,
            "sheet{n}: a row of {tallest} pt"
        );
    }
    let pdf = to_pdf(&dir, &x);
    let (pages, sizes, text) = pdf_pages_and_fonts(&pdf);
    eprintln!("hq ja: {pages} pages, font sizes {sizes:?}");
    // Summary, options, three request sheets: one page each (nine pages when the columns
    // were not sized by their content).
    assert!((5..=6).contains(&pages), "{pages} pages");
    assert!(!sizes.is_empty());
    assert!(
        sizes.iter().all(|s| *s >= 9.0),
        "every font at least 9 pt: {sizes:?}"
    );
    // Labels are never broken across lines: each is printed whole on one line (pdftotext
    // -layout keeps a printed line on one text line).
    for label in [
        "NET-2026-fw-core-001",
        "NET-2026-dl-agents-001",
        "サーバーセグメント",
        "クライアント LAN",
        "dl-agents",
        "9132-9133",
    ] {
        assert!(text.contains(label), "{label} printed whole");
    }
    assert!(
        !text.contains("サーバーセグメン\n") && !text.lines().any(|l| l.trim() == "ト"),
        "a zone name split"
    );
    // Each zone heads its address cell, in bold (a rich-text run), not a column of its own;
    // no label is broken inside a word, even on the tightest sheet (16 columns).
    let strings = zip_text(&x, "xl/sharedStrings.xml");
    assert!(
        strings.contains("<r><rPr><b/>")
            && strings.contains("<t xml:space=\"preserve\">サーバーセグメント\n</t>"),
        "zone in bold above the addresses"
    );
    for broken in [
        "管\n理",
        "NET-2026-\n",
        "dl-\nagents",
        "microsoft-\nds",
        "(2020-09-0\n",
    ] {
        assert!(!strings.contains(broken), "{broken:?} broken in a cell");
    }
    // No row has more than one blank line: in every request sheet, each row's height is at
    // most one line (12.8 pt) more than its tallest cell needs at 16 pt a line.
    for n in 3..=5 {
        let sheet = zip_text(&x, &format!("xl/worksheets/sheet{n}.xml"));
        for row in sheet.split("<row ").skip(2) {
            let ht: f64 = row
                .split(" ht=\"")
                .nth(1)
                .and_then(|t| t.split('"').next()?.parse().ok())
                .unwrap();
            let strings = zip_text(&x, "xl/sharedStrings.xml");
            let shared: Vec<&str> = strings.split("<si>").skip(1).collect();
            let lines = row
                .split("<v>")
                .skip(1)
                .filter_map(|v| v.split('<').next()?.parse::<usize>().ok())
                .map(|i| shared[i].matches('\n').count() + 1)
                .max()
                .unwrap_or(1);
            assert!(
                ht <= lines as f64 * 16.0 + 3.0 + 12.8,
                "sheet{n}: a row of {ht} pt for {lines} lines"
            );
        }
    }
    for s in [
        "申請番号",
        "山田 太郎",
        "fw-core",
        // The approval box: its heading and the reviewers' labels.
        "承認欄",
        "部長",
        "課長",
        "DeviceLock",
    ] {
        assert!(text.contains(s), "{s} printed");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A company form made for the test: a merged title, labels with value cells beside them, a
/// header row, one bordered template row (with a merged purpose cell), an approval block
/// below, a logo, A3 landscape print setup with a print area and repeated header rows.
fn make_form(path: &Path) {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Image, Workbook};
    let mut wb = Workbook::new();
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let label = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(0xDDEBF7);
    let value = Format::new().set_border(FormatBorder::Thin);
    let body = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_font_color(0x1F4E79)
        .set_align(FormatAlign::Top);
    let ws = wb.add_worksheet();
    ws.set_name("申請書").unwrap();
    ws.merge_range(0, 0, 0, 9, "ファイアウォール通信許可申請書", &title)
        .unwrap();
    for (r, l) in ["申請者", "所属", "申請日", "目的"].iter().enumerate() {
        let r = r as u32 + 2;
        ws.write_string_with_format(r, 0, *l, &label).unwrap();
        ws.merge_range(r, 1, r, 4, "", &value).unwrap();
    }
    ws.write_string_with_format(2, 6, "申請区分", &label)
        .unwrap();
    ws.write_blank(2, 7, &value).unwrap();
    let header = [
        "No.",
        "対象FW",
        "方向",
        "送信元",
        "宛先",
        "プロトコル",
        "ポート",
        "用途",
        "",
        "有効期限",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(7, c as u16, *h, &label)
            .unwrap();
    }
    ws.merge_range(7, 7, 7, 8, "用途", &label).unwrap();
    for c in 0..10u16 {
        if c != 7 && c != 8 {
            ws.write_blank(8, c, &body).unwrap();
        }
    }
    ws.merge_range(8, 7, 8, 8, "", &body).unwrap();
    ws.write_string_with_format(10, 6, "承認", &label).unwrap();
    ws.merge_range(10, 7, 10, 9, "印", &value).unwrap();
    ws.write_string(12, 0, "※ 本申請書は情報セキュリティ規程に基づく。")
        .unwrap();
    // A 1×1 PNG as the logo.
    let png: [u8; 70] = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x90,
        0xF7, 0xAB, 0xFC, 0x0F, 0x00, 0x03, 0x5C, 0x01, 0xE6, 0xB3, 0x11, 0xEF, 0x99, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let img = Image::new_from_buffer(&png).unwrap();
    ws.insert_image(0, 10, &img).unwrap();
    ws.set_column_width(3, 28).unwrap();
    ws.set_column_width(4, 28).unwrap();
    ws.set_landscape();
    ws.set_paper_size(8);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_area(0, 0, 12, 9).unwrap();
    ws.set_repeat_rows(7, 7).unwrap();
    let other = wb.add_worksheet();
    other.set_name("記入例").unwrap();
    other.write_string(0, 0, "この様式の記入例").unwrap();
    wb.save(path).unwrap();
}

const MAP: &str = "
sheet: 申請書
cells:
  B3: applicant
  B4: department
  B5: date
  B6: purpose
  H3: kind
rows:
  start: A9
  columns:
    A: request_no
    B: firewall
    C: direction
    D: from
    E: to
    F: protocol
    G: ports
    H: purpose
    J: valid_until
";

#[test]
fn template_fills_the_company_form_and_keeps_it() {
    let dir = tmp("template");
    let site = hq_with_request(&dir);
    let form = dir.join("form.xlsx");
    make_form(&form);
    let map = dir.join("map.yaml");
    std::fs::write(&map, MAP).unwrap();
    let out = dir.join("filled.xlsx");
    portplan()
        .args([
            "report",
            site.to_str().unwrap(),
            "--lang",
            "ja",
            "--for",
            "fw-core",
        ])
        .arg("--template")
        .arg(&form)
        .arg("--map")
        .arg(&map)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let n = {
        let v: serde_json::Value = serde_json::from_str(&common::stdout(&[
            "plan", HQ, "--for", "fw-core", "--format", "json",
        ]))
        .unwrap();
        v["enforcement_points"][0]["openings"]
            .as_array()
            .unwrap()
            .len()
    };
    assert!(n >= 3);
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    assert_eq!(wb.sheet_names(), ["申請書", "記入例"], "other sheets kept");
    let c = cells(&mut wb, "申請書");
    assert_eq!(c[0][0], "ファイアウォール通信許可申請書");
    assert_eq!(c[2][1], "山田 太郎");
    assert_eq!(c[3][1], "情報システム部");
    assert_eq!(c[2][7], "新規");
    assert_eq!(c[7][1], "対象FW", "header row untouched");
    for i in 0..n {
        let r = &c[8 + i];
        assert_eq!(r[0], format!("NET-2026-fw-core-{:03}", i + 1));
        assert_eq!(r[1], "fw-core");
        assert_eq!(r[2], "転送");
        assert!(!r[7].is_empty(), "purpose");
    }
    // The rows below moved down by n - 1.
    assert_eq!(c[10 + n - 1][6], "承認");
    assert_eq!(
        c[12 + n - 1][0],
        "※ 本申請書は情報セキュリティ規程に基づく。"
    );
    assert_eq!(cells(&mut wb, "記入例")[0][0], "この様式の記入例");
    // Merged cells: the title, the label values, the template row's merge on every row,
    // the approval box moved.
    #[allow(deprecated)] // its replacement needs the merged regions loaded first
    let merged: Vec<String> = wb
        .worksheet_merge_cells("申請書")
        .unwrap()
        .unwrap()
        .iter()
        .map(|d| format!("{:?}-{:?}", d.start, d.end))
        .collect();
    assert!(merged.contains(&"(0, 0)-(0, 9)".to_string()), "{merged:?}");
    for i in 0..n as u32 {
        let r = 8 + i;
        assert!(
            merged.contains(&format!("({r}, 7)-({r}, 8)")),
            "row {r}: {merged:?}"
        );
    }
    let approval = 10 + n as u32 - 1;
    assert!(
        merged.contains(&format!("({approval}, 7)-({approval}, 9)")),
        "{merged:?}"
    );
    // Styles: every filled row's cells carry the template row's styles.
    let sheet = zip_text(&out, "xl/worksheets/sheet1.xml");
    let form_sheet = zip_text(&form, "xl/worksheets/sheet1.xml");
    let style_of = |xml: &str, cell: &str| -> Option<String> {
        let i = xml.find(&format!("<c r=\"{cell}\""))?;
        let end = xml[i..].find('>')? + i;
        let tag = &xml[i..end];
        let s = tag.find(" s=\"")? + 4;
        Some(tag[s..].split('"').next()?.to_string())
    };
    for col in ["A", "D", "H", "J"] {
        let t = style_of(&form_sheet, &format!("{col}9")).unwrap();
        for i in 0..n {
            assert_eq!(
                style_of(&sheet, &format!("{col}{}", 9 + i)).as_deref(),
                Some(t.as_str()),
                "{col}{}",
                9 + i
            );
        }
    }
    // Print setup kept, print area stretched over the new rows, logo still there.
    let page = |xml: &str| {
        let i = xml.find("<pageSetup").unwrap();
        xml[i..i + xml[i..].find("/>").unwrap()].to_string()
    };
    assert_eq!(page(&sheet), page(&form_sheet));
    let wbxml = zip_text(&out, "xl/workbook.xml");
    assert!(
        wbxml.contains(&format!("'申請書'!$A$1:$J${}", 13 + n - 1))
            || wbxml.contains(&format!("申請書!$A$1:$J${}", 13 + n - 1)),
        "{wbxml}"
    );
    assert!(wbxml.contains("$8:$8"), "repeated header row kept: {wbxml}");
    assert!(sheet.contains("<drawing "), "logo's drawing kept");
    let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    assert!(z.by_name("xl/media/image1.png").is_ok());
    // And LibreOffice opens and prints it.
    if require_tool(
        &["libreoffice", "pdftotext", "pdfinfo", "pdftohtml"],
        "template_pdf",
    ) {
        let pdf = to_pdf(&dir, &out);
        let (pages, _, text) = pdf_pages_and_fonts(&pdf);
        assert!(pages >= 1);
        assert!(text.contains("山田 太郎"), "{text}");
        // Narrow form columns wrap the request numbers (text extraction interleaves the
        // wrapped lines of neighbouring cells): their pieces are printed.
        let _ = n;
        assert!(text.contains("NET-") && text.contains("fw-core"), "{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn template_errors_are_clear() {
    let dir = tmp("template-bad");
    let form = dir.join("form.xlsx");
    make_form(&form);
    let map = dir.join("map.yaml");
    let out = dir.join("o.xlsx");
    let run = |args: &[&std::ffi::OsStr]| {
        let o = portplan()
            .args(["report", HQ, "--lang", "ja"])
            .args(args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let os = |p: &Path| p.as_os_str().to_owned();
    // Unknown field, bad reference, with locations.
    std::fs::write(
        &map,
        "cells:\n  B3: aplicant\nrows:\n  start: 9A\n  columns: {A: request_no}\n",
    )
    .unwrap();
    let err = run(&[
        "--template".as_ref(),
        &os(&form),
        "--map".as_ref(),
        &os(&map),
        "-o".as_ref(),
        &os(&out),
    ]);
    assert!(err.contains("applicant"), "suggestion: {err}");
    assert!(err.contains("9A"), "{err}");
    // Not an xlsx.
    std::fs::write(&map, MAP).unwrap();
    let err = run(&[
        "--template".as_ref(),
        &os(&map),
        "--map".as_ref(),
        &os(&map),
        "-o".as_ref(),
        &os(&out),
    ]);
    assert!(err.contains("Excel"), "{err}");
    // Missing sheet.
    std::fs::write(&map, MAP.replace("sheet: 申請書", "sheet: 様式")).unwrap();
    let err = run(&[
        "--template".as_ref(),
        &os(&form),
        "--map".as_ref(),
        &os(&map),
        "-o".as_ref(),
        &os(&out),
    ]);
    assert!(err.contains("様式") && err.contains("申請書"), "{err}");
    // Output must be .xlsx.
    std::fs::write(&map, MAP).unwrap();
    let md = dir.join("o.md");
    let err = run(&[
        "--template".as_ref(),
        &os(&form),
        "--map".as_ref(),
        &os(&map),
        "-o".as_ref(),
        &os(&md),
    ]);
    assert!(err.contains(".xlsx"), "{err}");
    assert!(!out.exists() && !md.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
