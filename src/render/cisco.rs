//! Cisco IOS: named extended ACLs, one per side of a network firewall, applied inbound on the
//! interface facing that side.
//!
//! The ACL of the side where a flow starts permits it; the ACL of the side where it ends permits
//! the TCP replies with `established` (IOS ACLs are stateless). UDP replies cannot be permitted
//! statelessly without opening the source port to everything, so they are not rendered: the
//! output says so (use reflexive ACLs or a zone-based firewall). Hosts are `host A.B.C.D`,
//! networks carry wildcard masks, every rule is preceded by a `remark` naming its requirements.
//! IPv6 rules are reported, not rendered.

use std::fmt::Write as _;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::addr::AddrSet;
use crate::catalog::Protocol;
use crate::i18n::Text;
use crate::render::{Family, Note, Rendered, RuleSet, comment_text, header_lines};
use crate::site::Target;
use crate::tr;

fn wildcard(n: &IpNet) -> String {
    match n {
        IpNet::V4(v4) if v4.prefix_len() == 32 => format!("host {}", v4.addr()),
        IpNet::V4(v4) if v4.prefix_len() == 0 => "any".into(),
        IpNet::V4(v4) => format!("{} {}", v4.network(), v4.hostmask()),
        IpNet::V6(v6) => v6.to_string(),
    }
}

fn port_match(a: u16, b: u16) -> String {
    if a == b {
        format!("eq {a}")
    } else {
        format!("range {a} {b}")
    }
}

fn set_of(nets: &[IpNet]) -> AddrSet {
    let mut s = AddrSet::new();
    for n in nets {
        s.insert_net(*n);
    }
    s
}

/// ACL name for a side.
pub fn acl_name(point: &str, zones: &[String]) -> String {
    format!("PORTPLAN-{}-FROM-{}", point, zones.join("-"))
        .to_uppercase()
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
}

/// Render the rule set.
pub fn render(rs: &RuleSet) -> Rendered {
    let mut out = String::new();
    let mut notes = Vec::new();
    for l in header_lines(rs, Target::CiscoIos) {
        let _ = writeln!(out, "! {l}");
    }
    for n in &rs.notes {
        let _ = writeln!(out, "! NOTE: {}", comment_text(&n.message.en));
    }
    let sides: Vec<(Vec<String>, AddrSet)> = if rs.sides.is_empty() {
        vec![(
            vec!["host".into()],
            set_of(&["0.0.0.0/0".parse().expect("valid")]),
        )]
    } else {
        rs.sides
            .iter()
            .map(|s| (s.zones.clone(), set_of(&s.v4)))
            .collect()
    };
    let v6 = rs.rules.iter().filter(|r| r.family == Family::V6).count();
    if v6 > 0 {
        notes.push(Note {
            rule: None,
            message: tr!(
                "{v6} IPv6 rule(s) not rendered: write them as `ipv6 access-list`",
                "IPv6 ルール {v6} 件は出力していません: `ipv6 access-list` で記述してください"
            ),
        });
    }
    let mut udp_replies = 0;
    for (zones, side) in &sides {
        let name = acl_name(&rs.point, zones);
        let _ = writeln!(
            out,
            "!\n! Apply inbound on the interface facing {}:\n!   ip access-group {name} in",
            comment_text(&zones.join(", "))
        );
        let _ = writeln!(
            out,
            "no ip access-list extended {name}\nip access-list extended {name}"
        );
        for r in rs.rules.iter().filter(|r| r.family == Family::V4) {
            let src = set_of(&r.src.nets(Family::V4));
            let dst = set_of(&r.dst.nets(Family::V4));
            let from_here = src.intersection(side);
            let to_here = dst.intersection(side);
            if !from_here.is_empty() {
                let _ = writeln!(
                    out,
                    " remark {} ({})",
                    r.comment(),
                    comment_text(&r.sources.join(", "))
                );
                for s in from_here.nets() {
                    for d in dst.nets() {
                        for (a, b) in &r.ports {
                            let _ = writeln!(
                                out,
                                " permit {} {} {} {}",
                                r.protocol,
                                wildcard(&s),
                                wildcard(&d),
                                port_match(*a, *b)
                            );
                        }
                    }
                }
            }
            if !to_here.is_empty() {
                if r.protocol == Protocol::Tcp {
                    let _ = writeln!(out, " remark replies to r{}", r.n);
                    for d in to_here.nets() {
                        for s in src.nets() {
                            for (a, b) in &r.ports {
                                let _ = writeln!(
                                    out,
                                    " permit tcp {} {} {} established",
                                    wildcard(&d),
                                    port_match(*a, *b),
                                    wildcard(&s)
                                );
                            }
                        }
                    }
                } else {
                    udp_replies += 1;
                    let _ = writeln!(
                        out,
                        " remark replies to r{} (udp) not permitted: IOS ACLs are stateless",
                        r.n
                    );
                }
            }
        }
        let _ = writeln!(out, " deny ip any any log");
    }
    if udp_replies > 0 {
        notes.push(Note {
            rule: None,
            message: Text::new(
                "UDP replies are not permitted by stateless ACLs: use reflexive ACLs (reflect/evaluate) or a zone-based firewall for the UDP rules",
                "ステートレスな ACL では UDP の応答を許可できません。UDP ルールには反射 ACL (reflect/evaluate) かゾーンベースファイアウォールを使ってください",
            ),
        });
    }
    let _ = IpAddr::from([0, 0, 0, 0]);
    Rendered {
        files: vec![(String::new(), out)],
        notes,
    }
}
