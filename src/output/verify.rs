//! `portplan listen` and `portplan probe` output: tables, JSON (lines for listen) and JUnit XML.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use crate::catalog::Protocol;
use crate::i18n::Lang;
use crate::output::new_table;
use crate::portset::PortSet;
use crate::verify::listen::{BindReport, Hit, PortStatus, Stop};
use crate::verify::probe::{Observed, Outcome, ProbeReport, ProbeResult};
use crate::verify::{Expect, ListenKind, ListenPlan, ListenPort, ProbePlan};

/// How probe results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerifyFormat {
    /// Human-readable.
    #[default]
    Table,
    /// JSON (listen: one JSON object per line, `ready` then `done`).
    Json,
    /// JUnit XML, for CI pipelines (probe only).
    Junit,
}

/// `1h2m3s`-style duration.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if sec > 0 || out.is_empty() {
        let _ = write!(out, "{sec}s");
    }
    out
}

fn port_list(ports: impl IntoIterator<Item = u16>) -> String {
    let mut ps = PortSet::new();
    for p in ports {
        ps.insert_range(p, p);
    }
    ps.to_strings().join(",")
}

/// Group responders by (address, protocol) into port lists.
fn grouped<'a>(ports: impl Iterator<Item = &'a ListenPort>) -> Vec<(IpAddr, Protocol, String)> {
    let mut m: BTreeMap<(IpAddr, Protocol), Vec<u16>> = BTreeMap::new();
    for p in ports {
        m.entry((p.addr, p.protocol)).or_default().push(p.port);
    }
    m.into_iter()
        .map(|((a, pr), v)| (a, pr, port_list(v)))
        .collect()
}

/// What `listen --dry-run` would open.
pub fn listen_dry_run(plan: &ListenPlan, format: VerifyFormat, wrap: bool, lang: Lang) -> String {
    let r = BindReport {
        plan: plan.clone(),
        status: vec![PortStatus::Bound; plan.ports.len()],
        open_files_limit: 0,
    };
    if format != VerifyFormat::Table {
        let mut v = serde_json::to_value(plan).unwrap_or_default();
        v["event"] = "dry-run".into();
        return serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    }
    let mut out = listen_table(&r, wrap, lang);
    if !plan.ports.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            lang.pick(
                "(dry run: nothing opened)",
                "(ドライラン: 何も開いていません)"
            )
        );
    }
    out
}

/// What `listen` says once its sockets are open.
pub fn listen_ready(
    r: &BindReport,
    duration: Duration,
    format: VerifyFormat,
    wrap: bool,
    lang: Lang,
) -> String {
    if format != VerifyFormat::Table {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        v["event"] = "ready".into();
        v["duration_s"] = duration.as_secs().into();
        return serde_json::to_string(&v).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    let addrs: Vec<String> = r.plan.host.addrs.iter().map(|a| a.to_string()).collect();
    let _ = writeln!(
        out,
        "{} {} ({}) — {} {}",
        lang.pick("Listening as", "待ち受けホスト:"),
        crate::escape::escape_line(&r.plan.host.label),
        addrs.join(", "),
        lang.pick("stops by itself after", "自動停止まで"),
        human_duration(duration)
    );
    out.push_str(&listen_table(r, wrap, lang));
    if !r.plan.ports.is_empty() {
        let _ = writeln!(out, "{}", lang.pick("Ready.", "準備完了。"));
    }
    out
}

fn listen_table(r: &BindReport, wrap: bool, lang: Lang) -> String {
    let mut out = String::new();
    if r.plan.ports.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            lang.pick(
                "The plan has nothing this host must accept: no responders opened.",
                "計画上このホストが受け入れる通信はありません: 応答ソケットは開きません。"
            )
        );
        return out;
    }
    let mut t = new_table(
        vec![
            lang.pick("ADDRESS", "アドレス").into(),
            lang.pick("PROTO", "プロトコル").into(),
            lang.pick("REQUIRED (listening)", "必要 (待ち受け中)")
                .into(),
            lang.pick("MUST BE CLOSED (canaries)", "閉じるべき (検知用)")
                .into(),
        ],
        wrap,
    );
    let bound_req = grouped(
        r.with(|s| *s == PortStatus::Bound)
            .filter(|p| p.kind != ListenKind::Canary),
    );
    let bound_can = grouped(
        r.with(|s| *s == PortStatus::Bound)
            .filter(|p| p.kind == ListenKind::Canary),
    );
    let mut keys: Vec<(IpAddr, Protocol)> = bound_req
        .iter()
        .chain(&bound_can)
        .map(|(a, p, _)| (*a, *p))
        .collect();
    keys.sort();
    keys.dedup();
    for (a, p) in keys {
        let find = |v: &[(IpAddr, Protocol, String)]| {
            v.iter()
                .find(|(x, y, _)| *x == a && *y == p)
                .map(|(_, _, s)| s.clone())
                .unwrap_or_default()
        };
        t.add_row(crate::output::row([
            a.to_string(),
            p.to_string(),
            find(&bound_req),
            find(&bound_can),
        ]));
    }
    let _ = writeln!(out, "{t}");
    for (a, p, list) in grouped(r.with(|s| *s == PortStatus::Occupied)) {
        let note = match p {
            Protocol::Tcp => lang.pick(
                "a real service holds them; a connect still proves the path",
                "実サービスが使用中。TCP 接続で到達性は確認できます",
            ),
            Protocol::Udp => lang.pick(
                "a real service holds them; UDP probes there are only conclusive if it answers",
                "実サービスが使用中。UDP はそのサービスが応答する場合のみ確認できます",
            ),
        };
        let _ = writeln!(
            out,
            "{} {a} {p}/{list}: {note}",
            lang.pick("occupied", "使用中")
        );
    }
    for (a, p, list) in grouped(r.with(|s| *s == PortStatus::Denied)) {
        let _ = writeln!(
            out,
            "{} {a} {p}/{list}: {}",
            lang.pick("NOT OPENED", "開けません"),
            lang.pick(
                "ports below 1024 need root or CAP_NET_BIND_SERVICE",
                "1024 未満のポートには root か CAP_NET_BIND_SERVICE が必要です"
            )
        );
    }
    for (p, s) in r.plan.ports.iter().zip(&r.status) {
        if let PortStatus::Failed(e) = s {
            let _ = writeln!(
                out,
                "{} {} {}/{}: {e}",
                lang.pick("NOT OPENED", "開けません"),
                p.addr,
                p.protocol,
                p.port
            );
        }
    }
    for s in &r.plan.sampled {
        let _ = writeln!(
            out,
            "{} {} {}/{}: {} {}",
            lang.pick("sampled", "抜き取り"),
            s.addr,
            s.protocol,
            s.range,
            s.tested,
            lang.pick(
                "evenly spread ports are opened (probe tests the same ones)",
                "ポートを均等に抜き取って待ち受けます (probe も同じポートを検査)"
            )
        );
    }
    out
}

/// What `listen` says when it stops.
pub fn listen_done(
    stop: Stop,
    hits: &[Hit],
    format: VerifyFormat,
    wrap: bool,
    lang: Lang,
) -> String {
    if format != VerifyFormat::Table {
        let v = serde_json::json!({"event": "done", "stop": stop, "hits": hits});
        return serde_json::to_string(&v).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    let why = match stop {
        Stop::Duration => lang.pick("duration over", "時間切れ"),
        Stop::Signal => lang.pick("interrupted", "中断"),
    };
    let total: u64 = hits.iter().map(|h| h.count).sum();
    let _ = writeln!(
        out,
        "{} ({why}): {total} {}",
        lang.pick("Stopped", "停止しました"),
        lang.pick(
            "connections/datagrams received",
            "件の接続・データグラムを受信"
        )
    );
    if hits.is_empty() {
        return out;
    }
    let mut t = new_table(
        vec![
            lang.pick("ADDRESS", "アドレス").into(),
            lang.pick("PORT", "ポート").into(),
            lang.pick("HITS", "受信").into(),
            lang.pick("TOKENS", "トークン").into(),
            lang.pick("FROM", "送信元").into(),
            lang.pick("NOTE", "備考").into(),
        ],
        wrap,
    );
    for h in hits {
        let from: Vec<String> = h.from.iter().map(|a| a.to_string()).collect();
        t.add_row(crate::output::row([
            h.addr.to_string(),
            format!("{}/{}", h.protocol, h.port),
            h.count.to_string(),
            h.tokens.to_string(),
            from.join(", "),
            if h.canary {
                lang.pick(
                    "MUST BE CLOSED: a firewall let this in",
                    "閉じるべきポート: FW が通過させています",
                )
                .into()
            } else {
                String::new()
            },
        ]));
    }
    let _ = writeln!(out, "{t}");
    out
}

fn observed_text(o: &Observed, lang: Lang) -> String {
    match o {
        Observed::Open { token: true } => lang
            .pick("portplan listener echoed", "portplan の応答を確認")
            .into(),
        Observed::Open { token: false } => lang
            .pick("answered (a real service)", "応答あり (実サービス)")
            .into(),
        Observed::Silent => lang.pick("no answer (filtered)", "応答なし (遮断)").into(),
        Observed::Refused => lang
            .pick(
                "reset / port unreachable: nothing listens, or a firewall rejects",
                "リセット / ポート到達不能: 待ち受けなし、または FW の拒否",
            )
            .into(),
        Observed::Rejected(d) => format!("{}: {d}", lang.pick("rejected", "拒否")),
        Observed::Error(e) => e.clone(),
    }
}

fn dst_text(r: &ProbeResult) -> String {
    match r.resolved {
        Some(a) => format!("{} ({a})", r.check.dst),
        None => r.check.dst.to_string(),
    }
}

fn rtt_text(r: &ProbeResult) -> String {
    r.rtt_ms.map(|m| format!("{m:.2}")).unwrap_or_default()
}

/// What a probe plan leaves out, and why: sampled ranges, destinations without closed checks,
/// flows not probed.
fn plan_notes(p: &ProbePlan, lang: Lang) -> String {
    let mut out = String::new();
    for s in &p.sampled {
        let _ = writeln!(
            out,
            "{} {} {}/{}: {} {}",
            lang.pick("sampled", "抜き取り"),
            s.addr,
            s.protocol,
            s.range,
            s.tested,
            lang.pick("evenly spread ports tested", "ポートを均等に抜き取って検査")
        );
    }
    let why_no_closed = [
        (
            &p.unenforced,
            lang.pick(
                "no enforcement point of the site lies between",
                "間にサイトの適用ポイントがありません",
            ),
        ),
        (
            &p.internet,
            lang.pick(
                "an internet host is not ours to scan; only its required flows are probed",
                "インターネット上のホストへは閉鎖確認を行いません。必要な通信のみ検査します",
            ),
        ),
    ];
    for (dests, why) in why_no_closed {
        for d in dests {
            let _ = writeln!(
                out,
                "{} {d}: {why}",
                lang.pick("no closed checks towards", "閉鎖確認なし:")
            );
        }
    }
    for s in &p.skipped {
        let _ = writeln!(
            out,
            "{} {} → {}: {}",
            lang.pick("not probed", "未検査"),
            s.requirement,
            s.to,
            s.reason.get(lang)
        );
    }
    out
}

/// What `probe --dry-run` would send.
pub fn probe_dry_run(p: &ProbePlan, format: VerifyFormat, wrap: bool, lang: Lang) -> String {
    if format != VerifyFormat::Table {
        let mut v = serde_json::to_value(p).unwrap_or_default();
        v["checks"] = serde_json::to_value(&p.checks).unwrap_or_default();
        return serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    }
    let mut t = new_table(
        vec![
            lang.pick("EXPECT", "期待").into(),
            lang.pick("FROM", "送信元").into(),
            lang.pick("TO", "宛先").into(),
            lang.pick("PORTS", "ポート").into(),
            lang.pick("WHY", "根拠").into(),
        ],
        wrap,
    );
    // One row per (expect, src, dst, protocol, why): port lists, not one line per port.
    let mut rows: BTreeMap<(Expect, String, String, Protocol, String), Vec<u16>> = BTreeMap::new();
    for c in &p.checks {
        rows.entry((
            c.expect,
            c.src.map(|a| a.to_string()).unwrap_or_default(),
            c.dst.to_string(),
            c.protocol,
            c.because.join(", "),
        ))
        .or_default()
        .push(c.port);
    }
    for ((e, s, d, pr, why), ports) in rows {
        let e = match e {
            Expect::Open => lang.pick("open", "開"),
            Expect::Closed => lang.pick("closed", "閉"),
        };
        t.add_row(crate::output::row([
            e.into(),
            s,
            d,
            format!("{pr}/{}", port_list(ports)),
            why,
        ]));
    }
    let mut out = format!(
        "{} {}: {} {}\n{t}\n",
        lang.pick("Probe plan from", "検査計画:"),
        crate::escape::escape_line(&p.host.label),
        p.checks.len(),
        lang.pick(
            "checks (dry run: nothing sent)",
            "件 (ドライラン: 送信していません)"
        )
    );
    out.push_str(&plan_notes(p, lang));
    out
}

/// A probe report.
pub fn probe(r: &ProbeReport, format: VerifyFormat, wrap: bool, lang: Lang) -> String {
    match format {
        VerifyFormat::Json => {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["ok"] = r.ok().into();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        VerifyFormat::Junit => junit(r, lang),
        VerifyFormat::Table => probe_table(r, wrap, lang),
    }
}

fn probe_table(r: &ProbeReport, wrap: bool, lang: Lang) -> String {
    let mut out = String::new();
    let verdict = if r.ok() {
        lang.pick("OK: as planned", "OK: 計画どおり")
    } else {
        lang.pick("FAIL: not as planned", "NG: 計画と異なります")
    };
    let _ = writeln!(
        out,
        "{} {} — {} {} {:.2} s — {verdict}",
        lang.pick("Probe from", "検査元:"),
        crate::escape::escape_line(&r.plan.host.label),
        r.results.len(),
        lang.pick("checks in", "件を"),
        r.elapsed_ms / 1000.0
    );
    let mut t = new_table(
        vec![
            lang.pick("RESULT", "結果").into(),
            lang.pick("EXPECT", "期待").into(),
            lang.pick("FROM", "送信元").into(),
            lang.pick("TO", "宛先").into(),
            lang.pick("PORT", "ポート").into(),
            "RTT ms".into(),
            lang.pick("WHY / SEEN", "根拠 / 観測").into(),
        ],
        wrap,
    );
    let mut rows = 0;
    for x in &r.results {
        // Closed checks that held are counted, not listed.
        if x.check.expect == Expect::Closed && x.result == Outcome::Pass {
            continue;
        }
        rows += 1;
        let expect = match x.check.expect {
            Expect::Open => lang.pick("open", "開"),
            Expect::Closed => lang.pick("closed", "閉"),
        };
        let why = if x.check.expect == Expect::Open {
            x.check.because.join(", ")
        } else {
            format!(
                "{} {}",
                lang.pick("blocked by", "遮断すべき FW:"),
                x.check.because.join(", ")
            )
        };
        t.add_row(crate::output::row([
            x.result.as_str().to_string(),
            expect.to_string(),
            x.check.src.map(|a| a.to_string()).unwrap_or_default(),
            dst_text(x),
            format!("{}/{}", x.check.protocol, x.check.port),
            rtt_text(x),
            format!("{why}\n{}", observed_text(&x.observed, lang)),
        ]));
    }
    if rows > 0 {
        let _ = writeln!(out, "{t}");
    }
    let count = |e, o| r.count(e, o);
    let _ = writeln!(
        out,
        "{}: {} pass, {} blocked, {} refused, {} error",
        lang.pick("required", "必要な通信"),
        count(Expect::Open, Outcome::Pass),
        count(Expect::Open, Outcome::Blocked),
        count(Expect::Open, Outcome::Refused),
        count(Expect::Open, Outcome::Error),
    );
    let _ = writeln!(
        out,
        "{}: {} {}, {} unexpected-open, {} refused, {} error",
        lang.pick("must be closed", "閉じるべきポート"),
        count(Expect::Closed, Outcome::Pass),
        lang.pick("blocked as planned", "件は計画どおり遮断"),
        count(Expect::Closed, Outcome::UnexpectedOpen),
        count(Expect::Closed, Outcome::Refused),
        count(Expect::Closed, Outcome::Error),
    );
    if count(Expect::Closed, Outcome::Refused) > 0 {
        let _ = writeln!(
            out,
            "  {}",
            lang.pick(
                "refused on a must-be-closed port: the packet reached the host (run `portplan listen` there to tell) or a firewall rejected it with a reset",
                "閉じるべきポートで refused: パケットがホストに届いた (宛先で `portplan listen` を実行すると判別できます) か、FW がリセットで拒否しました"
            )
        );
    }
    out.push_str(&plan_notes(&r.plan, lang));
    out
}

use crate::escape::xml_text as xml;

/// JUnit XML: one suite per destination, one test case per check, skipped flows as skipped.
fn junit(r: &ProbeReport, lang: Lang) -> String {
    let mut suites: BTreeMap<String, Vec<&ProbeResult>> = BTreeMap::new();
    for x in &r.results {
        suites.entry(x.check.dst.to_string()).or_default().push(x);
    }
    let failures = r
        .results
        .iter()
        .filter(|x| x.fails() && x.result != Outcome::Error)
        .count();
    let errors = r
        .results
        .iter()
        .filter(|x| x.result == Outcome::Error)
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"portplan probe {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
        xml(&r.plan.host.label),
        r.results.len() + r.plan.skipped.len(),
        r.elapsed_ms / 1000.0
    );
    for (dst, xs) in &suites {
        let f = xs
            .iter()
            .filter(|x| x.fails() && x.result != Outcome::Error)
            .count();
        let e = xs.iter().filter(|x| x.result == Outcome::Error).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{} -> {}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\">",
            xml(&r.plan.host.label),
            xml(dst),
            xs.len()
        );
        for x in xs {
            let expect = match x.check.expect {
                Expect::Open => "open",
                Expect::Closed => "closed",
            };
            let name = format!(
                "{}/{} {expect} {}",
                x.check.protocol,
                x.check.port,
                x.check.because.join(" ")
            );
            let time = x.rtt_ms.unwrap_or(0.0) / 1000.0;
            let _ = write!(
                out,
                "    <testcase classname=\"portplan.probe.{}\" name=\"{}\" time=\"{time:.4}\"",
                xml(&dst.replace(['.', ':'], "_")),
                xml(name.trim())
            );
            let seen = observed_text(&x.observed, lang);
            if x.result == Outcome::Error {
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"error\" message=\"{}\"/>\n    </testcase>",
                    xml(&seen)
                );
            } else if x.fails() {
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}: {}\"/>\n    </testcase>",
                    x.result.as_str(),
                    x.result.as_str(),
                    xml(&seen)
                );
            } else {
                let _ = writeln!(out, "/>");
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    if !r.plan.skipped.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{} -> (not probed)\" tests=\"{}\" skipped=\"{}\">",
            xml(&r.plan.host.label),
            r.plan.skipped.len(),
            r.plan.skipped.len()
        );
        for s in &r.plan.skipped {
            let _ = writeln!(
                out,
                "    <testcase classname=\"portplan.probe.skipped\" name=\"{} {}\">\n      <skipped message=\"{}\"/>\n    </testcase>",
                xml(&s.requirement),
                xml(&s.to),
                xml(s.reason.get(lang))
            );
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
