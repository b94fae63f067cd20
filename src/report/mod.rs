//! `portplan report`: the firewall change request as a document — an XLSX workbook, Markdown,
//! self-contained HTML, and a diagram (SVG, Graphviz DOT).
//!
//! [`Report`] is the typed model every renderer consumes: it is built once from a
//! [`Plan`] (or a [`crate::diff`] of two plans) for one language, with every column of every
//! row resolved — zones, sides, IANA service names, purposes, the vendor rows and conditions
//! behind each opening, products and notes. Renderers only lay out what the model says; none of
//! them looks at the plan, the site or the catalogs.
//!
//! **Invariants:** every opening of every reported enforcement point is exactly one [`Row`],
//! numbered `FW-<point>-NNN` in plan order; every option of every deployed product is one
//! [`OptionRow`]; the model holds text in one language only.

pub mod diagram;
pub mod dot;
pub mod html;
pub mod markdown;
pub mod svg;
pub mod template;
pub mod wrap;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::AddrSet;
use crate::catalog::{Catalogs, Protocol, Severity};
use crate::diff::PointChanges;
use crate::i18n::{Lang, Text};
use crate::plan::{Direction, Opening, Plan};
use crate::portset::PortSet;
use crate::site::request::{Request, RequestKind};
use crate::site::{INTERNET, Site};
use crate::text::{because_text, severity_text, side_text};

/// More ports than this in one opening is a "wide range" finding (orange in the diagram).
pub const WIDE_PORTS: u32 = 1000;

/// How many CIDRs a side lists before "… and N more".
const MAX_CIDRS: usize = 8;

/// Output format of `portplan report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Excel workbook: a summary, the options, one sheet per enforcement point.
    Xlsx,
    /// Markdown.
    Md,
    /// Self-contained HTML (inline CSS and SVG diagram).
    Html,
    /// The diagram as SVG.
    Svg,
    /// The diagram as Graphviz DOT.
    Dot,
}

impl ReportFormat {
    /// The extensions `report -o` understands, for messages.
    pub const EXTENSIONS: &'static str = ".xlsx, .md, .html, .svg, .dot";

    /// The format a file name's extension implies.
    pub fn from_extension(path: &std::path::Path) -> Option<ReportFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "xlsx" => ReportFormat::Xlsx,
            "md" | "markdown" => ReportFormat::Md,
            "html" | "htm" => ReportFormat::Html,
            "svg" => ReportFormat::Svg,
            "dot" | "gv" => ReportFormat::Dot,
            _ => return None,
        })
    }
}

/// Added or removed (change reports only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// To add.
    Add,
    /// To remove.
    Remove,
}

impl Change {
    /// 追加 / 削除.
    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            Change::Add => lang.pick("Add", "追加"),
            Change::Remove => lang.pick("Remove", "削除"),
        }
    }
}

/// One column of a request sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// 申請番号.
    RequestNo,
    /// 変更 (change reports only).
    Change,
    /// 対象FW: the enforcement point.
    Firewall,
    /// 方向: forward / inbound / outbound.
    Direction,
    /// 許可 / 拒否.
    Action,
    /// 送信元ゾーン.
    FromZone,
    /// 送信元.
    From,
    /// 宛先ゾーン.
    ToZone,
    /// 宛先.
    To,
    /// プロトコル.
    Protocol,
    /// 宛先ポート.
    Ports,
    /// サービス名.
    Service,
    /// 用途.
    Purpose,
    /// 有効期限 (when the request gives one).
    ValidUntil,
    /// 根拠.
    Basis,
    /// 製品.
    Product,
    /// 備考.
    Notes,
}

/// The columns a printed request table shows: `cols` with each zone column folded into the
/// address column it describes (送信元ゾーン into 送信元, 宛先ゾーン into 宛先), whose cells
/// then start with the zone names. A zone name kept whole is as wide as an address column;
/// two more of them leave the purposes and citations too little room on A3 and in a 1200 px
/// window. Each shown column with the zone column folded into it.
pub fn folded_columns(cols: &[Column]) -> Vec<(Column, Option<Column>)> {
    let zone = |c: Column| match c {
        Column::From => Some(Column::FromZone),
        Column::To => Some(Column::ToZone),
        _ => None,
    };
    cols.iter()
        .filter(|c| match c {
            Column::FromZone => !cols.contains(&Column::From),
            Column::ToZone => !cols.contains(&Column::To),
            _ => true,
        })
        .map(|c| (*c, zone(*c).filter(|z| cols.contains(z))))
        .collect()
}

impl Column {
    /// How the column's cells may break across lines (the XLSX and the HTML alike):
    /// running text, or labels kept whole.
    pub fn wrap_kind(self) -> wrap::Kind {
        match self {
            Column::Purpose | Column::Basis | Column::Product | Column::Notes => wrap::Kind::Text,
            _ => wrap::Kind::Labels,
        }
    }

    /// Every column, in sheet order.
    pub const ALL: [Column; 17] = [
        Column::RequestNo,
        Column::Change,
        Column::Firewall,
        Column::Direction,
        Column::Action,
        Column::FromZone,
        Column::From,
        Column::ToZone,
        Column::To,
        Column::Protocol,
        Column::Ports,
        Column::Service,
        Column::Purpose,
        Column::ValidUntil,
        Column::Basis,
        Column::Product,
        Column::Notes,
    ];

    /// The column's name in a template map (`report --map`).
    pub fn id(self) -> &'static str {
        match self {
            Column::RequestNo => "request_no",
            Column::Change => "change",
            Column::Firewall => "firewall",
            Column::Direction => "direction",
            Column::Action => "action",
            Column::FromZone => "from_zone",
            Column::From => "from",
            Column::ToZone => "to_zone",
            Column::To => "to",
            Column::Protocol => "protocol",
            Column::Ports => "ports",
            Column::Service => "service",
            Column::Purpose => "purpose",
            Column::ValidUntil => "valid_until",
            Column::Basis => "basis",
            Column::Product => "product",
            Column::Notes => "notes",
        }
    }

    /// The header in `lang`.
    pub fn header(self, lang: Lang) -> &'static str {
        match self {
            Column::RequestNo => lang.pick("Request no.", "申請番号"),
            Column::Change => lang.pick("Change", "変更"),
            Column::Firewall => lang.pick("Firewall", "対象FW"),
            Column::Direction => lang.pick("Direction", "方向"),
            Column::Action => lang.pick("Action", "許可/拒否"),
            Column::FromZone => lang.pick("Source zone", "送信元ゾーン"),
            Column::From => lang.pick("Source", "送信元"),
            Column::ToZone => lang.pick("Destination zone", "宛先ゾーン"),
            Column::To => lang.pick("Destination", "宛先"),
            Column::Protocol => lang.pick("Protocol", "プロトコル"),
            Column::Ports => lang.pick("Destination port", "宛先ポート"),
            Column::Service => lang.pick("Service name", "サービス名"),
            Column::Purpose => lang.pick("Purpose", "用途"),
            Column::ValidUntil => lang.pick("Valid until", "有効期限"),
            Column::Basis => lang.pick("Basis", "根拠"),
            Column::Product => lang.pick("Product", "製品"),
            Column::Notes => lang.pick("Notes", "備考"),
        }
    }
}

/// A product option and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRow {
    /// Product id.
    pub product: String,
    /// Product name.
    pub product_name: String,
    /// Option id.
    pub option: String,
    /// Resolved value.
    pub value: String,
    /// The value in the old site (change reports): `None` when unchanged, `Some("")` when the
    /// product is new.
    pub before: Option<String>,
    /// Whether the value is the catalog default.
    pub is_default: bool,
    /// What the option means.
    pub description: String,
}

/// Risk advice of an active requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    /// Severity.
    pub severity: Severity,
    /// Severity label.
    pub severity_text: String,
    /// `product/requirement`.
    pub requirement: String,
    /// The advice.
    pub message: String,
}

/// A zone as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneInfo {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// CIDRs (none listed for the internet zone).
    pub cidrs: Vec<String>,
}

/// A role (`product.role`) as the diagram shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    /// Display name.
    pub name: String,
    /// Zones its endpoints lie in.
    pub zones: Vec<String>,
    /// Per zone, its addresses there (CIDRs, names; the whole internet as one phrase).
    pub addrs: BTreeMap<String, Vec<String>>,
}

/// One opening, every column resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `<prefix><point>-NNN` (prefix `FW-` unless the request names one).
    pub request_no: String,
    /// The enforcement point (対象FW).
    pub point: String,
    /// 有効期限 of its requirements (distinct values; empty when permanent).
    pub valid_until: Vec<String>,
    /// Add/remove (change reports).
    pub change: Option<Change>,
    /// Forward, in, out.
    pub direction: Direction,
    /// Source zone ids.
    pub from_zones: Vec<String>,
    /// Source zone names.
    pub from_zone_names: Vec<String>,
    /// Source: role names, then CIDRs / names.
    pub from: Vec<String>,
    /// `product.role` of the sources.
    pub from_roles: Vec<String>,
    /// Destination zone ids.
    pub to_zones: Vec<String>,
    /// Destination zone names.
    pub to_zone_names: Vec<String>,
    /// Destination: role names, then CIDRs / names.
    pub to: Vec<String>,
    /// `product.role` of the destinations.
    pub to_roles: Vec<String>,
    /// Protocol.
    pub protocol: Protocol,
    /// Ports, `N` / `A-B`, sorted and merged.
    pub ports: Vec<String>,
    /// How many ports.
    pub port_count: u32,
    /// IANA service names, one line per port or range.
    pub services: Vec<String>,
    /// Purposes of the requirements.
    pub purposes: Vec<String>,
    /// Vendor row, requirement and conditions, one line per requirement.
    pub basis: Vec<String>,
    /// Product names.
    pub products: Vec<String>,
    /// Direction (host firewalls), findings.
    pub notes: Vec<String>,
    /// Inbound from the internet zone.
    pub from_internet: bool,
    /// More than [`WIDE_PORTS`] ports.
    pub wide: bool,
}

impl Row {
    /// The cell of `col`, lines joined with `\n`.
    pub fn cell(&self, col: Column, lang: Lang) -> String {
        match col {
            Column::RequestNo => self.request_no.clone(),
            Column::Change => self.change.map_or("", |c| c.text(lang)).to_string(),
            Column::Firewall => self.point.clone(),
            Column::Direction => direction_text(self.direction, lang).to_string(),
            Column::Action => lang.pick("Allow", "許可").to_string(),
            Column::FromZone => self.from_zone_names.join("\n"),
            Column::From => self.from.join("\n"),
            Column::ToZone => self.to_zone_names.join("\n"),
            Column::To => self.to.join("\n"),
            Column::Protocol => self.protocol.to_string(),
            Column::Ports => self.ports.join(", "),
            Column::Service => self.services.join("\n"),
            Column::Purpose => self.purposes.join("\n"),
            Column::ValidUntil => self.valid_until.join("\n"),
            Column::Basis => self.basis.join("\n"),
            Column::Product => self.products.join("\n"),
            Column::Notes => self.notes.join("\n"),
        }
    }

    /// `tcp 445, 9132-9133`.
    pub fn proto_ports(&self) -> String {
        format!("{} {}", self.protocol, self.ports.join(","))
    }
}

/// One enforcement point's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointReport {
    /// Id.
    pub id: String,
    /// "network firewall" / "host firewall".
    pub kind_text: String,
    /// Render target.
    pub target: String,
    /// One per opening (or change).
    pub rows: Vec<Row>,
}

/// The whole report in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Language of every text in it.
    pub lang: Lang,
    /// Site name.
    pub site: String,
    /// The site's description.
    pub description: Option<String>,
    /// The request's paperwork (site `request:` or `--request FILE`).
    pub request: Request,
    /// 申請区分: as the request says, else 変更 for a change report, else 新規.
    pub kind: RequestKind,
    /// The old site's name (with its file when both versions share a name) when this is a
    /// change report (`--diff-from`).
    pub diff_from: Option<String>,
    /// Every option of every product.
    pub options: Vec<OptionRow>,
    /// Findings, most severe first.
    pub findings: Vec<FindingRow>,
    /// Site warnings.
    pub warnings: Vec<String>,
    /// Zones, `internet` last.
    pub zones: Vec<ZoneInfo>,
    /// `product.role` → name and zones.
    pub roles: BTreeMap<String, RoleInfo>,
    /// The reported enforcement points.
    pub points: Vec<PointReport>,
}

impl Report {
    /// The options as a table: header and one row per option (every renderer shows the same).
    pub fn options_table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let lang = self.lang;
        let change = self.diff_from.is_some();
        let mut header = vec![
            lang.pick("Product", "製品"),
            lang.pick("Option", "オプション"),
        ];
        if change {
            header.push(lang.pick("Before", "変更前"));
            header.push(lang.pick("After", "変更後"));
        } else {
            header.push(lang.pick("Value", "値"));
        }
        header.extend([
            lang.pick("Default", "既定値"),
            lang.pick("Description", "説明"),
        ]);
        let header = header.into_iter().map(String::from).collect();
        let rows = self
            .options
            .iter()
            .map(|o| {
                let mut r = vec![o.product_name.clone(), o.option.clone()];
                if change {
                    r.push(match &o.before {
                        None => lang.pick("(unchanged)", "(変更なし)").to_string(),
                        Some(b) if b.is_empty() => {
                            lang.pick("(new product)", "(新規製品)").to_string()
                        }
                        Some(b) => b.clone(),
                    });
                }
                r.push(o.value.clone());
                r.push(
                    lang.pick(
                        if o.is_default { "yes" } else { "no" },
                        if o.is_default { "はい" } else { "いいえ" },
                    )
                    .to_string(),
                );
                r.push(o.description.clone());
                r
            })
            .collect();
        (header, rows)
    }

    /// The columns of the request sheets (with 変更 for change reports).
    pub fn columns(&self) -> Vec<Column> {
        let mut cols = vec![Column::RequestNo];
        if self.diff_from.is_some() {
            cols.push(Column::Change);
        }
        cols.extend([
            Column::Firewall,
            Column::Direction,
            Column::Action,
            Column::FromZone,
            Column::From,
            Column::ToZone,
            Column::To,
            Column::Protocol,
            Column::Ports,
            Column::Service,
            Column::Purpose,
        ]);
        if self.rows().any(|r| !r.valid_until.is_empty()) {
            cols.push(Column::ValidUntil);
        }
        cols.extend([Column::Basis, Column::Product, Column::Notes]);
        cols
    }

    /// The report's title.
    pub fn title(&self) -> String {
        let site = &self.site;
        match &self.diff_from {
            None => self
                .lang
                .pick(
                    &format!("Firewall request: site {site}"),
                    &format!("ファイアウォール申請: サイト {site}"),
                )
                .to_string(),
            Some(old) => self
                .lang
                .pick(
                    &format!("Firewall change request: site {old} → {site}"),
                    &format!("ファイアウォール変更申請: サイト {old} → {site}"),
                )
                .to_string(),
        }
    }

    /// Display name of zone `id`.
    pub fn zone_name(&self, id: &str) -> String {
        self.zones
            .iter()
            .find(|z| z.id == id)
            .map_or_else(|| id.to_string(), |z| z.name.clone())
    }

    /// Every row of every point.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.points.iter().flat_map(|p| p.rows.iter())
    }

    /// The request's header fields as (label, value), in the order a 申請書 lists them; fields
    /// the request does not give are left out, except 申請区分.
    pub fn request_fields(&self) -> Vec<(String, String)> {
        let lang = self.lang;
        let r = &self.request;
        let mut out = vec![(
            lang.pick("Request type", "申請区分").to_string(),
            self.kind.text(lang).to_string(),
        )];
        let mut push = |en: &str, ja: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                out.push((lang.pick(en, ja).to_string(), v));
            }
        };
        let text = |t: &Option<crate::i18n::Text>| t.as_ref().map(|t| strip_markdown(t.get(lang)));
        push("Applicant", "申請者", text(&r.applicant));
        push("Department", "所属", text(&r.department));
        push("Request date", "申請日", r.date.clone());
        push("Planned date", "実施予定日", r.planned_date.clone());
        push("Valid until", "有効期限", r.valid_until.clone());
        push(
            "Validity per product",
            "製品別の有効期限",
            (!r.validity.is_empty()).then(|| {
                r.validity
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        );
        push("Purpose", "目的", text(&r.purpose));
        push("Site", "サイト", Some(self.site.clone()));
        push("Changed from", "変更前", self.diff_from.clone());
        push("Description", "説明", self.description.clone());
        out
    }
}

/// 受信 / 送信 / 転送.
pub fn direction_text(d: Direction, lang: Lang) -> &'static str {
    match d {
        Direction::In => lang.pick("Inbound", "受信"),
        Direction::Out => lang.pick("Outbound", "送信"),
        Direction::Forward => lang.pick("Forward", "転送"),
    }
}

/// Text of a catalog or site description without Markdown markup: `code`, **bold**,
/// *emphasis*, `[text](url)` → `text (url)`; plain text is returned as it is.
pub fn strip_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            // [text](url)
            if let Some(close) = rest.find("](")
                && let Some(end) = rest[close..].find(')')
                && !rest[1..close].contains(['[', ']', '\n'])
            {
                let text = &rest[1..close];
                let url = &rest[close + 2..close + end];
                out.push_str(text);
                if !url.is_empty() && url != text {
                    out.push_str(&format!(" ({url})"));
                }
                rest = &rest[close + end + 1..];
                continue;
            }
        }
        if c == '`' {
            rest = &rest[1..];
            continue;
        }
        if rest.starts_with("**") || rest.starts_with("__") {
            rest = &rest[2..];
            continue;
        }
        if c == '*' {
            // Emphasis only when it hugs a word: `*x*`; a lone ` * ` stays.
            let next = rest[1..].chars().next();
            let prev = out.chars().last();
            let opens = next.is_some_and(|n| !n.is_whitespace());
            let closes = prev.is_some_and(|p| !p.is_whitespace());
            if opens || closes {
                rest = &rest[1..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The vendor row `doc#row` as (document, row): `「title」 <url>` and `表 5 行目` (`"title"`,
/// `row 5` in English); the raw reference when the catalog does not know the document.
fn citation(cats: &Catalogs, product: &str, source: &str, lang: Lang) -> (String, String) {
    let (doc, row) = source.rsplit_once('#').unwrap_or((source, ""));
    let Some(d) = cats.source_doc(product, source) else {
        return (doc.to_string(), row.to_string());
    };
    let title = d.title.get(lang);
    let mut head = match lang {
        Lang::En => format!("\"{title}\""),
        Lang::Ja => format!("「{title}」"),
    };
    if let Some(url) = &d.url {
        head.push_str(&format!(" <{url}>"));
    }
    let row = if row.is_empty() {
        String::new()
    } else {
        lang.pick(&format!("row {row}"), &format!("表 {row} 行目"))
            .to_string()
    };
    (head, row)
}

/// Display width in terminal cells / spreadsheet characters: East Asian wide and fullwidth
/// characters count 2, everything else 1.
pub fn text_width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

/// Whether `c` is East Asian wide or fullwidth (the blocks Japanese text uses).
pub fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F          // Hangul Jamo
        | 0x2E80..=0x303E        // CJK radicals, punctuation
        | 0x3041..=0x33FF        // Hiragana, Katakana, CJK compatibility
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xA000..=0xA4CF        // Yi
        | 0xAC00..=0xD7A3        // Hangul syllables
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0xFE30..=0xFE4F        // CJK compatibility forms
        | 0xFF00..=0xFF60        // Fullwidth forms
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x20000..=0x3FFFD)
}

fn zone_infos(site: &Site, lang: Lang) -> Vec<ZoneInfo> {
    site.zones
        .iter()
        .map(|z| ZoneInfo {
            id: z.id.clone(),
            name: match &z.name {
                Some(t) => t.get(lang).to_string(),
                None if z.id == INTERNET => lang.pick("internet", "インターネット").to_string(),
                None => z.id.clone(),
            },
            cidrs: if z.id == INTERNET {
                Vec::new()
            } else {
                z.set.cidrs()
            },
        })
        .collect()
}

fn role_infos(sites: &[&Site], cats: &Catalogs, lang: Lang) -> BTreeMap<String, RoleInfo> {
    let mut out = BTreeMap::new();
    for site in sites {
        for p in &site.products {
            for (role, set) in &p.roles {
                let name = cats.get(&p.product).map_or_else(
                    |_| role.clone(),
                    |c| c.role_name(role).get(lang).to_string(),
                );
                let zones = site.zones_of(set);
                let addrs = zones
                    .iter()
                    .filter_map(|z| site.zone(z))
                    .map(|z| (z.id.clone(), addrs_in_zone(set, z, lang)))
                    .collect();
                out.insert(
                    format!("{}.{role}", p.product),
                    RoleInfo { name, zones, addrs },
                );
            }
        }
    }
    out
}

/// The addresses of `set` inside zone `z`: the zone's CIDRs when it covers the whole zone,
/// "any address" for all of the internet, else the CIDRs and names of the part inside.
fn addrs_in_zone(set: &AddrSet, z: &crate::site::Zone, lang: Lang) -> Vec<String> {
    // All of the internet (either family): one phrase, not hundreds of prefixes.
    if z.id == INTERNET
        && [z.set.only_v4(), z.set.only_v6()]
            .iter()
            .any(|part| part.has_addresses() && set.is_superset(part))
    {
        let mut v = vec![lang.pick("any address", "全アドレス").to_string()];
        v.extend(set.only_fqdns().cidrs());
        return v;
    }
    if set.is_superset(&z.set) {
        let mut v: Vec<String> = z.nets.iter().map(|n| n.to_string()).collect();
        if v.is_empty() {
            v = z.set.cidrs();
        }
        return v;
    }
    let inside = set.intersection(&z.set);
    let mut v = inside.cidrs();
    if v.is_empty() {
        v = set.only_fqdns().cidrs();
    }
    // Hosts read better one by one (10.10.0.4, 10.10.0.5) than as 10.10.0.4/31.
    let mut out = Vec::new();
    for c in v {
        match c.parse::<ipnet::IpNet>() {
            Ok(ipnet::IpNet::V4(n)) if n.prefix_len() >= 30 => out.extend(
                (u32::from(n.network())..=u32::from(n.broadcast()))
                    .map(|a| std::net::Ipv4Addr::from(a).to_string()),
            ),
            Ok(ipnet::IpNet::V6(n)) if n.prefix_len() >= 126 => out.extend(
                (u128::from(n.network())..=u128::from(n.broadcast()))
                    .map(|a| std::net::Ipv6Addr::from(a).to_string()),
            ),
            _ => out.push(c),
        }
    }
    out
}

/// Service names for an opening's ports: one line per single port (`445 microsoft-ds`), short
/// ranges port by port, long ranges as a range. A name the catalog gives (`named`: the ports
/// of a requirement and its service name) comes first; the IANA registry is the fallback.
fn services(o: &Opening, named: &[(PortSet, Text)], lang: Lang) -> Vec<String> {
    let proto = o.protocol.as_str();
    let unregistered = lang.pick("(unregistered)", "(未登録)");
    let catalog_name = |lo: u16, hi: u16| {
        named
            .iter()
            .find(|(ports, _)| ports.is_superset(&PortSet::range(lo, hi)))
            .map(|(_, name)| name.get(lang))
    };
    let mut out = Vec::new();
    for r in o.ports.ranges() {
        let (lo, hi) = (*r.start(), *r.end());
        if hi - lo < 8 {
            for p in lo..=hi {
                let name = catalog_name(p, p).unwrap_or_else(|| {
                    crate::iana::lookup(proto, p).map_or(unregistered, |s| s.name)
                });
                out.push(format!("{p} {name}"));
            }
        } else {
            let name = catalog_name(lo, hi).unwrap_or(lang.pick("(range)", "(範囲)"));
            out.push(format!("{lo}-{hi} {name}"));
        }
    }
    out
}

/// `v` without repeats, first occurrences in order (a set, as an opening of a hostile catalog
/// has 20,000 requirements).
fn unique(v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.into_iter().filter(|s| seen.insert(s.clone())).collect()
}

struct Ctx<'a> {
    site: &'a Site,
    cats: &'a Catalogs,
    lang: Lang,
    findings: &'a [crate::flows::ActiveFinding],
    request: &'a Request,
}

impl Ctx<'_> {
    fn row(&self, point: &str, n: usize, o: &Opening, host: bool, change: Option<Change>) -> Row {
        let lang = self.lang;
        let zone_names = |ids: &[String]| -> Vec<String> {
            let infos = zone_infos(self.site, lang);
            ids.iter()
                .map(|id| {
                    infos
                        .iter()
                        .find(|z| &z.id == id)
                        .map_or_else(|| id.clone(), |z| z.name.clone())
                })
                .collect()
        };
        let side = |roles: &BTreeSet<String>, set: &AddrSet| -> Vec<String> {
            side_text(self.site, self.cats, roles, set, lang, MAX_CIDRS)
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        };
        let from_zones = self.site.zones_of(&o.from);
        let to_zones = self.site.zones_of(&o.to);
        let mut purposes = Vec::new();
        // The cited documents, each once, with the rows cited from it.
        let mut basis_docs: Vec<(String, Vec<String>)> = Vec::new();
        let mut products = Vec::new();
        let mut notes = Vec::new();
        let mut named: Vec<(PortSet, Text)> = Vec::new();
        let _ = host; // the direction has its own column
        let mut valid_until = Vec::new();
        for p in &o.provenance {
            if let Some(v) = self.request.valid_until_of(&p.requirement) {
                valid_until.push(v.to_string());
            }
            let (prod, req) = p
                .requirement
                .split_once('/')
                .unwrap_or(("", p.requirement.as_str()));
            if let Ok(c) = self.cats.get(prod) {
                products.push(c.name.get(lang).to_string());
                if let Some(r) = c.requirement(req) {
                    purposes.push(strip_markdown(r.purpose.get(lang)));
                    if let Some(name) = &r.service {
                        named.push((p.ports.clone(), name.clone()));
                    }
                }
            }
            let cond = because_text(&p.because, lang);
            let cond = if p.because.iter().all(|b| b == "always") {
                cond
            } else {
                format!("{} {cond}", lang.pick("when", "条件:"))
            };
            let (doc, row) = citation(self.cats, prod, &p.source, lang);
            let line = format!("{row} — {} ({cond})", p.requirement);
            match basis_docs.iter_mut().find(|(d, _)| *d == doc) {
                Some((_, lines)) => {
                    if !lines.contains(&line) {
                        lines.push(line)
                    }
                }
                None => basis_docs.push((doc, vec![line])),
            }
        }
        let from_internet =
            from_zones.iter().any(|z| z == INTERNET) && to_zones.iter().any(|z| z != INTERNET);
        let port_count = o.ports.len();
        let wide = port_count > WIDE_PORTS;
        if from_internet {
            notes.push(
                lang.pick("Inbound from the internet", "インターネットからの受信")
                    .to_string(),
            );
        }
        if wide {
            notes.push(
                lang.pick(
                    &format!("Wide port range: {port_count} ports"),
                    &format!("広いポート範囲: {port_count} ポート"),
                )
                .to_string(),
            );
        }
        let reqs: std::collections::HashSet<String> = o.requirements().into_iter().collect();
        for f in self
            .findings
            .iter()
            .filter(|f| reqs.contains(&f.requirement))
        {
            notes.push(format!(
                "[{}] {}",
                severity_text(f.severity, lang),
                strip_markdown(f.message.get(lang))
            ));
        }
        valid_until.sort();
        valid_until.dedup();
        let basis: Vec<String> = basis_docs
            .into_iter()
            .flat_map(|(doc, lines)| std::iter::once(doc).chain(lines))
            .collect();
        let (purposes, basis, products, notes) =
            (unique(purposes), basis, unique(products), unique(notes));
        Row {
            request_no: format!(
                "{}{point}-{n:03}",
                self.request.number_prefix.as_deref().unwrap_or("FW-")
            ),
            point: point.to_string(),
            valid_until,
            change,
            direction: o.direction,
            from_zone_names: zone_names(&from_zones),
            to_zone_names: zone_names(&to_zones),
            from_zones,
            to_zones,
            from: side(&o.from_roles, &o.from),
            to: side(&o.to_roles, &o.to),
            from_roles: o.from_roles.iter().cloned().collect(),
            to_roles: o.to_roles.iter().cloned().collect(),
            protocol: o.protocol,
            ports: o.ports.to_strings(),
            port_count,
            services: services(o, &named, lang),
            purposes,
            basis,
            products,
            notes,
            from_internet,
            wide,
        }
    }
}

fn kind_text(kind: &str, lang: Lang) -> String {
    if kind == "network" {
        lang.pick("network firewall", "ネットワーク FW")
    } else {
        lang.pick("host firewall", "ホスト FW")
    }
    .to_string()
}

fn common(plan: &Plan, site: &Site, cats: &Catalogs, request: &Request, lang: Lang) -> Report {
    let mut options = Vec::new();
    for p in &plan.products {
        let cat = cats.get(&p.id).ok();
        for (id, value) in p.options.iter() {
            let def = cat.and_then(|c| c.option(id));
            options.push(OptionRow {
                product: p.id.clone(),
                product_name: cat.map_or_else(|| p.id.clone(), |c| c.name.get(lang).to_string()),
                option: id.to_string(),
                value: value.to_string(),
                before: None,
                is_default: def.is_some_and(|d| &d.default == value),
                description: def
                    .map_or_else(String::new, |d| strip_markdown(d.description.get(lang))),
            });
        }
    }
    Report {
        lang,
        site: plan.site.clone(),
        description: site
            .description
            .as_ref()
            .map(|t| strip_markdown(t.get(lang))),
        request: request.clone(),
        kind: request.kind.unwrap_or(RequestKind::New),
        diff_from: None,
        options,
        findings: plan
            .findings
            .iter()
            .map(|f| FindingRow {
                severity: f.severity,
                severity_text: severity_text(f.severity, lang).to_string(),
                requirement: f.requirement.clone(),
                message: strip_markdown(f.message.get(lang)),
            })
            .collect(),
        warnings: plan
            .warnings
            .iter()
            .map(|w| w.get(lang).to_string())
            .collect(),
        zones: zone_infos(site, lang),
        roles: role_infos(&[site], cats, lang),
        points: Vec::new(),
    }
}

/// The report of a plan, restricted to enforcement point `only` when given. `request`
/// replaces the site's `request:` block when given.
pub fn build(
    plan: &Plan,
    site: &Site,
    cats: &Catalogs,
    only: Option<&str>,
    request: Option<&Request>,
    lang: Lang,
) -> Report {
    let request = request.unwrap_or(&site.request);
    let mut report = common(plan, site, cats, request, lang);
    let ctx = Ctx {
        site,
        cats,
        lang,
        findings: &plan.findings,
        request,
    };
    for p in plan
        .enforcement_points
        .iter()
        .filter(|p| only.is_none_or(|id| p.id == id))
    {
        let host = p.kind == "host";
        report.points.push(PointReport {
            id: p.id.clone(),
            kind_text: kind_text(p.kind, lang),
            target: p.target.as_str().to_string(),
            rows: p
                .openings
                .iter()
                .enumerate()
                .map(|(i, o)| ctx.row(&p.id, i + 1, o, host, None))
                .collect(),
        });
    }
    report
}

/// The change report from `old` to `new`: per enforcement point the openings to add, then
/// those to remove (as [`crate::diff::diff`] computes them). Options, findings and zones are
/// the new site's.
pub fn build_diff(
    old: (&Plan, &Site),
    new: (&Plan, &Site),
    cats: &Catalogs,
    only: Option<&str>,
    request: Option<&Request>,
    lang: Lang,
) -> Report {
    let changes: Vec<PointChanges> = crate::diff::diff(old.0, new.0);
    let request = request.unwrap_or(&new.1.request);
    let mut report = common(new.0, new.1, cats, request, lang);
    report.kind = request.kind.unwrap_or(RequestKind::Change);
    for o in &mut report.options {
        let before = old.0.products.iter().find(|p| p.id == o.product).map(|p| {
            p.options
                .iter()
                .find(|(id, _)| o.option == *id)
                .map_or_else(String::new, |(_, v)| v.to_string())
        });
        o.before = match before {
            None => Some(String::new()),
            Some(b) if b == o.value => None,
            Some(b) => Some(b),
        };
    }
    // Two versions of one site usually share a name: then the old file tells them apart.
    report.diff_from = Some(if old.0.site == new.0.site {
        format!("{} ({})", old.0.site, old.1.origin)
    } else {
        old.0.site.clone()
    });
    report.roles = role_infos(&[old.1, new.1], cats, lang);
    let mut findings = new.0.findings.clone();
    findings.extend(old.0.findings.iter().cloned());
    let ctx = Ctx {
        site: new.1,
        cats,
        lang,
        findings: &findings,
        request,
    };
    for id in new
        .0
        .enforcement_points
        .iter()
        .chain(&old.0.enforcement_points)
        .map(|p| p.id.as_str())
        .filter(|id| only.is_none_or(|o| o == *id))
        .collect::<Vec<_>>()
    {
        if report.points.iter().any(|p| p.id == id) {
            continue;
        }
        let Some(pp) = new.0.point(id).or_else(|| old.0.point(id)) else {
            continue;
        };
        let host = pp.kind == "host";
        let mut rows = Vec::new();
        if let Some(c) = changes.iter().find(|c| c.id == id) {
            for (ops, change) in [(&c.add, Change::Add), (&c.remove, Change::Remove)] {
                for o in ops {
                    let n = rows.len() + 1;
                    rows.push(ctx.row(id, n, o, host, Some(change)));
                }
            }
        }
        report.points.push(PointReport {
            id: id.to_string(),
            kind_text: kind_text(pp.kind, lang),
            target: pp.target.as_str().to_string(),
            rows,
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn hq(lang: Lang) -> Report {
        let cats = Catalogs::builtin();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hq.yaml");
        let site = crate::site::load_path(std::path::Path::new(path), &cats).unwrap();
        let plan = crate::plan::plan(&site, &cats);
        build(&plan, &site, &cats, None, None, lang)
    }

    /// The report of hq with its YAML edited by `edit`.
    pub(crate) fn hq_edited(edit: impl Fn(&str) -> String, lang: Lang) -> Report {
        let cats = Catalogs::builtin();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hq.yaml");
        let text = edit(&std::fs::read_to_string(path).unwrap());
        let file = crate::diag::SourceFile::new("hq-edited.yaml", text);
        let site = crate::site::load(file, &cats).unwrap();
        let plan = crate::plan::plan(&site, &cats);
        build(&plan, &site, &cats, None, None, lang)
    }

    #[test]
    fn wide_ranges_and_internet_inbound_are_flagged() {
        let r = hq_edited(
            |t| {
                t.replace("rpc_ports: fixed", "rpc_ports: dynamic").replace(
                    "      client: zone:clients",
                    "      client: [zone:clients, zone:internet]",
                )
            },
            Lang::En,
        );
        let wide: Vec<&Row> = r.rows().filter(|x| x.wide).collect();
        assert!(!wide.is_empty());
        assert!(wide.iter().all(|x| x.port_count > WIDE_PORTS));
        assert!(
            wide[0]
                .notes
                .iter()
                .any(|n| n.starts_with("Wide port range"))
        );
        let inbound: Vec<&Row> = r.rows().filter(|x| x.from_internet).collect();
        assert!(
            !inbound.is_empty(),
            "clients on the internet reach the auth agent"
        );
        assert!(
            inbound
                .iter()
                .all(|x| x.from_zones.contains(&INTERNET.to_string()))
        );
        assert!(
            inbound[0]
                .notes
                .contains(&"Inbound from the internet".to_string())
        );
        assert!(
            !r.rows()
                .any(|x| x.from_internet && x.from_zones == [INTERNET] && x.to_zones == [INTERNET])
        );
    }

    #[test]
    fn markdown_is_stripped_from_descriptions() {
        assert_eq!(
            strip_markdown("`dynamic` uses **the** mapper, see [docs](https://x.example/a)."),
            "dynamic uses the mapper, see docs (https://x.example/a)."
        );
        assert_eq!(strip_markdown("1 * 2, *x*"), "1 * 2, x");
        assert_eq!(strip_markdown("プレーン [a] (b)"), "プレーン [a] (b)");
        let r = hq(Lang::Ja);
        assert!(
            r.options
                .iter()
                .all(|o| !o.description.contains('`') && !o.description.contains("**"))
        );
    }

    #[test]
    fn request_block_fills_the_paperwork() {
        let r = hq_edited(
            |t| {
                format!(
                    "{t}\nrequest:\n  number_prefix: NET-2026-\n  applicant: 山田 太郎\n  department: {{en: IT, ja: 情報システム部}}\n  date: 2026-12-01\n  planned_date: 2026-12-15\n  valid_until: 2027-12-31\n  validity: {{tmws: 2027-03-31, tmws/pac-file: 2026-12-31}}\n  purpose: DeviceLock と TMWS の導入\n  approvers: [部長, 課長, 担当]\n"
                )
            },
            Lang::Ja,
        );
        assert_eq!(r.kind, RequestKind::New);
        let fields = r.request_fields();
        let get = |k: &str| fields.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str());
        assert_eq!(get("申請区分"), Some("新規"));
        assert_eq!(get("申請者"), Some("山田 太郎"));
        assert_eq!(get("所属"), Some("情報システム部"));
        assert_eq!(get("実施予定日"), Some("2026-12-15"));
        assert_eq!(
            get("説明"),
            Some(
                "本社 — クライアント、サーバーセグメント、エッジファイアウォールの先のインターネット。"
            )
        );
        assert_eq!(
            r.request.approver_labels(Lang::Ja),
            ["部長", "課長", "担当"]
        );
        assert!(r.rows().all(|x| x.request_no.starts_with("NET-2026-")));
        assert!(r.columns().contains(&Column::ValidUntil));
        let dl = r.rows().find(|x| x.products == ["DeviceLock"]).unwrap();
        assert_eq!(dl.valid_until, ["2027-12-31"]);
        assert!(
            r.rows()
                .any(|x| x.valid_until.contains(&"2026-12-31".to_string()))
        );
        assert!(
            r.rows()
                .any(|x| x.valid_until.contains(&"2027-03-31".to_string()))
        );
    }

    #[test]
    fn widths_count_japanese_double() {
        assert_eq!(text_width("abc"), 3);
        assert_eq!(text_width("申請番号"), 8);
        assert_eq!(text_width("TMWS クラウド"), 13);
        assert_eq!(text_width("ＡＢ"), 4);
    }

    #[test]
    fn hq_rows_resolve_every_column() {
        let r = hq(Lang::Ja);
        let core = r.points.iter().find(|p| p.id == "fw-core").unwrap();
        let first = &core.rows[0];
        assert_eq!(first.request_no, "FW-fw-core-001");
        assert_eq!(first.from_zone_names, ["サーバーセグメント"]);
        assert_eq!(first.to_zone_names, ["クライアント LAN"]);
        assert_eq!(first.ports, ["445", "9132-9133"]);
        assert!(first.services.contains(&"445 microsoft-ds".to_string()));
        assert_eq!(
            first.basis[0],
            "「テクニカルガイド: DeviceLockの通信で使用するポートについて (2020-09-08)」",
            "{:?}",
            first.basis
        );
        assert!(
            first
                .basis
                .contains(&"表 5 行目 — devicelock/smb (常に)".to_string()),
            "{:?}",
            first.basis
        );
        assert_eq!(
            first.basis.iter().filter(|b| b.starts_with('「')).count(),
            1,
            "each document once"
        );
        assert_eq!(first.point, "fw-core");
        assert_eq!(first.cell(Column::Direction, Lang::Ja), "転送");
        assert_eq!(first.cell(Column::Action, Lang::Ja), "許可");
        assert_eq!(first.products, ["DeviceLock"]);
        assert!(!first.purposes.is_empty());
        let agents = r.points.iter().find(|p| p.id == "dl-agents").unwrap();
        assert_eq!(agents.rows[0].cell(Column::Direction, Lang::Ja), "受信");
        assert_eq!(agents.rows[0].cell(Column::Firewall, Lang::Ja), "dl-agents");
        // every option of every product
        assert_eq!(r.options.iter().filter(|o| o.product == "tmws").count(), 11);
    }

    #[test]
    fn services_name_short_ranges_and_summarise_long_ones() {
        let o = Opening {
            direction: Direction::Forward,
            from: AddrSet::new(),
            to: AddrSet::new(),
            protocol: Protocol::Tcp,
            ports: crate::portset::PortSet::parse("445,1024-65535").unwrap(),
            from_roles: BTreeSet::new(),
            to_roles: BTreeSet::new(),
            provenance: vec![],
        };
        assert_eq!(
            services(&o, &[], Lang::En),
            ["445 microsoft-ds", "1024-65535 (range)"]
        );
        let named = [(
            crate::portset::PortSet::single(445),
            Text::new("Windows shares", "Windows 共有"),
        )];
        assert_eq!(
            services(&o, &named, Lang::Ja),
            ["445 Windows 共有", "1024-65535 (範囲)"]
        );
    }
}
