//! A bounded fuzz smoke run of every input parser, on every `cargo test` (stable Rust; the
//! libFuzzer targets in `fuzz/` search much further but need nightly flags).
//!
//! Each parser gets seeds — `fuzz/seeds/`, the examples, the fixtures, the built-in catalogs —
//! and proptest throws mutated copies at it: bytes flipped, inserted, deleted, duplicated,
//! spliced from another seed, and tokens that parsers find hard (anchors and aliases, tags,
//! document markers, deep brackets, escapes, odd addresses). The property is the one users
//! need: no panic; an error renders in both languages; what the condition and port-spec parsers
//! accept prints and re-parses to the same thing; an accepted site can be planned and rendered.
//!
//! Bounded: `PORTPLAN_FUZZ_CASES` cases per parser (default 256) and at most
//! `PORTPLAN_FUZZ_SECS` seconds each (default 20); cases past the deadline pass at once.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use portplan::catalog::{self, Catalogs};
use portplan::condition::Expr;
use portplan::diag::SourceFile;
use portplan::i18n::Lang;
use portplan::portset::PortSet;
use proptest::prelude::*;
use proptest::sample::Index;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: env_num("PORTPLAN_FUZZ_CASES", 256) as u32,
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    }
}

/// Whether `parser`'s time is up (its clock starts at its first case).
fn expired(parser: &'static str) -> bool {
    static STARTS: OnceLock<Mutex<HashMap<&'static str, Instant>>> = OnceLock::new();
    let limit = Duration::from_secs(env_num("PORTPLAN_FUZZ_SECS", 20));
    let mut m = STARTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    m.entry(parser).or_insert_with(Instant::now).elapsed() > limit
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &str) -> Vec<Vec<u8>> {
    let mut v: Vec<_> = std::fs::read_dir(root().join(dir))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_else(|_| Vec::new());
    v.sort();
    v.into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(root().join(path)).unwrap_or_default()
}

/// One edit of a seed.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, u8),
    Duplicate(Index, u16, u8),
    Token(Index, Index),
    Splice(Index, Index, Index, u16),
    Truncate(Index),
    Nest(Index, u16, bool),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), any::<u16>(), 1u8..6).prop_map(|(i, n, k)| Edit::Duplicate(i, n, k)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Edit::Token(i, t)),
        3 => (any::<Index>(), any::<Index>(), any::<Index>(), any::<u16>())
            .prop_map(|(i, s, f, n)| Edit::Splice(i, s, f, n)),
        1 => (any::<Index>()).prop_map(Edit::Truncate),
        1 => (any::<Index>(), 1u16..3000, any::<bool>()).prop_map(|(i, n, b)| Edit::Nest(i, n, b)),
    ]
}

const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "!tag ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "? ",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\\",
    "\t",
    "\n",
    "\n  ",
    "\r\n",
    "~",
    "null",
    "true",
    "1e999",
    "-0",
    "0x1F",
    "#",
    "|\n",
    ">-\n",
    "\u{feff}",
    "\u{202e}",
    "\\e[2J",
    "\\u0000",
    "zone:",
    "zone:internet",
    "::",
    "0.0.0.0",
    "0.0.0.0/0",
    "224.0.0.1",
    "255.255.255.255",
    "ff02::1",
    "10.0.0.0/8",
    "2001:db8::/32",
    "10.20.1.5",
    "{fqdn: a.example, zone: x}",
    "when: ",
    " and ",
    " or ",
    "not ",
    " in [",
    " == ",
    " != ",
    "(",
    ")",
    "option: ",
    "1-65535",
    "0",
    "65535",
    "65536",
    "-1",
    ",",
    "always",
    "both_ways: true",
    "protocol: ",
    "tcp",
    "udp",
    "{\"",
    "\": ",
    "[{",
    "}]",
    "\"jump\": {\"target\": \"",
    "\"goto\"",
    "\"expr\": [",
    "-A ",
    "-N ",
    "-j ",
    "-g ",
    "COMMIT\n",
    "*filter\n",
    ":FORWARD DROP [0:0]\n",
    "-m multiport ",
    "--dports ",
    "! ",
    "-s ",
    "-d ",
    "--ctstate ",
    "-p tcp ",
    "-i ",
    "-o ",
];

fn at(i: &Index, len: usize) -> usize {
    if len == 0 { 0 } else { i.index(len + 1) }
}

fn apply(seed: &[u8], edits: &[Edit], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let n = b.len();
        match e {
            Edit::Flip(i, x) if n > 0 => {
                let p = i.index(n);
                b[p] ^= x | 1;
            }
            Edit::Flip(..) => {}
            Edit::Insert(i, bytes) => {
                let p = at(i, n);
                b.splice(p..p, bytes.iter().copied());
            }
            Edit::Delete(i, k) => {
                let p = at(i, n);
                let end = (p + usize::from(*k)).min(n);
                b.drain(p..end);
            }
            Edit::Duplicate(i, len, times) => {
                let p = at(i, n);
                let end = (p + usize::from(*len) % 400).min(n);
                let chunk = b[p..end].to_vec();
                for _ in 0..*times {
                    b.splice(end..end, chunk.iter().copied());
                }
            }
            Edit::Token(i, t) => {
                let p = at(i, n);
                b.splice(p..p, t.get(TOKENS).bytes());
            }
            Edit::Splice(i, s, f, len) => {
                let other = s.get(seeds);
                let from = at(f, other.len());
                let end = (from + usize::from(*len) % 2000).min(other.len());
                let p = at(i, n);
                b.splice(p..p, other[from..end].iter().copied());
            }
            Edit::Truncate(i) => {
                let p = at(i, n);
                b.truncate(p);
            }
            Edit::Nest(i, depth, flow) => {
                let p = at(i, n);
                let d = usize::from(*depth);
                let (open, close) = if *flow { ("[", "]") } else { ("{a: ", "}") };
                let text = format!("{}{}", open.repeat(d), close.repeat(d));
                b.splice(p..p, text.bytes());
            }
        }
        b.truncate(1 << 20);
    }
    b
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An error renders, in both languages, whatever it holds.
fn renders(e: &portplan::diag::Error) {
    for lang in [Lang::En, Lang::Ja] {
        let _ = e.plain(lang);
        let _ = e.report_text(lang);
    }
}

fn catalogs() -> &'static Catalogs {
    static C: OnceLock<Catalogs> = OnceLock::new();
    C.get_or_init(Catalogs::builtin)
}

fn site_seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v = files("examples");
        for f in ["dualstack.yaml", "loopback.yaml", "verify.yaml"] {
            v.push(read(&format!("tests/fixtures/{f}")));
        }
        v
    })
}

fn catalog_seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v = files("catalogs");
        v.extend(files("tests/fixtures/catalogs"));
        v.extend(files("fuzz/seeds/catalog"));
        v
    })
}

fn condition_seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v: Vec<Vec<u8>> = [
            "auth == agent and captive_portal",
            "not (a or b) and c in [x, y, z]",
            "rpc_ports == dynamic or connect_by != name",
            "((((netbios))))",
            "syslog_tool and not syslog_via_proxy",
            "port == 8080",
            "x in []",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        for c in files("catalogs") {
            for l in text(&c).lines() {
                if let Some((_, w)) = l.split_once("when: ") {
                    v.push(w.trim().as_bytes().to_vec());
                }
            }
        }
        v
    })
}

fn portspec_seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        [
            "445",
            "1024-65535",
            "80,443",
            "9132-9133, 445",
            "1-",
            "-5",
            "0",
            "65535",
            "65536",
            "1-1,1-1",
            " 135 , 137-139 ",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
    })
}

fn ruleset_seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v = files("fuzz/seeds/ruleset");
        v.push(read("tests/fixtures/rs.json"));
        // What portplan itself renders for iptables, every point of the examples.
        for f in ["examples/hq.yaml", "tests/fixtures/dualstack.yaml"] {
            let Ok(site) = portplan::site::load_path(&root().join(f), catalogs()) else {
                continue;
            };
            let plan = portplan::plan::plan(&site, catalogs());
            for pt in &site.points {
                if let Some(pp) = plan.point(&pt.id) {
                    let rs = portplan::render::lower(&site, pt, pp);
                    let out = portplan::render::render(
                        &rs,
                        portplan::site::Target::Iptables,
                        &portplan::render::Options::mode(portplan::render::Mode::Replace),
                    );
                    v.extend(out.files.into_iter().map(|(_, t)| t.into_bytes()));
                }
            }
        }
        v
    })
}

fn case() -> impl Strategy<Value = (Index, Vec<Edit>)> {
    (any::<Index>(), prop::collection::vec(edit(), 0..6))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn site_parser((seed, edits) in case()) {
        if !expired("site") {
            let seeds = site_seeds();
            let input = text(&apply(seed.get::<Vec<u8>>(seeds), &edits, seeds));
            match portplan::site::load(SourceFile::new("fuzz.yaml", input), catalogs()) {
                Ok(site) => {
                    let plan = portplan::plan::plan(&site, catalogs());
                    for pt in &site.points {
                        if let Some(pp) = plan.point(&pt.id) {
                            let rs = portplan::render::lower(&site, pt, pp);
                            for mode in [portplan::render::Mode::Replace, portplan::render::Mode::Merge] {
                                let _ = portplan::render::render(&rs, pt.target, &portplan::render::Options::mode(mode));
                            }
                        }
                    }
                }
                Err(e) => renders(&e),
            }
        }
    }

    #[test]
    fn catalog_parser((seed, edits) in case()) {
        if !expired("catalog") {
            let seeds = catalog_seeds();
            let input = text(&apply(seed.get::<Vec<u8>>(seeds), &edits, seeds));
            match catalog::load(SourceFile::new("fuzz.yaml", input)) {
                Ok(c) => {
                    let dep = portplan::flows::Deployment::new(&c);
                    let _ = portplan::flows::ports_report(&[dep]);
                }
                Err(e) => renders(&e),
            }
        }
    }

    #[test]
    fn condition_parser((seed, edits) in case()) {
        if !expired("condition") {
            let seeds = condition_seeds();
            let input = text(&apply(seed.get::<Vec<u8>>(seeds), &edits, seeds));
            if let Ok(e) = Expr::parse(&input) {
                for c in catalogs().iter() {
                    let _ = e.check(&c.options);
                    let _ = e.eval(&c.default_options());
                }
                let printed = e.to_string();
                let again = Expr::parse(&printed);
                prop_assert!(again.is_ok(), "{printed:?} does not re-parse");
                prop_assert_eq!(again.unwrap().to_string(), printed);
            }
        }
    }

    #[test]
    fn portspec_parser((seed, edits) in case()) {
        if !expired("portspec") {
            let seeds = portspec_seeds();
            let input = text(&apply(seed.get::<Vec<u8>>(seeds), &edits, seeds));
            match PortSet::parse(&input) {
                Ok(set) if !set.is_empty() => {
                    prop_assert_eq!(PortSet::parse(&set.to_string()).ok(), Some(set));
                }
                Ok(_) => {}
                Err(e) => prop_assert!(e.offset() <= input.len()),
            }
        }
    }

    #[test]
    fn ruleset_readers((seed, edits) in case()) {
        if !expired("ruleset") {
            let seeds = ruleset_seeds();
            let input = text(&apply(seed.get::<Vec<u8>>(seeds), &edits, seeds));
            for kind in [
                None,
                Some(portplan::audit::Kind::NftJson),
                Some(portplan::audit::Kind::IptablesSave),
                Some(portplan::audit::Kind::Ip6tablesSave),
            ] {
                if let Ok(rs) = portplan::audit::read(&input, kind, &portplan::audit::ipset::Sets::none()) {
                    let _ = rs.layout();
                }
            }
        }
    }
}
