//! Small evaluators of rendered rulesets for the targets no test machine runs: Windows Defender
//! Firewall scripts, Cisco IOS ACLs and firewalld scripts. Each reads the text portplan wrote
//! (only the shapes it writes; anything else panics, so a change of shape fails loudly) and
//! says whether the first packet of a connection is permitted.
//!
//! Their model: Windows and firewalld permit what some allow rule of the packet's direction
//! matches (inbound default block; outbound as if the default were Block, which is what the
//! outbound rules are for); IOS evaluates the inbound ACL of the interface the packet arrives
//! on, first match wins, nothing matched is denied; `established` never matches a first packet.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use portplan::catalog::Protocol;
use portplan::plan::Direction;

use super::sample::Packet;

/// A list of networks, or everything.
#[derive(Debug, Clone)]
enum Addr {
    Any,
    Nets(Vec<IpNet>),
    Not(Vec<IpNet>),
}

impl Addr {
    fn has(&self, ip: IpAddr) -> bool {
        match self {
            Addr::Any => true,
            Addr::Nets(n) => n.iter().any(|x| x.contains(&ip)),
            Addr::Not(n) => !n.iter().any(|x| x.contains(&ip)),
        }
    }
}

fn proto(s: &str) -> Protocol {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        other => panic!("unknown protocol {other}"),
    }
}

fn ports(s: &str) -> (u16, u16) {
    match s.split_once('-') {
        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
        None => {
            let p = s.parse().unwrap();
            (p, p)
        }
    }
}

// ---- Windows -------------------------------------------------------------------------------

#[derive(Debug)]
struct WinRule {
    inbound: bool,
    proto: Protocol,
    ports: Vec<(u16, u16)>,
    local: Addr,
    remote: Addr,
}

/// A Windows script's allow rules.
#[derive(Debug)]
pub struct Windows(Vec<WinRule>);

/// `'a','b'` or `Any` or `$var`.
fn ps_list(v: &str, vars: &HashMap<String, Vec<String>>) -> Vec<String> {
    if let Some(var) = v.strip_prefix('$') {
        return vars
            .get(var)
            .unwrap_or_else(|| panic!("undefined ${var}"))
            .clone();
    }
    v.split(',')
        .map(|x| x.trim().trim_matches('\'').to_string())
        .collect()
}

fn win_addr(list: Vec<String>) -> Addr {
    if list == ["Any"] {
        Addr::Any
    } else {
        Addr::Nets(list.iter().map(|x| x.parse().unwrap()).collect())
    }
}

impl Windows {
    pub fn parse(text: &str) -> Windows {
        let mut vars: HashMap<String, Vec<String>> = HashMap::new();
        let mut rules = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix('$')
                && let Some((name, value)) = rest.split_once(" = @(")
            {
                let value = value.trim_end_matches(')');
                vars.insert(name.to_string(), ps_list(value, &HashMap::new()));
                continue;
            }
            if !line.starts_with("New-NetFirewallRule ") {
                continue;
            }
            // Parameters: `-Name value`; values are quoted lists, words or variables. The
            // description comes last and may contain spaces: stop there.
            let body = line.split(" -Description ").next().unwrap();
            let mut params: HashMap<&str, String> = HashMap::new();
            let mut toks = body.split(' ').peekable();
            while let Some(t) = toks.next() {
                if let Some(p) = t.strip_prefix('-') {
                    let mut v = String::new();
                    while let Some(n) = toks.peek() {
                        if n.starts_with('-') && !v.is_empty() {
                            break;
                        }
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(toks.next().unwrap());
                    }
                    params.insert(p, v);
                }
            }
            let inbound = params["Direction"] == "Inbound";
            let port_key = if inbound { "LocalPort" } else { "RemotePort" };
            rules.push(WinRule {
                inbound,
                proto: proto(&params["Protocol"]),
                ports: ps_list(&params[port_key], &vars)
                    .iter()
                    .map(|p| ports(p))
                    .collect(),
                local: params
                    .get("LocalAddress")
                    .map_or(Addr::Any, |v| win_addr(ps_list(v, &vars))),
                remote: win_addr(ps_list(&params["RemoteAddress"], &vars)),
            });
        }
        Windows(rules)
    }

    pub fn permits(&self, p: &Packet) -> bool {
        let inbound = p.dir == Direction::In;
        let (local, remote) = if inbound {
            (p.dst, p.src)
        } else {
            (p.src, p.dst)
        };
        self.0.iter().any(|r| {
            r.inbound == inbound
                && r.proto == p.proto
                && r.ports.iter().any(|(a, b)| (*a..=*b).contains(&p.port))
                && r.local.has(local)
                && r.remote.has(remote)
        })
    }

    pub fn rules(&self) -> usize {
        self.0.len()
    }
}

// ---- firewalld -----------------------------------------------------------------------------

#[derive(Debug)]
struct FwRule {
    outbound: bool,
    v6: bool,
    src: Addr,
    dst: Addr,
    service: String,
}

/// A firewalld script's ipsets, services and rich rules.
#[derive(Debug)]
pub struct Firewalld {
    ipsets: HashMap<String, Vec<IpNet>>,
    services: HashMap<String, Vec<(Protocol, u16, u16)>>,
    rules: Vec<FwRule>,
}

fn quoted<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let start = s.find(&format!("{key}="))? + key.len() + 1;
    let q = s[start..].chars().next()?;
    let rest = &s[start + 1..];
    Some(&rest[..rest.find(q)?])
}

impl Firewalld {
    pub fn parse(text: &str) -> Firewalld {
        let mut fw = Firewalld {
            ipsets: HashMap::new(),
            services: HashMap::new(),
            rules: vec![],
        };
        for line in text.lines() {
            let Some(cmd) = line.strip_prefix("$FC ") else {
                continue;
            };
            if let Some(n) = quoted(cmd, "--new-ipset") {
                fw.ipsets.insert(n.into(), vec![]);
            } else if let (Some(n), Some(e)) = (quoted(cmd, "--ipset"), quoted(cmd, "--add-entry"))
            {
                fw.ipsets.get_mut(n).unwrap().push(e.parse().unwrap());
            } else if let Some(n) = quoted(cmd, "--new-service") {
                fw.services.insert(n.into(), vec![]);
            } else if let (Some(n), Some(p)) = (quoted(cmd, "--service"), quoted(cmd, "--add-port"))
            {
                let (range, pr) = p.split_once('/').unwrap();
                let (a, b) = ports(range);
                fw.services.get_mut(n).unwrap().push((proto(pr), a, b));
            } else if let Some(rich) = quoted(cmd, "--add-rich-rule") {
                let outbound = cmd.starts_with("--policy");
                let side = |kw: &str| -> Addr {
                    let Some(i) = rich.find(&format!(" {kw} ")) else {
                        return Addr::Any;
                    };
                    let rest = &rich[i + kw.len() + 2..];
                    let (not, rest) = match rest.strip_prefix("not ") {
                        Some(r) => (true, r),
                        None => (false, rest),
                    };
                    let nets: Vec<IpNet> = if rest.starts_with("address=") {
                        vec![quoted(rest, "address").unwrap().parse().unwrap()]
                    } else {
                        let n = quoted(rest, "ipset").unwrap();
                        fw.ipsets[n].clone()
                    };
                    if not {
                        Addr::Not(nets)
                    } else {
                        Addr::Nets(nets)
                    }
                };
                fw.rules.push(FwRule {
                    outbound,
                    v6: quoted(rich, "family") == Some("ipv6"),
                    src: side("source"),
                    dst: side("destination"),
                    service: quoted(rich, "name").unwrap().to_string(),
                });
            }
        }
        fw
    }

    pub fn permits(&self, p: &Packet) -> bool {
        let outbound = p.dir == Direction::Out;
        self.rules.iter().any(|r| {
            r.outbound == outbound
                && r.v6 == p.src.is_ipv6()
                && r.src.has(p.src)
                && r.dst.has(p.dst)
                && self.services[&r.service]
                    .iter()
                    .any(|(pr, a, b)| *pr == p.proto && (*a..=*b).contains(&p.port))
        })
    }

    pub fn rules(&self) -> usize {
        self.rules.len()
    }
}

// ---- Cisco IOS -----------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Ports {
    Any,
    Range(u16, u16),
}

#[derive(Debug, Clone)]
struct Ace {
    permit: bool,
    /// `None`: `ip` (any protocol).
    proto: Option<Protocol>,
    src: Addr,
    src_ports: Ports,
    dst: Addr,
    /// (protocol, low, high) alternatives; empty: any.
    dst_ports: Vec<(Option<Protocol>, Ports)>,
    established: bool,
}

/// A Cisco configuration's ACLs, by name, with the zones whose traffic each one filters.
#[derive(Debug)]
pub struct Cisco {
    acls: Vec<(String, Vec<String>, Vec<Ace>)>,
}

fn wild_net(addr: &str, wild: &str) -> IpNet {
    let a: std::net::Ipv4Addr = addr.parse().unwrap();
    let w: std::net::Ipv4Addr = wild.parse().unwrap();
    let len = 32 - u32::from(w).count_ones();
    IpNet::new(IpAddr::V4(a), len as u8).unwrap()
}

fn mask_net(addr: &str, mask: &str) -> IpNet {
    let a: std::net::Ipv4Addr = addr.parse().unwrap();
    let m: std::net::Ipv4Addr = mask.parse().unwrap();
    IpNet::new(IpAddr::V4(a), u32::from(m).count_ones() as u8).unwrap()
}

impl Cisco {
    pub fn parse(text: &str) -> Cisco {
        let mut groups: HashMap<String, Vec<IpNet>> = HashMap::new();
        let mut services: HashMap<String, Vec<(Option<Protocol>, Ports)>> = HashMap::new();
        let mut acls: Vec<(String, Vec<String>, Vec<Ace>)> = Vec::new();
        let mut zones: Vec<String> = vec![];
        enum In {
            Nothing,
            Net(String),
            Svc(String),
            Acl,
        }
        let mut cur = In::Nothing;
        for line in text.lines() {
            if let Some(z) = line
                .strip_prefix("! Apply inbound on the interface facing ")
                .or_else(|| {
                    line.strip_prefix("! Applied inbound below on the interface(s) facing ")
                })
                .or_else(|| line.strip_prefix("! Entries for the traffic arriving from "))
            {
                zones = z
                    .trim_end_matches([':', '.'])
                    .split(", ")
                    .map(String::from)
                    .collect();
                continue;
            }
            if line.starts_with('!') || line == "end" {
                continue;
            }
            if let Some(n) = line.strip_prefix("object-group network ") {
                groups.insert(n.into(), vec![]);
                cur = In::Net(n.into());
                continue;
            }
            if let Some(n) = line.strip_prefix("object-group service ") {
                services.insert(n.into(), vec![]);
                cur = In::Svc(n.into());
                continue;
            }
            if let Some(n) = line.strip_prefix("ip access-list extended ") {
                match acls.iter_mut().find(|a| a.0 == n) {
                    Some(a) => a.1.extend(zones.iter().cloned()),
                    None => acls.push((n.into(), zones.clone(), vec![])),
                }
                cur = In::Acl;
                continue;
            }
            if !line.starts_with(' ') {
                cur = In::Nothing;
                continue;
            }
            let t: Vec<&str> = line.split_whitespace().collect();
            match &cur {
                In::Net(g) => {
                    let n = match t.as_slice() {
                        ["description", ..] => continue,
                        ["host", a] => format!("{a}/32").parse().unwrap(),
                        [a, m] => mask_net(a, m),
                        other => panic!("object-group entry {other:?}"),
                    };
                    groups.get_mut(g).unwrap().push(n);
                }
                In::Svc(g) => {
                    let e = match t.as_slice() {
                        ["description", ..] => continue,
                        [p, "eq", n] => (
                            Some(proto(p)),
                            Ports::Range(n.parse().unwrap(), n.parse().unwrap()),
                        ),
                        [p, "range", a, b] => (
                            Some(proto(p)),
                            Ports::Range(a.parse().unwrap(), b.parse().unwrap()),
                        ),
                        other => panic!("service entry {other:?}"),
                    };
                    services.get_mut(g).unwrap().push(e);
                }
                In::Acl => {
                    let mut t: &[&str] = &t;
                    if t[0].parse::<u32>().is_ok() {
                        t = &t[1..];
                    }
                    if t[0] == "remark" {
                        continue;
                    }
                    let permit = match t[0] {
                        "permit" => true,
                        "deny" => false,
                        other => panic!("ACL entry {other}"),
                    };
                    let mut i = 1;
                    let mut svc: Option<Vec<(Option<Protocol>, Ports)>> = None;
                    let pr = if t[i] == "object-group" {
                        svc = Some(services[t[i + 1]].clone());
                        i += 2;
                        None
                    } else {
                        let p = t[i];
                        i += 1;
                        (p != "ip").then(|| proto(p))
                    };
                    let addr = |i: &mut usize| -> Addr {
                        match t[*i] {
                            "any" => {
                                *i += 1;
                                Addr::Any
                            }
                            "host" => {
                                *i += 2;
                                Addr::Nets(vec![format!("{}/32", t[*i - 1]).parse().unwrap()])
                            }
                            "object-group" => {
                                *i += 2;
                                Addr::Nets(groups[t[*i - 1]].clone())
                            }
                            a => {
                                *i += 2;
                                Addr::Nets(vec![wild_net(a, t[*i - 1])])
                            }
                        }
                    };
                    let port = |i: &mut usize| -> Ports {
                        match t.get(*i) {
                            Some(&"eq") => {
                                *i += 2;
                                let p = t[*i - 1].parse().unwrap();
                                Ports::Range(p, p)
                            }
                            Some(&"range") => {
                                *i += 3;
                                Ports::Range(t[*i - 2].parse().unwrap(), t[*i - 1].parse().unwrap())
                            }
                            _ => Ports::Any,
                        }
                    };
                    let src = addr(&mut i);
                    let src_ports = port(&mut i);
                    let dst = addr(&mut i);
                    let dst_port = port(&mut i);
                    let established = t[i..].contains(&"established");
                    let dst_ports = match svc {
                        Some(s) => s,
                        None => vec![(pr, dst_port)],
                    };
                    acls.last_mut().unwrap().2.push(Ace {
                        permit,
                        proto: pr,
                        src,
                        src_ports,
                        dst,
                        dst_ports,
                        established,
                    });
                }
                In::Nothing => {}
            }
        }
        Cisco { acls }
    }

    /// Whether the ACL filtering traffic from `zone` permits the first packet of `p`.
    pub fn permits(&self, zone: &str, p: &Packet) -> bool {
        if p.src.is_ipv6() {
            return false;
        }
        let Some((_, _, aces)) = self.acls.iter().find(|a| a.1.iter().any(|z| z == zone)) else {
            return false;
        };
        for a in aces {
            let proto_ok = |pr: Option<Protocol>| pr.is_none_or(|x| x == p.proto);
            let port_ok = |ps: &Ports| match ps {
                Ports::Any => true,
                Ports::Range(lo, hi) => (*lo..=*hi).contains(&p.port),
            };
            let matches = proto_ok(a.proto)
                && a.src.has(p.src)
                && a.dst.has(p.dst)
                // Replies' source ports: a first packet's source port is ephemeral, never
                // one of the plan's; established never matches a SYN.
                && matches!(a.src_ports, Ports::Any)
                && !a.established
                && a.dst_ports.iter().any(|(pr, ps)| proto_ok(*pr) && port_ok(ps));
            if matches {
                return a.permit;
            }
        }
        false
    }

    /// ACL names.
    pub fn acl_names(&self) -> Vec<&str> {
        self.acls.iter().map(|a| a.0.as_str()).collect()
    }

    /// Entries that permit or deny (not remarks) in all ACLs.
    pub fn entries(&self) -> usize {
        self.acls.iter().map(|a| a.2.len()).sum()
    }
}
