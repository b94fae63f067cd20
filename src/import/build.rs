//! Records to a draft catalog (the literal reading of the table) and the review items (every
//! guess, with the edits that would apply the importer's interpretation).
//!
//! Only generic heuristics: conditional-note phrases, "X として Y を選択した場合" choices, a
//! parenthesised qualifier on some ports (`(over SSL)`), `or` between ports, a note singling
//! out one port, a note naming a default port, two rows of one group carrying the same traffic
//! to different places where one is conditional, TCP and UDP listed for a port whose IANA
//! services differ, legacy NetBIOS-only rows, "no opening needed" notes.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Protocol, ZoneHint};
use crate::i18n::Text;
use crate::tr;

use super::cells::{fold_width, sentences, slug, split_zone};
use super::direction::{self, Direction};
use super::draft::{DOption, DPort, DProto, DReq, DRole, Draft, Edit};
use super::portspec;
use super::review::Item;
use super::table::{Col, Record, Remark};

/// Inputs of the builder besides the records.
pub struct BuildInput<'a> {
    /// Product id.
    pub product: String,
    /// Source document id.
    pub doc: String,
    /// Text before the table.
    pub preamble: &'a [String],
    /// The table's subject, when given.
    pub subject: Option<String>,
}

struct Ctx {
    draft: Draft,
    items: Vec<Item>,
    role_keys: BTreeMap<String, usize>,
    merged_names: Vec<(String, String)>,
    opt_ids: BTreeMap<String, String>,
    used_ids: BTreeSet<String>,
}

fn lines_text(l: Option<(u32, u32)>) -> Option<String> {
    l.map(|(a, b)| {
        if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        }
    })
}

fn role_key(name: &str) -> String {
    let mut k: String = fold_width(name)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    while k.ends_with('ー') {
        k.pop();
    }
    for suf in ["サーバ", "server", "ホスト", "host"] {
        if let Some(b) = k.strip_suffix(suf)
            && !b.is_empty()
        {
            k = b.to_string();
            while k.ends_with('ー') {
                k.pop();
            }
            break;
        }
    }
    k
}

impl Ctx {
    fn unique(&mut self, base: &str, fallback: &str) -> String {
        let base = if base.is_empty() {
            fallback.to_string()
        } else {
            base.to_string()
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.used_ids.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.used_ids.insert(id.clone());
        id
    }

    fn role(&mut self, raw: &str) -> String {
        let (name, zone) = split_zone(raw);
        let key = role_key(&name);
        if let Some(&i) = self.role_keys.get(&key) {
            let r = &mut self.draft.roles[i];
            if r.name != name
                && !self
                    .merged_names
                    .iter()
                    .any(|(a, b)| *a == r.name && *b == name)
            {
                self.merged_names.push((r.name.clone(), name.clone()));
            }
            match (r.zone, zone) {
                (ZoneHint::Any, _) | (_, None) => {}
                (z, Some(n)) if z != n => r.zone = ZoneHint::Any,
                _ => {}
            }
            return r.id.clone();
        }
        let id = self.unique(&slug(&name), "role");
        self.role_keys.insert(key, self.draft.roles.len());
        self.draft.roles.push(DRole {
            id: id.clone(),
            name,
            zone: zone.unwrap_or(ZoneHint::Any),
        });
        id
    }

    fn option(&mut self, phrase: &str, base: &str, fallback: &str) -> String {
        if let Some(id) = self.opt_ids.get(phrase) {
            return id.clone();
        }
        let id = self.unique(base, fallback);
        self.opt_ids.insert(phrase.to_string(), id.clone());
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn item(
        &mut self,
        id: String,
        kind: &str,
        rec: Option<&Record>,
        quote: &str,
        check: Text,
        edits: Vec<Edit>,
    ) {
        self.items.push(Item {
            id,
            kind: kind.to_string(),
            row: rec.map(|r| r.row),
            lines: rec.and_then(|r| lines_text(r.lines)),
            quote: quote.to_string(),
            check,
            edits,
            decision: super::review::Decision::Pending,
        });
    }
}

/// A condition found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    /// A yes/no clause.
    Flag(String),
    /// `X として Y を選択した場合`: option X has value Y.
    Choice(String, String),
}

const DELIMS: [char; 8] = ['、', '。', '・', '※', '，', ',', '「', '」'];

fn clause_before(s: &str, end: usize) -> String {
    let head = &s[..end];
    let start = head.rfind(DELIMS).map_or(0, |i| {
        i + head[i..].chars().next().map_or(1, char::len_utf8)
    });
    head[start..].trim().to_string()
}

fn is_default_sentence(s: &str) -> bool {
    let l = s.to_lowercase();
    l.contains("デフォルト") || l.contains("既定") || l.contains("default")
}

/// Conditions stated in a text (sentences about defaults are not conditions).
fn conditions(text: &str) -> Vec<Cond> {
    let mut out = Vec::new();
    for s in sentences(&fold_width(text)) {
        if is_default_sentence(&s) {
            continue;
        }
        if let Some(i) = s.find("を選択した場合")
            && let Some(t) = s[..i].rfind("として")
        {
            let x = clause_before(&s, t);
            let y = s[t + "として".len()..i].trim().to_string();
            if !x.is_empty() && !y.is_empty() {
                out.push(Cond::Choice(x, y));
                continue;
            }
        }
        let ja = [
            "場合のみ",
            "時のみ",
            "ときのみ",
            "場合に限り",
            "場合に限る",
            "を使用する場合",
            "を使用した場合",
            "を利用する場合",
            "を利用している場合",
            "を利用した場合",
            "を使う場合",
            "を有効にした場合",
            "を有効にする場合",
            "を導入する場合",
            "を導入した場合",
        ];
        let mut best: Option<(usize, &str)> = None;
        for p in ja {
            if let Some(i) = s.find(p)
                && best.is_none_or(|(b, _)| i < b)
            {
                best = Some((i, p));
            }
        }
        if let Some((i, p)) = best {
            // Keep the verb of `…を使用する場合`: the clause ends before `場合`/`時`/`とき`.
            let cut = ["場合", "時", "とき"]
                .iter()
                .filter_map(|w| p.find(w))
                .min()
                .unwrap_or(p.len());
            let c = clause_before(&s, i + cut);
            if !c.is_empty() {
                out.push(Cond::Flag(c));
                continue;
            }
        }
        let l = s.to_lowercase();
        for p in ["only when ", "only if ", "when using ", "if you use "] {
            if let Some(i) = l.find(p) {
                let rest = &s[i + p.len()..];
                let c: String = rest
                    .split(['.', ',', ';', '('])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                if !c.is_empty() {
                    out.push(Cond::Flag(c));
                }
                break;
            }
        }
        if out.is_empty() {
            if let Some(i) = l.find(" is enabled") {
                if let Some(j) = l[..i].rfind("if ") {
                    out.push(Cond::Flag(s[j + 3..i].trim().to_string()));
                }
            } else if l.contains("optional") || s.contains("任意") || s.contains("オプション")
            {
                out.push(Cond::Flag(s.trim().to_string()));
            }
        }
    }
    out
}

fn no_opening(text: &str) -> bool {
    let l = fold_width(text).to_lowercase();
    [
        "開放不要",
        "開放の必要はありません",
        "開放する必要はありません",
        "不要です",
        "not required",
        "no need to open",
        "do not open",
        "must be closed",
        "閉じてください",
        "開放しないで",
    ]
    .iter()
    .any(|p| l.contains(p))
}

fn port_str((lo, hi): (u16, u16)) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

fn mentions_port(sentence: &str, port: u16) -> bool {
    let s = fold_width(sentence);
    let p = port.to_string();
    s.match_indices(&p).any(|(i, _)| {
        let before = s[..i].chars().next_back();
        let after = s[i + p.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// One requirement per record (per protocol when protocols carry different ports), and the
/// parsed spec kept for the heuristics.
struct ReqInfo {
    req: usize,
    rec: usize,
    spec: portspec::PortSpec,
    purpose_conds: Vec<Cond>,
    note_conds: Vec<Cond>,
}

/// Build the draft and the review items.
pub fn build(
    recs: &[Record],
    remarks: &[Remark],
    guesses: &[(u32, String, Text)],
    input: &BuildInput<'_>,
) -> (Draft, Vec<Item>) {
    let mut cx = Ctx {
        draft: Draft {
            id: input.product.clone(),
            name: input.product.clone(),
            doc: input.doc.clone(),
            options: Vec::new(),
            roles: Vec::new(),
            reqs: Vec::new(),
        },
        items: Vec::new(),
        role_keys: BTreeMap::new(),
        merged_names: Vec::new(),
        opt_ids: BTreeMap::new(),
        used_ids: BTreeSet::new(),
    };
    cx.item(
        "texts".into(),
        "texts",
        None,
        &input.doc,
        tr!(
            "purposes, notes and option descriptions quote the document in both languages: rewrite them in your own words and translate",
            "目的・備考・オプションの説明は資料の文言を両言語にそのまま写しています。自分の言葉で書き直し、翻訳してください"
        ),
        Vec::new(),
    );
    // The subject of 受信/送信, when the table has a peer column.
    let has_peer = recs.iter().any(|r| !r.get(Col::Peer).is_empty());
    let subject = if has_peer {
        let (name, from) = match &input.subject {
            Some(s) => (s.clone(), None),
            None => match find_subject(input.preamble) {
                Some((s, line)) => (s, Some(line)),
                None => (input.product.clone(), None),
            },
        };
        let id = cx.role(&name);
        cx.item(
            "subject".into(),
            "subject",
            None,
            from.as_deref().unwrap_or(&name),
            tr!(
                "the table's hosts are peers of `{name}`; its direction words (受信/送信) are read from `{name}`'s side",
                "表のホストは `{name}` の通信相手、方向 (受信/送信) は `{name}` から見たものと読みました"
            ),
            Vec::new(),
        );
        Some(id)
    } else {
        None
    };
    let mut infos: Vec<ReqInfo> = Vec::new();
    for (ri, rec) in recs.iter().enumerate() {
        let port_cell = rec.get(Col::Port);
        let spec = match portspec::parse(port_cell) {
            Ok(s) if s.has_ports() => s,
            Ok(_) | Err(_) => {
                let found = portspec::parse(port_cell)
                    .err()
                    .map_or_else(|| port_cell.to_string(), |e| e.found);
                cx.item(
                    format!("unparsed-r{}", rec.row),
                    "unparsed",
                    Some(rec),
                    port_cell,
                    tr!(
                        "the port cell could not be read (at `{found}`); the row is left out: add it by hand",
                        "ポートのセルを読めませんでした (`{found}` の箇所)。この行は含めていないので手で追加してください"
                    ),
                    Vec::new(),
                );
                continue;
            }
        };
        let col_protos = portspec::parse(rec.get(Col::Protocol))
            .map(|s| s.protocols())
            .unwrap_or_default();
        if spec.groups.iter().any(|g| g.protocols.is_empty()) && col_protos.is_empty() {
            cx.item(
                format!("protocol-r{}", rec.row),
                "protocol",
                Some(rec),
                port_cell,
                tr!(
                    "no protocol is given; read as TCP",
                    "プロトコルの記載がないため TCP と読みました"
                ),
                Vec::new(),
            );
        }
        if let Some(w) = spec.groups.iter().find_map(|g| g.wide) {
            cx.item(
                format!("wide-r{}", rec.row),
                "wide",
                Some(rec),
                port_cell,
                match w {
                    portspec::Wide::Any => tr!("`any` read as every port 1-65535", "`any` を全ポート 1-65535 と読みました"),
                    portspec::Wide::Ephemeral => tr!(
                        "`ephemeral` read as the IANA dynamic range 49152-65535; Windows and Linux defaults differ",
                        "`ephemeral` を IANA の動的範囲 49152-65535 と読みました。Windows や Linux の既定値とは異なります"
                    ),
                },
                Vec::new(),
            );
        }
        // Protocol → ports in order.
        let mut by_proto: BTreeMap<Protocol, Vec<String>> = BTreeMap::new();
        for g in &spec.groups {
            let protos = if !g.protocols.is_empty() {
                g.protocols.clone()
            } else if !col_protos.is_empty() {
                col_protos.clone()
            } else {
                vec![Protocol::Tcp]
            };
            for p in protos {
                let v = by_proto.entry(p).or_default();
                for r in &g.ports {
                    let s = port_str(*r);
                    if !v.contains(&s) {
                        v.push(s);
                    }
                }
            }
        }
        // Roles and direction.
        let dir_cell = rec.get(Col::Direction);
        let dir = direction::parse(dir_cell);
        if !dir_cell.is_empty() && dir.is_none() {
            cx.item(
                format!("direction-r{}", rec.row),
                "direction",
                Some(rec),
                dir_cell,
                tr!(
                    "the direction could not be read; read as from → to",
                    "方向を読めなかったため 接続元 → 接続先 と読みました"
                ),
                Vec::new(),
            );
        }
        if direction::per_protocol_in_note(rec.get(Col::Notes)) {
            cx.item(
                format!("direction-note-r{}", rec.row),
                "direction",
                Some(rec),
                rec.get(Col::Notes),
                tr!(
                    "the notes give a direction per protocol: check `from`, `to` and `both_ways` of each protocol",
                    "備考にプロトコルごとの方向があります。プロトコルごとに from・to・both_ways を確認してください"
                ),
                Vec::new(),
            );
        }
        let names = |c: Col| -> Vec<String> {
            rec.get(c)
                .lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let mut both = false;
        let (mut from, mut to): (Vec<String>, Vec<String>);
        if let Some(subj) = &subject {
            let peers: Vec<String> = names(Col::Peer).iter().map(|n| cx.role(n)).collect();
            match dir {
                Some(Direction::Out | Direction::Forward) => {
                    from = vec![subj.clone()];
                    to = peers;
                }
                Some(Direction::InOut | Direction::Both) => {
                    from = peers;
                    to = vec![subj.clone()];
                    both = true;
                }
                _ => {
                    from = peers;
                    to = vec![subj.clone()];
                }
            }
        } else {
            from = names(Col::From).iter().map(|n| cx.role(n)).collect();
            to = names(Col::To).iter().map(|n| cx.role(n)).collect();
            match dir {
                Some(Direction::Reverse) => std::mem::swap(&mut from, &mut to),
                Some(Direction::Both | Direction::InOut) => both = true,
                _ => {}
            }
        }
        let dedup = |v: &mut Vec<String>| {
            let mut seen = BTreeSet::new();
            v.retain(|x| seen.insert(x.clone()));
        };
        dedup(&mut from);
        dedup(&mut to);
        if from.is_empty() || to.is_empty() {
            cx.item(
                format!("roles-r{}", rec.row),
                "roles",
                Some(rec),
                &format!("{} → {}", rec.get(Col::From), rec.get(Col::To)),
                tr!(
                    "the row names no initiator or no acceptor; it is left out",
                    "接続元または接続先がないため、この行は含めていません"
                ),
                Vec::new(),
            );
            continue;
        }
        let purpose = rec.get(Col::Purpose).replace('\n', " ");
        let notes = rec.get(Col::Notes).replace('\n', " ");
        let same_ports = by_proto.values().collect::<BTreeSet<_>>().len() == 1;
        let split: Vec<(Vec<Protocol>, Vec<String>)> = if same_ports {
            vec![(
                by_proto.keys().copied().collect(),
                by_proto.values().next().cloned().unwrap_or_default(),
            )]
        } else {
            by_proto
                .iter()
                .map(|(p, v)| (vec![*p], v.clone()))
                .collect()
        };
        let n = split.len();
        for (protos, ports) in split {
            let base = if n > 1 {
                format!("r{}-{}", rec.row, protos[0].as_str())
            } else {
                format!("r{}", rec.row)
            };
            let id = cx.unique(&base, "r");
            cx.draft.reqs.push(DReq {
                id,
                purpose: if purpose.is_empty() {
                    format!("row {}", rec.row)
                } else {
                    purpose.clone()
                },
                from: from.clone(),
                to: to.clone(),
                both_ways: both,
                protocol: DProto::Fixed(protos),
                ports: ports.into_iter().map(DPort::Spec).collect(),
                when: Vec::new(),
                notes: if notes.is_empty() {
                    "-".into()
                } else {
                    notes.clone()
                },
                row: rec.row,
                lines: rec.lines,
            });
            infos.push(ReqInfo {
                req: cx.draft.reqs.len() - 1,
                rec: ri,
                spec: spec.clone(),
                purpose_conds: conditions(rec.get(Col::Purpose)),
                note_conds: conditions(rec.get(Col::Notes)),
            });
        }
    }
    heuristics(&mut cx, recs, &infos);
    // Reading remarks.
    for r in remarks {
        let rec = recs.iter().find(|x| x.row == r.row);
        let id = format!("{}-r{}", r.kind, r.row);
        cx.items.push(Item {
            id,
            kind: r.kind.to_string(),
            row: (r.row > 0).then_some(r.row),
            lines: lines_text(r.lines.or(rec.and_then(|x| x.lines))),
            quote: r.quote.clone(),
            check: r.check.clone(),
            edits: Vec::new(),
            decision: super::review::Decision::Pending,
        });
    }
    for (row, quote, check) in guesses {
        let rec = recs.iter().find(|x| x.row == *row);
        cx.item(
            format!("note-split-r{row}"),
            "note-split",
            rec,
            quote,
            check.clone(),
            Vec::new(),
        );
    }
    for (a, b) in cx.merged_names.clone() {
        cx.item(
            format!("roles-{}", slug(&a)),
            "roles",
            None,
            &format!("{a} / {b}"),
            tr!(
                "`{b}` read as the same role as `{a}` (the names differ by a generic word)",
                "`{b}` は `{a}` と同じロールと読みました (一般的な語だけが異なります)"
            ),
            Vec::new(),
        );
    }
    let unknown: Vec<String> = cx
        .draft
        .roles
        .iter()
        .filter(|r| r.zone == ZoneHint::Any)
        .map(|r| r.name.clone())
        .collect();
    if !unknown.is_empty() {
        cx.item(
            "zones".into(),
            "zones",
            None,
            &unknown.join(" / "),
            tr!("these roles have no zone hint and are `any`: set internet or intranet where you know it", "これらのロールにはゾーンの手がかりがないため `any` としました。分かるものは internet か intranet にしてください"),
            Vec::new(),
        );
    }
    // Stable order: table order, then document-wide items.
    cx.items
        .sort_by_key(|i| (i.row.unwrap_or(0), i.kind.clone(), i.id.clone()));
    let mut seen = BTreeSet::new();
    cx.items.retain(|i| seen.insert(i.id.clone()));
    (cx.draft, cx.items)
}

fn find_subject(preamble: &[String]) -> Option<(String, String)> {
    for line in preamble.iter().rev() {
        let l = line.trim();
        for pat in [
            "の通信要件",
            "の通信で使用するポート",
            "の使用ポート",
            "が使用するポート",
        ] {
            if let Some(i) = l.find(pat) {
                let mut s = &l[..i];
                for pre in ["以下、", "以下,", "下記、", "以下は"] {
                    s = s.strip_prefix(pre).unwrap_or(s);
                }
                let s = s.trim();
                if !s.is_empty() && s.chars().count() <= 40 {
                    return Some((s.to_string(), l.to_string()));
                }
            }
        }
        let low = l.to_lowercase();
        for pat in [
            " communication requirements",
            " port requirements",
            " network requirements",
        ] {
            if let Some(i) = low.find(pat) {
                let s = l[..i].trim();
                if !s.is_empty() {
                    return Some((s.to_string(), l.to_string()));
                }
            }
        }
    }
    None
}

/// A choice's values, its uses (info index, value) and the first info using it.
type ChoiceUse = (Vec<String>, Vec<(usize, String)>, usize);

fn heuristics(cx: &mut Ctx, recs: &[Record], infos: &[ReqInfo]) {
    // 1. Conditions (flags from purpose and notes; choices).
    let mut flag_reqs: BTreeMap<String, (Vec<usize>, usize)> = BTreeMap::new();
    let mut choices: BTreeMap<String, ChoiceUse> = BTreeMap::new();
    for (k, inf) in infos.iter().enumerate() {
        for c in inf.purpose_conds.iter().chain(&inf.note_conds) {
            match c {
                Cond::Flag(f) => flag_reqs
                    .entry(f.clone())
                    .or_insert((Vec::new(), k))
                    .0
                    .push(k),
                Cond::Choice(x, y) => {
                    let e = choices
                        .entry(x.clone())
                        .or_insert((Vec::new(), Vec::new(), k));
                    if !e.0.contains(y) {
                        e.0.push(y.clone());
                    }
                    e.1.push((k, y.clone()));
                }
            }
        }
    }
    let mut flag_ids: BTreeMap<String, String> = BTreeMap::new();
    let mut ordered: Vec<(&String, &(Vec<usize>, usize))> = flag_reqs.iter().collect();
    ordered.sort_by_key(|(_, (_, first))| *first);
    for (phrase, (ks, first)) in ordered {
        let opt = cx.option(phrase, &slug(phrase), "condition");
        flag_ids.insert(phrase.clone(), opt.clone());
        let mut edits = vec![Edit::AddOption(DOption {
            id: opt.clone(),
            kind: "bool".into(),
            values: None,
            default: "false".into(),
            description: phrase.clone(),
        })];
        let mut rows = BTreeSet::new();
        for &k in ks {
            let r = &cx.draft.reqs[infos[k].req];
            rows.insert(r.row);
            edits.push(Edit::AndWhen {
                requirement: r.id.clone(),
                condition: opt.clone(),
            });
        }
        let rec = &recs[infos[*first].rec];
        let rows: Vec<String> = rows.iter().map(u32::to_string).collect();
        let rows = rows.join(", ");
        cx.item(
            format!("condition-{opt}"),
            "condition",
            Some(rec),
            phrase,
            tr!(
                "reads as a condition: propose bool option `{opt}` (default false) and `when: {opt}` on rows {rows}",
                "条件と読みました: bool 型オプション `{opt}` (既定 false) を設け、{rows} 行目に `when: {opt}` を付けることを提案します"
            ),
            edits,
        );
    }
    let mut ordered: Vec<(&String, &ChoiceUse)> = choices.iter().collect();
    ordered.sort_by_key(|(_, (_, _, first))| *first);
    for (x, (values, uses, first)) in ordered {
        let opt = cx.option(&format!("choice:{x}"), &slug(x), "choice");
        let mut ids: Vec<String> = vec!["none".into()];
        let mut value_of: BTreeMap<String, String> = BTreeMap::new();
        for (i, y) in values.iter().enumerate() {
            let mut v = slug(y);
            if v.is_empty() || ids.contains(&v) {
                v = format!("v{}", i + 1);
            }
            ids.push(v.clone());
            value_of.insert(y.clone(), v);
        }
        let mut edits = vec![Edit::AddOption(DOption {
            id: opt.clone(),
            kind: "choice".into(),
            values: Some(ids.clone()),
            default: "none".into(),
            description: format!("{x}: {}", values.join(" / ")),
        })];
        for (k, y) in uses {
            edits.push(Edit::AndWhen {
                requirement: cx.draft.reqs[infos[*k].req].id.clone(),
                condition: format!("{opt} == {}", value_of[y]),
            });
        }
        let rec = &recs[infos[*first].rec];
        let vs = ids.join(", ");
        cx.item(
            format!("choice-{opt}"),
            "choice",
            Some(rec),
            x,
            tr!(
                "rows apply only when `{x}` is set to one value: propose choice option `{opt}` with values [{vs}] (`none`: none of them is chosen)",
                "`{x}` で特定の値を選んだ場合のみの行と読みました: choice 型オプション `{opt}` (値 [{vs}]、`none` はどれも選ばない場合) を提案します"
            ),
            edits,
        );
    }
    // 2. Per-row port heuristics.
    let mut variant_ids: BTreeMap<String, String> = BTreeMap::new();
    for inf in infos {
        let rec = &recs[inf.rec];
        let req = cx.draft.reqs[inf.req].clone();
        let DProto::Fixed(protos) = &req.protocol else {
            continue;
        };
        let groups: Vec<&portspec::PortGroup> = inf
            .spec
            .groups
            .iter()
            .filter(|g| g.protocols.is_empty() || g.protocols.iter().any(|p| protos.contains(p)))
            .collect();
        let plain: Vec<String> = req
            .ports
            .iter()
            .filter_map(|p| {
                if let DPort::Spec(s) = p {
                    Some(s.clone())
                } else {
                    None
                }
            })
            .collect();
        // Qualified variants: `389/3268 636/3269(over SSL)`.
        let qualified: Vec<&&portspec::PortGroup> =
            groups.iter().filter(|g| g.qualifier.is_some()).collect();
        let unqualified: Vec<&&portspec::PortGroup> =
            groups.iter().filter(|g| g.qualifier.is_none()).collect();
        if qualified.len() == 1 && !unqualified.is_empty() {
            let q = qualified[0].qualifier.clone().unwrap_or_default();
            let opt = match variant_ids.get(&q) {
                Some(o) => o.clone(),
                None => {
                    let o = cx.option(&format!("qualifier:{q}"), &slug(&q), "variant");
                    variant_ids.insert(q.clone(), o.clone());
                    o
                }
            };
            let qports: Vec<DPort> = qualified[0]
                .ports
                .iter()
                .map(|r| DPort::Spec(port_str(*r)))
                .collect();
            let uports: Vec<DPort> = unqualified
                .iter()
                .flat_map(|g| g.ports.iter().map(|r| DPort::Spec(port_str(*r))))
                .collect();
            let edits = vec![
                Edit::AddOption(DOption {
                    id: opt.clone(),
                    kind: "bool".into(),
                    values: None,
                    default: "false".into(),
                    description: q.clone(),
                }),
                Edit::Ports {
                    requirement: req.id.clone(),
                    remove: plain.clone(),
                    add: vec![
                        DPort::When {
                            when: format!("not {opt}"),
                            ports: uports,
                        },
                        DPort::When {
                            when: opt.clone(),
                            ports: qports,
                        },
                    ],
                },
            ];
            cx.item(
                format!("variant-{}", req.id),
                "variant",
                Some(rec),
                rec.get(Col::Port),
                tr!(
                    "the ports marked `({q})` read as the variant used instead of the others: propose bool option `{opt}`",
                    "`({q})` の付いたポートは、他のポートの代わりに使う形態と読みました: bool 型オプション `{opt}` を提案します"
                ),
                edits,
            );
        }
        // `80 or 8080`.
        for g in &groups {
            if g.alternatives && g.ports.iter().all(|(a, b)| a == b) {
                let vals: Vec<String> = g.ports.iter().map(|r| port_str(*r)).collect();
                let opt = cx.option(
                    &format!("or:{}", req.id),
                    format!("{}_port", slug(&req.purpose)).trim_start_matches('_'),
                    "port_choice",
                );
                let vs = vals.join(" / ");
                cx.item(
                    format!("alternatives-{}", req.id),
                    "alternatives",
                    Some(rec),
                    rec.get(Col::Port),
                    tr!("`{vs}` read as alternatives: propose choice option `{opt}`", "`{vs}` はいずれか一方と読みました: choice 型オプション `{opt}` を提案します"),
                    vec![
                        Edit::AddOption(DOption { id: opt.clone(), kind: "choice".into(), values: Some(vals.clone()), default: vals[0].clone(), description: rec.get(Col::Port).to_string() }),
                        Edit::Ports { requirement: req.id.clone(), remove: vals.clone(), add: vec![DPort::Option { option: opt.clone() }] },
                    ],
                );
            }
        }
        let singles: Vec<u16> = groups
            .iter()
            .flat_map(|g| g.ports.iter().filter(|(a, b)| a == b).map(|(a, _)| *a))
            .collect();
        for s in sentences(rec.get(Col::Notes)) {
            if is_default_sentence(&s) {
                // A note naming a default port: the port is configurable.
                if let Some(&p) = singles.iter().find(|p| mentions_port(&s, **p)) {
                    let opt = cx.option(
                        &format!("default:{}:{p}", req.id),
                        format!("{}_port", slug(&req.purpose)).trim_start_matches('_'),
                        "port",
                    );
                    cx.item(
                        format!("default-port-{}-{p}", req.id),
                        "default-port",
                        Some(rec),
                        &s,
                        tr!(
                            "{p} reads as a default that can be changed: propose port option `{opt}` (default {p}); the sentence's `when …` describes the default, not when the row is needed",
                            "{p} は変更できる既定値と読みました: port 型オプション `{opt}` (既定 {p}) を提案します。文中の「…場合」は既定値の説明で、この行が必要な条件ではないと読みました"
                        ),
                        vec![
                            Edit::AddOption(DOption { id: opt.clone(), kind: "port".into(), values: None, default: p.to_string(), description: s.clone() }),
                            Edit::Ports { requirement: req.id.clone(), remove: vec![p.to_string()], add: vec![DPort::Option { option: opt.clone() }] },
                        ],
                    );
                }
                continue;
            }
            if !conditions(&s).is_empty() || singles.len() < 2 {
                continue;
            }
            // A note singling out one of the row's ports as being for something.
            let named: Vec<u16> = singles
                .iter()
                .copied()
                .filter(|p| mentions_port(&s, *p))
                .collect();
            let l = s.to_lowercase();
            if named.len() == 1 && (s.contains('用') || l.contains(" for ")) {
                let p = named[0];
                let cleaned: String = s
                    .replace(&p.to_string(), " ")
                    .replace("TCP", " ")
                    .replace("UDP", " ");
                let opt = cx.option(&format!("port-note:{s}"), &slug(&cleaned), "port_use");
                let new_id = format!("{}-{p}", req.id);
                cx.item(
                    format!("port-note-{}-{p}", req.id),
                    "port-note",
                    Some(rec),
                    &s,
                    tr!(
                        "the note singles out {p} for one use: propose moving it to `{new_id}` with bool option `{opt}`",
                        "備考が {p} を特定の用途のものとしています: `{new_id}` に分け、bool 型オプション `{opt}` を付けることを提案します"
                    ),
                    vec![
                        Edit::AddOption(DOption { id: opt.clone(), kind: "bool".into(), values: None, default: "false".into(), description: s.clone() }),
                        Edit::Split { requirement: req.id.clone(), ports: vec![p.to_string()], id: new_id, when: opt.clone() },
                    ],
                );
            }
        }
        // TCP and UDP for one port whose IANA services differ: the transport is a setting.
        if protos.len() == 2 {
            let differs = singles.iter().any(|p| {
                crate::iana::lookup("tcp", *p).map(|s| s.name)
                    != crate::iana::lookup("udp", *p).map(|s| s.name)
            });
            if differs {
                let opt = cx.option(
                    &format!("transport:{}", req.id),
                    format!("{}_protocol", slug(&req.purpose)).trim_start_matches('_'),
                    "protocol",
                );
                cx.item(
                    format!("transport-{}", req.id),
                    "transport",
                    Some(rec),
                    rec.get(Col::Port),
                    tr!(
                        "TCP and UDP are both listed for a port registered to different services on each (IANA): read as a choice of transport, option `{opt}`",
                        "TCP と UDP の両方が記載されていますが、このポートは IANA で TCP と UDP に別のサービスが登録されています: どちらかを選ぶ設定と読み、オプション `{opt}` を提案します"
                    ),
                    vec![
                        Edit::AddOption(DOption { id: opt.clone(), kind: "choice".into(), values: Some(vec!["udp".into(), "tcp".into()]), default: "udp".into(), description: rec.get(Col::Port).to_string() }),
                        Edit::Protocol { requirement: req.id.clone(), option: opt.clone() },
                    ],
                );
            }
        }
        if no_opening(rec.get(Col::Notes)) && inf.note_conds.is_empty() {
            cx.item(
                format!("no-opening-{}", req.id),
                "no-opening",
                Some(rec),
                rec.get(Col::Notes),
                tr!(
                    "the notes say no opening is needed: propose leaving the row out",
                    "備考に開放不要とあります: この行を除くことを提案します"
                ),
                vec![Edit::Drop {
                    requirement: req.id.clone(),
                }],
            );
        }
    }
    // 3. Same traffic to two places in one group, one of them conditional: the other applies
    //    when the condition does not hold.
    for a in infos {
        if !a.note_conds.is_empty() {
            continue;
        }
        let ra = &cx.draft.reqs[a.req];
        for b in infos {
            let rb = &cx.draft.reqs[b.req];
            let Some(Cond::Flag(f)) = b.note_conds.first() else {
                continue;
            };
            if recs[a.rec].group == recs[b.rec].group
                && a.rec != b.rec
                && ra.from == rb.from
                && ra.to != rb.to
                && ra.protocol == rb.protocol
                && ra.ports == rb.ports
            {
                let Some(opt) = flag_ids.get(f).cloned() else {
                    continue;
                };
                let (id, other) = (ra.id.clone(), rb.id.clone());
                cx.item(
                    format!("exclusive-{id}"),
                    "exclusive",
                    Some(&recs[a.rec]),
                    recs[a.rec].get(Col::Notes),
                    tr!(
                        "`{id}` carries the same traffic as `{other}` to another place, and `{other}` applies when `{opt}`: propose `when: not {opt}` here (accept together with condition-{opt})",
                        "`{id}` は `{other}` と同じ通信を別の宛先へ送るもので、`{other}` は `{opt}` の場合です: こちらに `when: not {opt}` を提案します (condition-{opt} と一緒に採用してください)"
                    ),
                    vec![Edit::AndWhen { requirement: id.clone(), condition: format!("not {opt}") }],
                );
                break;
            }
        }
    }
    // 4. Rows with only legacy NetBIOS services and no condition of their own.
    let legacy: Vec<&ReqInfo> = infos
        .iter()
        .filter(|i| i.purpose_conds.is_empty() && i.note_conds.is_empty())
        .filter(|i| {
            let r = &cx.draft.reqs[i.req];
            let DProto::Fixed(ps) = &r.protocol else {
                return false;
            };
            !r.ports.is_empty()
                && r.ports.iter().all(|p| match p {
                    DPort::Spec(s) => s.parse::<u16>().is_ok_and(|n| {
                        ps.iter().all(|pr| {
                            crate::iana::lookup(pr.as_str(), n)
                                .is_some_and(|x| x.name.starts_with("netbios"))
                        })
                    }),
                    _ => false,
                })
        })
        .collect();
    if !legacy.is_empty() {
        let opt = cx.option("legacy:netbios", "netbios", "netbios");
        let mut edits = vec![Edit::AddOption(DOption {
            id: opt.clone(),
            kind: "bool".into(),
            values: None,
            default: "true".into(),
            description: "NetBIOS over TCP/IP (a legacy Windows service that can be switched off)"
                .into(),
        })];
        let mut rows = Vec::new();
        for i in &legacy {
            let r = &cx.draft.reqs[i.req];
            rows.push(r.row.to_string());
            edits.push(Edit::AndWhen {
                requirement: r.id.clone(),
                condition: opt.clone(),
            });
        }
        rows.dedup();
        let rows = rows.join(", ");
        let rec = &recs[legacy[0].rec];
        cx.item(
            format!("legacy-{opt}"),
            "legacy",
            Some(rec),
            rec.get(Col::Purpose),
            tr!(
                "rows {rows} carry only NetBIOS services (legacy; Windows can switch NetBIOS over TCP/IP off) and no condition: propose bool option `{opt}` (default true)",
                "{rows} 行目は NetBIOS のサービスだけで条件がありません (NetBIOS over TCP/IP は旧来の仕組みで、Windows で無効にできます): bool 型オプション `{opt}` (既定 true) を提案します"
            ),
            edits,
        );
    }
}
