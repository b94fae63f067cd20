//! The diagram as SVG, laid out here, deterministically.
//!
//! Layout: zones are boxes side by side (site order, `internet` last), each with a title column
//! on its left (name and CIDRs) and its nodes in one row. Edges are orthogonal: up (left to
//! right) or down (right to left) from a port on the source node to a horizontal track of their
//! own, across, and back to a port on the destination node, arrow at the end. Every edge has
//! its own track, each track a band tall enough for its label, so labels cannot meet each
//! other or a node; within its band a label is slid along its track away from the vertical
//! segments of the edges that pass through the band. Text widths are estimated with East Asian
//! wide characters counted double, an upper bound for the fonts named.
//!
//! **Invariant** (checked by the tests for `examples/hq.yaml` and random-ish shapes): no two of
//! the rectangles in [`Layout::rects`] — title, zone titles, nodes, edge labels, legend — overlap.

use std::fmt::Write as _;

use super::diagram::{Diagram, EdgeKind};
use super::{Report, is_wide};

/// Font family list: Japanese first, then generic.
pub const FONTS: &str =
    "'Noto Sans CJK JP', 'Noto Sans JP', Meiryo, 'Hiragino Sans', 'Yu Gothic', sans-serif";

const FONT: f64 = 12.0;
const LINE: f64 = 16.0;
const NODE_W: f64 = 132.0;
const NODE_PAD: f64 = 8.0;
const NODE_GAP: f64 = 22.0;
const ZONE_PAD: f64 = 14.0;
const ZONE_GAP: f64 = 36.0;
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

/// Wrap `s` into lines no wider than `max` pixels: at spaces where possible, between any two
/// wide characters, and mid-word only when a word alone is too wide.
pub fn wrap(s: &str, max: f64, size: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        let mut trial = cur.clone();
        trial.push(c);
        if text_px(&trial, size) <= max || cur.is_empty() {
            cur = trial;
            continue;
        }
        if c == ' ' {
            lines.push(std::mem::take(&mut cur));
            continue;
        }
        // Break at the last space if the tail is a word of narrow characters.
        match cur.rfind(' ') {
            Some(i) if !is_wide(c) && !cur[i + 1..].chars().any(is_wide) => {
                let tail = cur[i + 1..].to_string();
                cur.truncate(i);
                lines.push(std::mem::take(&mut cur));
                cur = tail;
                cur.push(c);
            }
            _ => {
                lines.push(std::mem::take(&mut cur));
                cur.push(c);
            }
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
    /// Label lines.
    pub lines: Vec<String>,
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
    /// Label box.
    pub label: Rect,
    /// Label lines and their kinds.
    pub lines: Vec<(String, EdgeKind)>,
    /// Colour.
    pub kind: EdgeKind,
    /// Request numbers shown.
    pub requests: Vec<String>,
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

struct Pending {
    from: usize,
    to: usize,
    up: bool,
    lines: Vec<(String, EdgeKind)>,
    w: f64,
    h: f64,
    kind: EdgeKind,
    requests: Vec<String>,
    from_port: f64,
    to_port: f64,
}

/// Lay out a diagram.
pub fn layout(d: &Diagram, lang: crate::i18n::Lang) -> Layout {
    // Title.
    let title_h = 24.0;
    let title_rect = Rect {
        x: MARGIN,
        y: MARGIN,
        w: text_px(&d.title, 16.0) + 4.0,
        h: title_h,
    };
    // Nodes and zones, horizontally; heights first.
    let mut nodes: Vec<NodeGeom> = Vec::new();
    let mut zones: Vec<ZoneGeom> = Vec::new();
    let mut x = MARGIN;
    let mut row_h: f64 = 0.0;
    let mut zone_titles: Vec<Vec<String>> = Vec::new();
    let mut title_cols: Vec<f64> = Vec::new();
    for z in &d.zones {
        // The title column fits the name on one line when it is not too long.
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
            lines.extend(wrap(c, col - 12.0, FONT));
        }
        row_h = row_h.max(lines.len() as f64 * LINE + 8.0);
        zone_titles.push(lines);
        for n in &z.nodes {
            let lines = wrap(&n.label, NODE_W - 2.0 * NODE_PAD, FONT);
            row_h = row_h.max(lines.len() as f64 * LINE + 2.0 * NODE_PAD);
            nodes.push(NodeGeom {
                key: n.key.clone(),
                rect: Rect {
                    x: 0.0,
                    y: 0.0,
                    w: NODE_W,
                    h: 0.0,
                },
                lines,
            });
        }
    }
    let mut ni = 0;
    let mut zone_x = Vec::new();
    for ((z, lines), col) in d.zones.iter().zip(&zone_titles).zip(&title_cols) {
        let start = x;
        x += ZONE_PAD + col;
        for _ in &z.nodes {
            nodes[ni].rect.x = x;
            nodes[ni].rect.h = row_h;
            x += NODE_W + NODE_GAP;
            ni += 1;
        }
        if !z.nodes.is_empty() {
            x -= NODE_GAP;
        }
        x += ZONE_PAD;
        zone_x.push((start, x - start));
        zones.push(ZoneGeom {
            id: z.id.clone(),
            rect: Rect {
                x: start,
                y: 0.0,
                w: x - start,
                h: 0.0,
            },
            title: Rect {
                x: start + 6.0,
                y: 0.0,
                w: *col,
                h: lines.len() as f64 * LINE + 8.0,
            },
            lines: lines.clone(),
        });
        x += ZONE_GAP;
    }
    let content_right = (x - ZONE_GAP).max(MARGIN + 400.0);
    let node_index = |key: &str| nodes.iter().position(|n| n.key == key);
    // Edges: direction, label size.
    let mut pending: Vec<Pending> = Vec::new();
    for e in &d.edges {
        let (Some(f), Some(t)) = (node_index(&e.from), node_index(&e.to)) else {
            continue;
        };
        let lines: Vec<(String, EdgeKind)> =
            e.lines.iter().map(|l| (l.text.clone(), l.kind)).collect();
        let w = lines
            .iter()
            .map(|(s, _)| text_px(s, FONT))
            .fold(0.0, f64::max)
            + 10.0;
        let h = lines.len() as f64 * LINE + 4.0;
        pending.push(Pending {
            from: f,
            to: t,
            up: nodes[f].rect.x < nodes[t].rect.x,
            lines,
            w,
            h,
            kind: e.kind,
            requests: e.requests.clone(),
            from_port: 0.0,
            to_port: 0.0,
        });
    }
    // Ports: per node and side, ordered by the other end's position, spread evenly.
    for (ni, n) in nodes.iter().enumerate() {
        for up in [true, false] {
            // (pending index, is source end, other end's x)
            let mut ends: Vec<(usize, bool, f64)> = Vec::new();
            for (pi, p) in pending.iter().enumerate().filter(|(_, p)| p.up == up) {
                if p.from == ni {
                    ends.push((
                        pi,
                        true,
                        nodes[p.to].rect.x + if p.to == ni { 1.0 } else { 0.0 },
                    ));
                }
                if p.to == ni {
                    ends.push((pi, false, nodes[p.from].rect.x));
                }
            }
            ends.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
            let k = ends.len() as f64;
            for (i, (pi, src, _)) in ends.iter().enumerate() {
                let px = n.rect.x + n.rect.w * (i as f64 + 1.0) / (k + 1.0);
                if *src {
                    pending[*pi].from_port = px;
                } else {
                    pending[*pi].to_port = px;
                }
            }
        }
    }
    // Tracks: shorter spans nearer the nodes.
    let span = |p: &Pending| (p.from_port - p.to_port).abs();
    let mut order_up: Vec<usize> = (0..pending.len()).filter(|i| pending[*i].up).collect();
    let mut order_down: Vec<usize> = (0..pending.len()).filter(|i| !pending[*i].up).collect();
    for o in [&mut order_up, &mut order_down] {
        o.sort_by(|a, b| {
            span(&pending[*a])
                .total_cmp(&span(&pending[*b]))
                .then(a.cmp(b))
        });
    }
    let band = |i: usize| pending[i].h + TRACK_GAP + 6.0;
    let up_h: f64 = order_up.iter().map(|i| band(*i)).sum();
    let down_h: f64 = order_down.iter().map(|i| band(*i)).sum();
    let zone_top = MARGIN + title_h + 12.0 + up_h + ROW_GAP;
    let node_top = zone_top + ZONE_PAD;
    let zone_h = row_h + 2.0 * ZONE_PAD;
    for z in &mut zones {
        z.rect.y = zone_top;
        z.rect.h = zone_h;
        z.title.y = node_top;
    }
    for n in &mut nodes {
        n.rect.y = node_top;
    }
    let node_bottom = node_top + row_h;
    // Track line positions: up tracks stacked upwards from above the zone boxes, down tracks
    // downwards from below them. Line at the band's side nearest the nodes, label beyond it.
    let mut line_y = vec![0.0; pending.len()];
    let mut label_y = vec![0.0; pending.len()];
    let mut y = zone_top - ROW_GAP;
    for &i in &order_up {
        line_y[i] = y;
        label_y[i] = y - 3.0 - pending[i].h;
        y -= band(i);
    }
    let mut y = zone_top + zone_h + ROW_GAP;
    for &i in &order_down {
        line_y[i] = y;
        label_y[i] = y + 3.0;
        y += band(i);
    }
    // Label x: near the middle of the track, clear of vertical segments passing the band.
    let mut edges = Vec::new();
    for (i, p) in pending.iter().enumerate() {
        let beyond = |j: usize| {
            let q = &pending[j];
            q.up == p.up
                && if p.up {
                    line_y[j] < line_y[i]
                } else {
                    line_y[j] > line_y[i]
                }
        };
        let mut obstacles: Vec<f64> = (0..pending.len())
            .filter(|j| beyond(*j))
            .flat_map(|j| [pending[j].from_port, pending[j].to_port])
            .collect();
        obstacles.sort_by(f64::total_cmp);
        let (lo, hi) = (p.from_port.min(p.to_port), p.from_port.max(p.to_port));
        let mid = (lo + hi) / 2.0;
        let clear = |x0: f64| {
            x0 >= MARGIN
                && x0 + p.w <= content_right
                && obstacles
                    .iter()
                    .all(|o| *o < x0 - 4.0 || *o > x0 + p.w + 4.0)
        };
        let mut candidates = vec![mid - p.w / 2.0, lo + 4.0, hi - 4.0 - p.w];
        for o in &obstacles {
            candidates.push(o + 5.0);
            candidates.push(o - 5.0 - p.w);
        }
        let inside = |x0: f64| x0 >= lo - 1.0 && x0 + p.w <= hi + 1.0;
        let best = candidates
            .iter()
            .copied()
            .filter(|x0| clear(*x0))
            .min_by(|a, b| {
                let score = |x0: f64| {
                    (x0 + p.w / 2.0 - mid).abs() + if inside(x0) { 0.0 } else { 10_000.0 }
                };
                score(*a).total_cmp(&score(*b))
            })
            .unwrap_or((mid - p.w / 2.0).clamp(MARGIN, (content_right - p.w).max(MARGIN)));
        let (fy, ty) = if p.up {
            (node_top, node_top)
        } else {
            (node_bottom, node_bottom)
        };
        // The track line reaches the label when the label had to move beyond the span.
        let points = vec![
            (p.from_port, fy),
            (p.from_port, line_y[i]),
            (p.to_port, line_y[i]),
            (p.to_port, ty),
        ];
        edges.push(EdgeGeom {
            from: nodes[p.from].key.clone(),
            to: nodes[p.to].key.clone(),
            points,
            label: Rect {
                x: best,
                y: label_y[i],
                w: p.w,
                h: p.h,
            },
            lines: p.lines.clone(),
            kind: p.kind,
            requests: p.requests.clone(),
        });
    }
    // Legend below everything.
    let mut ly = zone_top + zone_h + ROW_GAP + down_h + 16.0;
    let mut legend = Vec::new();
    let mut entries: Vec<(Option<EdgeKind>, String)> =
        [EdgeKind::Normal, EdgeKind::FromInternet, EdgeKind::Wide]
            .iter()
            .map(|k| (Some(*k), k.legend(lang)))
            .collect();
    entries.push((
        None,
        lang.pick(
            "Arrows point from source to destination; labels give protocol and destination ports.",
            "矢印は送信元から宛先へ。ラベルはプロトコルと宛先ポート。",
        )
        .to_string(),
    ));
    for (kind, text) in entries {
        let w = 44.0 + text_px(&text, FONT);
        legend.push(LegendGeom {
            rect: Rect {
                x: MARGIN,
                y: ly,
                w,
                h: LINE + 2.0,
            },
            kind,
            text,
        });
        ly += LINE + 6.0;
    }
    let width = content_right
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
                .map(|e: &EdgeGeom| e.label.x + e.label.w)
                .fold(0.0, f64::max),
        )
        + MARGIN;
    Layout {
        width,
        height: ly + MARGIN,
        title: (title_rect, d.title.clone()),
        zones,
        nodes,
        edges,
        legend,
    }
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
        let top = n.rect.y + (n.rect.h - n.lines.len() as f64 * LINE) / 2.0 + 12.0;
        text_lines(
            &mut out,
            n.rect.x + n.rect.w / 2.0,
            top,
            &n.lines,
            " text-anchor=\"middle\"",
        );
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
        let _ = writeln!(
            out,
            "<rect class=\"label\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"{}\" stroke-width=\"0.6\" rx=\"3\"/>",
            e.label.x,
            e.label.y,
            e.label.w,
            e.label.h,
            e.kind.color()
        );
        for (i, (text, kind)) in e.lines.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\">{}</text>",
                e.label.x + 5.0,
                e.label.y + 14.0 + i as f64 * LINE,
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
        assert!(d.node("clients/tmws.client").is_some());
        assert!(d.node("internet/tmws.client").is_some());
        let kinds: Vec<EdgeKind> = d.edges.iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&EdgeKind::Wide));
        assert!(kinds.contains(&EdgeKind::FromInternet));
        let inbound = d
            .edges
            .iter()
            .find(|e| e.from == "internet/tmws.client" && e.to == "servers/tmws.auth_agent")
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
                    label: format!("ノード {n} with a rather long name"),
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
                    });
                }
            }
        }
        let d = Diagram {
            title: "t".into(),
            zones,
            edges,
        };
        check(&layout(&d, Lang::Ja));
    }
}
