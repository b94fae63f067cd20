//! Issue 16, comments inside rendered files in Japanese (`render --lang ja`): the header and
//! every rule's description are Japanese; what the firewall itself stores (nft `comment`,
//! iptables `--comment`) stays within its byte limit on a character boundary however long the
//! Japanese text is, and the real tools load the files; the PowerShell script is UTF-8 with a
//! byte order mark (Windows PowerShell 5.1 reads a script without one in the ANSI code page).

mod common;

use std::path::{Path, PathBuf};

use common::{check_with, portplan, require_root_and};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A purpose of 150 Japanese characters (450 bytes in UTF-8), with quotes of every kind.
fn long_purpose() -> String {
    let unit = "管理サーバーからエージェントへの設定配布と「状態確認」を行う‘通信’です。";
    let mut s = String::new();
    while s.chars().count() < 150 {
        s.push_str(unit);
    }
    s
}

/// A catalog dir holding the loopback test product with a long Japanese purpose on `web`,
/// and a site using it, with a host firewall on the manager.
fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cats = dir.path().join("cats");
    std::fs::create_dir_all(&cats).unwrap();
    let cat = std::fs::read_to_string(format!("{ROOT}/tests/fixtures/catalogs/looptest.yaml"))
        .unwrap()
        .replace(
            "purpose: {en: Management web API, ja: 管理 Web API}",
            &format!(
                "purpose: {{en: Management web API, ja: \"{}\"}}",
                long_purpose()
            ),
        );
    assert!(cat.contains(&long_purpose()));
    std::fs::write(cats.join("looptest.yaml"), cat).unwrap();
    let site = dir.path().join("site.yaml");
    std::fs::write(
        &site,
        "name: 長い目的\nzones:\n  - {id: a, cidrs: [10.1.0.0/24]}\n  - {id: b, cidrs: [10.2.0.0/24]}\nproducts:\n  - product: looptest\n    roles: {agent: zone:a, manager: 10.2.0.5}\nfirewalls:\n  - {id: fw, between: [a, b], target: nftables}\nhost_firewalls:\n  - {id: mgr, hosts: looptest.manager, target: windows}\n",
    )
    .unwrap();
    (dir, cats, site)
}

fn render(cats: &Path, site: &Path, args: &[&str]) -> Vec<u8> {
    let out = portplan()
        .arg("--catalog-dir")
        .arg(cats)
        .arg("render")
        .arg(site)
        .args(args)
        .args(["--lang", "ja"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every `comment "…"` / `--comment "…"` value on non-comment lines.
fn stored_comments<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(key))
        .map(|(_, rest)| {
            let rest = rest.strip_prefix('"').expect("quoted comment");
            &rest[..rest.find('"').expect("closing quote")]
        })
        .collect()
}

#[test]
fn nft_and_iptables_comments_are_japanese_within_the_byte_limits() {
    let (_dir, cats, site) = fixture();
    let purpose = long_purpose();
    for mode in ["replace", "merge"] {
        let nft = String::from_utf8(render(
            &cats,
            &site,
            &["--for", "fw", "--target", "nftables", "--mode", mode],
        ))
        .expect("UTF-8");
        // The header and the rule's description are Japanese, the purpose whole, with the
        // vendor row.
        assert!(
            nft.contains("このファイルがファイアウォールに行うこと"),
            "{nft}"
        );
        assert!(
            nft.contains(&purpose),
            "the whole purpose on a comment line:\n{nft}"
        );
        let line = nft
            .lines()
            .find(|l| l.contains("出典"))
            .expect("a 出典 line");
        // The vendor document by its title and row, not its file name.
        assert!(line.contains("出典: 「合成」表 1 行目"), "{line}");
        assert!(!nft.contains("looptest.txt"), "{nft}");
        let stored = stored_comments(&nft, "comment ");
        assert!(!stored.is_empty(), "{nft}");
        for c in &stored {
            assert!(c.len() <= 128, "nft keeps 128 bytes: {} in {c:?}", c.len());
            assert!(c.starts_with("portplan "), "{c:?}");
        }
        let ipt = String::from_utf8(render(
            &cats,
            &site,
            &["--for", "fw", "--target", "iptables", "--mode", mode],
        ))
        .expect("UTF-8");
        assert!(ipt.contains(&purpose), "{ipt}");
        for c in stored_comments(&ipt, "--comment ") {
            assert!(
                c.len() <= 256,
                "iptables keeps 256 bytes: {} in {c:?}",
                c.len()
            );
        }
        if require_root_and(
            &["nft", "iptables-restore"],
            "nft_and_iptables_comments_are_japanese_within_the_byte_limits",
        ) && mode == "replace"
        {
            check_with(&["nft", "-c", "-f", "-"], &nft)
                .unwrap_or_else(|e| panic!("nft -c rejects:\n{e}\n{nft}"));
            check_with(&["iptables-restore", "--test"], &ipt)
                .unwrap_or_else(|e| panic!("iptables-restore rejects:\n{e}\n{ipt}"));
        }
    }
}

#[test]
fn a_japanese_stored_comment_is_cut_on_a_character_boundary() {
    // What the firewall stores is cut by bytes; a cut inside a 3-byte character would leave
    // invalid UTF-8.
    let s = "あ".repeat(100);
    for max in [128, 127, 126, 250, 256] {
        let c = portplan::render::cut_bytes(&s, max);
        assert!(c.len() <= max, "{max}: {}", c.len());
        assert!(c.ends_with("..."), "{c}");
        assert!(c.trim_end_matches("...").chars().all(|x| x == 'あ'));
    }
    assert_eq!(portplan::render::cut_bytes("短い", 128), "短い");
}

#[test]
fn the_powershell_script_is_utf8_with_a_bom_in_japanese_and_ascii_in_english() {
    let (_dir, cats, site) = fixture();
    let ja = render(&cats, &site, &["--for", "mgr"]);
    assert!(
        ja.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 BOM first: {:?}",
        &ja[..8]
    );
    let text = std::str::from_utf8(&ja).expect("valid UTF-8");
    assert!(text.contains("グループ名が"), "{text}");
    // The purpose is in the rule's description, its quotes doubled so none ends the string.
    let desc = text
        .lines()
        .find(|l| l.starts_with("New-NetFirewallRule") && l.contains("管理サーバー"))
        .expect("a rule with the Japanese purpose");
    assert!(
        desc.contains("‘‘通信’’"),
        "typographic quotes doubled: {desc}"
    );
    // Single-quoted strings balance: every quote-like character comes in pairs inside.
    let quotes = desc
        .chars()
        .filter(|c| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}'))
        .count();
    assert_eq!(quotes % 2, 0, "{desc}");
    // Names and groups stay ASCII.
    for key in ["-Name '", "-Group '"] {
        let v = desc.split(key).nth(1).unwrap();
        let v = &v[..v.find('\'').unwrap()];
        assert!(v.is_ascii(), "{key}{v}");
    }
    let out = portplan()
        .arg("--catalog-dir")
        .arg(&cats)
        .args(["render"])
        .arg(&site)
        .args(["--for", "mgr", "--lang", "en"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_ascii(), "English script is ASCII, no BOM");
}
