//! Flattened text copied from a web page: a header of column names (on one line separated by
//! spaces, or one per line), then rows whose cells are separated by spaces or line breaks,
//! multi-line cells (host lists, notes) continuing on their own lines, and rows that continue
//! the row above without their leading cells (`送信 host…`, `9133 host…`).
//!
//! A row starts at an *anchor line*: optional purpose text, a protocol word followed by port
//! tokens, an optional direction word and the first host; or, for a continuation, a line that
//! starts with port tokens or a direction word. Lines after an anchor are further hosts while
//! they look like host names, then notes; the lines just before an anchor without inline
//! purpose text are its purpose (a line in parentheses continues the one above it).

use super::cells::clean;
use super::direction;
use super::portspec;
use super::read::{Grid, GridRow};
use super::table::{Col, classify};
use crate::tr;

struct Line {
    n: u32,
    text: String,
}

struct Anchor {
    purpose: String,
    protocol: String,
    ports: String,
    direction: String,
    host: String,
}

fn is_proto(t: &str) -> bool {
    portspec::parse(t).is_ok_and(|s| !s.has_ports() && !s.protocols().is_empty())
}

fn is_port_token(t: &str) -> bool {
    t.chars().any(|c| c.is_ascii_digit())
        && portspec::parse(t).is_ok_and(|s| s.has_ports() && s.protocols().is_empty())
}

fn anchor(text: &str) -> Option<Anchor> {
    let toks: Vec<&str> = text.split_whitespace().collect();
    let typed_tail = |start: usize| -> (String, String, usize) {
        let mut i = start;
        let mut ports = Vec::new();
        while i < toks.len()
            && (is_port_token(toks[i])
                || (!ports.is_empty()
                    && matches!(toks[i].to_lowercase().as_str(), "or" | "または" | "/")))
        {
            ports.push(toks[i]);
            i += 1;
        }
        let mut dir = String::new();
        if i < toks.len() && direction::parse_strict(toks[i]).is_some() {
            dir = toks[i].to_string();
            i += 1;
        }
        (ports.join(" "), dir, i)
    };
    for p in 0..toks.len() {
        if is_proto(toks[p]) && p + 1 < toks.len() && is_port_token(toks[p + 1]) {
            let (ports, dir, i) = typed_tail(p + 1);
            return Some(Anchor {
                purpose: toks[..p].join(" "),
                protocol: toks[p].to_string(),
                ports,
                direction: dir,
                host: toks[i..].join(" "),
            });
        }
    }
    if toks.first().is_some_and(|t| is_port_token(t)) {
        let (ports, dir, i) = typed_tail(0);
        return Some(Anchor {
            purpose: String::new(),
            protocol: String::new(),
            ports,
            direction: dir,
            host: toks[i..].join(" "),
        });
    }
    if toks
        .first()
        .is_some_and(|t| direction::parse_strict(t).is_some())
        && toks.len() > 1
    {
        return Some(Anchor {
            purpose: String::new(),
            protocol: String::new(),
            ports: String::new(),
            direction: toks[0].to_string(),
            host: toks[1..].join(" "),
        });
    }
    None
}

fn sentence_like(s: &str) -> bool {
    s.contains(['。', '、', ',', '，'])
        || s.ends_with("です")
        || s.ends_with("ます")
        || s.chars().count() > 48
}

const HOST_WORDS: &[&str] = &[
    "server",
    "サーバ",
    "サーバー",
    "manager",
    "マネージャー",
    "マネージャ",
    "console",
    "コンソール",
    "端末",
    "client",
    "クライアント",
    "agent",
    "エージェント",
    "host",
    "ホスト",
    "pc",
    "gateway",
    "ゲートウェイ",
    "router",
    "ルーター",
    "proxy",
    "プロキシ",
    "controller",
    "コントローラ",
    "コントローラー",
    "service",
    "サービス",
    "machine",
    "マシン",
    "computer",
    "コンピューター",
    "appliance",
    "nas",
    "database",
    "データベース",
];

fn host_like(line: &str, first_host: &str) -> bool {
    if sentence_like(line) || line.starts_with(['(', '（', '※', '・', '*', '•']) {
        return false;
    }
    let first_word = first_host.split_whitespace().next().unwrap_or("");
    if !first_word.is_empty() && line.split_whitespace().next() == Some(first_word) {
        return true;
    }
    let l = line.to_lowercase();
    HOST_WORDS.iter().any(|w| l.ends_with(w))
}

/// Read flattened text. `None` when no header is found.
pub fn read(text: &str) -> Option<Grid> {
    let all: Vec<Line> = text
        .lines()
        .enumerate()
        .map(|(i, l)| Line {
            n: i as u32 + 1,
            text: clean(l).replace('\n', " "),
        })
        .collect();
    // The header: one line of column names, or a run of lines with one name each.
    let mut header: Option<(usize, usize, Vec<Col>, Vec<String>)> = None;
    for (i, l) in all.iter().enumerate() {
        let toks: Vec<&str> = l.text.split_whitespace().collect();
        let kinds: Vec<Option<Col>> = toks.iter().map(|t| classify(t)).collect();
        if toks.len() >= 3 && kinds.iter().all(Option::is_some) && kinds.contains(&Some(Col::Port))
        {
            header = Some((
                i,
                i,
                kinds.into_iter().flatten().collect(),
                toks.iter().map(|t| (*t).to_string()).collect(),
            ));
            break;
        }
        let mut j = i;
        let mut ks = Vec::new();
        while j < all.len() && !all[j].text.is_empty() && all[j].text.chars().count() <= 24 {
            match classify(&all[j].text) {
                Some(k) => ks.push(k),
                None => break,
            }
            j += 1;
        }
        if ks.len() >= 3 && ks.contains(&Col::Port) {
            header = Some((
                i,
                j - 1,
                ks,
                all[i..j].iter().map(|l| l.text.clone()).collect(),
            ));
            break;
        }
    }
    let (h0, h1, kinds, names) = header?;
    let mut grid = Grid {
        rows: vec![GridRow {
            cells: names,
            lines: Some((all[h0].n, all[h1].n)),
        }],
        preamble: all[..h0]
            .iter()
            .map(|l| l.text.clone())
            .filter(|t| !t.is_empty())
            .collect(),
        guesses: Vec::new(),
    };
    // Table body: up to a blank line or a bulleted line after the first row.
    let mut body: Vec<&Line> = Vec::new();
    let mut merged: Vec<Line> = Vec::new();
    {
        let mut k = h1 + 1;
        while k < all.len() {
            let t = &all[k].text;
            if t.is_empty() || t.starts_with(['•', '●']) {
                if body.iter().any(|l| anchor(&l.text).is_some()) || !merged.is_empty() {
                    break;
                }
                k += 1;
                continue;
            }
            // One cell per line: join runs of typed lines (protocol, ports, direction) and
            // the first host after them into one line.
            let typed = |s: &str| {
                s.split_whitespace().all(|w| {
                    is_proto(w) || is_port_token(w) || direction::parse_strict(w).is_some()
                })
            };
            if typed(t) && anchor(t).is_none() {
                let mut text = t.clone();
                let n = all[k].n;
                let mut m = k + 1;
                while m < all.len() && !all[m].text.is_empty() && typed(&all[m].text) {
                    text.push(' ');
                    text.push_str(&all[m].text);
                    m += 1;
                }
                if m < all.len() && !all[m].text.is_empty() {
                    text.push(' ');
                    text.push_str(&all[m].text);
                    m += 1;
                }
                merged.push(Line { n, text });
                k = m;
                continue;
            }
            merged.push(Line {
                n: all[k].n,
                text: t.clone(),
            });
            k += 1;
        }
        body.clear();
    }
    let anchors: Vec<usize> = merged
        .iter()
        .enumerate()
        .filter(|(_, l)| anchor(&l.text).is_some())
        .map(|(i, _)| i)
        .collect();
    if anchors.is_empty() {
        return Some(grid);
    }
    let pos = |c: Col| kinds.iter().position(|k| *k == c);
    let width = kinds.len();
    // Lines before each anchor that are its purpose.
    let mut purpose_start: Vec<usize> = Vec::with_capacity(anchors.len());
    for (a, &i) in anchors.iter().enumerate() {
        let prev_end = if a == 0 { 0 } else { anchors[a - 1] + 1 };
        let an = anchor(&merged[i].text)?;
        let full = !an.protocol.is_empty();
        if a == 0 {
            purpose_start.push(prev_end);
        } else if full && an.purpose.is_empty() && i > prev_end {
            let mut s = i - 1;
            if merged[s].text.starts_with(['(', '（']) && s > prev_end {
                s -= 1;
            }
            purpose_start.push(s);
        } else {
            purpose_start.push(i);
        }
    }
    for (a, &i) in anchors.iter().enumerate() {
        let an = anchor(&merged[i].text)?;
        let end = anchors
            .get(a + 1)
            .map_or(merged.len(), |_| purpose_start[a + 1]);
        let mut purpose: Vec<String> = merged[purpose_start[a]..i]
            .iter()
            .map(|l| l.text.clone())
            .collect();
        if !an.purpose.is_empty() {
            purpose.push(an.purpose.clone());
        }
        let mut hosts = Vec::new();
        if !an.host.is_empty() {
            hosts.push(an.host.clone());
        }
        let mut k = i + 1;
        while k < end && (hosts.is_empty() || host_like(&merged[k].text, &hosts[0])) {
            hosts.push(merged[k].text.clone());
            k += 1;
        }
        let notes: Vec<String> = merged[k..end].iter().map(|l| l.text.clone()).collect();
        let mut cells = vec![String::new(); width];
        let mut put = |c: Col, v: String| {
            if let Some(p) = pos(c) {
                cells[p] = v;
            }
        };
        put(Col::Purpose, purpose.join("\n"));
        put(Col::Protocol, an.protocol.clone());
        let port_text = if pos(Col::Protocol).is_none() && !an.protocol.is_empty() {
            format!("{} {}", an.protocol, an.ports)
        } else {
            an.ports.clone()
        };
        put(Col::Port, port_text);
        put(Col::Direction, an.direction.clone());
        let host_col = [Col::Peer, Col::To, Col::From]
            .into_iter()
            .find(|c| pos(*c).is_some());
        if let Some(c) = host_col {
            put(c, hosts.join("\n"));
        }
        put(Col::Notes, notes.join("\n"));
        let first = merged[purpose_start[a].min(i)].n;
        let last = merged[end.max(i + 1) - 1].n;
        let row = grid.rows.len();
        for note in &notes {
            if !sentence_like(note) {
                grid.guesses.push((
                    row,
                    note.clone(),
                    tr!(
                        "the short line `{note}` was read as a note, not as a host",
                        "短い行 `{note}` はホストではなく備考と読みました"
                    ),
                ));
            }
        }
        grid.rows.push(GridRow {
            cells,
            lines: Some((first, last)),
        });
    }
    Some(grid)
}
