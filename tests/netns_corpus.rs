//! The audit against the kernel on real rulesets nobody on this project wrote.
//!
//! Corpora (see tests/corpus/README.md for sources and licences):
//! * generated: `tests/corpus/generate.sh` runs real firewall tools (ferm, FireHOL, Shorewall,
//!   ufw, arno-iptables-firewall, pyroman, netavark, firewalld, nftables' examples …) on the
//!   example configurations their Debian packages ship, in private namespaces; CI installs
//!   them (`tests/corpus/packages.txt`), so this corpus always runs there;
//! * published dumps (real university, company and router firewalls, Docker, OpenWrt,
//!   kube-proxy): third-party data kept outside the repository, read from `$PORTPLAN_CORPUS`
//!   or `../shared/data/corpus` when present.
//!
//! For every ruleset: load it into the oracle's router (interfaces named as the ruleset names
//! them), read the kernel's own dump (`iptables-save -c`, or `nft -j` with a counter added to
//! every rule), evaluate the model on the paths that matter, send a bounded sample of probes
//! the ruleset cares about and require:
//! 1. every probe the model is certain about gets the kernel's verdict;
//! 2. rules the audit reports shadowed count no kernel hits;
//! 3. every certain finding's witness of two synthetic audits (nothing required: everything
//!    accepted is excess; tcp/443, udp/53 and tcp/22 required everywhere: what is dropped is
//!    missing) gets the kernel's verdict.

mod common;

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::process::Command;

use common::differential::{Model, Sampler, compare, describe, probe_of};
use common::oracle::{Path, Probe, Router};
use common::{in_ci, require_root_and};
use portplan::audit::ipset::Sets;
use portplan::audit::model::Ruleset;
use portplan::audit::{Kind, Point, read};
use serde_json::Value;

/// Probes per path and ruleset.
const PROBES: usize = 400;

struct Entry {
    file: PathBuf,
    format: String,
    kind: String,
    interfaces: Vec<String>,
    ipset: Option<PathBuf>,
}

fn manifest(list: &FsPath, dir: &FsPath) -> Vec<Entry> {
    let text = std::fs::read_to_string(list).expect("manifest.json");
    let v: Value = serde_json::from_str(&text).expect("manifest is JSON");
    v.as_array()
        .expect("manifest is an array")
        .iter()
        .map(|e| Entry {
            file: dir.join(e["file"].as_str().unwrap()),
            format: e["format"].as_str().unwrap().to_string(),
            kind: e["kind"].as_str().unwrap_or("host").to_string(),
            interfaces: e["interfaces"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            ipset: e["ipset"].as_str().map(|f| dir.join(f)),
        })
        .collect()
}

/// Router interface names for a ruleset's: wildcards get a concrete member, `lo` and names
/// Linux refuses are left out, and one name the ruleset never mentions is added.
fn router_ifaces(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let n = match n.strip_suffix(['+', '*']) {
            Some(p) => format!("{p}7"),
            None => n.clone(),
        };
        if n == "lo" || n.is_empty() || n.len() > 15 || n.contains('/') || out.contains(&n) {
            continue;
        }
        out.push(n);
        if out.len() >= 20 {
            break;
        }
    }
    out.push("ppzz0".into());
    if out.len() < 2 {
        out.push("ppzz1".into());
    }
    out
}

/// Add a counter right after the matches of every rule (so it counts hits), reload as JSON,
/// and return the new dump; `None` when nft refuses the edited JSON.
fn with_counters(router: &Router, dump: &str) -> Option<String> {
    let mut v: Value = serde_json::from_str(dump).ok()?;
    let items = v["nftables"].as_array_mut()?;
    items.retain(|x| x.get("metainfo").is_none());
    for it in items.iter_mut() {
        if let Some(r) = it.get_mut("rule") {
            r.as_object_mut()?.remove("handle");
            let expr = r["expr"].as_array_mut()?;
            let at = expr
                .iter()
                .position(|e| e.get("match").is_none())
                .unwrap_or(expr.len());
            if !expr.iter().any(|e| e.get("counter").is_some()) {
                expr.insert(at, serde_json::json!({"counter": null}));
            }
        }
        for k in ["table", "chain", "set", "map"] {
            if let Some(o) = it.get_mut(k).and_then(Value::as_object_mut) {
                o.remove("handle");
            }
        }
    }
    router.try_load_nft_json(&v.to_string()).ok()?;
    Some(router.dump_nft_json())
}

/// Rule hits by origin (`line N` / `handle N`) from a dump with counters.
fn hits(format: &str, dump: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    if format == "nft" {
        let v: Value = serde_json::from_str(dump).unwrap();
        for it in v["nftables"].as_array().unwrap() {
            if let Some(r) = it.get("rule") {
                let h = r["handle"].as_i64().unwrap_or(-1);
                let n: u64 = r["expr"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|e| e.get("counter"))
                    .filter_map(|c| c["packets"].as_u64())
                    .max()
                    .unwrap_or(0);
                out.insert(format!("handle {h}"), n);
            }
        }
    } else {
        for (i, l) in dump.lines().enumerate() {
            if let Some(rest) = l.strip_prefix('[')
                && let Some((c, _)) = rest.split_once(']')
                && let Some((p, _)) = c.split_once(':')
            {
                out.insert(format!("line {}", i + 1), p.parse().unwrap_or(0));
            }
        }
    }
    out
}

struct Outcome {
    probes: usize,
    unknown: usize,
    wrong: Vec<String>,
    shadowed_checked: usize,
    witnesses: usize,
}

/// A plan for the synthetic audits: `(openings)` over the whole address space.
fn plan(host: bool, required: bool) -> portplan::plan::PointPlan {
    use portplan::addr::AddrSet;
    use portplan::catalog::Protocol;
    use portplan::plan::{Direction, Opening, PointPlan};
    let mut all = AddrSet::new();
    all.v4.ranges_insert(0..=u32::MAX);
    all.v6.ranges_insert(0..=u128::MAX);
    let mut openings = Vec::new();
    if required {
        let dirs: &[Direction] = if host {
            &[Direction::In, Direction::Out]
        } else {
            &[Direction::Forward]
        };
        for d in dirs {
            for (proto, port) in [
                (Protocol::Tcp, 443u16),
                (Protocol::Udp, 53),
                (Protocol::Tcp, 22),
            ] {
                openings.push(Opening {
                    direction: *d,
                    from: all.clone(),
                    to: all.clone(),
                    protocol: proto,
                    ports: portplan::portset::PortSet::parse(&port.to_string()).unwrap(),
                    from_roles: Default::default(),
                    to_roles: Default::default(),
                    provenance: vec![portplan::plan::Provenance {
                        requirement: format!("test/{proto}-{port}"),
                        because: vec![],
                        source: "test".into(),
                        ports: portplan::portset::PortSet::parse(&port.to_string()).unwrap(),
                    }],
                });
            }
        }
    }
    PointPlan {
        id: "corpus".into(),
        kind: if host { "host" } else { "network" },
        target: portplan::site::Target::Nftables,
        openings,
        must_stay_closed: Vec::new(),
    }
}

fn check_one(tag: &str, e: &Entry, seed: u64) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(&e.file).map_err(|x| format!("{x}"))?;
    let ifaces = router_ifaces(&e.interfaces);
    let names: Vec<&str> = ifaces.iter().map(String::as_str).collect();
    let router = Router::new(tag, &names);
    let sets_text = e
        .ipset
        .as_ref()
        .map(|f| std::fs::read_to_string(f).unwrap());
    if let Some(t) = &sets_text {
        router.load_ipset(t);
    }
    let sets = match &sets_text {
        Some(t) => portplan::audit::ipset::parse(t).map_err(|m| m.en)?,
        None => Sets::none(),
    };
    let (dump, kind) = match e.format.as_str() {
        "nft" => {
            router.try_load_nft(&text)?;
            let d = router.dump_nft_json();
            match with_counters(&router, &d) {
                Some(c) => (c, Kind::NftJson),
                None => {
                    // nft did not take the edited JSON back: the original, without the check of
                    // shadowed rules.
                    router.try_load_nft(&text)?;
                    (router.dump_nft_json(), Kind::NftJson)
                }
            }
        }
        "ip6tables" => {
            router.try_load_iptables(None, Some(&text))?;
            (router.exec(&["ip6tables-save", "-c"])?, Kind::Ip6tablesSave)
        }
        _ => {
            router.try_load_iptables(Some(&text), None)?;
            (router.exec(&["iptables-save", "-c"])?, Kind::IptablesSave)
        }
    };
    let rs: Ruleset = read(&dump, Some(kind), &sets)
        .map_err(|m| format!("reading the kernel's dump: {}", m.en))?;
    let host = e.kind == "host";
    let paths: &[Path] = if host {
        &[Path::Input, Path::Output]
    } else {
        &[Path::Forward]
    };
    let model = Model::new(rs.clone(), paths, &ifaces);
    let families: Vec<bool> = match kind {
        Kind::IptablesSave => vec![false],
        Kind::Ip6tablesSave => vec![true],
        Kind::NftJson => vec![false, true],
    };
    let mut out = Outcome {
        probes: 0,
        unknown: 0,
        wrong: vec![],
        shadowed_checked: 0,
        witnesses: 0,
    };
    let mut sampler = Sampler::new(&rs, &ifaces, seed);
    for path in paths {
        let probes: Vec<Probe> = (0..PROBES)
            .map(|i| sampler.probe(*path, families[i % families.len()]))
            .collect();
        let fates = router.fates(*path, &probes);
        let (wrong, unknown) = compare(&model, *path, &probes, &fates);
        out.probes += probes.len();
        out.unknown += unknown;
        out.wrong.extend(wrong);
    }
    // Shadowed rules count no hits.
    let after = match kind {
        Kind::NftJson => router.dump_nft_json(),
        Kind::Ip6tablesSave => router.exec(&["ip6tables-save", "-c"])?,
        Kind::IptablesSave => router.exec(&["iptables-save", "-c"])?,
    };
    let counted = hits(&e.format, &after);
    for p in [false, true] {
        let report = portplan::audit::audit(
            &rs,
            Point {
                plan: &plan(host, p),
                host,
                interfaces: None,
            },
        )
        .map_err(|_| "exhausted".to_string())?;
        // The sliced engine's findings are the whole evaluation's (the default).
        let pp = plan(host, p);
        let sliced = portplan::audit::audit_with(
            &rs,
            Point {
                plan: &pp,
                host,
                interfaces: None,
            },
            &[24, 26],
            portplan::audit::Engine::Sliced,
        )
        .map_err(|_| "exhausted".to_string())?;
        let norm = |r: &portplan::audit::AuditReport| {
            let mut r = r.clone();
            r.not_analysed.sort();
            serde_json::to_string(&r).unwrap_or_default()
        };
        if norm(&sliced) != norm(&report) {
            out.wrong.push(format!(
                "the sliced audit differs from the whole one (required openings: {p})"
            ));
        }
        if !p {
            for s in &report.shadowed {
                if s.origin.contains("element") {
                    continue;
                }
                out.shadowed_checked += 1;
                if counted.get(&s.origin).copied().unwrap_or(0) > 0 {
                    out.wrong.push(format!(
                        "{} reported shadowed but counted {} kernel hits: {}",
                        s.origin, counted[&s.origin], s.text
                    ));
                }
            }
        }
        // Certain findings' witnesses against the kernel.
        let mut checks: Vec<(Path, Probe, bool)> = Vec::new();
        let other = ifaces.last().unwrap().clone();
        let iface = |n: &Option<String>| -> String {
            match n.as_deref() {
                Some(x) if ifaces.iter().any(|i| i == x) => x.to_string(),
                Some(x) if x.ends_with('…') => format!("{}7", x.trim_end_matches('…')),
                _ => other.clone(),
            }
        };
        for ex in report.excess.iter().filter(|x| x.certain) {
            let path = match ex.hook {
                portplan::audit::model::Hook::Input => Path::Input,
                portplan::audit::model::Hook::Output => Path::Output,
                _ => Path::Forward,
            };
            let w = &ex.witness;
            let pr = probe_of(w, Some(&iface(&w.iif)), Some(&iface(&w.oif)));
            let pr = match path {
                Path::Forward => pr,
                Path::Input => Probe { oif: None, ..pr },
                Path::Output => Probe { iif: None, ..pr },
            };
            checks.push((path, pr, true));
        }
        for m in report
            .missing
            .iter()
            .filter(|x| x.certain && x.stage == portplan::audit::Stage::New)
        {
            let path = match m.hook {
                portplan::audit::model::Hook::Input => Path::Input,
                portplan::audit::model::Hook::Output => Path::Output,
                _ => Path::Forward,
            };
            let (a, b) = (ifaces[0].clone(), ifaces[ifaces.len().min(2) - 1].clone());
            let pr = probe_of(&m.witness, Some(&a), Some(&b));
            let pr = match path {
                Path::Forward => pr,
                Path::Input => Probe { oif: None, ..pr },
                Path::Output => Probe { iif: None, ..pr },
            };
            checks.push((path, pr, false));
        }
        for (path, pr, want) in checks {
            if common::oracle::routable(path, &pr).is_err() {
                continue;
            }
            out.witnesses += 1;
            let got = router.fates(path, std::slice::from_ref(&pr))[0].passed();
            if got != want {
                out.wrong.push(format!(
                    "certain {} witness {}: kernel {}",
                    if want { "excess" } else { "missing" },
                    describe(&pr),
                    if got { "passed it" } else { "dropped it" }
                ));
            }
        }
    }
    Ok(out)
}

fn run_corpus(list: &FsPath, dir: &FsPath, label: &str, must_load: bool) {
    let entries = manifest(list, dir);
    assert!(!entries.is_empty());
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let name = e.file.file_name().unwrap().to_string_lossy().to_string();
        match check_one(&format!("c{i}"), e, 0x5eed_0000 + i as u64) {
            Ok(o) => {
                summary.push(format!(
                    "{name}: {} probes, {} uncertain, {} shadowed checked, {} witnesses, {} wrong",
                    o.probes,
                    o.unknown,
                    o.shadowed_checked,
                    o.witnesses,
                    o.wrong.len()
                ));
                if !o.wrong.is_empty() {
                    failures.push(format!(
                        "{name}:\n  {}",
                        o.wrong
                            .iter()
                            .take(12)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("\n  ")
                    ));
                }
            }
            Err(err) if must_load => failures.push(format!("{name}: {err}")),
            Err(err) => summary.push(format!("{name}: not loaded here ({err})")),
        }
    }
    eprintln!("{label} corpus:\n{}", summary.join("\n"));
    assert!(
        failures.is_empty(),
        "{label} corpus: model and kernel disagree:\n{}",
        failures.join("\n")
    );
}

/// Generate the corpus (cached under the target dir while generate.sh is unchanged).
fn generated_dir() -> Option<PathBuf> {
    let script = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/generate.sh"
    ));
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let dir = target.join("corpus-generated");
    let stamp = format!(
        "{:?}",
        std::fs::metadata(&script).and_then(|m| m.modified()).ok()
    );
    let stamp_file = target.join("corpus-generated.stamp");
    if dir.join("manifest.json").exists()
        && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str())
    {
        return Some(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(&dir);
    if !in_ci() {
        cmd.arg("--allow-missing");
    }
    let out = cmd.output().expect("run generate.sh");
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        if in_ci() {
            panic!("tests/corpus/generate.sh failed in CI:\n{msg}");
        }
        eprintln!("\n!!!!! SKIPPED generated corpus: generate.sh failed (runs in CI):\n{msg}\n");
        return None;
    }
    std::fs::write(&stamp_file, stamp).unwrap();
    Some(dir)
}

#[test]
fn generated_corpus_agrees_with_the_kernel() {
    portplan::audit::with_stack(generated_corpus);
}

fn generated_corpus() {
    if !require_root_and(
        &[
            "ip",
            "nft",
            "iptables-restore",
            "iptables-save",
            "ip6tables-save",
            "conntrack",
            "ferm",
            "firehol",
            "shorewall",
            "ufw",
        ],
        "generated_corpus_agrees_with_the_kernel",
    ) {
        return;
    }
    let Some(dir) = generated_dir() else { return };
    run_corpus(&dir.join("manifest.json"), &dir, "generated", true);
}

#[test]
fn published_corpus_agrees_with_the_kernel() {
    portplan::audit::with_stack(published_corpus);
}

fn published_corpus() {
    let dir = std::env::var("PORTPLAN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/data/corpus"
            ))
        });
    let list = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/manifest.json"
    ));
    if !dir.join("tum-i8-2015-09.rules").exists() {
        eprintln!(
            "\n!!!!! SKIPPED published_corpus_agrees_with_the_kernel: no corpus at {} (third-party data kept outside the repository; see tests/corpus/README.md) !!!!!\n",
            dir.display()
        );
        return;
    }
    if !require_root_and(
        &["ip", "nft", "iptables-restore", "conntrack"],
        "published_corpus_agrees_with_the_kernel",
    ) {
        return;
    }
    run_corpus(&list, &dir, "published", false);
}
