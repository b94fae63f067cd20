//! Merging the result files of a fleet run (`probe --format json`, one per source) into one
//! answer per enforcement point and opening.
//!
//! Each required result is counted under every enforcement point on its path (a network
//! firewall with its ends on different sides, a host firewall on either end) and there under
//! each opening that permits it — the opening is the rule `render` writes as `rN`. Each
//! must-be-closed result is counted under its points' "must be closed" row. A row fails when a
//! required pair did not pass, or a must-be-closed port answered; the merge fails (exit 1)
//! when any row fails.
//!
//! Invariant: a result file is accepted only when every check in it goes between addresses of
//! the site and comes from the host the file names: results of another site, or a file edited
//! to claim other sources, are refused (exit 2) instead of merged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::diag::{Error, Problem, Result, SourceFile};
use crate::i18n::Text;
use crate::plan::Plan;
use crate::site::{PointKind, Site};
use crate::tr;

#[derive(Deserialize)]
struct RawProbe {
    host: RawHost,
    results: Vec<RawResult>,
    #[serde(default)]
    skipped: Vec<RawSkipped>,
}

#[derive(Deserialize)]
struct RawHost {
    label: String,
    #[serde(default)]
    addrs: Vec<IpAddr>,
}

#[derive(Deserialize)]
struct RawResult {
    src: Option<IpAddr>,
    dst: String,
    protocol: String,
    port: u16,
    expect: String,
    resolved: Option<IpAddr>,
    result: String,
}

#[derive(Deserialize)]
struct RawSkipped {
    requirement: String,
    to: String,
    reason: Option<Text>,
}

/// The outcomes of `probe`, in report order.
pub const OUTCOMES: [&str; 5] = ["pass", "blocked", "refused", "unexpected-open", "error"];

/// One source/destination pair's check.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    /// Source address.
    pub src: Option<IpAddr>,
    /// Destination (address or name).
    pub dst: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Port.
    pub port: u16,
    /// Outcome.
    pub result: String,
    /// The host (result file) that probed.
    pub host: String,
}

/// One row: an opening of an enforcement point, or its "must be closed" row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Enforcement point id (`""` for pairs no point decides on).
    pub point: String,
    /// `rN` (the rule `render` writes for opening N), `closed`, or `-`.
    pub rule: String,
    /// Request number of the report (`FW-<point>-NNN`), for openings.
    pub request: String,
    /// `open` (required) or `closed`.
    pub expect: String,
    /// Protocol and ports of the opening (`tcp/135,445`).
    pub ports: String,
    /// Source roles.
    pub from_roles: Vec<String>,
    /// Destination roles.
    pub to_roles: Vec<String>,
    /// Requirements behind the opening.
    pub requirements: Vec<String>,
    /// Outcome → count.
    pub counts: BTreeMap<String, usize>,
    /// Distinct (source, destination) pairs with every check passed.
    pub passed_pairs: Vec<(Option<IpAddr>, String)>,
    /// Checks that failed (required: not pass; closed: unexpected-open or error).
    pub failed: Vec<Pair>,
}

impl Row {
    /// Checks counted.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
    /// Whether the row fails.
    pub fn fails(&self) -> bool {
        !self.failed.is_empty()
    }
}

/// A flow some hosts could not probe.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFlow {
    /// `product/requirement`.
    pub requirement: String,
    /// The destination as the plan has it.
    pub to: String,
    /// Why.
    pub reason: Option<Text>,
    /// Hosts that skipped it.
    pub hosts: usize,
}

/// The merged answer.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    /// Site name.
    pub site: String,
    /// Result files merged.
    pub files: usize,
    /// Checks merged.
    pub checks: usize,
    /// Rows: per point, its openings in plan order then its closed row; then the pairs no
    /// point decides on.
    pub rows: Vec<Row>,
    /// Flows not probed.
    pub skipped: Vec<SkippedFlow>,
    /// True when no row fails.
    pub ok: bool,
}

/// One point's side sets, computed once.
struct PointIndex {
    id: String,
    sides: Vec<AddrSet>,
    members: Option<AddrSet>,
}

impl PointIndex {
    fn decides(&self, s: IpAddr, d: IpAddr) -> bool {
        match &self.members {
            Some(m) => m.contains(s) || m.contains(d),
            None => {
                let side = |ip| self.sides.iter().position(|x| x.contains(ip));
                matches!((side(s), side(d)), (Some(a), Some(b)) if a != b)
            }
        }
    }
}

fn bad_file(file: &SourceFile, line: usize, col: usize, message: Text) -> Error {
    let off = file.offset_of(line.max(1), col.max(1));
    Error::Invalid {
        file: file.clone(),
        problems: vec![Problem::at(Some(off..off), message, None)],
    }
}

fn not_probe(file: &SourceFile, why: String) -> Error {
    Error::Invalid {
        file: file.clone(),
        problems: vec![Problem::at(
            None,
            tr!(
                "not a probe result (`portplan probe --format json`): {why}",
                "probe の結果 (`portplan probe --format json`) ではありません: {why}"
            ),
            None,
        )],
    }
}

fn parse(file: &SourceFile) -> Result<RawProbe> {
    if file.text.trim().is_empty() {
        return Err(not_probe(file, "empty file".into()));
    }
    serde_json::from_str::<RawProbe>(&file.text).map_err(|e| {
        if e.is_data() || e.is_eof() && file.text.trim_start().starts_with('{') {
            bad_file(
                file,
                e.line(),
                e.column(),
                tr!(
                    "not a complete probe result: {e}",
                    "probe の結果として不完全です: {e}"
                ),
            )
        } else {
            not_probe(file, e.to_string())
        }
    })
}

/// Parse the files, several at once (one thread per CPU).
fn parse_all(files: &[SourceFile]) -> Result<Vec<RawProbe>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    if files.len() < 64 || threads == 1 {
        return files.iter().map(parse).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(parse).collect::<Result<Vec<_>>>()))
            .collect();
        let mut out = Vec::with_capacity(files.len());
        for h in handles {
            out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?);
        }
        Ok(out)
    })
}

/// Merge probe result files against the site's plan.
pub fn merge(site: &Site, plan: &Plan, files: &[SourceFile]) -> Result<FleetReport> {
    if files.is_empty() {
        return Err(Error::usage(
            tr!("no result files given", "結果ファイルが指定されていません"),
            Some(tr!(
                "give the files the playbook fetched: DIR/results/*.json",
                "プレイブックが取得したファイルを指定してください: DIR/results/*.json"
            )),
        ));
    }
    let raws = parse_all(files)?;
    let index: Vec<PointIndex> = site
        .points
        .iter()
        .map(|pt| match &pt.kind {
            PointKind::Network { sides, .. } => PointIndex {
                id: pt.id.clone(),
                sides: sides.iter().map(|s| site.zones_set(s)).collect(),
                members: None,
            },
            PointKind::Host { members, .. } => PointIndex {
                id: pt.id.clone(),
                sides: vec![],
                members: Some(members.clone()),
            },
        })
        .collect();
    let mut site_addrs = AddrSet::new();
    for z in &site.zones {
        site_addrs.extend(&z.set);
    }
    for p in &site.products {
        for set in p.roles.values() {
            site_addrs.extend(set);
        }
    }

    // Rows: per point, its openings then its closed row; the last row is "no point".
    let mut rows: Vec<Row> = Vec::new();
    let mut opening_row: Vec<Vec<usize>> = Vec::new(); // point → opening → row
    let mut closed_row: Vec<usize> = Vec::new();
    let empty_row = |point: &str, rule: String, request: String, expect: &str| Row {
        point: point.to_string(),
        rule,
        request,
        expect: expect.to_string(),
        ports: String::new(),
        from_roles: vec![],
        to_roles: vec![],
        requirements: vec![],
        counts: BTreeMap::new(),
        passed_pairs: vec![],
        failed: vec![],
    };
    for pi in &index {
        let pp = plan.point(&pi.id);
        let mut v = Vec::new();
        for (i, o) in pp
            .map(|p| p.openings.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let mut r = empty_row(
                &pi.id,
                format!("r{}", i + 1),
                format!("FW-{}-{:03}", pi.id, i + 1),
                "open",
            );
            r.ports = format!("{}/{}", o.protocol, o.ports);
            r.from_roles = o.from_roles.iter().cloned().collect();
            r.to_roles = o.to_roles.iter().cloned().collect();
            r.requirements = o.requirements();
            v.push(rows.len());
            rows.push(r);
        }
        opening_row.push(v);
        closed_row.push(rows.len());
        rows.push(empty_row(&pi.id, "closed".into(), String::new(), "closed"));
    }
    let none_open = rows.len();
    rows.push(empty_row("", "-".into(), String::new(), "open"));
    let none_closed = rows.len();
    rows.push(empty_row("", "closed".into(), String::new(), "closed"));

    // (point, dst, protocol, port) → openings of the point towards it.
    let mut towards: HashMap<(usize, IpAddr, Protocol, u16), Vec<usize>> = HashMap::new();
    let mut seen: HashMap<(Option<IpAddr>, String, Protocol, u16), usize> = HashMap::new();
    let mut pairs: Vec<BTreeMap<(Option<IpAddr>, String), bool>> =
        vec![BTreeMap::new(); rows.len()];
    let mut skipped: BTreeMap<(String, String), (Option<Text>, BTreeSet<String>)> = BTreeMap::new();
    let mut checks = 0;
    for (fi, (raw, file)) in raws.iter().zip(files).enumerate() {
        let label = &raw.host.label;
        let mut host_addrs: BTreeSet<IpAddr> = raw.host.addrs.iter().copied().collect();
        host_addrs.extend(
            label
                .split(',')
                .filter_map(|s| s.trim().parse::<IpAddr>().ok()),
        );
        for (ri, r) in raw.results.iter().enumerate() {
            let where_ = || format!("results[{ri}]");
            let protocol = Protocol::parse(&r.protocol).ok_or_else(|| {
                not_probe(file, format!("{}: protocol `{}`", where_(), r.protocol))
            })?;
            let expect_open = match r.expect.as_str() {
                "open" => true,
                "closed" => false,
                e => return Err(not_probe(file, format!("{}: expect `{e}`", where_()))),
            };
            if !OUTCOMES.contains(&r.result.as_str()) {
                return Err(not_probe(
                    file,
                    format!("{}: result `{}`", where_(), r.result),
                ));
            }
            let dst_ip = r.dst.parse::<IpAddr>().ok().or(r.resolved);
            let foreign = |ip: IpAddr| !site_addrs.contains(ip);
            if let Some(s) = r.src
                && (foreign(s) || !host_addrs.contains(&s))
            {
                return Err(not_result_of_site(
                    file,
                    &site.name,
                    &format!("{s} → {}", r.dst),
                ));
            }
            if r.dst.parse::<IpAddr>().is_ok_and(foreign) {
                return Err(not_result_of_site(
                    file,
                    &site.name,
                    &format!("→ {}", r.dst),
                ));
            }
            let key = (r.src, r.dst.clone(), protocol, r.port);
            if let Some(prev) = seen.insert(key, fi) {
                let (a, b) = (&files[prev].name, &file.name);
                return Err(Error::usage(
                    tr!(
                        "{b}: the check {} → {} {protocol}/{} is also in {a}: each source's result once",
                        "{b}: 検査 {} → {} {protocol}/{} は {a} にもあります: 送信元ごとの結果は 1 つだけ指定してください",
                        r.src.map(|s| s.to_string()).unwrap_or_default(),
                        r.dst,
                        r.port
                    ),
                    None,
                ));
            }
            checks += 1;
            let mut targets = Vec::new();
            if let (Some(s), Some(d)) = (r.src, dst_ip) {
                for (pi, p) in index.iter().enumerate() {
                    if !p.decides(s, d) {
                        continue;
                    }
                    if expect_open {
                        let pp = plan.point(&p.id);
                        let cands = towards.entry((pi, d, protocol, r.port)).or_insert_with(|| {
                            pp.map(|pp| {
                                pp.openings
                                    .iter()
                                    .enumerate()
                                    .filter(|(_, o)| {
                                        o.protocol == protocol
                                            && o.ports.contains(r.port)
                                            && o.to.contains(d)
                                    })
                                    .map(|(i, _)| i)
                                    .collect()
                            })
                            .unwrap_or_default()
                        });
                        let before = targets.len();
                        for &oi in cands.iter() {
                            if pp.is_some_and(|pp| pp.openings[oi].from.contains(s)) {
                                targets.push(opening_row[pi][oi]);
                            }
                        }
                        if targets.len() == before {
                            targets.push(none_open);
                        }
                    } else {
                        targets.push(closed_row[pi]);
                    }
                }
            }
            if targets.is_empty() {
                targets.push(if expect_open { none_open } else { none_closed });
            }
            targets.sort_unstable();
            targets.dedup();
            let fails = if expect_open {
                r.result != "pass"
            } else {
                matches!(r.result.as_str(), "unexpected-open" | "error")
            };
            for t in targets {
                let row = &mut rows[t];
                *row.counts.entry(r.result.clone()).or_default() += 1;
                let ok = pairs[t].entry((r.src, r.dst.clone())).or_insert(true);
                *ok &= !fails;
                if fails {
                    row.failed.push(Pair {
                        src: r.src,
                        dst: r.dst.clone(),
                        protocol,
                        port: r.port,
                        result: r.result.clone(),
                        host: label.clone(),
                    });
                }
            }
        }
        for s in &raw.skipped {
            skipped
                .entry((s.requirement.clone(), s.to.clone()))
                .or_insert_with(|| (s.reason.clone(), BTreeSet::new()))
                .1
                .insert(label.clone());
        }
    }
    for (row, p) in rows.iter_mut().zip(pairs) {
        row.passed_pairs = p
            .into_iter()
            .filter(|(_, ok)| *ok)
            .map(|(k, _)| k)
            .collect();
    }
    // The "no point" rows only when something landed there.
    let keep_none: Vec<bool> = vec![rows[none_open].total() > 0, rows[none_closed].total() > 0];
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        if (i == none_open && !keep_none[0]) || (i == none_closed && !keep_none[1]) {
            continue;
        }
        out.push(r);
    }
    let ok = !out.iter().any(Row::fails);
    Ok(FleetReport {
        site: site.name.clone(),
        files: files.len(),
        checks,
        rows: out,
        skipped: skipped
            .into_iter()
            .map(|((requirement, to), (reason, hosts))| SkippedFlow {
                requirement,
                to,
                reason,
                hosts: hosts.len(),
            })
            .collect(),
        ok,
    })
}

fn not_result_of_site(file: &SourceFile, site: &str, what: &str) -> Error {
    Error::Invalid {
        file: file.clone(),
        problems: vec![Problem::at(
            None,
            tr!(
                "not a result of site {site}, or not of the host it names: {what}",
                "サイト {site} の結果ではないか、記載のホストの結果ではありません: {what}"
            ),
            Some(tr!(
                "merge the results with the site file the fleet was generated from (DIR/site.yaml)",
                "フリート生成に使ったサイトファイル (DIR/site.yaml) で統合してください"
            )),
        )],
    }
}
