//! `ports` of the Microsoft catalogs of the library (issue 15), as a user reads them: the
//! vendor defaults and the most restrictive options (the fewest openings that still run the
//! product), in English and Japanese. The snapshots are reviewed against each catalog's ledger
//! (catalogs/rows/); a change to a catalog shows up here as a diff to review.

mod common;

use common::stdout;
use serde_json::Value;

/// (catalog, the options that give the fewest openings).
const CATALOGS: &[(&str, &[&str])] = &[
    (
        "ad-ds",
        &[
            "versions=modern",
            "ldaps=false",
            "sysvol=dfsr",
            "adws=false",
            "netbios=false",
            "trust_setup=false",
            "trust_time=false",
        ],
    ),
    (
        "windows-remote",
        &[
            "netbios=false",
            "admin_shares=false",
            "rdp=false",
            "rdp_users=false",
            "winrm=none",
        ],
    ),
    ("wsus", &["proxy=true", "ssl=false", "remote_console=false"]),
    (
        "sql-server",
        &[
            "instance=default",
            "browser=false",
            "remote_dac=false",
            "http_endpoint=none",
            "service_broker=false",
            "mirroring=false",
            "replication=none",
            "tsql_debugger=false",
            "ssas=none",
            "ssrs=none",
            "ssis_remote=false",
            "remote_wmi=false",
            "msdtc=false",
            "ipsec=false",
        ],
    ),
    (
        "exchange",
        &[
            "http=false",
            "imap=false",
            "pop=false",
            "smtp_submission=false",
            "edge=false",
            "internet_send=false",
            "frontend_proxy=false",
            "open_proxy_detection=false",
        ],
    ),
    (
        "entra-connect",
        &[
            "sign_in=phs",
            "seamless_sso=false",
            "password_writeback=false",
            "ldap_tls=false",
            "adfs_gmsa_install=false",
            "health_agent=false",
            "health_amqp=false",
        ],
    ),
];

fn args<'a>(product: &'a str, sets: &[&'a str], lang: &'a str) -> Vec<&'a str> {
    let mut a = vec!["ports", product, "--lang", lang];
    for s in sets {
        a.extend(["--set", s]);
    }
    a
}

fn port_count(product: &str, sets: &[&str]) -> usize {
    let mut a = args(product, sets, "en");
    a.extend(["--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&a)).unwrap();
    v["flows"].as_array().unwrap().len()
}

#[test]
fn ports_snapshots_defaults_and_most_restrictive_in_both_languages() {
    for (product, restrictive) in CATALOGS {
        for lang in ["en", "ja"] {
            insta::assert_snapshot!(
                format!("{product}_default_{lang}"),
                stdout(&args(product, &[], lang))
            );
            insta::assert_snapshot!(
                format!("{product}_restrictive_{lang}"),
                stdout(&args(product, restrictive, lang))
            );
        }
    }
}

/// The restrictive set really is tighter: no more flows than the defaults (WSUS trades its
/// direct internet flow for one to the proxy), and no option left out that would remove more
/// (each bool option flipped from its restrictive value adds flows or changes nothing).
#[test]
fn restrictive_options_have_fewer_flows_than_the_defaults() {
    for (product, restrictive) in CATALOGS {
        let (d, r) = (port_count(product, &[]), port_count(product, restrictive));
        assert!(r <= d, "{product}: restrictive {r} flows, defaults {d}");
        for s in *restrictive {
            let (name, value) = s.split_once('=').unwrap();
            let flipped = match value {
                "true" => format!("{name}=false"),
                "false" => format!("{name}=true"),
                _ => continue,
            };
            let others: Vec<&str> = restrictive.iter().copied().filter(|x| x != s).collect();
            let mut with = others.clone();
            with.push(&flipped);
            let n = port_count(product, &with);
            assert!(
                n >= r,
                "{product}: {flipped} gives {n} flows, fewer than {r}"
            );
        }
    }
}

#[test]
fn windows_versions_choose_the_dynamic_rpc_range() {
    let ranges = |v: &str| -> Vec<String> {
        let out = stdout(&[
            "ports",
            "ad-ds",
            "--set",
            &format!("versions={v}"),
            "--format",
            "json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let mut r: Vec<String> = v["openings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["from"] == "member" && o["to"] == "ad" && o["protocol"] == "tcp")
            .flat_map(|o| o["ports"].as_array().unwrap().clone())
            .map(|p| p.as_str().unwrap().to_string())
            .filter(|p| p.starts_with("1025-") || p.starts_with("49152-"))
            .collect();
        r.sort();
        r
    };
    assert_eq!(ranges("modern"), ["49152-65535"]);
    assert_eq!(ranges("mixed"), ["1025-5000", "49152-65535"]);
    assert_eq!(ranges("legacy"), ["1025-5000"]);
}
