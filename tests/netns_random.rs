//! Random rulesets against the kernel: a generator covering every modelled feature
//! (tests/common/rulegen.rs) writes iptables-save and nft rulesets; each is loaded into the
//! oracle's router, the model reads the kernel's own dump, and every probe the model is
//! certain about must get the kernel's verdict, on the forward, input and output paths.
//! `PORTPLAN_RANDOM_CASES=N` runs N seeds, three rulesets each (default 6; bench/audit/random.sh
//! runs hundreds).

mod common;

use common::differential::{Model, Sampler, compare};
use common::oracle::{Path, Router};
use common::require_root_and;
use common::rulegen;
use portplan::audit::ipset::Sets;
use portplan::audit::{Kind, read};

const PROBES: usize = 150;

fn cases() -> u64 {
    std::env::var("PORTPLAN_RANDOM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

fn ifaces() -> Vec<String> {
    let mut v: Vec<String> = rulegen::IFACES.iter().map(|s| s.to_string()).collect();
    v.push("eth7".into()); // matches eth+ without being named
    v.push("ppzz0".into());
    v
}

fn check(
    router: &Router,
    what: &str,
    dump: &str,
    kind: Kind,
    seed: u64,
    families: &[bool],
) -> (usize, usize, Vec<String>) {
    let rs = read(dump, Some(kind), &Sets::none())
        .unwrap_or_else(|e| panic!("{what}: cannot read the kernel's dump: {}\n{dump}", e.en));
    let paths = [Path::Forward, Path::Input, Path::Output];
    let ifs = ifaces();
    let model = Model::new(rs.clone(), &paths, &ifs);
    let mut sampler = Sampler::new(&rs, &ifs, seed);
    let (mut n, mut unknown, mut wrong) = (0, 0, Vec::new());
    for path in paths {
        let probes: Vec<_> = (0..PROBES)
            .map(|i| sampler.probe(path, families[i % families.len()]))
            .collect();
        let fates = router.fates(path, &probes);
        let (w, u) = compare(&model, path, &probes, &fates);
        n += probes.len();
        unknown += u;
        wrong.extend(w.into_iter().map(|x| format!("{what}: {x}")));
    }
    (n, unknown, wrong)
}

#[test]
fn random_rulesets_agree_with_the_kernel() {
    portplan::audit::with_stack(random_rulesets);
}

fn random_rulesets() {
    if !require_root_and(
        &[
            "ip",
            "nft",
            "iptables-restore",
            "ip6tables-restore",
            "iptables-save",
            "conntrack",
        ],
        "random_rulesets_agree_with_the_kernel",
    ) {
        return;
    }
    let names = ifaces();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let router = Router::new("rnd", &refs);
    let (mut probes, mut unknown, mut wrong) = (0, 0, Vec::new());
    for seed in 0..cases() {
        for v6 in [false, true] {
            let text = rulegen::iptables(seed, v6);
            let what = format!("iptables seed {seed}{}", if v6 { " (v6)" } else { "" });
            if let Err(e) =
                router.try_load_iptables((!v6).then_some(&text[..]), v6.then_some(&text[..]))
            {
                panic!("{what}: the generator wrote a ruleset the kernel refuses: {e}\n{text}");
            }
            let dump = router.dump_iptables(v6);
            let kind = if v6 {
                Kind::Ip6tablesSave
            } else {
                Kind::IptablesSave
            };
            let (n, u, w) = check(&router, &what, &dump, kind, seed, &[v6]);
            probes += n;
            unknown += u;
            wrong.extend(w);
        }
        let text = rulegen::nft(seed);
        let what = format!("nft seed {seed}");
        if let Err(e) = router.try_load_nft(&text) {
            panic!("{what}: the generator wrote a ruleset nft refuses: {e}\n{text}");
        }
        let (n, u, w) = check(
            &router,
            &what,
            &router.dump_nft_json(),
            Kind::NftJson,
            seed,
            &[false, true],
        );
        probes += n;
        unknown += u;
        wrong.extend(w);
    }
    eprintln!(
        "random differential: {} rulesets, {probes} probes, {unknown} uncertain, {} wrong",
        cases() * 3,
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "model and kernel disagree:\n{}",
        wrong
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Print the rulesets of one seed: `PORTPLAN_SEED=N cargo test --test netns_random print_seed -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_seed() {
    let seed: u64 = std::env::var("PORTPLAN_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    println!("{}", rulegen::iptables(seed, false));
    println!("{}", rulegen::iptables(seed, true));
    println!("{}", rulegen::nft(seed));
}
