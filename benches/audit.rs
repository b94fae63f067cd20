//! Scale benchmark of `portplan audit` (see bench/audit/RESULTS.md).
//!
//! Inputs come from `bench/audit/gen_audit.py` (python3, stdlib only): 225 synthetic
//! applications (one catalog each) behind one core firewall `fw-core`, whose plan has about
//! 10,000 openings, and a 100,000-rule ruleset for that firewall as `iptables-save` text and as
//! `nft -j list ruleset` JSON. They are generated on demand into `<target dir>/audit-bench/`
//! (again when the generator changes), so `cargo bench --bench audit` just works; set
//! `PORTPLAN_AUDIT_BENCH_DIR=DIR` to use (or generate into) another directory, and
//! `PORTPLAN_AUDIT_BENCH_ARGS="--apps 20 --rules 8000"` for other generator parameters.
//!
//! Benchmarks (catalogs, site and plan are built once, outside the timing):
//! * `audit/parse/{iptables-save,nft-json}`: `audit::read` alone;
//! * `audit/parse+audit/{iptables-save,nft-json}`: `audit::read` + `audit::audit` for fw-core,
//!   what `portplan audit` does minus loading the site, planning and printing.
//!
//! Before `parse+audit` of an input is benchmarked it is run once, timed, and the report's
//! counts printed (missing / excess / shadowed); if the packet-space engine runs out of nodes
//! (`Exhausted`), that is printed with the time it took and the input is not benchmarked.
//!
//! Pick some with a filter: `cargo bench --bench audit -- parse/`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use portplan::audit::{self, Kind};
use portplan::catalog::Catalogs;
use portplan::i18n::Lang;
use portplan::{plan, site};

const POINT: &str = "fw-core";
const GENERATOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/audit/gen_audit.py");

/// `<target dir>/audit-bench`: the bench binary is `<target dir>/<profile>/deps/audit-HASH`.
fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("PORTPLAN_AUDIT_BENCH_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("current exe");
    match exe.ancestors().nth(3) {
        Some(target) => target.join("audit-bench"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/audit-bench"),
    }
}

/// FNV-1a, to notice a changed generator or changed arguments.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Generate the inputs into `dir` unless they are there from the same generator and arguments.
fn ensure_inputs(dir: &Path) {
    let args = std::env::var("PORTPLAN_AUDIT_BENCH_ARGS").unwrap_or_default();
    let script = std::fs::read(GENERATOR).expect("bench/audit/gen_audit.py");
    let stamp = format!("{:016x} {args}\n", fnv(&script));
    let stamp_file = dir.join("generator.stamp");
    if std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) {
        return;
    }
    eprintln!(
        "generating the audit benchmark's inputs into {}",
        dir.display()
    );
    let t = Instant::now();
    let status = Command::new("python3")
        .arg(GENERATOR)
        .arg("--out-dir")
        .arg(dir)
        .arg("--no-nft-text")
        .args(args.split_whitespace())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 is needed to generate the inputs (bench/audit/gen_audit.py)");
    assert!(status.success(), "bench/audit/gen_audit.py failed");
    std::fs::write(&stamp_file, stamp).expect("write generator.stamp");
    eprintln!("generated in {:.1?}", t.elapsed());
}

/// Whether the command line's filter (criterion's positional argument, taken as a substring
/// here) selects benchmark `id`; no filter selects everything.
fn wanted(id: &str) -> bool {
    const WITH_VALUE: [&str; 14] = [
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--profile-time",
        "--output-format",
        "--format",
        "--color",
        "--plotting-backend",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
    ];
    let mut filters = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if WITH_VALUE.contains(&a.as_str()) || a == "--nresamples" {
            args.next();
        } else if !a.starts_with('-') {
            filters.push(a);
        }
    }
    filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str()))
}

/// One timed run of parse + audit; prints the counts. `false` when the engine is exhausted.
fn probe(label: &str, text: &str, kind: Kind, pp: &plan::PointPlan) -> bool {
    let t = Instant::now();
    let rs = audit::read(text, Some(kind), &audit::ipset::Sets::none()).expect("parses");
    let parsed = t.elapsed();
    match audit::audit(
        &rs,
        audit::Point {
            plan: pp,
            host: false,
            interfaces: None,
        },
    ) {
        Ok(r) => {
            let certain = |v: &[bool]| v.iter().filter(|c| **c).count();
            let m: Vec<bool> = r.missing.iter().map(|m| m.certain).collect();
            let e: Vec<bool> = r.excess.iter().map(|e| e.certain).collect();
            eprintln!(
                "{label}: one run: parse {parsed:.2?}, parse+audit {:.2?}: missing {} ({} certain), \
                 excess {} ({} certain), shadowed {}, not analysed {}",
                t.elapsed(),
                m.len(),
                certain(&m),
                e.len(),
                certain(&e),
                r.shadowed.len(),
                r.not_analysed.len()
            );
            true
        }
        Err(audit_exhausted) => {
            eprintln!(
                "{label}: one run: parse {parsed:.2?}; audit FAILED after {:.2?}: {audit_exhausted} \
                 (parse+audit/{label} not benchmarked)",
                t.elapsed()
            );
            false
        }
    }
}

fn benches(c: &mut Criterion) {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).expect("create the data directory");
    ensure_inputs(&dir);
    let t = Instant::now();
    let cats = Catalogs::with_dir(&dir.join("catalogs"))
        .unwrap_or_else(|e| panic!("{}", e.plain(Lang::En)));
    let site = site::load_path(&dir.join("site.yaml"), &cats)
        .unwrap_or_else(|e| panic!("{}", e.plain(Lang::En)));
    let p = plan::plan(&site, &cats);
    let pp = p.point(POINT).expect("the site has fw-core");
    eprintln!(
        "catalogs + site + plan: {:.2?}; {POINT}: {} openings",
        t.elapsed(),
        pp.openings.len()
    );
    let inputs = [
        ("iptables-save", "ruleset.iptables", Kind::IptablesSave),
        ("nft-json", "ruleset.nft.json", Kind::NftJson),
    ];
    let texts: Vec<(&str, String, Kind)> = inputs
        .iter()
        .map(|(label, file, kind)| {
            let text = std::fs::read_to_string(dir.join(file)).expect("ruleset file");
            let rs = audit::read(&text, Some(*kind), &audit::ipset::Sets::none())
                .expect("ruleset parses");
            let rules: usize = rs.chains.iter().map(|c| c.rules.len()).sum();
            eprintln!(
                "{label}: {} bytes, {} chains, {rules} rules",
                text.len(),
                rs.chains.len()
            );
            (*label, text, *kind)
        })
        .collect();

    let mut g = c.benchmark_group("audit");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    for (label, text, kind) in &texts {
        g.bench_with_input(BenchmarkId::new("parse", label), text, |b, text| {
            b.iter(|| {
                audit::read(black_box(text), Some(*kind), &audit::ipset::Sets::none())
                    .expect("parses")
            })
        });
    }
    for (label, text, kind) in &texts {
        if !wanted(&format!("audit/parse+audit/{label}")) || !probe(label, text, *kind, pp) {
            continue;
        }
        g.bench_with_input(BenchmarkId::new("parse+audit", label), text, |b, text| {
            b.iter(|| {
                let rs = audit::read(black_box(text), Some(*kind), &audit::ipset::Sets::none())
                    .expect("parses");
                audit::audit(
                    &rs,
                    audit::Point {
                        plan: pp,
                        host: false,
                        interfaces: None,
                    },
                )
                .expect("not exhausted")
            })
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
