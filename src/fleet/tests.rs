use std::net::IpAddr;

use super::*;
use crate::app::{Context, Loaded};
use crate::catalog::Catalogs;

const VERIFY: &str = include_str!("../../tests/fixtures/verify.yaml");

fn load(text: &str) -> (Loaded, SourceFile) {
    let file = SourceFile::new("site.yaml", text);
    let loaded = Context::new(Catalogs::builtin())
        .load(file.clone())
        .unwrap();
    (loaded, file)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn hosts_of_the_verify_site() {
    let (l, f) = load(VERIFY);
    let fleet = hosts(&l.site, &l.plan, &f).unwrap();
    let names: Vec<&str> = fleet.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "10.61.0.5",
            "10.62.0.10",
            "10.62.0.30",
            "2001:db8:61::5",
            "2001:db8:62::10"
        ]
    );
    let client = &fleet.hosts[0];
    assert!(
        client.probe && client.listen,
        "DeviceLock service accepts and sends"
    );
    assert!(client.roles.contains("devicelock.service"));
    assert!(client.roles.contains("tmws.syslog_tool"));
    let syslog = &fleet.hosts[2];
    assert!(syslog.listen && !syslog.probe, "{syslog:?}");
    assert_eq!(fleet.hosts[3].file, "2001_db8_61__5");
    assert!(fleet.uncovered.is_empty(), "{:?}", fleet.uncovered);
}

#[test]
fn networks_and_internet_are_not_hosts() {
    let site = VERIFY.replace(
        "syslog_server: [10.62.0.30]",
        "syslog_server: [10.62.0.0/28, 10.62.0.30/32]",
    );
    let (l, f) = load(&site);
    let fleet = hosts(&l.site, &l.plan, &f).unwrap();
    assert!(fleet.hosts.iter().any(|h| h.name == "10.62.0.30"));
    assert_eq!(fleet.uncovered.len(), 1, "{:?}", fleet.uncovered);
    assert_eq!(fleet.uncovered[0].endpoint, "10.62.0.0/28");
    assert!(fleet.uncovered[0].reason.en.contains("--inventory"));
}

#[test]
fn files_parse_back_and_data_is_never_a_template() {
    let (l, f) = load(VERIFY);
    let fleet = hosts(&l.site, &l.plan, &f).unwrap();
    let opts = FleetOptions {
        binary: "/opt/{{ lookup('pipe', 'id') }}/portplan".into(),
        ..FleetOptions::default()
    };
    let files = ansible::files(&fleet, &opts, VERIFY).unwrap();
    let get = |n: &str| &files.iter().find(|(k, _)| k == n).unwrap().1;
    let vars = get("vars.yml");
    assert!(
        vars.contains("portplan_local_bin: !unsafe"),
        "a path with a Jinja delimiter must be tagged: {vars}"
    );
    // Everything parses as YAML with the shape Ansible reads.
    let inv: serde_json::Value = serde_saphyr::from_str(get("inventory.yml")).unwrap();
    let hosts = &inv["portplan"]["hosts"];
    assert_eq!(hosts["10.61.0.5"]["portplan_as"], "10.61.0.5");
    assert_eq!(hosts["10.61.0.5"]["ansible_host"], "10.61.0.5");
    let children = &inv["portplan"]["children"];
    assert!(
        children["portplan_sources"]["hosts"]
            .as_object()
            .unwrap()
            .contains_key("10.61.0.5")
    );
    assert!(
        children["portplan_devicelock_console"]["hosts"]
            .as_object()
            .unwrap()
            .contains_key("10.62.0.10")
    );
    let book: serde_json::Value = serde_saphyr::from_str(get("playbook.yml")).unwrap();
    let plays = book.as_array().unwrap();
    assert_eq!(plays.len(), 4);
    let probe = &plays[2];
    assert_eq!(probe["serial"], 100);
    assert_eq!(
        probe["tasks"][0]["throttle"], 10,
        "2000/s total at 200/s per host"
    );
    assert_eq!(
        probe["tasks"][0]["ansible.builtin.command"]["argv"][1],
        "probe"
    );
    // `name` first in every task (ansible-lint key-order).
    for play in get("playbook.yml").split("\n- name:").skip(1) {
        assert!(!play.contains("\n  - ansible.builtin"), "{play}");
    }
    assert_eq!(get("site.yaml"), VERIFY);
}

#[test]
fn total_rate_bounds_the_probers() {
    let o = FleetOptions {
        probe_rate: 300,
        total_rate: 1000,
        ..FleetOptions::default()
    };
    assert_eq!(o.throttle(), 3);
    assert!(o.throttle() * o.probe_rate <= o.total_rate);
    let bad = FleetOptions {
        probe_rate: 300,
        total_rate: 100,
        ..FleetOptions::default()
    };
    assert!(bad.check().is_err());
    let rel = FleetOptions {
        remote_dir: "tmp/x".into(),
        ..FleetOptions::default()
    };
    assert!(rel.check().is_err());
}

#[test]
fn inventory_forms() {
    let ini = SourceFile::new(
        "hosts.ini",
        "# lab\n[clients]\npc01 ansible_host=10.61.0.5\n10.62.0.[10:11]\n\n[servers:vars]\nansible_user=root\n[dc]\nsyslog portplan_addresses='10.62.0.30, 2001:db8:62::10'\n[all:children]\nclients\n",
    );
    let hosts = inventory::read(&ini).unwrap();
    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["10.62.0.10", "10.62.0.11", "pc01", "syslog"]);
    assert_eq!(hosts[2].addrs, [ip("10.61.0.5")]);
    assert_eq!(hosts[3].addrs, [ip("10.62.0.30"), ip("2001:db8:62::10")]);

    let yaml = SourceFile::new(
        "hosts.yml",
        "all:\n  children:\n    lan:\n      hosts:\n        pc01: {ansible_host: 10.61.0.5}\n        web[1:2].example: ~\n",
    );
    let names: Vec<String> = inventory::read(&yaml)
        .unwrap()
        .into_iter()
        .map(|h| h.name)
        .collect();
    assert_eq!(names, ["pc01", "web1.example", "web2.example"]);

    let json = SourceFile::new(
        "inv.json",
        r#"{"_meta": {"hostvars": {"pc01": {"ansible_host": "10.61.0.5"}}}, "all": {"children": ["ungrouped"]}, "ungrouped": {"hosts": ["pc01", "x"]}}"#,
    );
    let hosts = inventory::read(&json).unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0].addrs, [ip("10.61.0.5")]);

    for (name, bad) in [
        ("empty", ""),
        ("site", VERIFY),
        ("bad section", "[clients\npc01\n"),
        ("bad pair", "[g]\npc01 ansible_host\n"),
        ("truncated json", "{\"_meta\": {\"hostvars\": {"),
    ] {
        let f = SourceFile::new(name, bad);
        let e = inventory::read(&f).expect_err(name);
        assert_eq!(e.exit_code(), 2);
    }
}

#[test]
fn host_ranges() {
    assert_eq!(inventory::expand("web[01:03]"), ["web01", "web02", "web03"]);
    assert_eq!(inventory::expand("db-[a:c]"), ["db-a", "db-b", "db-c"]);
    assert_eq!(inventory::expand("h[1:9:4]"), ["h1", "h5", "h9"]);
    assert_eq!(inventory::expand("[2001:db8::1]"), ["[2001:db8::1]"]);
    assert_eq!(inventory::expand("a[3:1]"), ["a[3:1]"]);
}

#[test]
fn fleet_onto_an_inventory() {
    let (l, _) = load(VERIFY);
    let inv = inventory::read(&SourceFile::new(
        "hosts.ini",
        "client ansible_host=10.61.0.5 portplan_addresses=2001:db8:61::5\nconsole ansible_host=10.62.0.10 portplan_addresses=2001:db8:62::10\nprinter ansible_host=192.0.2.1\n",
    ))
    .unwrap();
    let fleet = hosts_from_inventory(&l.site, &l.plan, &inv).unwrap();
    assert_eq!(fleet.hosts.len(), 2);
    assert_eq!(fleet.hosts[0].spec(), "10.61.0.5,2001:db8:61::5");
    assert!(fleet.hosts[0].connect.is_none());
    assert_eq!(fleet.unmatched, 1);
    assert_eq!(fleet.uncovered.len(), 1, "{:?}", fleet.uncovered);
    assert_eq!(fleet.uncovered[0].endpoint, "10.62.0.30");
    // Two inventory hosts claiming one address is an error.
    let dup = inventory::read(&SourceFile::new(
        "hosts.ini",
        "a ansible_host=10.61.0.5\nb portplan_addresses=10.61.0.5\n",
    ))
    .unwrap();
    assert!(hosts_from_inventory(&l.site, &l.plan, &dup).is_err());
}

/// The probe JSON of `from`, every check with `result`, through the real output path.
fn probe_json(
    l: &Loaded,
    from: &str,
    result: impl Fn(&crate::verify::Check) -> &'static str,
) -> String {
    use crate::verify::probe::{Observed, Outcome, ProbeOptions, ProbeReport, ProbeResult};
    let host = crate::verify::resolve_host(&l.site, from).unwrap();
    let mut pp = crate::verify::probe_plan(&l.site, &l.plan, &host, None).unwrap();
    let checks = std::mem::take(&mut pp.checks);
    let results = checks
        .into_iter()
        .map(|c| {
            let r = result(&c);
            let (result, observed) = match r {
                "pass" if c.expect == crate::verify::Expect::Open => {
                    (Outcome::Pass, Observed::Open { token: true })
                }
                "pass" => (Outcome::Pass, Observed::Silent),
                "blocked" => (Outcome::Blocked, Observed::Silent),
                _ => (Outcome::UnexpectedOpen, Observed::Open { token: true }),
            };
            ProbeResult {
                check: c,
                resolved: None,
                result,
                observed,
                rtt_ms: None,
            }
        })
        .collect();
    let report = ProbeReport {
        plan: pp,
        options: ProbeOptions {
            timeout: std::time::Duration::from_secs(1),
            concurrency: 1,
            rate: 1,
        },
        results,
        elapsed_ms: 1.0,
    };
    crate::output::verify::probe(
        &report,
        crate::output::verify::VerifyFormat::Json,
        false,
        crate::i18n::Lang::En,
    )
}

#[test]
fn merge_names_the_opening_that_failed() {
    let (l, _) = load(VERIFY);
    let fw = l.plan.point("fw").unwrap();
    let client = "10.61.0.5,2001:db8:61::5";
    let all_pass = probe_json(&l, client, |_| "pass");
    let f = |name: &str, text: &str| SourceFile::new(name, text.to_string());
    let r = merge::merge(&l.site, &l.plan, &[f("a.json", &all_pass)]).unwrap();
    assert!(r.ok);
    assert!(r.checks > 20);
    let open_rows = r.rows.iter().filter(|x| x.expect == "open").count();
    assert_eq!(
        open_rows,
        fw.openings.len(),
        "one row per opening, no 'no point' row"
    );

    // Every check that r3 permits is blocked: exactly r3's row fails.
    let gone = &fw.openings[2];
    let blocked = probe_json(&l, client, |c| {
        let permits = c.expect == crate::verify::Expect::Open
            && match (c.src, &c.dst) {
                (Some(s), crate::verify::Dest::Addr(d)) => gone.permits(s, *d, c.protocol, c.port),
                _ => false,
            };
        if permits { "blocked" } else { "pass" }
    });
    let r = merge::merge(&l.site, &l.plan, &[f("a.json", &blocked)]).unwrap();
    assert!(!r.ok);
    let failing: Vec<&str> = r
        .rows
        .iter()
        .filter(|x| x.fails())
        .map(|x| x.rule.as_str())
        .collect();
    assert_eq!(failing, ["r3"]);
    let row = r.rows.iter().find(|x| x.rule == "r3").unwrap();
    assert!(row.failed.iter().all(|p| p.result == "blocked"));
    assert_eq!(row.request, "FW-fw-003");

    // The same source twice is refused; another site's results are refused.
    let e = merge::merge(
        &l.site,
        &l.plan,
        &[f("a.json", &all_pass), f("b.json", &all_pass)],
    )
    .unwrap_err();
    assert!(e.plain(crate::i18n::Lang::En).contains("also in a.json"));
    let other = all_pass.replace("10.62.0.10", "10.99.0.10");
    assert!(merge::merge(&l.site, &l.plan, &[f("o.json", &other)]).is_err());

    // Degenerate inputs: empty, another kind, truncated.
    for (name, text) in [
        ("empty", String::new()),
        ("listen log", "{\"event\":\"ready\"}\n".to_string()),
        ("truncated", all_pass[..all_pass.len() / 2].to_string()),
        ("yaml", VERIFY.to_string()),
    ] {
        let e = merge::merge(&l.site, &l.plan, &[f(name, &text)]).expect_err(name);
        assert_eq!(e.exit_code(), 2, "{name}");
    }
    // Every format renders; the XLSX is a zip.
    for fmt in [
        render::MergeFormat::Table,
        render::MergeFormat::Json,
        render::MergeFormat::Junit,
    ] {
        let t = render::text(&r, fmt, false, crate::i18n::Lang::Ja);
        assert!(t.contains("r3"), "{fmt:?}");
    }
    let x = render::xlsx(&r, crate::i18n::Lang::En).unwrap();
    assert!(x.starts_with(b"PK"));
}
