//! Reading `ipset save` output, so `-m set --match-set NAME src,dst` matches are exact.
//!
//! Types read: `hash:ip`, `hash:net`, `hash:ip,port`, `hash:net,port`, `hash:ip,port,ip`,
//! `hash:ip,port,net`, `hash:net,port,net`, `hash:net,net`, `hash:ip,mark`, `hash:net,iface`,
//! `bitmap:ip`, `bitmap:port`, `list:set`. A set created with a `timeout` (members come and
//! go at run time: fail2ban, port knocking), of another type, or with an element the reader
//! does not understand is *dynamic*: its matches are unknown, bounded both ways. `nomatch`
//! entries of net sets are exceptions. An element of an unknown dimension makes the set unknown.

use std::collections::HashMap;

use ipnet::IpNet;

use crate::audit::model::{Match, Prim, proto_number};
use crate::i18n::Text;
use crate::site::parse_net;

/// One dimension of a set's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
    Ip,
    Net,
    Port,
    Mark,
    Iface,
}

/// One element: a value per dimension.
#[derive(Debug, Clone)]
enum Val {
    Nets(Vec<IpNet>),
    /// Protocol (None: any port protocol for bitmap:port) and port range, or ICMP type/code.
    Port(Option<u8>, u16, u16),
    Mark(u32, u32),
    Iface(String),
}

#[derive(Debug, Clone, Default)]
struct SetDef {
    dims: Vec<Dim>,
    v6: bool,
    members: Vec<(Vec<Val>, bool)>,
    /// Names of member sets (list:set).
    list: Vec<String>,
    /// Why it cannot be modelled, if it cannot.
    dynamic: Option<String>,
}

/// The sets of an `ipset save` dump.
#[derive(Debug, Clone, Default)]
pub struct Sets {
    sets: HashMap<String, SetDef>,
}

impl Sets {
    /// No sets known.
    pub fn none() -> Sets {
        Sets::default()
    }

    /// Whether a set of this name is known.
    pub fn has(&self, name: &str) -> bool {
        self.sets.contains_key(name)
    }

    /// Mark a set as changed at run time (a `SET` target adds to it).
    pub fn make_dynamic(&mut self, name: &str, why: &str) {
        if let Some(s) = self.sets.get_mut(name) {
            s.dynamic = Some(why.to_string());
        }
    }

    /// The match for `-m set --match-set NAME FLAGS` (`flags`: `src` / `dst` per dimension).
    pub fn matcher(&self, name: &str, flags: &[bool]) -> Match {
        self.matcher_depth(name, flags, 0)
    }

    fn matcher_depth(&self, name: &str, flags: &[bool], depth: usize) -> Match {
        let text = format!("--match-set {name}");
        let Some(set) = self.sets.get(name) else {
            return Match::unknown(format!(
                "{text} (set contents unknown: give `ipset save` output with --ipset)"
            ));
        };
        if let Some(why) = &set.dynamic {
            return Match::unknown(format!("{text} ({why})"));
        }
        if !set.list.is_empty() {
            if depth > 8 {
                return Match::unknown(format!("{text} (nested list:set)"));
            }
            return Match::any(
                set.list
                    .iter()
                    .map(|m| self.matcher_depth(m, flags, depth + 1))
                    .collect(),
            );
        }
        if flags.len() < set.dims.len() {
            return Match::unknown(format!("{text} (fewer direction flags than dimensions)"));
        }
        let fam = Match::prim(Prim::Family { v6: set.v6 });
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for (vals, nomatch) in &set.members {
            let mut parts = vec![fam.clone()];
            for (i, v) in vals.iter().enumerate() {
                let src = flags[i];
                parts.push(match v {
                    Val::Nets(n) => Match::prim(if src {
                        Prim::Src { nets: n.clone() }
                    } else {
                        Prim::Dst { nets: n.clone() }
                    }),
                    Val::Port(proto, lo, hi) => port_match(*proto, *lo, *hi, src),
                    Val::Mark(value, mask) => Match::prim(Prim::Mark {
                        mask: *mask,
                        value: *value & *mask,
                    }),
                    Val::Iface(n) => Match::prim(if src {
                        Prim::Iif {
                            names: vec![n.clone()],
                        }
                    } else {
                        Prim::Oif {
                            names: vec![n.clone()],
                        }
                    }),
                });
            }
            let m = Match::all(parts);
            if *nomatch {
                no.push(m);
            } else {
                yes.push(m);
            }
        }
        let yes = Match::any(yes);
        if no.is_empty() {
            yes
        } else {
            Match::all(vec![yes, Match::any(no).negate()])
        }
    }
}

fn port_match(proto: Option<u8>, lo: u16, hi: u16, src: bool) -> Match {
    match proto {
        Some(p @ (1 | 58)) => Match::prim(Prim::Icmp {
            v6: p == 58,
            ranges: vec![(lo, hi)],
        }),
        Some(p) => {
            let port = if src {
                Prim::SPort {
                    ranges: vec![(lo, hi)],
                }
            } else {
                Prim::DPort {
                    ranges: vec![(lo, hi)],
                }
            };
            Match::all(vec![
                Match::prim(Prim::Proto {
                    ranges: vec![(p, p)],
                }),
                Match::prim(port),
            ])
        }
        None => Match::all(vec![
            Match::prim(Prim::Proto {
                ranges: vec![(6, 6), (17, 17)],
            }),
            Match::prim(if src {
                Prim::SPort {
                    ranges: vec![(lo, hi)],
                }
            } else {
                Prim::DPort {
                    ranges: vec![(lo, hi)],
                }
            }),
        ]),
    }
}

fn dims_of(ty: &str) -> Option<Vec<Dim>> {
    let (method, kinds) = ty.split_once(':')?;
    if !matches!(method, "hash" | "bitmap") {
        return None;
    }
    kinds
        .split(',')
        .map(|k| match k {
            "ip" => Some(Dim::Ip),
            "net" => Some(Dim::Net),
            "port" => Some(Dim::Port),
            "mark" => Some(Dim::Mark),
            "iface" => Some(Dim::Iface),
            _ => None,
        })
        .collect()
}

fn parse_addr_part(s: &str, v6: bool) -> Option<Vec<IpNet>> {
    if let Some((a, b)) = s.split_once('-')
        && !s.contains('/')
    {
        let (a, b) = (parse_net(a)?, parse_net(b)?);
        let mut set = crate::addr::AddrSet::new();
        match (a.addr(), b.addr()) {
            (std::net::IpAddr::V4(x), std::net::IpAddr::V4(y)) if !v6 && x <= y => {
                set.v4.ranges_insert(u32::from(x)..=u32::from(y));
            }
            (std::net::IpAddr::V6(x), std::net::IpAddr::V6(y)) if v6 && x <= y => {
                set.v6.ranges_insert(u128::from(x)..=u128::from(y));
            }
            _ => return None,
        }
        return Some(set.nets());
    }
    let n = parse_net(s)?;
    (n.addr().is_ipv6() == v6).then(|| vec![n])
}

fn parse_port_part(s: &str) -> Option<(Option<u8>, u16, u16)> {
    let (proto, rest) = match s.split_once(':') {
        Some((p, r)) => (Some(proto_number(p)?), r),
        None => (None, s),
    };
    if matches!(proto, Some(1 | 58)) {
        let (t, c) = match rest.split_once('/') {
            Some((t, c)) => (t.parse::<u16>().ok()?, Some(c.parse::<u16>().ok()?)),
            None => (rest.parse::<u16>().ok()?, None),
        };
        if t > 255 || c.is_some_and(|c| c > 255) {
            return None;
        }
        return Some(match c {
            Some(c) => (proto, t << 8 | c, t << 8 | c),
            None => (proto, t << 8, t << 8 | 0xff),
        });
    }
    let (lo, hi) = match rest.split_once('-') {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => {
            let p = rest.parse().ok()?;
            (p, p)
        }
    };
    (lo <= hi).then_some((proto.or(Some(6)), lo, hi))
}

/// Parse `ipset save` output. Errors name the line.
pub fn parse(text: &str) -> Result<Sets, Text> {
    let mut sets = Sets::default();
    let mut any = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.first().copied() {
            Some("create") if w.len() >= 3 => {
                any = true;
                let mut def = SetDef::default();
                let opts = &w[3..];
                def.v6 = opts.windows(2).any(|p| p[0] == "family" && p[1] == "inet6");
                if opts.contains(&"timeout") {
                    def.dynamic = Some("members expire at run time".into());
                }
                if w[2] == "list:set" {
                    def.dims = vec![];
                } else {
                    match dims_of(w[2]) {
                        Some(d) => def.dims = d,
                        None => def.dynamic = Some(format!("set type {} is not modelled", w[2])),
                    }
                }
                sets.sets.insert(w[1].to_string(), def);
            }
            Some("add") if w.len() >= 3 => {
                let Some(def) = sets.sets.get_mut(w[1]) else {
                    return Err(Text::new(
                        format!("line {n}: `add` to set {} that was not created", w[1]),
                        format!("{n} 行目: 作成されていないセット {} への `add` です", w[1]),
                    ));
                };
                if def.dynamic.is_some() {
                    continue;
                }
                if w[3..].contains(&"timeout") {
                    def.dynamic = Some("members expire at run time".into());
                    continue;
                }
                let nomatch = w[3..].contains(&"nomatch");
                if def.dims.is_empty() {
                    def.list.push(w[2].to_string());
                    continue;
                }
                let parts: Vec<&str> = w[2].split(',').collect();
                if parts.len() != def.dims.len() {
                    def.dynamic = Some(format!("element `{}` not understood", w[2]));
                    continue;
                }
                let mut vals = Vec::new();
                for (d, p) in def.dims.iter().zip(parts) {
                    let v = match d {
                        Dim::Ip | Dim::Net => parse_addr_part(p, def.v6).map(Val::Nets),
                        Dim::Port => parse_port_part(p).map(|(pr, a, b)| Val::Port(pr, a, b)),
                        Dim::Mark => {
                            let (v, m) = p.split_once('/').unwrap_or((p, "0xffffffff"));
                            parse_u32(v).zip(parse_u32(m)).map(|(v, m)| Val::Mark(v, m))
                        }
                        Dim::Iface => {
                            Some(Val::Iface(p.trim_start_matches("physdev:").to_string()))
                        }
                    };
                    match v {
                        Some(v) => vals.push(v),
                        None => {
                            vals.clear();
                            break;
                        }
                    }
                }
                if vals.is_empty() {
                    def.dynamic = Some(format!("element `{}` not understood", w[2]));
                } else {
                    def.members.push((vals, nomatch));
                }
            }
            _ => {
                let shown: String = line.chars().take(60).filter(|c| !c.is_control()).collect();
                return Err(Text::new(
                    format!(
                        "line {n}: `{shown}` is not `ipset save` output (expected `create` or `add`)"
                    ),
                    format!(
                        "{n} 行目: `{shown}` は `ipset save` の出力ではありません (`create` か `add` が必要です)"
                    ),
                ));
            }
        }
    }
    if !any {
        return Err(tr_empty());
    }
    Ok(sets)
}

fn tr_empty() -> Text {
    crate::tr!(
        "no set in the ipset file (expected `ipset save` output)",
        "ipset ファイルにセットがありません (`ipset save` の出力が必要です)"
    )
}

/// A number in decimal or `0x` hex.
pub fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sets_and_builds_matches() {
        let sets = parse(
            "create a hash:ip family inet hashsize 1024 maxelem 65536\nadd a 10.0.0.1\nadd a 10.0.0.2\n\
create p hash:net,port family inet\nadd p 10.1.0.0/16,tcp:443\nadd p 10.2.0.0/16,udp:53\n\
create n hash:net family inet\nadd n 10.0.0.0/8\nadd n 10.9.0.0/16 nomatch\n\
create t hash:ip family inet timeout 300\nadd t 1.2.3.4 timeout 200\n\
create l list:set size 8\nadd l a\nadd l n\n",
        )
        .unwrap();
        assert!(matches!(sets.matcher("a", &[true]), Match::Any { .. }));
        assert!(matches!(sets.matcher("t", &[true]), Match::Unknown { .. }));
        assert!(matches!(sets.matcher("zz", &[true]), Match::Unknown { .. }));
        assert!(matches!(
            sets.matcher("p", &[false, false]),
            Match::Any { .. }
        ));
        assert!(matches!(sets.matcher("n", &[true]), Match::All { .. }));
        assert!(matches!(sets.matcher("l", &[true]), Match::Any { .. }));
        assert!(parse("").is_err());
        assert!(parse("*filter\n").is_err());
        assert!(parse("add x 1.2.3.4\n").is_err());
    }
}
