//! Port specs as vendors write them: `TCP:389/3268`, `TCP:636/3269(over SSL)`, `TCP:80 or 8080`,
//! `TCP 1024~`, `TCP/UDP 53`, `TCP+UDP 902`, `8100,8200,8300`, `3268、3269`, `49152～65535`,
//! full-width digits, `any`, `ephemeral`, or a protocol alone (a protocol column).
//!
//! Hand-written: the grammar is a loose token stream of protocol words, numbers, range marks,
//! `or` words and parenthesised qualifiers, which no parser crate models better than a small
//! tokenizer; it never panics (property-tested) and its [`fmt::Display`] re-parses to the same
//! value.

use std::fmt;

use crate::catalog::Protocol;

use super::cells::fold_width;

/// A keyword that stands for a port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Wide {
    /// `any`: every port.
    Any,
    /// `ephemeral`: the IANA dynamic range 49152-65535.
    Ephemeral,
}

/// Ports sharing a protocol (and a qualifier).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortGroup {
    /// Protocols written before the ports; empty when the cell names none.
    pub protocols: Vec<Protocol>,
    /// Port ranges, as written (`(80, 80)`, `(1024, 65535)`).
    pub ports: Vec<(u16, u16)>,
    /// The ports are alternatives (`80 or 8080`); only with two or more ports.
    pub alternatives: bool,
    /// A parenthesised qualifier after the ports (`over SSL`).
    pub qualifier: Option<String>,
    /// The ports came from a keyword.
    pub wide: Option<Wide>,
}

/// A parsed port cell: one or more groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSpec {
    /// Groups in order.
    pub groups: Vec<PortGroup>,
}

/// Why a spec did not parse: the character offset (from 0) and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// Character offset in the (width-folded) text.
    pub at: usize,
    /// The offending text.
    pub found: String,
}

impl PortSpec {
    /// Every protocol named.
    pub fn protocols(&self) -> Vec<Protocol> {
        let mut v: Vec<Protocol> = self
            .groups
            .iter()
            .flat_map(|g| g.protocols.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Whether any port is given.
    pub fn has_ports(&self) -> bool {
        self.groups.iter().any(|g| !g.ports.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Proto(Protocol),
    Num(u32),
    Range,
    Plus,
    Sep,
    Or,
    Qual(String),
    Wide(Wide),
    Word(String),
}

fn tokens(s: &str) -> Vec<(usize, Tok)> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() || matches!(c, ',' | '、' | ';' | '/' | ':' | '・' | '&' | '，') {
            out.push((start, Tok::Sep));
            i += 1;
        } else if c == '+' {
            out.push((start, Tok::Plus));
            i += 1;
        } else if c == '-' || c == '~' {
            out.push((start, Tok::Range));
            i += 1;
        } else if c == '|' {
            out.push((start, Tok::Or));
            i += 1;
        } else if c.is_ascii_digit() {
            let mut n: u32 = 0;
            while i < chars.len() && chars[i].is_ascii_digit() {
                n = n
                    .saturating_mul(10)
                    .saturating_add(chars[i] as u32 - '0' as u32);
                i += 1;
            }
            out.push((start, Tok::Num(n)));
        } else if c == '(' {
            let mut depth = 0usize;
            let mut j = i;
            while j < chars.len() {
                match chars[j] {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let inner: String = chars[i + 1..j.min(chars.len())].iter().collect();
            out.push((
                start,
                Tok::Qual(inner.split_whitespace().collect::<Vec<_>>().join(" ")),
            ));
            i = (j + 1).min(chars.len().max(j + 1));
        } else {
            let mut j = i;
            while j < chars.len() {
                let d = chars[j];
                if d.is_whitespace()
                    || d.is_ascii_digit()
                    || matches!(
                        d,
                        ',' | '、'
                            | ';'
                            | '/'
                            | ':'
                            | '・'
                            | '&'
                            | '，'
                            | '+'
                            | '-'
                            | '~'
                            | '|'
                            | '('
                            | ')'
                    )
                {
                    break;
                }
                j += 1;
            }
            if j == i {
                j = i + 1;
            }
            let w: String = chars[i..j].iter().collect();
            let lw = w.to_lowercase();
            let tok = match lw.as_str() {
                "tcp" => Tok::Proto(Protocol::Tcp),
                "udp" => Tok::Proto(Protocol::Udp),
                "or" | "または" | "又は" | "もしくは" | "か" => Tok::Or,
                "and" | "および" | "及び" | "と" => Tok::Sep,
                "port" | "ports" | "ポート" | "番" | "番号" | "番ポート" => Tok::Sep,
                "以上" | "以降" => Tok::Range,
                "any" | "all" | "任意" | "全て" | "すべて" | "全ポート" => {
                    Tok::Wide(Wide::Any)
                }
                "ephemeral" | "dynamic" | "エフェメラル" => Tok::Wide(Wide::Ephemeral),
                _ => Tok::Word(w),
            };
            out.push((start, tok));
            i = j;
        }
    }
    out
}

/// Parse a port cell (width is folded first). A cell naming only protocols gives groups
/// without ports.
pub fn parse(text: &str) -> Result<PortSpec, SpecError> {
    let s = fold_width(text);
    let toks = tokens(&s);
    let err = |at: usize, found: String| SpecError { at, found };
    let mut groups: Vec<PortGroup> = Vec::new();
    let mut cur = PortGroup::default();
    // A range mark seen after the last number, waiting for its end.
    let mut pending_range: Option<(usize, u16)> = None;
    let mut leading_range = false;
    let finish = |g: &mut PortGroup, groups: &mut Vec<PortGroup>| {
        if g.ports.len() < 2 {
            g.alternatives = false;
        }
        if !g.ports.is_empty() || !g.protocols.is_empty() || g.wide.is_some() {
            groups.push(std::mem::take(g));
        }
    };
    let close_range = |g: &mut PortGroup, pending: &mut Option<(usize, u16)>| {
        if let Some((_, lo)) = pending.take() {
            g.ports.push((lo, 65535));
        }
    };
    for (k, (at, tok)) in toks.iter().enumerate() {
        let at = *at;
        match tok {
            Tok::Sep => {}
            Tok::Proto(p) => {
                close_range(&mut cur, &mut pending_range);
                if !cur.ports.is_empty() || cur.wide.is_some() || cur.qualifier.is_some() {
                    finish(&mut cur, &mut groups);
                }
                if !cur.protocols.contains(p) {
                    cur.protocols.push(*p);
                    cur.protocols.sort();
                }
            }
            Tok::Plus => {
                // `TCP+UDP`: a joiner; `1024+`: an open range.
                let after_num = matches!(
                    toks[..k].iter().rev().find(|(_, t)| *t != Tok::Sep),
                    Some((_, Tok::Num(_)))
                );
                if after_num && let Some(last) = cur.ports.pop() {
                    if last.0 != last.1 {
                        return Err(err(at, "+".into()));
                    }
                    cur.ports.push((last.0, 65535));
                }
            }
            Tok::Num(n) => {
                let n = u16::try_from(*n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| err(at, n.to_string()))?;
                if cur.wide.is_some() || cur.qualifier.is_some() {
                    let protos = cur.protocols.clone();
                    finish(&mut cur, &mut groups);
                    cur.protocols = protos;
                }
                if let Some((rat, lo)) = pending_range.take() {
                    if lo > n {
                        return Err(err(rat, format!("{lo}-{n}")));
                    }
                    cur.ports.push((lo, n));
                } else if leading_range {
                    leading_range = false;
                    cur.ports.push((1, n));
                } else {
                    cur.ports.push((n, n));
                }
            }
            Tok::Range => {
                if pending_range.is_some() || leading_range {
                    return Err(err(at, "~".into()));
                }
                match cur.ports.pop() {
                    Some((lo, hi)) if lo == hi => pending_range = Some((at, lo)),
                    Some(_) => return Err(err(at, "~".into())),
                    None => leading_range = true,
                }
                // `1024以上` has the mark after the number: nothing follows, closed below.
            }
            Tok::Or => {
                close_range(&mut cur, &mut pending_range);
                cur.alternatives = true;
            }
            Tok::Qual(q) => {
                close_range(&mut cur, &mut pending_range);
                if cur.ports.is_empty() && cur.wide.is_none() {
                    return Err(err(at, format!("({q})")));
                }
                if q.is_empty() || q.contains(['(', ')']) {
                    return Err(err(at, format!("({q})")));
                }
                cur.qualifier = Some(q.clone());
            }
            Tok::Wide(w) => {
                close_range(&mut cur, &mut pending_range);
                if !cur.ports.is_empty() || cur.wide.is_some() {
                    let protos = cur.protocols.clone();
                    finish(&mut cur, &mut groups);
                    cur.protocols = protos;
                }
                cur.wide = Some(*w);
                cur.ports.push(match w {
                    Wide::Any => (1, 65535),
                    Wide::Ephemeral => (49152, 65535),
                });
            }
            Tok::Word(w) => return Err(err(at, w.clone())),
        }
    }
    if leading_range {
        return Err(err(s.chars().count(), "~".into()));
    }
    close_range(&mut cur, &mut pending_range);
    finish(&mut cur, &mut groups);
    Ok(PortSpec { groups })
}

impl fmt::Display for PortGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protos: Vec<&str> = self
            .protocols
            .iter()
            .map(|p| match p {
                Protocol::Tcp => "TCP",
                Protocol::Udp => "UDP",
            })
            .collect();
        f.write_str(&protos.join("/"))?;
        if self.ports.is_empty() {
            return Ok(());
        }
        if !protos.is_empty() {
            f.write_str(":")?;
        }
        if let Some(w) = self.wide {
            f.write_str(match w {
                Wide::Any => "any",
                Wide::Ephemeral => "ephemeral",
            })?;
        } else {
            let sep = if self.alternatives { " or " } else { "," };
            let ps: Vec<String> = self
                .ports
                .iter()
                .map(|(lo, hi)| {
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}-{hi}")
                    }
                })
                .collect();
            f.write_str(&ps.join(sep))?;
        }
        if let Some(q) = &self.qualifier {
            write!(f, "({q})")?;
        }
        Ok(())
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gs: Vec<String> = self.groups.iter().map(ToString::to_string).collect();
        f.write_str(&gs.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Protocol::{Tcp, Udp};

    fn g(protocols: &[Protocol], ports: &[(u16, u16)]) -> PortGroup {
        PortGroup {
            protocols: protocols.to_vec(),
            ports: ports.to_vec(),
            ..PortGroup::default()
        }
    }

    #[test]
    fn reads_real_world_specs() {
        let p = |s: &str| parse(s).unwrap().groups;
        assert_eq!(
            p("TCP:389/3268"),
            vec![g(&[Tcp], &[(389, 389), (3268, 3268)])]
        );
        let ssl = p("TCP:389/3268 TCP:636/3269(over SSL)");
        assert_eq!(ssl.len(), 2);
        assert_eq!(ssl[1].qualifier.as_deref(), Some("over SSL"));
        let or = p("TCP:80 or 8080 TCP:8081");
        assert!(or[0].alternatives);
        assert_eq!(or[1], g(&[Tcp], &[(8081, 8081)]));
        assert_eq!(p("TCP 1024~"), vec![g(&[Tcp], &[(1024, 65535)])]);
        assert_eq!(p("UDP 137"), vec![g(&[Udp], &[(137, 137)])]);
        for both in ["TCP/UDP 53", "TCP+UDP 53", "TCP／UDP 53", "tcp and udp 53"] {
            assert_eq!(p(both), vec![g(&[Tcp, Udp], &[(53, 53)])], "{both}");
        }
        assert_eq!(p("8100,8200,8300").len(), 1);
        assert_eq!(p("3268、3269")[0].ports, vec![(3268, 3268), (3269, 3269)]);
        assert_eq!(p("49152-65535")[0].ports, vec![(49152, 65535)]);
        assert_eq!(p("49152～65535")[0].ports, vec![(49152, 65535)]);
        assert_eq!(p("９３８９")[0].ports, vec![(9389, 9389)]);
        assert_eq!(p("any")[0].wide, Some(Wide::Any));
        assert_eq!(p("TCP ephemeral")[0].ports, vec![(49152, 65535)]);
        assert_eq!(p("TCP:53 UDP:53").len(), 2);
        assert_eq!(p("TCP"), vec![g(&[Tcp], &[])]);
        assert_eq!(p("1024以上")[0].ports, vec![(1024, 65535)]);
        assert_eq!(p("~1023")[0].ports, vec![(1, 1023)]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse("TCP 70000").is_err());
        assert!(parse("TCP 0").is_err());
        assert!(parse("see manual").is_err());
        assert!(parse("9000-80").is_err());
        assert!(parse("(x)").is_err());
    }
}
