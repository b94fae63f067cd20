//! The library's example site (`examples/windows-domain.yaml`: AD DS, file sharing and remote
//! administration, SQL Server, WSUS, Entra Connect, DeviceLock and TMWS on one Windows domain)
//! planned, rendered for every enforcement point and reported, as a user would.

mod common;

use common::{portplan, stdout};
use serde_json::Value;

const SITE: &str = "examples/windows-domain.yaml";

fn plan() -> Value {
    serde_json::from_str(&stdout(&["plan", SITE, "--format", "json"])).unwrap()
}

fn point<'a>(plan: &'a Value, id: &str) -> &'a Vec<Value> {
    plan["enforcement_points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no point {id}"))["openings"]
        .as_array()
        .unwrap()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Whether a port spec of a plan (`"445"`, `"8530-8531"`) holds `port`.
fn holds(spec: &str, port: &str) -> bool {
    let port: u16 = port.parse().unwrap();
    let (lo, hi) = spec.split_once('-').unwrap_or((spec, spec));
    (lo.parse::<u16>().unwrap()..=hi.parse::<u16>().unwrap()).contains(&port)
}

/// Whether some opening of `openings` carries `req` (`product/requirement`) over `proto` and
/// holds `port`, from an address in `from` to `to`.
fn has(openings: &[Value], req: &str, proto: &str, port: &str, from: &str, to: &str) -> bool {
    openings.iter().any(|o| {
        o["protocol"] == proto
            && strs(&o["requirements"]).iter().any(|r| r == req)
            && strs(&o["ports"]).iter().any(|p| holds(p, port))
            && strs(&o["from"]).iter().any(|a| a == from)
            && strs(&o["to"]).iter().any(|a| a == to)
    })
}

#[test]
fn the_windows_domain_plans_every_product_at_the_right_points() {
    let p = plan();
    let core = point(&p, "fw-core");
    // Members on the client LAN reach both domain controllers for Kerberos, LDAP and RPC.
    for (req, proto, port) in [
        ("ad-ds/kerberos", "tcp", "88"),
        ("ad-ds/kerberos", "udp", "88"),
        ("ad-ds/ldap", "tcp", "389"),
        ("ad-ds/rpc-epmap", "tcp", "135"),
        ("ad-ds/rpc-dynamic", "tcp", "49152"),
        ("ad-ds/smb", "tcp", "445"),
    ] {
        assert!(
            has(core, req, proto, port, "10.20.0.0/16", "10.10.0.4/31"),
            "fw-core lacks {req} {proto}/{port}: {core:#?}"
        );
    }
    // ldaps=false: no 636 anywhere.
    assert!(
        !core
            .iter()
            .any(|o| strs(&o["requirements"]).iter().any(|r| r == "ad-ds/ldaps")),
        "ldaps=false"
    );
    // Users reach the file server; the administrator reaches the servers over RDP and WinRM/HTTPS.
    assert!(has(
        core,
        "windows-remote/smb",
        "tcp",
        "445",
        "10.20.0.0/16",
        "10.10.0.20/32"
    ));
    assert!(has(
        core,
        "windows-remote/rdp-admin",
        "tcp",
        "3389",
        "10.20.0.50/32",
        "10.10.0.40/32"
    ));
    assert!(has(
        core,
        "windows-remote/winrm",
        "tcp",
        "5986",
        "10.20.0.50/32",
        "10.10.0.40/32"
    ));
    // WSUS with SSL: clients use both ports.
    assert!(has(
        core,
        "wsus/clients",
        "tcp",
        "8530",
        "10.20.0.0/16",
        "10.10.0.30/32"
    ));
    assert!(has(
        core,
        "wsus/clients-ssl",
        "tcp",
        "8531",
        "10.20.0.0/16",
        "10.10.0.30/32"
    ));

    // The edge carries WSUS and Entra Connect to the internet, nothing of AD.
    let edge = point(&p, "fw-edge");
    assert!(edge.iter().any(|o| {
        strs(&o["requirements"])
            .iter()
            .any(|r| r == "wsus/sync-microsoft-update")
    }));
    assert!(edge.iter().any(|o| {
        strs(&o["requirements"])
            .iter()
            .any(|r| r == "entra-connect/cloud-sync")
    }));
    assert!(
        !edge.iter().any(|o| strs(&o["requirements"])
            .iter()
            .any(|r| r.starts_with("ad-ds/"))),
        "AD traffic stays inside: {edge:#?}"
    );

    // The SQL server's own firewall admits the application server and the DAC from the admin.
    let host = point(&p, "sql-host");
    assert!(has(
        host,
        "sql-server/engine",
        "tcp",
        "1433",
        "10.10.0.30/32",
        "10.10.0.40/32"
    ));
    assert!(has(
        host,
        "sql-server/dac",
        "tcp",
        "1434",
        "10.20.0.50/32",
        "10.10.0.40/32"
    ));
}

#[test]
fn the_windows_domain_renders_for_every_point_and_target() {
    for (point, targets) in [
        ("fw-core", &["nftables", "iptables"][..]),
        ("sql-host", &["windows", "nftables"][..]),
    ] {
        for t in targets {
            let out = stdout(&["render", SITE, "--for", point, "--target", t]);
            assert!(
                out.contains("WHAT THIS FILE DOES TO THE FIREWALL"),
                "{point} {t}: {out}"
            );
            assert!(out.contains("ad-ds/") || point == "sql-host", "{point} {t}");
        }
    }
    // fw-edge reaches the internet by address; TMWS's cloud and Microsoft Update are zones, so
    // the whole point renders.
    let out = stdout(&["render", SITE, "--for", "fw-edge"]);
    assert!(out.contains("wsus/sync-microsoft-update"), "{out}");
}

#[test]
fn the_windows_domain_reports_in_both_languages() {
    for lang in ["en", "ja"] {
        let md = stdout(&["report", SITE, "--format", "md", "--lang", lang]);
        for product in [
            "ad-ds",
            "windows-remote",
            "sql-server",
            "wsus",
            "entra-connect",
        ] {
            assert!(
                md.contains(product),
                "{lang}: {product} missing from the report"
            );
        }
        let html = stdout(&["report", SITE, "--format", "html", "--lang", lang]);
        assert!(
            html.contains("<svg"),
            "{lang}: the HTML report embeds the diagram"
        );
    }
    let dir = std::env::temp_dir().join(format!("portplan-library-site-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = dir.join("windows-domain.xlsx");
    portplan()
        .args(["report", SITE, "-o", x.to_str().unwrap()])
        .assert()
        .success();
    assert!(std::fs::metadata(&x).unwrap().len() > 1000);
    std::fs::remove_dir_all(&dir).unwrap();
}
