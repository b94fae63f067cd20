//! The two audit engines against each other: the sliced one evaluates each leaf of a partition
//! of the packet space on its own, meeting only the rules that can match there
//! (`audit::slice`); the default evaluates the whole space at once (`Engine::Whole`). On
//! random rulesets covering every modelled feature (tests/common/rulegen.rs) and random plans,
//! both must give the same report, and every leaf's path evaluation must equal the whole
//! evaluation restricted to the leaf, set for set (decision diagrams are canonical, so this is
//! exact equality, not sampling). `PORTPLAN_ENGINE_CASES=N` runs N seeds (default 40).

mod common;

use common::differential::Rng;
use common::rulegen;
use portplan::addr::AddrSet;
use portplan::audit::eval::{
    PathKind, Redundancy, eval_path, eval_path_in, eval_path_with, path_universe,
};
use portplan::audit::ipset::Sets;
use portplan::audit::model::Ruleset;
use portplan::audit::slice::{leaves, rule_items};
use portplan::audit::{AuditReport, Engine, Interfaces, Point, audit_with, read};
use portplan::catalog::Protocol;
use portplan::packet::Space;
use portplan::plan::{Direction, Opening, PointPlan, Provenance};
use portplan::portset::PortSet;

fn cases() -> u64 {
    std::env::var("PORTPLAN_ENGINE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

const V4: [&str; 9] = [
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.0/24",
    "10.1.2.3/32",
    "10.2.0.0/16",
    "192.168.7.0/24",
    "172.16.0.0/12",
    "203.0.113.9/32",
    "0.0.0.0/0",
];
const V6: [&str; 5] = [
    "2001:db8::/32",
    "2001:db8:1:2::/64",
    "2001:db8:1:2::3/128",
    "fd00::/8",
    "::/0",
];
const PORTS: [&str; 8] = ["22", "53", "80", "443", "445", "1024-2048", "3306", "8080"];

fn addrs(r: &mut Rng, v6: bool) -> AddrSet {
    let mut a = AddrSet::new();
    for _ in 0..1 + r.below(2) {
        let n = if v6 { *r.pick(&V6) } else { *r.pick(&V4) };
        a.insert_net(n.parse().expect("net"));
    }
    a
}

fn random_plan(seed: u64, host: bool) -> PointPlan {
    let mut r = Rng(seed ^ 0x5eed);
    let mut openings = Vec::new();
    for i in 0..r.below(12) {
        let v6 = r.chance(30);
        let direction = if host {
            *r.pick(&[Direction::In, Direction::Out])
        } else {
            Direction::Forward
        };
        let protocol = *r.pick(&[Protocol::Tcp, Protocol::Udp]);
        let spec = PORTS[r.below(PORTS.len())];
        let ports = PortSet::parse(spec).expect("ports");
        openings.push(Opening {
            direction,
            from: addrs(&mut r, v6),
            to: addrs(&mut r, v6),
            protocol,
            ports: ports.clone(),
            from_roles: Default::default(),
            to_roles: Default::default(),
            provenance: vec![Provenance {
                requirement: format!("test/r{i}"),
                because: vec![],
                source: "test".into(),
                ports,
            }],
        });
    }
    PointPlan {
        id: "fw".into(),
        kind: if host { "host" } else { "network" },
        target: portplan::site::Target::Iptables,
        openings,
        must_stay_closed: Vec::new(),
    }
}

fn json(r: &AuditReport) -> String {
    let mut r = r.clone();
    // Remarks are the same set; the order they are met in may differ.
    r.not_analysed.sort();
    serde_json::to_string_pretty(&r).expect("json")
}

fn same_reports(what: &str, rs: &Ruleset, seed: u64) {
    let ifs = Interfaces(vec![
        (
            "eth0".into(),
            AddrSet::net("10.0.0.0/8".parse().expect("net")),
            0,
        ),
        (
            "eth1".into(),
            AddrSet::net("192.168.0.0/16".parse().expect("net")),
            1,
        ),
        (
            "wan0".into(),
            AddrSet::net("203.0.113.0/24".parse().expect("net")),
            2,
        ),
    ]);
    for (host, interfaces) in [(false, None), (false, Some(&ifs)), (true, None)] {
        let plan = random_plan(seed, host);
        let point = Point {
            plan: &plan,
            host,
            interfaces,
        };
        let whole = audit_with(rs, point, &[22], Engine::Whole).expect("whole");
        let sliced = audit_with(rs, point, &[22], Engine::Sliced).expect("sliced");
        let (a, b) = (json(&whole), json(&sliced));
        if a != b {
            let diff: Vec<String> = a
                .lines()
                .zip(b.lines())
                .enumerate()
                .filter(|(_, (x, y))| x != y)
                .take(12)
                .map(|(i, (x, y))| format!("line {i}:\n  whole:  {x}\n  sliced: {y}"))
                .collect();
            panic!(
                "{what} (host {host}, interfaces {}): the engines disagree\n{}",
                interfaces.is_some(),
                diff.join("\n")
            );
        }
    }
}

/// Every leaf's evaluation is the whole evaluation restricted to the leaf.
fn same_sets(what: &str, rs: &Ruleset) {
    let space = Space::with_table(&rs.layout(), 22).expect("space");
    let s = &space;
    let items = rule_items(rs);
    // Small leaves: many cuts, so many rules are skipped somewhere.
    let ls = leaves(&items, 4);
    if items.len() > 8 {
        assert!(ls.len() > 1, "{what}: not cut");
        assert!(
            ls.iter().any(|l| l.rules.len() < items.len() / 2),
            "{what}: no leaf skips rules"
        );
    }
    for kind in [PathKind::Forward, PathKind::Input, PathKind::Output] {
        let u = path_universe(s, rs, kind).expect("universe");
        let whole = eval_path(s, rs, kind, &u).expect("whole");
        for l in &ls {
            let b = l.set(s).expect("box");
            let part =
                eval_path_in(s, rs, kind, &s.and(&u, &b).expect("and"), Some(l)).expect("leaf");
            let cut = |x: &portplan::packet::Set| s.and(x, &b).expect("and");
            let at = format!("{what}, {kind:?}, leaf {:?}", l.bx);
            assert!(part.accepted == cut(&whole.accepted), "{at}: accepted");
            assert!(part.dropped == cut(&whole.dropped), "{at}: dropped");
            assert!(part.tainted == cut(&whole.tainted), "{at}: tainted");
            for (key, h) in &whole.hits {
                let mine = part.hits.get(key).cloned().unwrap_or_else(|| s.none());
                assert!(mine == cut(h), "{at}: hits of {key:?}");
            }
            for (blame, set) in &whole.accepts {
                let mine = part
                    .accepts
                    .iter()
                    .find(|(b, _)| b == blame)
                    .map(|(_, x)| x.clone())
                    .unwrap_or_else(|| s.none());
                assert!(mine == cut(set), "{at}: accepts of {blame:?}");
            }
            // Leaves only see their rules' verdicts: nothing else may appear.
            for (blame, set) in &part.accepts {
                assert!(
                    s.is_empty(set) || whole.accepts.iter().any(|(b, _)| b == blame),
                    "{at}: {blame:?} accepts in the leaf only"
                );
            }
        }
    }
}

#[test]
fn the_sliced_engine_agrees_with_the_whole_one_on_random_rulesets() {
    portplan::audit::with_stack(|| {
        for seed in 0..cases() {
            for v6 in [false, true] {
                let text = rulegen::iptables(seed, v6);
                let what = format!("iptables seed {seed}{}", if v6 { " (v6)" } else { "" });
                let rs = read(&text, None, &Sets::default())
                    .unwrap_or_else(|e| panic!("{what}: {}", e.en));
                same_sets(&what, &rs);
                same_reports(&what, &rs, seed);
            }
        }
    });
}

/// A ruleset where every rule is a host pair: the slices must cut it, and the findings stay.
#[test]
fn a_ruleset_of_host_pairs_is_cut_into_many_leaves_with_the_same_findings() {
    let mut text = String::from(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n",
    );
    for i in 0..400u32 {
        text.push_str(&format!(
            "-A FORWARD -s 10.1.{}.{}/32 -d 10.2.{}.{}/32 -p tcp -m multiport --dports {},{} -j ACCEPT\n",
            i / 200,
            i % 200,
            (i * 7) % 250,
            i % 250,
            1000 + i % 50,
            2000 + i % 30
        ));
        if i % 50 == 0 {
            // A duplicate further down: shadowed.
            text.push_str(&format!(
                "-A FORWARD -s 10.1.{}.{}/32 -d 10.2.{}.{}/32 -p tcp --dport {} -j ACCEPT\n",
                i / 200,
                i % 200,
                (i * 7) % 250,
                i % 250,
                1000 + i % 50
            ));
        }
    }
    text.push_str("-A FORWARD -p udp --dport 53 -j ACCEPT\n-A FORWARD -j DROP\nCOMMIT\n");
    let rs = read(&text, None, &Sets::default()).expect("ruleset");
    portplan::audit::with_stack(|| {
        same_reports("host pairs", &rs, 7);
        let plan = random_plan(7, false);
        let point = Point {
            plan: &plan,
            host: false,
            interfaces: None,
        };
        let r = audit_with(&rs, point, &[22], Engine::Sliced).expect("sliced");
        assert_eq!(r.shadowed.len(), 8, "{:#?}", r.shadowed);
    });
}

/// The suffix pass finds exactly the replay's redundant rules (and changes nothing else), on
/// random exact rulesets and on the random rulesets of every feature.
#[test]
fn the_suffix_pass_finds_the_replays_redundant_rules() {
    portplan::audit::with_stack(|| {
        let (mut exact_paths, mut found) = (0usize, 0usize);
        for seed in 0..cases() * 3 {
            let mut texts = vec![(format!("exact seed {seed}"), rulegen::iptables_exact(seed))];
            if seed < cases() {
                texts.push((
                    format!("iptables seed {seed}"),
                    rulegen::iptables(seed, false),
                ));
                texts.push((
                    format!("iptables seed {seed} (v6)"),
                    rulegen::iptables(seed, true),
                ));
            }
            for (what, text) in texts {
                let rs = read(&text, None, &Sets::default())
                    .unwrap_or_else(|e| panic!("{what}: {}\n{text}", e.en));
                let space = Space::with_table(&rs.layout(), 22).expect("space");
                let s = &space;
                for kind in [PathKind::Forward, PathKind::Input, PathKind::Output] {
                    let u = path_universe(s, &rs, kind).expect("universe");
                    let a =
                        eval_path_with(s, &rs, kind, &u, None, Redundancy::Suffix).expect("suffix");
                    let b =
                        eval_path_with(s, &rs, kind, &u, None, Redundancy::Replay).expect("replay");
                    let at = format!("{what}, {kind:?}\n{text}");
                    assert_eq!(a.redundant, b.redundant, "{at}");
                    assert_eq!(a.exact, b.exact, "{at}");
                    assert_eq!(a.changed, b.changed, "{at}");
                    assert_eq!(a.notes, b.notes, "{at}");
                    assert!(a.accepted == b.accepted && a.dropped == b.dropped, "{at}");
                    if a.exact && a.redundancy == Some(Redundancy::Suffix) {
                        exact_paths += 1;
                        found += a.redundant.len();
                    }
                    if what.starts_with("exact") {
                        // Nothing in these rulesets makes the pass give up.
                        assert_eq!(a.redundancy, Some(Redundancy::Suffix), "{at}");
                    }
                }
            }
        }
        eprintln!("suffix pass: {exact_paths} exact paths, {found} redundant rules");
        // Not vacuous: the pass answered on many paths, and found redundant rules.
        assert!(
            exact_paths >= cases() as usize * 3,
            "{exact_paths} exact paths"
        );
        assert!(
            found >= cases() as usize,
            "{found} redundant rules over {exact_paths} paths"
        );
    });
}
