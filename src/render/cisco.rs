//! Cisco IOS: extended ACLs, one per side of a network firewall, applied inbound on the
//! interfaces facing that side.
//!
//! The ACL of the side where a flow starts permits it; the ACL of the side where it ends permits
//! the TCP replies with `established` (IOS ACLs are stateless). UDP replies cannot be permitted
//! statelessly without opening the source port to everything: they are reported as not
//! rendered (use reflexive ACLs or a zone-based firewall). Address groups of several networks
//! are `object-group network`, several port ranges `object-group service`; a single host is
//! `host A.B.C.D`, a network carries its wildcard mask; every rule is preceded by a `remark`
//! naming its requirements. IPv6 rules are reported, not rendered.
//!
//! - **replace**: every ACL is deleted and written anew, ending in `deny ip any any log`; the
//!   internet ("not the site") is `deny … object-group SITE` then `permit … any`, after the
//!   ACL's other entries. With the site's `interfaces`, `ip access-group … in` binds them.
//! - **merge** (`--acl NAME` or `--acl ZONE=NAME`): numbered entries (from `--seq`) added to
//!   existing ACLs; nothing is denied there (a deny would also cut the ACL's later entries),
//!   so the internet is a positive object group of the addresses that are not the site.
//! - **remove**: the ACLs and object groups deleted (replace), or the numbered entries and the
//!   object groups (merge).

use std::fmt::Write as _;

use ipnet::IpNet;

use crate::catalog::Protocol;
use crate::i18n::{Lang, Text};
use crate::render::ident::{CISCO, Namer};
use crate::render::{Addrs, Family, Mode, Note, Options, Rendered, Rule, RuleSet, header_lines};
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

fn group_entry(n: &IpNet) -> String {
    match n {
        IpNet::V4(v4) if v4.prefix_len() == 32 => format!("host {}", v4.addr()),
        IpNet::V4(v4) => format!("{} {}", v4.network(), v4.netmask()),
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

/// Object groups, by the name they get on the router.
#[derive(Default)]
struct Objects {
    /// (kind `network`/`service`, name, entries, comment).
    list: Vec<(&'static str, String, Vec<String>, String)>,
}

impl Objects {
    fn add(
        &mut self,
        kind: &'static str,
        name: String,
        entries: Vec<String>,
        what: String,
    ) -> String {
        if !self.list.iter().any(|(_, n, _, _)| *n == name) {
            self.list.push((kind, name.clone(), entries, what));
        }
        name
    }
}

struct Cx<'a> {
    rs: &'a RuleSet,
    index: std::collections::HashMap<&'a str, &'a crate::render::Group>,
    mode: Mode,
    names: Namer,
    objects: Objects,
}

/// How a rule side is written.
enum Text2 {
    /// `any`, `host …`, `… wildcard`, `object-group …`.
    Plain(String),
    /// Not in the site group: `object-group SITE` to deny first.
    NotSite(String),
}

impl Cx<'_> {
    fn net_group(&mut self, group: &str, nets: &[IpNet], what: &str) -> String {
        let name = self
            .names
            .name(&format!("portplan-{}-{group}", self.rs.point));
        self.objects.add(
            "network",
            name,
            nets.iter().map(group_entry).collect(),
            what.to_string(),
        )
    }

    fn side(&mut self, a: &Addrs, group: Option<&String>) -> Text2 {
        let g = group
            .and_then(|g| self.index.get(g.as_str()))
            .map(|g| (*g).clone());
        match a {
            Addrs::Any => Text2::Plain("any".into()),
            Addrs::Nets(n) if n.len() == 1 => Text2::Plain(wildcard(&n[0])),
            Addrs::Nets(n) => {
                let (name, what) =
                    g.map_or(("addresses".into(), String::new()), |g| (g.name, g.what.en));
                Text2::Plain(format!("object-group {}", self.net_group(&name, n, &what)))
            }
            Addrs::Except(n) => {
                let g = g.unwrap_or_else(|| crate::render::Group {
                    name: "except".into(),
                    family: Family::V4,
                    nets: n.clone(),
                    what: Text::default(),
                });
                if self.mode == Mode::Replace && g.name == "site" {
                    let name = if n.len() == 1 {
                        wildcard(&n[0])
                    } else {
                        format!("object-group {}", self.net_group(&g.name, n, &g.what.en))
                    };
                    return Text2::NotSite(name);
                }
                let nets = a.nets(Family::V4);
                let base = if g.name == "site" {
                    "internet".to_string()
                } else {
                    format!("{}-complement", g.name)
                };
                if nets.len() == 1 {
                    Text2::Plain(wildcard(&nets[0]))
                } else {
                    let what = format!("every IPv4 address not in {}", g.name);
                    Text2::Plain(format!(
                        "object-group {}",
                        self.net_group(&base, &nets, &what)
                    ))
                }
            }
        }
    }

    /// The service group of a rule's ports, shared by every rule with the same ports:
    /// `portplan-fw-core-tcp-445-9132_9133`.
    fn service(&mut self, r: &Rule) -> String {
        let ports = r.ports_text("_").replace(',', "-");
        let name = self.names.name(&format!(
            "portplan-{}-{}-{ports}",
            self.rs.point, r.protocol
        ));
        let entries = r
            .ports
            .iter()
            .map(|(a, b)| format!("{} {}", r.protocol, port_match(*a, *b)))
            .collect();
        let what = format!("{} {}", r.protocol, r.ports_text("-"));
        self.objects.add("service", name, entries, what)
    }
}

/// Entries of one ACL: positive first, negated pairs after (so their deny never hides another
/// rule's permit), each with its remark.
#[derive(Default)]
struct Entries {
    plain: Vec<String>,
    negated: Vec<String>,
}

fn permit(cx: &mut Cx<'_>, r: &Rule, e: &mut Entries) {
    let src = cx.side(&r.src, r.src_group.as_ref());
    let dst = cx.side(&r.dst, r.dst_group.as_ref());
    // IOS stores remarks in ASCII: English whatever the language of the comments.
    let remark = format!("remark {} ({})", r.comment(), r.sources_text(Lang::En));
    // `PROTO SRC DST PORT` per port range, or `object-group SVC SRC DST`.
    let lines = |cx: &mut Cx<'_>, verb: &str, s: &str, d: &str| -> Vec<String> {
        if r.ports.len() > 1 {
            let svc = cx.service(r);
            vec![format!("{verb} object-group {svc} {s} {d}")]
        } else {
            r.ports
                .iter()
                .map(|(a, b)| format!("{verb} {} {s} {d} {}", r.protocol, port_match(*a, *b)))
                .collect()
        }
    };
    match (src, dst) {
        (Text2::Plain(s), Text2::Plain(d)) => {
            e.plain.push(remark);
            e.plain.extend(lines(cx, "permit", &s, &d));
        }
        (Text2::Plain(s), Text2::NotSite(g)) => {
            e.negated.push(remark);
            e.negated.extend(lines(cx, "deny", &s, &g));
            e.negated.extend(lines(cx, "permit", &s, "any"));
        }
        (Text2::NotSite(g), Text2::Plain(d)) => {
            e.negated.push(remark);
            e.negated.extend(lines(cx, "deny", &g, &d));
            e.negated.extend(lines(cx, "permit", "any", &d));
        }
        (Text2::NotSite(g), Text2::NotSite(h)) => {
            e.negated.push(remark);
            e.negated.extend(lines(cx, "deny", &g, "any"));
            e.negated.extend(lines(cx, "deny", "any", &h));
            e.negated.extend(lines(cx, "permit", "any", "any"));
        }
    }
}

fn replies(cx: &mut Cx<'_>, r: &Rule, e: &mut Entries) {
    // Replies come from the destinations' ports back to the sources.
    let from = cx.side(&r.dst, r.dst_group.as_ref());
    let to = cx.side(&r.src, r.src_group.as_ref());
    let remark = format!("remark replies to r{}", r.n);
    let lines = |verb: &str, s: &str, d: &str| -> Vec<String> {
        r.ports
            .iter()
            .map(|(a, b)| format!("{verb} tcp {s} {} {d} established", port_match(*a, *b)))
            .collect()
    };
    match (from, to) {
        (Text2::Plain(s), Text2::Plain(d)) => {
            e.plain.push(remark);
            e.plain.extend(lines("permit", &s, &d));
        }
        (Text2::NotSite(g), Text2::Plain(d)) => {
            e.negated.push(remark);
            e.negated.extend(lines("deny", &g, &d));
            e.negated.extend(lines("permit", "any", &d));
        }
        (Text2::Plain(s), Text2::NotSite(g)) => {
            e.negated.push(remark);
            e.negated.extend(lines("deny", &s, &g));
            e.negated.extend(lines("permit", &s, "any"));
        }
        (Text2::NotSite(g), Text2::NotSite(h)) => {
            e.negated.push(remark);
            e.negated.extend(lines("deny", &g, "any"));
            e.negated.extend(lines("deny", "any", &h));
            e.negated.extend(lines("permit", "any", "any"));
        }
    }
}

/// The ACL a side's entries go to in merge mode.
fn merge_acl<'o>(opts: &'o Options, zones: &[String], ifaces: &[String]) -> Option<&'o str> {
    opts.acls
        .iter()
        .find(|a| {
            a.side
                .as_ref()
                .is_some_and(|s| zones.contains(s) || ifaces.contains(s))
        })
        .or_else(|| opts.acls.iter().find(|a| a.side.is_none()))
        .map(|a| a.name.as_str())
}

/// Render the rule set.
pub fn render(rs: &RuleSet, opts: &Options) -> Rendered {
    let mut notes = Vec::new();
    let mut cx = Cx {
        rs,
        index: rs.group_index(),
        mode: opts.mode,
        names: Namer::new(CISCO),
        objects: Objects::default(),
    };
    // (zones, interfaces, ACL name, entries)
    let sides: Vec<(Vec<String>, Vec<String>)> = if rs.sides.is_empty() {
        vec![(vec!["host".into()], vec![])]
    } else {
        rs.sides
            .iter()
            .map(|s| (s.zones.clone(), s.interfaces.clone()))
            .collect()
    };
    let v6 = rs.rules.iter().filter(|r| r.family == Family::V6).count();
    if v6 > 0 {
        notes.push(Note::lost(tr!(
            "{v6} IPv6 rule(s) not rendered: write them as `ipv6 access-list`",
            "IPv6 ルール {v6} 件は出力していません: `ipv6 access-list` で記述してください"
        )));
    }
    // (ACL name, zones, interfaces, entries)
    let mut acls: Vec<(String, Vec<String>, Vec<String>, Entries)> = Vec::new();
    let mut udp_replies = 0;
    for (i, (zones, ifaces)) in sides.iter().enumerate() {
        let name = match opts.mode {
            Mode::Replace => {
                cx.names
                    .name(&format!("portplan-{}-from-{}", rs.point, zones.join("-")))
            }
            Mode::Merge => match merge_acl(opts, zones, ifaces) {
                Some(n) => n.to_string(),
                None => {
                    let z = zones.join(", ");
                    notes.push(Note::lost(tr!(
                        "no --acl for the side of {z}: its entries are not rendered",
                        "{z} 側の --acl がないため、その側のエントリは出力していません"
                    )));
                    continue;
                }
            },
        };
        let mut e = Entries::default();
        for r in rs.rules.iter().filter(|r| r.family == Family::V4) {
            let from_here = r.from_side.map_or(rs.sides.is_empty(), |s| s == i);
            let to_here = r.to_side == Some(i);
            if from_here {
                permit(&mut cx, r, &mut e);
            }
            if to_here {
                if r.protocol == Protocol::Tcp {
                    replies(&mut cx, r, &mut e);
                } else {
                    udp_replies += 1;
                    e.plain.push(format!(
                        "remark replies to r{} ({}) not permitted: IOS ACLs are stateless",
                        r.n, r.protocol
                    ));
                }
            }
        }
        match acls.iter_mut().find(|a| a.0 == name) {
            Some(a) => {
                a.3.plain.extend(e.plain);
                a.3.negated.extend(e.negated);
                a.1.extend(zones.iter().cloned());
                a.2.extend(ifaces.iter().cloned());
            }
            None => acls.push((name, zones.clone(), ifaces.clone(), e)),
        }
    }
    if udp_replies > 0 {
        notes.push(Note::lost(Text::new(
            format!("{udp_replies} UDP rule(s) without replies: stateless ACLs cannot permit UDP replies; use reflexive ACLs (reflect/evaluate) or a zone-based firewall for them"),
            format!("UDP ルール {udp_replies} 件の応答を許可できません: ステートレスな ACL では UDP の応答を許可できないため、反射 ACL (reflect/evaluate) かゾーンベースファイアウォールを使ってください"),
        )));
    }
    let acl_names: Vec<&str> = acls.iter().map(|a| a.0.as_str()).collect();
    let effect = effect(rs, opts, &acl_names, &cx.objects);
    let mut out = String::new();
    for l in header_lines(rs, Target::CiscoIos, opts, &effect, &notes) {
        let _ = writeln!(out, "{}", format!("! {l}").trim_end());
    }
    // The ACL's remarks and descriptions are ASCII (IOS): in Japanese, what each rule is for
    // is said here, in comment lines IOS does not keep.
    if opts.lang == Lang::Ja && !opts.remove {
        let rules: Vec<&Rule> = rs.rules.iter().filter(|r| r.family == Family::V4).collect();
        if !rules.is_empty() {
            out.push_str(
                "!\n! 各ルールの目的 (ACL の remark は IOS が ASCII のみのため英語です):\n",
            );
            for r in rules {
                for l in r.note_lines(Lang::Ja) {
                    let _ = writeln!(out, "!   {l}");
                }
            }
        }
    }
    // Number the entries (merge), per ACL.
    // (ACL name, zones, interfaces, entry lines)
    type Numbered = (String, Vec<String>, Vec<String>, Vec<String>);
    let numbered: Vec<Numbered> = acls
        .iter()
        .map(|(name, zones, ifaces, e)| {
            let mut lines: Vec<String> = e.plain.iter().chain(&e.negated).cloned().collect();
            if opts.mode == Mode::Replace {
                lines.push("deny ip any any log".into());
            } else {
                lines = lines
                    .into_iter()
                    .enumerate()
                    .map(|(k, l)| format!("{} {l}", opts.seq as usize + k))
                    .collect();
            }
            (name.clone(), zones.clone(), ifaces.clone(), lines)
        })
        .collect();
    if opts.remove {
        out.push_str("!\n");
        match opts.mode {
            Mode::Replace => {
                for (name, _, ifaces, _) in &numbered {
                    for i in ifaces {
                        let _ = writeln!(out, "interface {i}\n no ip access-group {name} in");
                    }
                    let _ = writeln!(out, "no ip access-list extended {name}");
                }
            }
            Mode::Merge => {
                for (name, _, _, lines) in &numbered {
                    let _ = writeln!(out, "ip access-list extended {name}");
                    for l in lines {
                        if let Some((seq, _)) = l.split_once(' ') {
                            let _ = writeln!(out, " no {seq}");
                        }
                    }
                }
            }
        }
        for (kind, name, _, _) in &cx.objects.list {
            let _ = writeln!(out, "no object-group {kind} {name}");
        }
        out.push_str("end\n");
        return Rendered {
            files: vec![(String::new(), out)],
            notes,
        };
    }
    out.push_str("!\n");
    if opts.mode == Mode::Replace {
        for (name, _, _, _) in &numbered {
            let _ = writeln!(out, "no ip access-list extended {name}");
        }
        for (kind, name, _, _) in &cx.objects.list {
            let _ = writeln!(out, "no object-group {kind} {name}");
        }
    }
    for (kind, name, entries, what) in &cx.objects.list {
        let _ = writeln!(out, "object-group {kind} {name}");
        if !what.is_empty() {
            let _ = writeln!(out, " description {}", ascii(what, 200));
        }
        for e in entries {
            let _ = writeln!(out, " {e}");
        }
    }
    for (name, zones, ifaces, lines) in &numbered {
        let zones = zones.join(", ");
        let lang = opts.lang;
        if opts.mode == Mode::Replace && ifaces.is_empty() {
            let _ = writeln!(
                out,
                "!\n! {}\n!   ip access-group {name} in",
                match lang {
                    Lang::En => format!("Apply inbound on the interface facing {zones}:"),
                    Lang::Ja =>
                        format!("{zones} に面したインターフェースの受信方向に適用してください:"),
                }
            );
        } else if opts.mode == Mode::Replace {
            let _ = writeln!(
                out,
                "!\n! {}",
                match lang {
                    Lang::En =>
                        format!("Applied inbound below on the interface(s) facing {zones}."),
                    Lang::Ja =>
                        format!("下で {zones} に面したインターフェースの受信方向に適用します。"),
                }
            );
        } else {
            let _ = writeln!(
                out,
                "!\n! {}",
                match lang {
                    Lang::En => format!("Entries for the traffic arriving from {zones}:"),
                    Lang::Ja => format!("{zones} から到着する通信のエントリ:"),
                }
            );
        }
        let _ = writeln!(out, "ip access-list extended {name}");
        for l in lines {
            let _ = writeln!(out, " {}", ascii(l, 1000));
        }
    }
    if opts.mode == Mode::Replace {
        for (name, _, ifaces, _) in &numbered {
            for i in ifaces {
                let _ = writeln!(out, "interface {i}\n ip access-group {name} in");
            }
        }
    }
    out.push_str("end\n");
    Rendered {
        files: vec![(String::new(), out)],
        notes,
    }
}

/// IOS configuration is ASCII: anything else in a remark or description becomes `?`.
fn ascii(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(max)
        .collect()
}

fn effect(rs: &RuleSet, opts: &Options, acls: &[&str], objects: &Objects) -> Vec<String> {
    let list = acls.join(", ");
    let names = objects
        .list
        .iter()
        .map(|o| o.1.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let pt = &rs.point;
    let seq = opts.seq;
    match opts.lang {
        Lang::En => {
            let groups = if names.is_empty() {
                "no object groups".to_string()
            } else {
                format!("object groups {names}")
            };
            match (opts.mode, opts.remove) {
                (Mode::Replace, false) => vec![
                    format!("REPLACES access lists {list} and {groups}: each is deleted and written anew."),
                    "Each ACL ends in `deny ip any any log`: bound inbound to an interface, it drops everything".into(),
                    "arriving there that the plan does not permit. Paste in configuration mode.".into(),
                ],
                (Mode::Replace, true) => vec![format!(
                    "Unbinds and deletes access lists {list} and deletes {groups} (what --mode replace wrote)."
                )],
                (Mode::Merge, false) => vec![
                    format!("Adds numbered entries (from {seq}) to the existing access list(s) {list}, and {groups}."),
                    "Only permits are added, so nothing the ACL permits today is cut; they come before entries".into(),
                    "with higher numbers. If the ACL already uses any of these numbers, renumber it first".into(),
                    "(`ip access-list resequence NAME 1000 10`). Take out with: portplan render ... --remove.".into(),
                ],
                (Mode::Merge, true) => vec![format!(
                    "Deletes the entries --mode merge added to {list} and {groups}; nothing else changes ({pt})."
                )],
            }
        }
        Lang::Ja => {
            let groups = if names.is_empty() {
                "オブジェクトグループはなし".to_string()
            } else {
                format!("オブジェクトグループ {names}")
            };
            match (opts.mode, opts.remove) {
                (Mode::Replace, false) => vec![
                    format!("アクセスリスト {list} と{groups}を置き換えます: それぞれ削除して書き直します。"),
                    "各 ACL の最後は `deny ip any any log` です: インターフェースの受信方向に適用すると、計画が".into(),
                    "許可しない到着パケットをすべて破棄します。コンフィギュレーションモードで貼り付けてください。".into(),
                ],
                (Mode::Replace, true) => vec![format!(
                    "アクセスリスト {list} の適用を外して削除し、{groups}を削除します (--mode replace で書いたもの)。"
                )],
                (Mode::Merge, false) => vec![
                    format!("既存のアクセスリスト {list} に番号付きエントリ ({seq} から) を追加し、{groups}を追加します。"),
                    "追加するのは permit だけなので、ACL が今許可している通信は止まりません。追加分は".into(),
                    "より大きい番号のエントリより前に入ります。ACL がこれらの番号を使っている場合は先に番号を".into(),
                    "振り直してください (`ip access-list resequence NAME 1000 10`)。取り外し: portplan render ... --remove".into(),
                ],
                (Mode::Merge, true) => vec![format!(
                    "--mode merge で {list} に追加したエントリと{groups}を削除します。ほかは変更しません ({pt})。"
                )],
            }
        }
    }
}
