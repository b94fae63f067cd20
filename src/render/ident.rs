//! Identifiers for every target: valid, distinct, readable where possible.
//!
//! A site's ids (points, zones, roles) may be written in any script. Each target accepts only
//! some bytes in its names and limits their length (iptables chains 28 bytes, ipsets 31,
//! firewalld policies 17). [`Namer::name`] keeps an id as it is when the target accepts it
//! (ASCII letters, digits and a few separators, case kept: every target compares names
//! exactly); otherwise it keeps the acceptable characters, cuts them to fit and appends a short
//! stable hash of the whole id, so `本社` and `支店`, or `a.b` and `a-b` where `.` is not
//! accepted, never meet. The hash depends on the id alone (FNV-1a, 32 bits shown), so the
//! same site renders the same names every time; a [`Namer`] also checks that the names it
//! handed out are distinct and lengthens the hash if two ever collide.

use std::collections::HashMap;

/// What a target accepts in a name.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Longest name, in bytes.
    pub max: usize,
    /// Characters kept as they are (always ASCII).
    pub keep: fn(char) -> bool,
    /// What replaces a run of other characters, and separates the hash.
    pub sep: char,
    /// Whether the target compares names without regard to case (Windows).
    pub case_insensitive: bool,
}

fn word_dot_dash(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn word_dash(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
}

/// nftables table, chain and set names (nft accepts `[A-Za-z_][A-Za-z0-9_./-]*`; kept at 63
/// bytes, within every kernel since 4.16).
pub const NFT: Rules = Rules {
    max: 63,
    keep: word_dot_dash,
    sep: '_',
    case_insensitive: false,
};

/// iptables chain names: at most 28 bytes (`XT_EXTENSION_MAXNAMELEN` - 1).
pub const IPTABLES: Rules = Rules {
    max: 28,
    keep: word_dot_dash,
    sep: '_',
    case_insensitive: false,
};

/// Cisco IOS ACL and object-group names (no spaces or quotes; kept at 64 bytes).
pub const CISCO: Rules = Rules {
    max: 64,
    keep: word_dot_dash,
    sep: '_',
    case_insensitive: false,
};

/// firewalld service and ipset names (an ipset name is at most 31 bytes).
pub const FIREWALLD: Rules = Rules {
    max: 31,
    keep: word_dash,
    sep: '_',
    case_insensitive: false,
};

/// firewalld policy names: at most 17 bytes.
pub const FIREWALLD_POLICY: Rules = Rules {
    max: 17,
    keep: word_dash,
    sep: '_',
    case_insensitive: false,
};

/// Windows Defender Firewall rule names and groups: ASCII only, so that the script reads the
/// same in Windows PowerShell 5.1 (which reads a file without BOM in the ANSI code page).
pub const WINDOWS: Rules = Rules {
    max: 200,
    keep: word_dot_dash,
    sep: '_',
    case_insensitive: true,
};

/// FNV-1a (64 bits) of `s`.
pub fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `id` under `rules`, with a hash of `hex` digits when anything had to change.
fn make(id: &str, rules: &Rules, hex: usize) -> String {
    make_in(id, rules, rules.max, hex, true)
}

/// [`make`] within `max` bytes; `first_alpha`: the name must start with a letter.
fn make_in(id: &str, rules: &Rules, max: usize, hex: usize, first_alpha: bool) -> String {
    if !id.is_empty()
        && id.len() <= max
        && id.chars().all(rules.keep)
        && (!first_alpha || id.starts_with(|c: char| c.is_ascii_alphabetic()))
    {
        return id.to_string();
    }
    let mut kept = String::new();
    let mut replaced = false;
    for c in id.chars() {
        if (rules.keep)(c) {
            kept.push(c);
            replaced = false;
        } else if !replaced {
            kept.push(rules.sep);
            replaced = true;
        }
    }
    // A replaced run next to a separator the id already has adds nothing: `portplan-社内FW`
    // reads `portplan-FW`, not `portplan-_FW`.
    let seps = ['-', '_', '.', rules.sep];
    let mut tidy = String::new();
    for c in kept.chars() {
        let last = tidy.chars().last();
        if c == rules.sep && last.is_some_and(|l| seps.contains(&l)) {
            continue;
        }
        if seps.contains(&c) && last == Some(rules.sep) {
            tidy.pop();
        }
        tidy.push(c);
    }
    let kept = tidy.trim_matches(&seps[..]);
    let hash = format!("{:016x}", fnv(id));
    let hash = &hash[..hex];
    let room = max.saturating_sub(hex + 1);
    let mut cut: String = kept.chars().take(room).collect();
    if first_alpha && (cut.is_empty() || !cut.starts_with(|c: char| c.is_ascii_alphabetic())) {
        cut.insert(0, 'x');
        cut.truncate(room.max(1));
    }
    if cut.is_empty() {
        return hash.to_string();
    }
    format!("{cut}{}{hash}", rules.sep)
}

/// Hands out names for one output: the same id always gets the same name, two ids never do.
#[derive(Debug)]
pub struct Namer {
    rules: Rules,
    by_id: HashMap<String, String>,
    by_name: HashMap<String, String>,
}

impl Namer {
    /// A namer for one target's rules.
    pub fn new(rules: Rules) -> Namer {
        Namer {
            rules,
            by_id: HashMap::new(),
            by_name: HashMap::new(),
        }
    }

    /// The name of `id` (the parts of a name joined with `-`: `portplan-fw-core-site`).
    pub fn name(&mut self, id: &str) -> String {
        self.named(id, |rules, hex| make(id, rules, hex))
    }

    /// A name that starts with `prefix` (itself a valid name, e.g. a point's), then `-` and
    /// `suffix`, shortened and hashed on the suffix alone: every name of a point shares the
    /// prefix, so a script can find them all by it.
    pub fn child(&mut self, prefix: &str, suffix: &str) -> String {
        let id = format!("{prefix}-{suffix}");
        let room = self.rules.max.saturating_sub(prefix.len() + 1);
        if room < 10 {
            return self.name(&id);
        }
        self.named(&id, |rules, hex| {
            format!("{prefix}-{}", make_in(suffix, rules, room, hex, false))
        })
    }

    fn named(&mut self, id: &str, make: impl Fn(&Rules, usize) -> String) -> String {
        if let Some(n) = self.by_id.get(id) {
            return n.clone();
        }
        let key = |n: &str| {
            if self.rules.case_insensitive {
                n.to_ascii_lowercase()
            } else {
                n.to_string()
            }
        };
        let mut name = make(&self.rules, 8);
        if self.by_name.contains_key(&key(&name)) {
            name = make(&self.rules, 16);
            if self.by_name.contains_key(&key(&name)) {
                name = make_in(&format!("{id}\u{0}"), &self.rules, self.rules.max, 16, true);
            }
        }
        self.by_name.insert(key(&name), id.to_string());
        self.by_id.insert(id.to_string(), name.clone());
        name
    }
}

/// One name, outside of a [`Namer`] (for names that are alone in their output).
pub fn name(id: &str, rules: &Rules) -> String {
    make(id, rules, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_ids_are_kept_others_hashed() {
        assert_eq!(name("portplan-fw-core", &NFT), "portplan-fw-core");
        let a = name("portplan-本社", &NFT);
        let b = name("portplan-支店", &NFT);
        assert!(
            a.starts_with("portplan_") && b.starts_with("portplan_"),
            "{a} {b}"
        );
        assert_ne!(a, b);
        assert_eq!(a, name("portplan-本社", &NFT), "stable");
        // 社内FW keeps its ASCII part.
        assert!(name("portplan-社内FW", &NFT).starts_with("portplan-FW_"));
    }

    #[test]
    fn names_fit_and_stay_distinct() {
        let long = "portplan-a-very-long-enforcement-point-name-forward";
        let n = name(long, &IPTABLES);
        assert!(n.len() <= 28 && n.starts_with("portplan-a-very"), "{n}");
        assert_ne!(n, name(&format!("{long}2"), &IPTABLES));
        assert!(name("pp-東京-out", &FIREWALLD_POLICY).len() <= 17);
        // `.` is not kept for firewalld: hashed, so `a.b` and `a_b` differ.
        assert_ne!(name("a.b", &FIREWALLD), name("a_b", &FIREWALLD));
        // Names start with a letter.
        assert!(name("1st", &CISCO).starts_with('x'));
        assert!(name("東京", &CISCO).starts_with('x'));
    }

    #[test]
    fn a_namer_never_hands_out_one_name_twice() {
        let mut n = Namer::new(WINDOWS);
        let a = n.name("Rule");
        let b = n.name("rule");
        assert_eq!(a, "Rule");
        assert_ne!(a.to_ascii_lowercase(), b.to_ascii_lowercase());
        assert_eq!(n.name("Rule"), a);
    }

    #[test]
    fn children_keep_their_prefix() {
        let mut n = Namer::new(FIREWALLD);
        let p = n.name("portplan-東京");
        let c = n.child(&p, "r1");
        assert!(c.starts_with(&format!("{p}-")), "{c}");
        let long = n.child(&p, "devicelock.enterprise_server-v6");
        assert!(
            long.starts_with(&format!("{p}-")) && long.len() <= 31,
            "{long}"
        );
        assert_ne!(long, n.child(&p, "devicelock.enterprise_server-v7"));
    }
}
