//! The second half of the catalog library (issue 15): `ports` for each catalog, with the vendor
//! defaults and with the most restrictive options, in English and Japanese, as snapshots; and
//! checks that the restrictive options really open less than the defaults.
//!
//! Row-by-row accounting against the vendor documents is `tests/catalog_library.rs` (ledgers in
//! `catalogs/rows/`).

mod common;

use std::collections::BTreeSet;

use common::{portplan, stdout};
use serde_json::Value;

/// (catalog id, the most restrictive `--set` options).
const CATALOGS: &[(&str, &[&str])] = &[
    (
        "zabbix",
        &["agent_checks=active", "frontend_protocol=https"],
    ),
    (
        "jp1-base",
        &[
            "im_manager=false",
            "im_view=false",
            "remote_event_api=false",
        ],
    ),
    (
        "scom",
        &["sql_browser=false", "kerberos=false", "setup=false"],
    ),
    (
        "scvmm",
        &[
            "netbios=false",
            "dynamic_rpc=false",
            "remote_sql=false",
            "winrm_ssl=false",
        ],
    ),
    ("kubernetes", &["nodeport=false", "lb_health_checks=false"]),
    (
        "consul",
        &["http_api=https", "remote_dns=false", "service_mesh=false"],
    ),
    ("nomad", &["servers=single", "task_ports=false"]),
    (
        "wazuh",
        &["enrollment=false", "syslog=none", "api_admin=false"],
    ),
    ("proxmox-ve", &["vnc_console=false", "spice=false"]),
    ("nps", &["accounting=false"]),
];

fn sets_of(id: &str) -> &'static [&'static str] {
    CATALOGS.iter().find(|(i, _)| *i == id).unwrap().1
}

fn args<'a>(id: &'a str, sets: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["ports", id];
    for s in sets {
        v.push("--set");
        v.push(s);
    }
    v.extend_from_slice(extra);
    v
}

/// Every (from, to, protocol, port range) the JSON answer opens.
fn opened(id: &str, sets: &[&str]) -> BTreeSet<(String, String, String, String)> {
    let v: Value = serde_json::from_str(&stdout(&args(id, sets, &["--format", "json"]))).unwrap();
    let mut out = BTreeSet::new();
    for o in v["openings"].as_array().unwrap() {
        for p in o["ports"].as_array().unwrap() {
            out.insert((
                o["from"].as_str().unwrap().to_string(),
                o["to"].as_str().unwrap().to_string(),
                o["protocol"].as_str().unwrap().to_string(),
                p.as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// Whether `set` lets `from` reach `to` on `protocol`/`port` (the JSON merges adjacent ports into
/// ranges such as `8300-8302`).
fn opens(
    set: &BTreeSet<(String, String, String, String)>,
    from: &str,
    to: &str,
    protocol: &str,
    port: u32,
) -> bool {
    set.iter().any(|(f, t, p, spec)| {
        f == from
            && t == to
            && p == protocol
            && spec.split(',').any(|part| {
                let (lo, hi) = part.split_once('-').unwrap_or((part, part));
                let (lo, hi): (u32, u32) = (lo.trim().parse().unwrap(), hi.trim().parse().unwrap());
                (lo..=hi).contains(&port)
            })
    })
}

#[test]
fn ports_snapshots_defaults_and_most_restrictive() {
    for (id, sets) in CATALOGS {
        for lang in ["en", "ja"] {
            insta::assert_snapshot!(
                format!("ports_{id}_default_{lang}"),
                stdout(&args(id, &[], &["--lang", lang]))
            );
            insta::assert_snapshot!(
                format!("ports_{id}_restrictive_{lang}"),
                stdout(&args(id, sets, &["--lang", lang]))
            );
        }
    }
}

#[test]
fn restrictive_options_open_something_and_differ_from_the_defaults() {
    for (id, sets) in CATALOGS {
        let default = opened(id, &[]);
        let strict = opened(id, sets);
        assert!(!default.is_empty(), "{id}: defaults open nothing");
        assert!(!strict.is_empty(), "{id}: restrictive options open nothing");
        assert_ne!(default, strict, "{id}: the options changed nothing");
    }
}

#[test]
fn scvmm_restrictive_drops_the_dynamic_range_and_netbios() {
    let default = opened("scvmm", &[]);
    assert!(opens(&default, "vmm_server", "host", "tcp", 49152));
    let strict = opened("scvmm", sets_of("scvmm"));
    for (f, t, p, _) in &strict {
        assert!(
            !opens(&strict, f, t, p, 49152),
            "{f} -> {t} {p} keeps the dynamic range"
        );
        assert!(
            !opens(&strict, f, t, p, 139),
            "{f} -> {t} {p} keeps NetBIOS"
        );
    }
    // The agent's fixed ports stay.
    assert!(opens(&strict, "vmm_server", "host", "tcp", 5985));
}

#[test]
fn zabbix_agent_mode_moves_the_connection() {
    let passive = opened("zabbix", &[]);
    assert!(opens(&passive, "zabbix_server", "agent", "tcp", 10050));
    let active = opened("zabbix", &["agent_checks=active"]);
    assert!(!active.iter().any(|(_, t, _, _)| t == "agent"));
    assert!(opens(&active, "agent", "zabbix_server", "tcp", 10051));
}

#[test]
fn jp1_directory_choice_picks_one_ldap_port() {
    let ldaps = opened("jp1-base", &["directory=ldaps"]);
    assert!(opens(&ldaps, "auth_server", "ad", "tcp", 636));
    for (f, t, p, _) in &ldaps {
        assert!(!opens(&ldaps, f, t, p, 389), "{f} -> {t} still opens 389");
    }
}

#[test]
fn catalog_check_accepts_each_file() {
    for (id, _) in CATALOGS {
        let path = format!("{}/catalogs/{id}.yaml", env!("CARGO_MANIFEST_DIR"));
        portplan()
            .args(["catalog", "check", &path])
            .assert()
            .success();
    }
}

#[test]
fn scom_catalog_row_9_opens_the_vendor_range_both_ways_unless_told_not_to() {
    let row9 = opened("scom", &["mp_catalog=true"]);
    for (f, t) in [
        ("admin_terminal", "mp_catalog"),
        ("mp_catalog", "admin_terminal"),
    ] {
        for port in [49152, 65535] {
            assert!(
                opens(&row9, f, t, "tcp", port),
                "{f} -> {t} {port}: {row9:?}"
            );
        }
    }
    let narrow = opened("scom", &["mp_catalog=true", "mp_catalog_high_ports=false"]);
    assert!(!opens(
        &narrow,
        "admin_terminal",
        "mp_catalog",
        "tcp",
        49152
    ));
    assert!(!opens(
        &narrow,
        "mp_catalog",
        "admin_terminal",
        "tcp",
        49152
    ));
    assert!(opens(&narrow, "admin_terminal", "mp_catalog", "tcp", 443));
}

#[test]
fn kubernetes_etcd_stays_between_control_plane_nodes() {
    let ha = opened("kubernetes", &["control_plane_nodes=multiple"]);
    assert!(opens(&ha, "control_plane", "control_plane", "tcp", 2379));
    assert!(opens(&ha, "control_plane", "control_plane", "tcp", 2380));
    for (f, t) in [
        ("worker", "control_plane"),
        ("admin_terminal", "control_plane"),
    ] {
        assert!(opens(&ha, f, t, "tcp", 6443));
        assert!(!opens(&ha, f, t, "tcp", 2379), "{f} -> {t} reaches etcd");
    }
    // A single stacked control plane keeps etcd on the host.
    let single = opened("kubernetes", &[]);
    assert!(!opens(
        &single,
        "control_plane",
        "control_plane",
        "tcp",
        2379
    ));
    let external = opened("kubernetes", &["etcd=external"]);
    assert!(opens(&external, "control_plane", "etcd", "tcp", 2379));
    assert!(!opens(&external, "control_plane", "etcd", "tcp", 2380));
    assert!(opens(&external, "etcd", "etcd", "tcp", 2380));
}

#[test]
fn consul_gossip_is_tcp_and_udp_between_every_agent() {
    let o = opened("consul", &[]);
    for proto in ["tcp", "udp"] {
        for (f, t) in [("agent", "server"), ("server", "agent"), ("agent", "agent")] {
            assert!(
                opens(&o, f, t, proto, 8301),
                "{f} -> {t} {proto} 8301 missing"
            );
        }
    }
    // Client agents reach the servers' RPC port, never the WAN gossip port.
    assert!(opens(&o, "agent", "server", "tcp", 8300));
    assert!(!opens(&o, "agent", "server", "tcp", 8302));
    // gRPC over TLS uses 8503, not the 8403 of the table cell (ledger row 5).
    let tls = opened("consul", &["remote_xds=grpc_tls"]);
    assert!(opens(&tls, "mesh_proxy", "server", "tcp", 8503));
    assert!(!opens(&tls, "mesh_proxy", "server", "tcp", 8403));
}

#[test]
fn nomad_clients_never_need_the_serf_port() {
    let o = opened("nomad", &["federation=true", "api_to_clients=true"]);
    assert!(opens(&o, "server", "server", "udp", 4648));
    assert!(opens(&o, "server", "remote_server", "tcp", 4648));
    assert!(opens(&o, "remote_server", "server", "udp", 4648));
    assert!(
        !o.iter()
            .any(|(f, t, _, _)| (f == "nomad_client" || t == "nomad_client")
                && (opens(&o, f, t, "tcp", 4648) || opens(&o, f, t, "udp", 4648)))
    );
    assert!(opens(&o, "nomad_client", "server", "tcp", 4647));
}

#[test]
fn wazuh_agent_transport_choice() {
    let udp = opened("wazuh", &["agent_protocol=udp"]);
    assert!(opens(&udp, "agent", "server", "udp", 1514));
    assert!(!opens(&udp, "agent", "server", "tcp", 1514));
    let both = opened("wazuh", &["agent_protocol=both", "syslog=both"]);
    for proto in ["tcp", "udp"] {
        assert!(opens(&both, "agent", "server", proto, 1514));
        assert!(opens(&both, "syslog_source", "server", proto, 514));
    }
    let default = opened("wazuh", &[]);
    assert!(!opens(&default, "syslog_source", "server", "udp", 514));
}

#[test]
fn proxmox_cluster_traffic_only_in_a_cluster_and_never_rpcbind() {
    let single = opened("proxmox-ve", &[]);
    assert!(opens(&single, "admin_terminal", "pve_node", "tcp", 8006));
    assert!(
        !single
            .iter()
            .any(|(f, t, _, _)| f == "pve_node" && t == "pve_node")
    );
    let cluster = opened("proxmox-ve", &["cluster=true"]);
    assert!(opens(&cluster, "pve_node", "pve_node", "udp", 5405));
    assert!(opens(&cluster, "pve_node", "pve_node", "udp", 5412));
    assert!(opens(&cluster, "pve_node", "pve_node", "tcp", 60050));
    assert!(opens(&cluster, "pve_node", "pve_node", "tcp", 22));
    for (f, t, p, _) in &cluster {
        assert!(
            !opens(&cluster, f, t, p, 111),
            "{f} -> {t} {p} opens rpcbind"
        );
    }
}

#[test]
fn nps_legacy_ports_only_when_asked_and_ports_follow_the_options() {
    let default = opened("nps", &[]);
    assert!(opens(&default, "radius_client", "nps", "udp", 1812));
    assert!(opens(&default, "radius_client", "nps", "udp", 1813));
    for port in [1645, 1646] {
        assert!(!opens(&default, "radius_client", "nps", "udp", port));
    }
    assert!(!opens(&default, "radius_client", "nps", "tcp", 1812));
    let legacy = opened("nps", &["legacy_ports=true"]);
    for port in [1645, 1646, 1812, 1813] {
        assert!(
            opens(&legacy, "radius_client", "nps", "udp", port),
            "{port}"
        );
    }
    let moved = opened(
        "nps",
        &["auth_port=11812", "accounting=false", "legacy_ports=true"],
    );
    assert!(opens(&moved, "radius_client", "nps", "udp", 11812));
    assert!(opens(&moved, "radius_client", "nps", "udp", 1645));
    for port in [1812, 1813, 1646] {
        assert!(
            !opens(&moved, "radius_client", "nps", "udp", port),
            "{port}"
        );
    }
}
