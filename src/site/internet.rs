//! What the `internet` zone is: every address no zone claims, except the special-purpose ranges
//! that are never reached over the internet (private, shared, link-local, unique local,
//! loopback, multicast, documentation, …), unless the site says otherwise
//! (`internet: {include_private: true}` or `internet: {include: [CIDR, …]}`).
//!
//! The ranges are those of the IANA special-purpose address registries (RFC 6890) that are not
//! globally reachable, plus multicast and the reserved 240.0.0.0/4.

use ipnet::IpNet;

use crate::addr::AddrSet;

/// One special-purpose range.
#[derive(Debug, Clone, Copy)]
pub struct Special {
    /// The range.
    pub net: &'static str,
    /// What it is, in English.
    pub en: &'static str,
    /// What it is, in Japanese.
    pub ja: &'static str,
    /// Where it is defined.
    pub rfc: &'static str,
    /// Private address space a site may well use for its own networks (the warning names it).
    pub private: bool,
}

const fn s(
    net: &'static str,
    en: &'static str,
    ja: &'static str,
    rfc: &'static str,
    private: bool,
) -> Special {
    Special {
        net,
        en,
        ja,
        rfc,
        private,
    }
}

/// The special-purpose ranges that are not the internet by default.
pub const SPECIAL: &[Special] = &[
    s(
        "0.0.0.0/8",
        "\"this network\"",
        "「このネットワーク」",
        "RFC 1122",
        false,
    ),
    s("10.0.0.0/8", "private", "プライベート", "RFC 1918", true),
    s(
        "100.64.0.0/10",
        "shared address space",
        "共有アドレス空間",
        "RFC 6598",
        true,
    ),
    s("127.0.0.0/8", "loopback", "ループバック", "RFC 1122", false),
    s(
        "169.254.0.0/16",
        "link-local",
        "リンクローカル",
        "RFC 3927",
        true,
    ),
    s("172.16.0.0/12", "private", "プライベート", "RFC 1918", true),
    s(
        "192.0.0.0/24",
        "IETF protocol assignments",
        "IETF プロトコル割当",
        "RFC 6890",
        false,
    ),
    s("192.0.2.0/24", "documentation", "文書用", "RFC 5737", false),
    s(
        "192.168.0.0/16",
        "private",
        "プライベート",
        "RFC 1918",
        true,
    ),
    s(
        "198.18.0.0/15",
        "benchmarking",
        "ベンチマーク用",
        "RFC 2544",
        false,
    ),
    s(
        "198.51.100.0/24",
        "documentation",
        "文書用",
        "RFC 5737",
        false,
    ),
    s(
        "203.0.113.0/24",
        "documentation",
        "文書用",
        "RFC 5737",
        false,
    ),
    s(
        "224.0.0.0/4",
        "multicast",
        "マルチキャスト",
        "RFC 5771",
        false,
    ),
    s(
        "240.0.0.0/4",
        "reserved, broadcast",
        "予約済み・ブロードキャスト",
        "RFC 1112",
        false,
    ),
    s("::/128", "unspecified", "未指定", "RFC 4291", false),
    s("::1/128", "loopback", "ループバック", "RFC 4291", false),
    s(
        "::ffff:0:0/96",
        "IPv4-mapped",
        "IPv4 射影",
        "RFC 4291",
        false,
    ),
    s(
        "64:ff9b:1::/48",
        "local-use NAT64",
        "ローカル NAT64",
        "RFC 8215",
        false,
    ),
    s("100::/64", "discard-only", "破棄専用", "RFC 6666", false),
    s(
        "2001:db8::/32",
        "documentation",
        "文書用",
        "RFC 3849",
        false,
    ),
    s("3fff::/20", "documentation", "文書用", "RFC 9637", false),
    s(
        "fc00::/7",
        "unique local",
        "ユニークローカル",
        "RFC 4193",
        true,
    ),
    s(
        "fe80::/10",
        "link-local",
        "リンクローカル",
        "RFC 4291",
        true,
    ),
    s("ff00::/8", "multicast", "マルチキャスト", "RFC 4291", false),
];

impl Special {
    /// The range as a network.
    pub fn ipnet(&self) -> IpNet {
        self.net.parse().expect("the table holds valid networks")
    }

    /// `10.0.0.0/8 (private, RFC 1918)`; `10.0.0.0/8 (プライベート、RFC 1918)`.
    pub fn describe(&self, ja: bool) -> String {
        if ja {
            format!("{} ({}、{})", self.net, self.ja, self.rfc)
        } else {
            format!("{} ({}, {})", self.net, self.en, self.rfc)
        }
    }
}

/// Every special-purpose range, as one set.
pub fn special_set() -> AddrSet {
    let mut set = AddrSet::new();
    for sp in SPECIAL {
        set.insert_net(sp.ipnet());
    }
    set
}

/// The special ranges `set` touches.
pub fn specials_in(set: &AddrSet) -> Vec<&'static Special> {
    SPECIAL
        .iter()
        .filter(|sp| !set.intersection(&AddrSet::net(sp.ipnet())).is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_valid_and_disjoint() {
        let mut seen = AddrSet::new();
        for sp in SPECIAL {
            let n = AddrSet::net(sp.ipnet());
            assert!(seen.intersection(&n).is_empty(), "{} overlaps", sp.net);
            assert_eq!(sp.ipnet().trunc(), sp.ipnet(), "{} has host bits", sp.net);
            seen.extend(&n);
        }
        assert!(special_set().contains("192.168.1.1".parse().unwrap()));
        assert!(!special_set().contains("8.8.8.8".parse().unwrap()));
        assert!(special_set().contains("fd00::1".parse().unwrap()));
        assert!(!special_set().contains("2606:4700::1111".parse().unwrap()));
    }
}
