//! The diagram as SVG, laid out here, deterministically (no layout crate draws orthogonal
//! edges through firewall badges within a fixed width; Graphviz users get the DOT).
//!
//! Layout: zones are boxes (site order, `internet` last), each with a title column on its left
//! (name and CIDRs) and its nodes in a grid, packed left to right into rows no wider than
//! [`MAX_W`] (A4 landscape); a zone too wide for a row wraps its nodes into more node rows.
//! Between node rows run channels. An edge leaves its node at the top or bottom, runs along a
//! horizontal track of its own in the channel between the two rows (or, for nodes of one row,
//! the channel above or below), and enters the other node; an edge between rows further apart
//! takes a lane at the right to the channel next to its destination. Every track that carries
//! a label is a band as tall as the label, so labels cannot meet each other or a node; the
//! label sits on its track — the track passes through its red firewall badge (the points the
//! openings are requested on) — slid along it away from vertical segments. Nodes show their
//! role names, then their addresses (shortened with `…` to the box). Text widths are estimated
//! with East Asian wide characters counted double, an upper bound for the fonts named; Japanese
//! is broken only between words ([`wrap`]).
//!
//! **Invariant** (checked by the tests for `examples/hq.yaml` and random-ish shapes): no two of
//! the rectangles in [`Layout::rects`] — title, zone titles, nodes, edge labels, legend — overlap,
//! and all lie within the canvas, at most [`MAX_W`] wide.

use std::fmt::Write as _;

use super::diagram::{Diagram, EdgeKind};
use super::{Report, is_wide};

/// Font family list: Japanese first, then generic.
pub const FONTS: &str =
    "'Noto Sans CJK JP', 'Noto Sans JP', Meiryo, 'Hiragino Sans', 'Yu Gothic', sans-serif";

const FONT: f64 = 12.0;
const LINE: f64 = 16.0;
/// The widest the diagram gets: the printable width of A4 landscape at 96 dpi, about.
pub const MAX_W: f64 = 1100.0;
const NODE_W: f64 = 150.0;
const ADDR_FONT: f64 = 11.0;
const ADDR_LINE: f64 = 14.0;
const BADGE_H: f64 = 18.0;
const LANE_GAP: f64 = 8.0;
/// Fill of the firewall badges.
const FW_COLOR: &str = "#8e2b1f";
const NODE_PAD: f64 = 8.0;
const NODE_GAP: f64 = 22.0;
const ZONE_PAD: f64 = 14.0;
const ZONE_GAP: f64 = 30.0;
const MARGIN: f64 = 20.0;
const TRACK_GAP: f64 = 6.0;
const ROW_GAP: f64 = 18.0;

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Whether the interiors of two rectangles meet.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Estimated width of `s` in pixels at font size `size`.
pub fn text_px(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if is_wide(c) { 1.0 } else { 0.6 })
        .sum::<f64>()
        * size
}

/// Script class of a character, for line breaking.
#[derive(PartialEq, Clone, Copy)]
enum Script {
    Narrow,
    Hiragana,
    Katakana,
    Kanji,
    /// Closing punctuation and the long vowel mark: never at the start of a line.
    Closing,
    /// Other wide characters (opening brackets, symbols).
    Other,
}

fn script(c: char) -> Script {
    match c {
        '、' | '。' | '）' | '」' | '』' | '】' | '・' | '，' | '．' | ')' | ']' | ',' | '.'
        | ':' | ';' => Script::Closing,
        '\u{3041}'..='\u{309F}' => Script::Hiragana,
        '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}' => Script::Katakana,
        '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '々' => {
            Script::Kanji
        }
        c if is_wide(c) => Script::Other,
        _ => Script::Narrow,
    }
}

/// Characters a line must not start with.
fn no_start(c: char) -> bool {
    script(c) == Script::Closing || "ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ".contains(c)
}

/// Whether a line may break between `a` and `b` (no space between them). Japanese is broken
/// only where the script changes — between 同期 and エージェント, never inside エージェント — and
/// not before hiragana (okurigana, particles) or closing punctuation; after 、。 always.
fn can_break(a: char, b: char) -> bool {
    let (sa, sb) = (script(a), script(b));
    if sb == Script::Closing || sb == Script::Hiragana || b == 'ー' {
        return false;
    }
    if matches!(a, '（' | '「' | '『' | '【' | '(' | '[') {
        return false;
    }
    if matches!(a, '、' | '。' | '・' | '）' | '」' | '』') {
        return true;
    }
    if sa == Script::Narrow && sb == Script::Narrow {
        return false;
    }
    sa != sb || sa == Script::Other
}

/// Wrap `s` into lines no wider than `max` pixels: at spaces and at the breaks
/// [`can_break`] allows; inside a word only when the word alone is too wide.
pub fn wrap(s: &str, max: f64, size: f64) -> Vec<String> {
    let pieces = pieces(s);
    wrap_pieces(pieces, max, size)
}

/// The unbreakable pieces of `s`, each with whether a space preceded it.
pub fn pieces(s: &str) -> Vec<(bool, String)> {
    let mut pieces: Vec<(bool, String)> = Vec::new();
    for (wi, word) in s.split(' ').enumerate() {
        let mut cur = String::new();
        let mut prev: Option<char> = None;
        let mut first = true;
        for c in word.chars() {
            if let Some(p) = prev
                && can_break(p, c)
            {
                pieces.push((first && wi > 0, std::mem::take(&mut cur)));
                first = false;
            }
            cur.push(c);
            prev = Some(c);
        }
        if !cur.is_empty() {
            pieces.push((first && wi > 0, cur));
        }
    }
    pieces
}

fn wrap_pieces(pieces: Vec<(bool, String)>, max: f64, size: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (space, piece) in pieces {
        let joined = if cur.is_empty() {
            piece.clone()
        } else if space {
            format!("{cur} {piece}")
        } else {
            format!("{cur}{piece}")
        };
        if text_px(&joined, size) <= max {
            cur = joined;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        // The piece alone: split by characters only when it is too wide by itself, never
        // before ー, a small kana or closing punctuation (コンピュ/ーター → コンピ/ューター).
        for c in piece.chars() {
            let mut t = cur.clone();
            t.push(c);
            if text_px(&t, size) > max && !cur.is_empty() {
                let mut carry = String::new();
                if no_start(c) && cur.chars().count() > 1 {
                    carry.extend(cur.pop());
                }
                lines.push(std::mem::take(&mut cur));
                cur = carry;
            }
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
        .into_iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A placed zone.
#[derive(Debug, Clone)]
pub struct ZoneGeom {
    /// Id.
    pub id: String,
    /// The box.
    pub rect: Rect,
    /// The title block (name and CIDRs).
    pub title: Rect,
    /// Title lines.
    pub lines: Vec<String>,
}

/// A placed node.
#[derive(Debug, Clone)]
pub struct NodeGeom {
    /// Node key.
    pub key: String,
    /// The box.
    pub rect: Rect,
    /// Role name lines.
    pub lines: Vec<String>,
    /// Address lines, under the roles.
    pub addrs: Vec<String>,
}

/// A placed edge.
#[derive(Debug, Clone)]
pub struct EdgeGeom {
    /// Source node key.
    pub from: String,
    /// Destination node key.
    pub to: String,
    /// Polyline from source port to destination port.
    pub points: Vec<(f64, f64)>,
    /// Label box (the firewall badge at its top, on the track, then the ports).
    pub label: Rect,
    /// The firewall badge: its box, the track passing through it, and the firewalls' ids.
    pub badge: (Rect, String),
    /// A stretch of track drawn on to a label that lies beyond the span: (y, x0, x1).
    pub leader: Option<(f64, f64, f64)>,
    /// Label lines and their kinds.
    pub lines: Vec<(String, EdgeKind)>,
    /// Colour.
    pub kind: EdgeKind,
    /// Request numbers shown.
    pub requests: Vec<String>,
    /// Enforcement points crossed.
    pub firewalls: Vec<String>,
}

/// A placed legend entry.
#[derive(Debug, Clone)]
pub struct LegendGeom {
    /// Its box (sample line and text).
    pub rect: Rect,
    /// Kind shown.
    pub kind: Option<EdgeKind>,
    /// Text.
    pub text: String,
}

/// The computed layout.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Canvas width.
    pub width: f64,
    /// Canvas height.
    pub height: f64,
    /// Title box and text.
    pub title: (Rect, String),
    /// Zones.
    pub zones: Vec<ZoneGeom>,
    /// Nodes.
    pub nodes: Vec<NodeGeom>,
    /// Edges.
    pub edges: Vec<EdgeGeom>,
    /// Legend entries.
    pub legend: Vec<LegendGeom>,
}

impl Layout {
    /// Every rectangle that must not overlap another: title, zone titles, nodes, labels,
    /// legend entries, each with what it is.
    pub fn rects(&self) -> Vec<(String, Rect)> {
        let mut out = vec![("title".to_string(), self.title.0)];
        out.extend(
            self.zones
                .iter()
                .map(|z| (format!("zone title {}", z.id), z.title)),
        );
        out.extend(
            self.nodes
                .iter()
                .map(|n| (format!("node {}", n.key), n.rect)),
        );
        out.extend(
            self.edges
                .iter()
                .map(|e| (format!("label {} -> {}", e.from, e.to), e.label)),
        );
        out.extend(
            self.legend
                .iter()
                .map(|l| (format!("legend {}", l.text), l.rect)),
        );
        out
    }
}

/// One horizontal track of an edge in a channel.
struct Track {
    edge: usize,
    channel: usize,
    /// Whether the edge's label (firewall badge and ports) sits on this track.
    labelled: bool,
    /// x of the two ends of the horizontal segment.
    xs: (f64, f64),
    y: f64,
}

/// An edge being routed.
struct Route {
    from: usize,
    to: usize,
    /// Side of the source / destination node: top (`true`) or bottom.
    from_top: bool,
    to_top: bool,
    /// Channels of its tracks: one, or two joined by a lane at the right.
    channels: Vec<usize>,
    lane: Option<f64>,
    lines: Vec<(String, EdgeKind)>,
    badge: String,
    w: f64,
    h: f64,
    from_port: f64,
    to_port: f64,
}

/// How zones are packed into rows for a width budget.
struct Packing {
    /// Per zone: (zone row, x, width, columns of its node grid, node rows).
    zones: Vec<(usize, f64, f64, usize, usize)>,
    /// Per zone row: its first global node row and how many it has.
    rows: Vec<(usize, usize)>,
    /// Right edge of the widest zone row.
    right: f64,
}

fn pack(d: &Diagram, title_cols: &[f64], budget: f64) -> Packing {
    let avail = budget - 2.0 * MARGIN;
    let mut zones = Vec::new();
    let mut rows: Vec<(usize, usize)> = Vec::new();
    let mut x = MARGIN;
    let mut row = 0;
    let mut row_nodes = 0;
    let mut next_base = 0;
    let mut right: f64 = MARGIN;
    for (z, col) in d.zones.iter().zip(title_cols) {
        let n = z.nodes.len();
        let fixed = 2.0 * ZONE_PAD + col;
        let fit = (((avail - fixed + NODE_GAP) / (NODE_W + NODE_GAP)).floor() as usize).max(1);
        let cols = n.clamp(1, fit);
        let nrows = n.div_ceil(cols).max(1);
        let w = if n == 0 {
            fixed
        } else {
            fixed + cols as f64 * (NODE_W + NODE_GAP) - NODE_GAP
        };
        if x > MARGIN && x + w > budget - MARGIN {
            rows.push((next_base, row_nodes));
            next_base += row_nodes;
            row += 1;
            row_nodes = 0;
            x = MARGIN;
        }
        zones.push((row, x, w, cols, nrows));
        row_nodes = row_nodes.max(nrows);
        right = right.max(x + w);
        x += w + ZONE_GAP;
    }
    rows.push((next_base, row_nodes.max(1)));
    Packing { zones, rows, right }
}

/// Shorten `s` with `…` to at most `max` pixels.
pub fn truncate(s: &str, max: f64, size: f64) -> String {
    if text_px(s, size) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        let mut t = out.clone();
        t.push(c);
        t.push('…');
        if text_px(&t, size) > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Break a long `proto ports` line after commas so it is at most `max` pixels wide.
fn wrap_ports(s: &str, max: f64) -> Vec<String> {
    if text_px(s, FONT) <= max {
        return vec![s.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for part in s.split_inclusive(',') {
        if !cur.is_empty() && text_px(&(cur.clone() + part), FONT) > max {
            out.push(std::mem::take(&mut cur));
        }
        cur.push_str(part);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.into_iter().map(|l| truncate(&l, max, FONT)).collect()
}

/// The lines of a node: its role names (wrapped), then its addresses (at most three, each
/// shortened with `…` to the box).
fn node_lines(n: &super::diagram::Node, lang: crate::i18n::Lang) -> (Vec<String>, Vec<String>) {
    let inner = NODE_W - 2.0 * NODE_PAD;
    let roles: Vec<String> = n.roles.iter().flat_map(|r| wrap(r, inner, FONT)).collect();
    let mut addrs: Vec<String> = n
        .addrs
        .iter()
        .take(3)
        .map(|a| truncate(a, inner, ADDR_FONT))
        .collect();
    if n.addrs.len() > 3 {
        let more = n.addrs.len() - 3;
        addrs.push(
            lang.pick(&format!("… and {more} more"), &format!("… ほか {more} 件"))
                .to_string(),
        );
    }
    (roles, addrs)
}

/// Lay out a diagram.
pub fn layout(d: &Diagram, lang: crate::i18n::Lang) -> Layout {
    let inner_max = MAX_W - 2.0 * MARGIN;
    // Title.
    let title_h = 24.0;
    let title_text = truncate(&d.title, inner_max - 4.0, 16.0);
    let title_rect = Rect {
        x: MARGIN,
        y: MARGIN,
        w: text_px(&title_text, 16.0) + 4.0,
        h: title_h,
    };
    // Zone title columns: the name on one line when it is not too long.
    let mut title_cols: Vec<f64> = Vec::new();
    let mut zone_titles: Vec<Vec<String>> = Vec::new();
    for z in &d.zones {
        let col = (text_px(&z.name, 13.0) + 12.0)
            .max(
                z.detail
                    .iter()
                    .map(|c| text_px(c, FONT) + 12.0)
                    .fold(90.0, f64::max),
            )
            .min(170.0);
        title_cols.push(col);
        let mut lines = wrap(&z.name, col - 12.0, 13.0);
        for c in &z.detail {
            lines.push(truncate(c, col - 12.0, FONT));
        }
        zone_titles.push(lines);
    }
    // Nodes, in zone order.
    let mut nodes: Vec<NodeGeom> = Vec::new();
    let mut node_zone: Vec<(usize, usize)> = Vec::new(); // (zone, index in zone)
    for (zi, z) in d.zones.iter().enumerate() {
        for (k, n) in z.nodes.iter().enumerate() {
            let (lines, addrs) = node_lines(n, lang);
            nodes.push(NodeGeom {
                key: n.key.clone(),
                rect: Rect {
                    x: 0.0,
                    y: 0.0,
                    w: NODE_W,
                    h: lines.len() as f64 * LINE + addrs.len() as f64 * ADDR_LINE + 2.0 * NODE_PAD,
                },
                lines,
                addrs,
            });
            node_zone.push((zi, k));
        }
    }
    let node_index = |key: &str| nodes.iter().position(|n| n.key == key);
    let edge_ends: Vec<Option<(usize, usize)>> = d
        .edges
        .iter()
        .map(|e| Some((node_index(&e.from)?, node_index(&e.to)?)))
        .collect();
    // Pack zones into rows, leaving room at the right for a lane per edge that skips a row.
    let mut budget = MAX_W;
    let (packing, node_row, lanes) = loop {
        let p = pack(d, &title_cols, budget);
        let node_row: Vec<usize> = node_zone
            .iter()
            .map(|(zi, k)| {
                let (zr, _, _, cols, _) = p.zones[*zi];
                p.rows[zr].0 + k / cols
            })
            .collect();
        let lanes = edge_ends
            .iter()
            .flatten()
            .filter(|(f, t)| node_row[*f].abs_diff(node_row[*t]) >= 2)
            .count();
        let need = p.right + lanes as f64 * LANE_GAP + LANE_GAP + MARGIN;
        if need <= MAX_W || budget < 2.0 * (NODE_W + 200.0) {
            break (p, node_row, lanes);
        }
        budget -= need - MAX_W;
    };
    let node_rows: usize = packing.rows.iter().map(|r| r.1).sum::<usize>().max(1);
    let content_right = packing.right.clamp(MARGIN + 400.0, MAX_W - MARGIN);
    for (i, n) in nodes.iter_mut().enumerate() {
        let (zi, k) = node_zone[i];
        let (_, zx, _, cols, _) = packing.zones[zi];
        n.rect.x = zx + ZONE_PAD + title_cols[zi] + (k % cols) as f64 * (NODE_W + NODE_GAP);
    }
    // Row heights: the tallest node, and the zone titles in the first row of their zone.
    let mut row_h = vec![0.0f64; node_rows];
    for (i, n) in nodes.iter().enumerate() {
        row_h[node_row[i]] = row_h[node_row[i]].max(n.rect.h);
    }
    for (zi, lines) in zone_titles.iter().enumerate() {
        let r = packing.rows[packing.zones[zi].0].0;
        row_h[r] = row_h[r].max(lines.len() as f64 * LINE + 8.0);
    }
    for h in &mut row_h {
        *h = h.max(2.0 * LINE);
    }
    // Routes.
    let label_max = (inner_max / 2.0).min(420.0);
    let mut routes: Vec<Route> = Vec::new();
    let mut lane_x = content_right + LANE_GAP;
    for (e, ends) in d.edges.iter().zip(&edge_ends) {
        let Some((f, t)) = *ends else { continue };
        let (ra, rb) = (node_row[f], node_row[t]);
        let lines: Vec<(String, EdgeKind)> = e
            .lines
            .iter()
            .flat_map(|l| {
                wrap_ports(&l.text, label_max - 10.0)
                    .into_iter()
                    .map(move |t| (t, l.kind))
            })
            .collect();
        let badge = truncate(&e.firewalls.join(" › "), label_max - 10.0, FONT);
        let w = lines
            .iter()
            .map(|(s, _)| text_px(s, FONT))
            .fold(text_px(&badge, FONT), f64::max)
            + 10.0;
        let h = BADGE_H + lines.len() as f64 * LINE + 4.0;
        let (from_top, to_top, channels, lane) = if ra == rb {
            let up = nodes[f].rect.x <= nodes[t].rect.x;
            (up, up, vec![if up { ra } else { ra + 1 }], None)
        } else if rb == ra + 1 {
            (false, true, vec![rb], None)
        } else if ra == rb + 1 {
            (true, false, vec![ra], None)
        } else {
            let x = lane_x;
            lane_x += LANE_GAP;
            if rb > ra {
                (false, true, vec![ra + 1, rb], Some(x))
            } else {
                (true, false, vec![ra, rb + 1], Some(x))
            }
        };
        routes.push(Route {
            from: f,
            to: t,
            from_top,
            to_top,
            channels,
            lane,
            lines,
            badge,
            w: w.min(inner_max),
            h,
            from_port: 0.0,
            to_port: 0.0,
        });
    }
    let _ = lanes;
    // Ports: per node and side, ordered by where the track goes, spread evenly.
    for (ni, n) in nodes.iter().enumerate() {
        for top in [true, false] {
            let mut ends: Vec<(usize, bool, f64)> = Vec::new();
            for (ri, r) in routes.iter().enumerate() {
                let other = |o: usize, lane: Option<f64>| lane.unwrap_or(nodes[o].rect.x);
                if r.from == ni && r.from_top == top {
                    let bump = if r.to == ni { 1.0 } else { 0.0 };
                    ends.push((ri, true, other(r.to, r.lane) + bump));
                }
                if r.to == ni && r.to_top == top {
                    ends.push((ri, false, other(r.from, r.lane)));
                }
            }
            ends.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
            let k = ends.len() as f64;
            for (i, (ri, src, _)) in ends.iter().enumerate() {
                let px = n.rect.x + n.rect.w * (i as f64 + 1.0) / (k + 1.0);
                if *src {
                    routes[*ri].from_port = px;
                } else {
                    routes[*ri].to_port = px;
                }
            }
        }
    }
    // Tracks, per channel, shorter spans first.
    let mut tracks: Vec<Track> = Vec::new();
    for (ri, r) in routes.iter().enumerate() {
        match r.lane {
            None => tracks.push(Track {
                edge: ri,
                channel: r.channels[0],
                labelled: true,
                xs: (r.from_port, r.to_port),
                y: 0.0,
            }),
            Some(x) => {
                tracks.push(Track {
                    edge: ri,
                    channel: r.channels[0],
                    labelled: true,
                    xs: (r.from_port, x),
                    y: 0.0,
                });
                tracks.push(Track {
                    edge: ri,
                    channel: r.channels[1],
                    labelled: false,
                    xs: (x, r.to_port),
                    y: 0.0,
                });
            }
        }
    }
    let span = |t: &Track| (t.xs.0 - t.xs.1).abs();
    let mut order: Vec<usize> = (0..tracks.len()).collect();
    order.sort_by(|a, b| {
        let (ta, tb) = (&tracks[*a], &tracks[*b]);
        ta.channel
            .cmp(&tb.channel)
            .then(span(ta).total_cmp(&span(tb)))
            .then(a.cmp(b))
    });
    // Vertical positions: channel 0, node row 0, channel 1, … node row N-1, channel N.
    let mut y = MARGIN + title_h + 8.0;
    let mut row_top = vec![0.0; node_rows];
    let mut label_y = vec![0.0; routes.len()];
    let mut oi = 0;
    for c in 0..=node_rows {
        y += ROW_GAP;
        while oi < order.len() && tracks[order[oi]].channel == c {
            let t = &mut tracks[order[oi]];
            if t.labelled {
                label_y[t.edge] = y;
                t.y = y + BADGE_H / 2.0;
                y += routes[t.edge].h + TRACK_GAP;
            } else {
                t.y = y + 4.0;
                y += 8.0 + TRACK_GAP;
            }
            oi += 1;
        }
        y += ROW_GAP;
        if c < node_rows {
            row_top[c] = y;
            y += row_h[c];
        }
    }
    let bottom_of_channels = y;
    for (i, n) in nodes.iter_mut().enumerate() {
        n.rect.y = row_top[node_row[i]];
        n.rect.h = row_h[node_row[i]];
    }
    // Zones: around their rows.
    let mut zones = Vec::new();
    for (zi, z) in d.zones.iter().enumerate() {
        let (zr, zx, zw, _, _) = packing.zones[zi];
        let (base, count) = packing.rows[zr];
        let top = row_top[base] - ZONE_PAD;
        let last = base + count.max(1) - 1;
        let bottom = row_top[last] + row_h[last] + ZONE_PAD;
        let lines = zone_titles[zi].clone();
        zones.push(ZoneGeom {
            id: z.id.clone(),
            rect: Rect {
                x: zx,
                y: top,
                w: zw,
                h: bottom - top,
            },
            title: Rect {
                x: zx + 6.0,
                y: row_top[base],
                w: title_cols[zi],
                h: lines.len() as f64 * LINE + 8.0,
            },
            lines,
        });
    }
    // Polylines.
    let mut points: Vec<Vec<(f64, f64)>> = Vec::new();
    for (ri, r) in routes.iter().enumerate() {
        let side_y = |n: usize, top: bool| {
            if top {
                nodes[n].rect.y
            } else {
                nodes[n].rect.y + nodes[n].rect.h
            }
        };
        let ty: Vec<f64> = tracks
            .iter()
            .filter(|t| t.edge == ri)
            .map(|t| t.y)
            .collect();
        let mut p = vec![
            (r.from_port, side_y(r.from, r.from_top)),
            (r.from_port, ty[0]),
        ];
        if let Some(x) = r.lane {
            p.push((x, ty[0]));
            p.push((x, ty[1]));
            p.push((r.to_port, ty[1]));
        } else {
            p.push((r.to_port, ty[0]));
        }
        p.push((r.to_port, side_y(r.to, r.to_top)));
        points.push(p);
    }
    let verticals: Vec<(f64, f64, f64)> = points
        .iter()
        .flat_map(|p| {
            p.windows(2)
                .filter(|w| w[0].0 == w[1].0)
                .map(|w| (w[0].0, w[0].1.min(w[1].1), w[0].1.max(w[1].1)))
                .collect::<Vec<_>>()
        })
        .collect();
    // Labels: on their track, near the middle of the span, clear of vertical segments.
    let mut edges = Vec::new();
    for (ri, r) in routes.iter().enumerate() {
        let t = tracks
            .iter()
            .find(|t| t.edge == ri && t.labelled)
            .expect("every route has a labelled track");
        let (ly0, ly1) = (label_y[ri], label_y[ri] + r.h);
        let mut obstacles: Vec<f64> = verticals
            .iter()
            .filter(|(_, a, b)| *a < ly1 && *b > ly0)
            .map(|(x, _, _)| *x)
            .collect();
        obstacles.sort_by(f64::total_cmp);
        let (lo, hi) = (t.xs.0.min(t.xs.1), t.xs.0.max(t.xs.1));
        let hi_in = hi.min(content_right);
        let mid = (lo + hi_in) / 2.0;
        let clear = |x0: f64| {
            x0 >= MARGIN
                && x0 + r.w <= content_right
                && obstacles
                    .iter()
                    .all(|o| *o < x0 - 4.0 || *o > x0 + r.w + 4.0)
        };
        let mut candidates = vec![mid - r.w / 2.0, lo + 5.0, hi_in - 5.0 - r.w];
        for o in &obstacles {
            candidates.push(o + 5.0);
            candidates.push(o - 5.0 - r.w);
        }
        let inside = |x0: f64| x0 >= lo - 1.0 && x0 + r.w <= hi + 1.0;
        let best = candidates
            .iter()
            .copied()
            .filter(|x0| clear(*x0))
            .min_by(|a, b| {
                let score = |x0: f64| {
                    (x0 + r.w / 2.0 - mid).abs() + if inside(x0) { 0.0 } else { 10_000.0 }
                };
                score(*a).total_cmp(&score(*b))
            })
            .unwrap_or((mid - r.w / 2.0).clamp(MARGIN, (content_right - r.w).max(MARGIN)));
        let label = Rect {
            x: best,
            y: ly0,
            w: r.w,
            h: r.h,
        };
        // Where the label lies beyond the span, the track is drawn on to it.
        let centre = best + r.w / 2.0;
        let leader = if centre < lo {
            Some((t.y, best, lo))
        } else if centre > hi {
            Some((t.y, hi, best + r.w))
        } else {
            None
        };
        edges.push(EdgeGeom {
            from: nodes[r.from].key.clone(),
            to: nodes[r.to].key.clone(),
            points: points[ri].clone(),
            label,
            badge: (
                Rect {
                    x: best,
                    y: ly0,
                    w: r.w,
                    h: BADGE_H,
                },
                r.badge.clone(),
            ),
            leader,
            lines: r.lines.clone(),
            kind: d.edges[edge_index(d, &nodes[r.from].key, &nodes[r.to].key)].kind,
            requests: d.edges[edge_index(d, &nodes[r.from].key, &nodes[r.to].key)]
                .requests
                .clone(),
            firewalls: d.edges[edge_index(d, &nodes[r.from].key, &nodes[r.to].key)]
                .firewalls
                .clone(),
        });
    }
    // Legend below everything: arrow kinds, how to read a label, the firewalls.
    let mut ly = bottom_of_channels + 8.0;
    let mut legend = Vec::new();
    let mut entries: Vec<(Option<EdgeKind>, String)> =
        [EdgeKind::Normal, EdgeKind::FromInternet, EdgeKind::Wide]
            .iter()
            .map(|k| (Some(*k), k.legend(lang)))
            .collect();
    entries.push((
        None,
        lang.pick(
            "Arrows point from source to destination; each label names the firewalls the path crosses (red), then protocol and destination ports.",
            "矢印は送信元から宛先へ。ラベルは経路上のファイアウォール (赤)、プロトコルと宛先ポート。",
        )
        .to_string(),
    ));
    for f in &d.firewalls {
        entries.push((None, format!("{}: {} ({})", f.id, f.kind_text, f.target)));
    }
    for (kind, text) in entries {
        for line in wrap(&text, inner_max - 44.0, FONT) {
            let w = 44.0 + text_px(&line, FONT);
            legend.push(LegendGeom {
                rect: Rect {
                    x: MARGIN,
                    y: ly,
                    w,
                    h: LINE + 2.0,
                },
                kind,
                text: line,
            });
            ly += LINE + 4.0;
        }
        ly += 2.0;
    }
    let lanes_right = routes.iter().filter_map(|r| r.lane).fold(0.0, f64::max);
    let width = content_right
        .max(lanes_right)
        .max(
            legend
                .iter()
                .map(|l| l.rect.x + l.rect.w)
                .fold(0.0, f64::max),
        )
        .max(title_rect.x + title_rect.w)
        .max(
            edges
                .iter()
                .map(|e| e.label.x + e.label.w)
                .fold(0.0, f64::max),
        )
        + MARGIN;
    Layout {
        width: width.min(MAX_W),
        height: ly + MARGIN,
        title: (title_rect, title_text),
        zones,
        nodes,
        edges,
        legend,
    }
}

fn edge_index(d: &Diagram, from: &str, to: &str) -> usize {
    d.edges
        .iter()
        .position(|e| e.from == from && e.to == to)
        .unwrap_or(0)
}

/// Escape text for XML content and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn text_lines(out: &mut String, x: f64, y: f64, lines: &[String], attrs: &str) {
    let _ = write!(out, "<text x=\"{x:.1}\" y=\"{y:.1}\"{attrs}>");
    for (i, l) in lines.iter().enumerate() {
        let dy = if i == 0 { 0.0 } else { LINE };
        let _ = write!(
            out,
            "<tspan x=\"{x:.1}\" dy=\"{dy:.1}\">{}</tspan>",
            xml_escape(l)
        );
    }
    out.push_str("</text>\n");
}

/// The report's diagram as a standalone SVG document.
pub fn render(report: &Report) -> String {
    let d = Diagram::build(report);
    let l = layout(&d, report.lang);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"{FONTS}\" font-size=\"{FONT}\" role=\"img\">",
        w = l.width.ceil(),
        h = l.height.ceil()
    );
    let _ = writeln!(out, "<title>{}</title>", xml_escape(&d.title));
    out.push_str("<defs>\n");
    for k in [EdgeKind::Normal, EdgeKind::Wide, EdgeKind::FromInternet] {
        let _ = writeln!(
            out,
            "<marker id=\"arrow-{c}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{col}\"/></marker>",
            c = k.class(),
            col = k.color()
        );
    }
    out.push_str("</defs>\n");
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{:.0}\" height=\"{:.0}\" fill=\"#ffffff\"/>",
        l.width.ceil(),
        l.height.ceil()
    );
    let (tr, tt) = &l.title;
    let _ = writeln!(
        out,
        "<text class=\"title\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"16\" font-weight=\"bold\">{}</text>",
        tr.x,
        tr.y + 17.0,
        xml_escape(tt)
    );
    for z in &l.zones {
        let fill = if z.id == crate::site::INTERNET {
            "#fff8e1"
        } else {
            "#e3f2fd"
        };
        let _ = writeln!(
            out,
            "<g class=\"zone\" data-zone=\"{}\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"8\" fill=\"{fill}\" stroke=\"#607d8b\" stroke-width=\"1.5\"/>",
            xml_escape(&z.id),
            z.rect.x,
            z.rect.y,
            z.rect.w,
            z.rect.h
        );
        let (name, rest) = z
            .lines
            .split_first()
            .map_or((None, &[][..]), |(a, b)| (Some(a), b));
        if let Some(name) = name {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\">{}</text>",
                z.title.x + 4.0,
                z.title.y + 15.0,
                xml_escape(name)
            );
        }
        if !rest.is_empty() {
            text_lines(
                &mut out,
                z.title.x + 4.0,
                z.title.y + 15.0 + LINE,
                rest,
                " fill=\"#455a64\"",
            );
        }
        out.push_str("</g>\n");
    }
    for n in &l.nodes {
        let _ = writeln!(
            out,
            "<g class=\"node\" data-node=\"{}\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"4\" fill=\"#ffffff\" stroke=\"#263238\"/>",
            xml_escape(&n.key),
            n.rect.x,
            n.rect.y,
            n.rect.w,
            n.rect.h
        );
        let text_h = n.lines.len() as f64 * LINE + n.addrs.len() as f64 * ADDR_LINE;
        let top = n.rect.y + (n.rect.h - text_h) / 2.0 + 12.0;
        text_lines(
            &mut out,
            n.rect.x + n.rect.w / 2.0,
            top,
            &n.lines,
            " text-anchor=\"middle\"",
        );
        if !n.addrs.is_empty() {
            let _ = write!(
                out,
                "<text class=\"addr\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{ADDR_FONT}\" fill=\"#455a64\">",
                n.rect.x + n.rect.w / 2.0,
                top + n.lines.len() as f64 * LINE - 1.0
            );
            for (i, a) in n.addrs.iter().enumerate() {
                let dy = if i == 0 { 0.0 } else { ADDR_LINE };
                let _ = write!(
                    out,
                    "<tspan x=\"{:.1}\" dy=\"{dy:.1}\">{}</tspan>",
                    n.rect.x + n.rect.w / 2.0,
                    xml_escape(a)
                );
            }
            out.push_str("</text>\n");
        }
        out.push_str("</g>\n");
    }
    for e in &l.edges {
        let path: Vec<String> = e
            .points
            .iter()
            .enumerate()
            .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" }))
            .collect();
        let _ = writeln!(
            out,
            "<g class=\"edge {c}\" data-from=\"{f}\" data-to=\"{t}\"><title>{req}</title><path d=\"{p}\" fill=\"none\" stroke=\"{col}\" stroke-width=\"1.6\" marker-end=\"url(#arrow-{c})\"/>",
            c = e.kind.class(),
            f = xml_escape(&e.from),
            t = xml_escape(&e.to),
            req = xml_escape(&e.requests.join(" ")),
            p = path.join(" "),
            col = e.kind.color()
        );
        if let Some((y, x0, x1)) = e.leader {
            let _ = writeln!(
                out,
                "<path class=\"leader\" d=\"M{x0:.1},{y:.1} L{x1:.1},{y:.1}\" stroke=\"{}\" stroke-width=\"1.6\"/>",
                e.kind.color()
            );
        }
        let _ = writeln!(
            out,
            "<rect class=\"label\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ffffff\" stroke=\"{}\" stroke-width=\"0.6\" rx=\"3\"/>",
            e.label.x,
            e.label.y,
            e.label.w,
            e.label.h,
            e.kind.color()
        );
        let (b, fw) = &e.badge;
        let _ = writeln!(
            out,
            "<rect class=\"fw\" data-fw=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{FW_COLOR}\" rx=\"3\"/>",
            xml_escape(&e.firewalls.join(" ")),
            b.x,
            b.y,
            b.w,
            b.h
        );
        let _ = writeln!(
            out,
            "<text class=\"fw\" x=\"{:.1}\" y=\"{:.1}\" fill=\"#ffffff\" font-weight=\"bold\">{}</text>",
            b.x + 5.0,
            b.y + 13.5,
            xml_escape(fw)
        );
        for (i, (text, kind)) in e.lines.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\">{}</text>",
                e.label.x + 5.0,
                e.label.y + BADGE_H + 14.0 + i as f64 * LINE,
                kind.color(),
                xml_escape(text)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("<g class=\"legend\">\n");
    for g in &l.legend {
        let cy = g.rect.y + g.rect.h / 2.0;
        if let Some(k) = g.kind {
            let _ = writeln!(
                out,
                "<path d=\"M{:.1},{cy:.1} L{:.1},{cy:.1}\" stroke=\"{}\" stroke-width=\"1.6\" marker-end=\"url(#arrow-{})\"/>",
                g.rect.x,
                g.rect.x + 34.0,
                k.color(),
                k.class()
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            g.rect.x + 42.0,
            cy + 4.0,
            xml_escape(&g.text)
        );
    }
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn check(l: &Layout) {
        assert!(l.width <= MAX_W, "width {} within {MAX_W}", l.width);
        // Every line of every node fits its box.
        for n in &l.nodes {
            for t in &n.lines {
                assert!(
                    text_px(t, FONT) <= n.rect.w - 2.0 * NODE_PAD + 0.01,
                    "{t:?} fits"
                );
            }
            for t in &n.addrs {
                assert!(
                    text_px(t, ADDR_FONT) <= n.rect.w - 2.0 * NODE_PAD + 0.01,
                    "{t:?} fits"
                );
            }
            let text_h = n.lines.len() as f64 * LINE + n.addrs.len() as f64 * ADDR_LINE;
            assert!(
                text_h + 2.0 * NODE_PAD <= n.rect.h + 0.01,
                "{} text fits",
                n.key
            );
        }
        for e in &l.edges {
            for (t, _) in &e.lines {
                assert!(text_px(t, FONT) + 10.0 <= e.label.w + 0.01, "{t:?} fits");
            }
            // The path crosses the firewall badge: a horizontal stretch of the track (or
            // its leader) runs through the badge's middle.
            let (b, _) = &e.badge;
            let mut stretches: Vec<(f64, f64, f64)> = e
                .points
                .windows(2)
                .filter(|w| w[0].1 == w[1].1)
                .map(|w| (w[0].1, w[0].0.min(w[1].0), w[0].0.max(w[1].0)))
                .collect();
            stretches.extend(e.leader);
            assert!(
                stretches.iter().any(|(y, x0, x1)| *y > b.y
                    && *y < b.y + b.h
                    && *x0 <= b.x + b.w / 2.0
                    && *x1 >= b.x + b.w / 2.0),
                "{} -> {}: the track passes through its firewall badge",
                e.from,
                e.to
            );
            for p in &e.points {
                assert!(p.0 >= 0.0 && p.0 <= l.width && p.1 >= 0.0 && p.1 <= l.height);
            }
        }
        let rects = l.rects();
        for (i, (a, ra)) in rects.iter().enumerate() {
            assert!(ra.x >= 0.0 && ra.y >= 0.0, "{a} off canvas: {ra:?}");
            assert!(
                ra.x + ra.w <= l.width && ra.y + ra.h <= l.height,
                "{a} off canvas: {ra:?}"
            );
            for (b, rb) in &rects[i + 1..] {
                assert!(!ra.overlaps(rb), "{a} {ra:?} overlaps {b} {rb:?}");
            }
        }
        for n in &l.nodes {
            let z = l
                .zones
                .iter()
                .find(|z| n.key.starts_with(&format!("{}/", z.id)))
                .unwrap();
            assert!(
                n.rect.x >= z.rect.x && n.rect.x + n.rect.w <= z.rect.x + z.rect.w,
                "{} inside its zone",
                n.key
            );
        }
    }

    #[test]
    fn hq_layout_has_no_overlaps_and_shows_every_opening() {
        for lang in [Lang::En, Lang::Ja] {
            let r = super::super::tests::hq(lang);
            let d = Diagram::build(&r);
            let l = layout(&d, lang);
            check(&l);
            for z in ["clients", "servers", "internet"] {
                assert!(l.zones.iter().any(|g| g.id == z), "zone {z}");
            }
            for row in r.rows() {
                let e = l
                    .edges
                    .iter()
                    .find(|e| e.requests.contains(&row.request_no))
                    .unwrap_or_else(|| panic!("{} has no arrow", row.request_no));
                assert!(e.lines.iter().any(|(t, _)| *t == row.proto_ports()));
            }
            // Labels sit on their own track, between the ends where they fit.
            for e in &l.edges {
                let ys: Vec<f64> = e.points.iter().map(|p| p.1).collect();
                assert_eq!(ys[1], ys[2], "horizontal track");
            }
        }
    }

    #[test]
    fn findings_colour_arrows_and_a_role_in_two_zones_has_two_nodes() {
        let r = super::super::tests::hq_edited(
            |t| {
                t.replace("rpc_ports: fixed", "rpc_ports: dynamic").replace(
                    "      client: zone:clients",
                    "      client: [zone:clients, zone:internet]",
                )
            },
            Lang::Ja,
        );
        let d = Diagram::build(&r);
        assert!(d.node_of("clients", "tmws.client").is_some());
        assert!(d.node_of("internet", "tmws.client").is_some());
        let kinds: Vec<EdgeKind> = d.edges.iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&EdgeKind::Wide));
        assert!(kinds.contains(&EdgeKind::FromInternet));
        let inbound = d
            .edges
            .iter()
            .find(|e| {
                e.from == d.node_of("internet", "tmws.client").unwrap().key
                    && e.to == d.node_of("servers", "tmws.auth_agent").unwrap().key
            })
            .unwrap();
        assert_eq!(inbound.kind, EdgeKind::FromInternet);
        let l = layout(&d, Lang::Ja);
        check(&l);
        let svg = render(&r);
        assert!(svg.contains("class=\"edge internet\""));
        assert!(svg.contains("class=\"edge wide\""));
        assert!(svg.contains("stroke=\"#c62828\""));
        assert!(svg.contains("stroke=\"#e65100\""));
    }

    #[test]
    fn eight_zones_wrap_into_rows_within_the_page_width() {
        use super::super::diagram::{Edge, EdgeLine, Node, ZoneBox};
        let mut zones = Vec::new();
        for z in 0..9 {
            let nodes = (0..(1 + z % 4))
                .map(|n| Node {
                    key: format!("z{z}/n{n}"),
                    zone: format!("z{z}"),
                    roles: vec![format!("同期エージェントサーバー {n}")],
                    addrs: vec![
                        format!("10.{z}.0.{n}"),
                        "fe80::1234:5678:9abc:def0/128".into(),
                    ],
                })
                .collect();
            zones.push(ZoneBox {
                id: format!("z{z}"),
                name: format!("サーバーセグメント {z}"),
                detail: vec![format!("10.{z}.0.0/16")],
                nodes,
            });
        }
        let keys: Vec<String> = zones
            .iter()
            .flat_map(|z| z.nodes.iter().map(|n| n.key.clone()))
            .collect();
        let mut edges = Vec::new();
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                if (i * 7 + j * 3) % 6 == 0 {
                    edges.push(Edge {
                        from: a.clone(),
                        to: b.clone(),
                        lines: vec![EdgeLine {
                            text: format!("tcp {}", 1000 + i * 10 + j),
                            kind: EdgeKind::Normal,
                        }],
                        kind: EdgeKind::Normal,
                        requests: vec![format!("R{i}-{j}")],
                        firewalls: vec!["fw-core".into()],
                    });
                }
            }
        }
        let d = Diagram {
            title: "t".into(),
            zones,
            edges,
            firewalls: Vec::new(),
        };
        let l = layout(&d, Lang::Ja);
        check(&l);
        let tops: std::collections::BTreeSet<i64> =
            l.zones.iter().map(|z| z.rect.y as i64).collect();
        assert!(tops.len() >= 2, "zones wrap into rows: {tops:?}");
        assert!(l.edges.len() == d.edges.len());
        assert!(
            l.edges.iter().any(|e| e.points.len() == 6),
            "some edges skip a row"
        );
    }

    #[test]
    fn japanese_breaks_between_words_only() {
        // Katakana and kanji runs stay whole; the break falls where the script changes.
        assert_eq!(
            wrap("TMWS 同期エージェントサーバー", 130.0, 12.0),
            ["TMWS 同期", "エージェントサーバー"]
        );
        assert_eq!(wrap("送信元ゾーン", 60.0, 12.0), ["送信元", "ゾーン"]);
        assert_eq!(
            wrap("サーバーセグメント", 200.0, 12.0),
            ["サーバーセグメント"]
        );
        assert_eq!(wrap("DNS サーバー", 50.0, 12.0), ["DNS", "サーバー"]);
        // Okurigana and particles stay with their word; 、 ends a line, never starts one.
        for l in wrap("管理用端末の設定、利用者の端末と共有", 80.0, 12.0) {
            assert!(!l.starts_with(['の', 'と', '、']), "{l}");
        }
        // A word too wide alone is split, as the last resort.
        for l in wrap("エージェントサーバーエージェントサーバー", 80.0, 12.0) {
            assert!(text_px(&l, 12.0) <= 80.0, "{l}");
        }
        for l in wrap("ドメインメンバーコンピューター", 134.0, 12.0) {
            assert!(!l.starts_with(['ュ', 'ー']), "{l}");
        }
        assert_eq!(
            truncate("fe80::1234:5678:9abc:def0", 60.0, 12.0)
                .chars()
                .last(),
            Some('…')
        );
        assert!(text_px(&truncate("fe80::1234:5678:9abc:def0", 60.0, 12.0), 12.0) <= 60.0);
    }

    #[test]
    fn wrapping_respects_width_and_words() {
        assert_eq!(
            wrap("DeviceLock management console", 120.0, 12.0),
            ["DeviceLock", "management", "console"]
        );
        for l in wrap("TMWS 同期エージェントサーバー", 80.0, 12.0) {
            assert!(text_px(&l, 12.0) <= 80.0, "{l}");
        }
        assert_eq!(wrap("", 50.0, 12.0), Vec::<String>::new());
    }

    #[test]
    fn many_edges_between_many_nodes_still_do_not_overlap() {
        use super::super::diagram::{Edge, EdgeLine, Node, ZoneBox};
        let mut zones = Vec::new();
        for z in 0..3 {
            let nodes = (0..4)
                .map(|n| Node {
                    key: format!("z{z}/n{n}"),
                    zone: format!("z{z}"),
                    roles: vec![format!("ノード {n} with a rather long name")],
                    addrs: vec![format!("10.0.{z}.{n}")],
                })
                .collect();
            zones.push(ZoneBox {
                id: format!("z{z}"),
                name: format!("ゾーン {z}"),
                detail: vec!["10.0.0.0/8".into()],
                nodes,
            });
        }
        let keys: Vec<String> = zones
            .iter()
            .flat_map(|z| z.nodes.iter().map(|n| n.key.clone()))
            .collect();
        let mut edges = Vec::new();
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                if (i * 7 + j * 3) % 5 == 0 {
                    edges.push(Edge {
                        from: a.clone(),
                        to: b.clone(),
                        lines: vec![EdgeLine {
                            text: format!("tcp {}", 1000 + i * 10 + j),
                            kind: EdgeKind::Normal,
                        }],
                        kind: EdgeKind::Normal,
                        requests: vec![format!("R{i}-{j}")],
                        firewalls: vec!["fw-a".into(), "host-b".into()],
                    });
                }
            }
        }
        let d = Diagram {
            title: "t".into(),
            zones,
            edges,
            firewalls: Vec::new(),
        };
        check(&layout(&d, Lang::Ja));
    }
}
