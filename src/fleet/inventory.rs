//! Reading an existing Ansible inventory: which hosts it has and their addresses.
//!
//! Three forms: the YAML inventory (`all: {hosts: …, children: …}`), the output of
//! `ansible-inventory -i ANY --list` (JSON; this is the way for dynamic inventories and
//! plugins), and the INI inventory. YAML and JSON go through serde-saphyr and serde_json; the
//! INI form has no parser crate of its own (it is Ansible's own dialect, not an INI file
//! `configparser` reads: host lines carry `key=value` pairs with shell-like quoting), so it is
//! read here — host lines, `[group]`, `[group:vars]` and `[group:children]` sections — as the
//! Ansible documentation describes it. Host ranges (`web[01:20]`, `10.0.0.[1:50]`,
//! `db-[a:f]`) are expanded, at most [`MAX_HOSTS`] hosts.
//!
//! A host's addresses are its name when that is an IP address, `ansible_host` when that is one,
//! and every address of the host variable `portplan_addresses` (a list, or comma-separated).
//! Names are not resolved: a host reached by a DNS name needs `portplan_addresses`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::diag::{Error, Problem, Result, SourceFile};
use crate::tr;

/// Inventories with more hosts than this are refused.
pub const MAX_HOSTS: usize = 1_000_000;

/// One host of an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryHost {
    /// Its inventory name.
    pub name: String,
    /// Its addresses, as far as the inventory says.
    pub addrs: Vec<IpAddr>,
}

/// Host name → (`ansible_host`, `portplan_addresses`).
type Vars = BTreeMap<String, (Option<String>, Vec<String>)>;

/// Read an inventory: JSON (`ansible-inventory --list`), YAML or INI, told apart by content.
pub fn read(file: &SourceFile) -> Result<Vec<InventoryHost>> {
    let text = file.text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    let mut vars: Vars = BTreeMap::new();
    if trimmed.is_empty() {
        return Err(invalid(file, None, no_hosts()));
    }
    if trimmed.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let off = file.offset_of(e.line(), e.column());
            invalid(
                file,
                Some(off..off),
                tr!("not JSON: {e}", "JSON として読めません: {e}"),
            )
        })?;
        json_hosts(&v, &mut vars);
    } else if let Some(v) = yaml_mapping(text) {
        yaml_group(&v, &mut vars, 0);
    } else {
        ini_hosts(file, &mut vars)?;
    }
    if vars.is_empty() {
        return Err(invalid(file, None, no_hosts()));
    }
    let mut out = Vec::with_capacity(vars.len());
    for (name, (ansible_host, extra)) in vars {
        let mut addrs = Vec::new();
        for cand in std::iter::once(name.as_str())
            .chain(ansible_host.as_deref())
            .chain(extra.iter().map(String::as_str))
        {
            let cand = cand.trim().trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = cand.parse::<IpAddr>() {
                addrs.push(ip);
            }
        }
        addrs.sort();
        addrs.dedup();
        out.push(InventoryHost { name, addrs });
    }
    Ok(out)
}

fn no_hosts() -> crate::i18n::Text {
    tr!(
        "no hosts in this inventory (INI, YAML, or `ansible-inventory --list` JSON)",
        "このインベントリにはホストがありません (INI、YAML、または `ansible-inventory --list` の JSON)"
    )
}

fn invalid(
    file: &SourceFile,
    span: Option<std::ops::Range<usize>>,
    message: crate::i18n::Text,
) -> Error {
    Error::Invalid {
        file: file.clone(),
        problems: vec![Problem::at(span, message, None)],
    }
}

fn add(vars: &mut Vars, name: &str, hv: Option<&serde_json::Value>) {
    let e = vars.entry(name.to_string()).or_default();
    let Some(hv) = hv else { return };
    if let Some(h) = hv.get("ansible_host").and_then(scalar) {
        e.0 = Some(h);
    }
    match hv.get("portplan_addresses") {
        Some(serde_json::Value::Array(a)) => e.1.extend(a.iter().filter_map(scalar)),
        Some(v) => {
            if let Some(s) = scalar(v) {
                e.1.extend(s.split(',').map(|x| x.trim().to_string()));
            }
        }
        None => {}
    }
}

fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `ansible-inventory --list`: `_meta.hostvars` and every group's `hosts`.
fn json_hosts(v: &serde_json::Value, vars: &mut Vars) {
    if let Some(hv) = v.pointer("/_meta/hostvars").and_then(|h| h.as_object()) {
        for (name, h) in hv {
            add(vars, name, Some(h));
        }
    }
    if let Some(groups) = v.as_object() {
        for (g, body) in groups {
            if g == "_meta" {
                continue;
            }
            let hosts = body.get("hosts").or(Some(body)).and_then(|h| h.as_array());
            for h in hosts.into_iter().flatten().filter_map(|h| h.as_str()) {
                add(vars, h, None);
            }
        }
    }
}

/// The YAML text as a JSON-like value when its top level is a mapping.
fn yaml_mapping(text: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value =
        serde_saphyr::from_str_with_options(text, crate::diag::yaml_options()).ok()?;
    v.is_object().then_some(v)
}

/// A YAML inventory group: `hosts` (name → vars), `children` (name → group).
fn yaml_group(v: &serde_json::Value, vars: &mut Vars, depth: usize) {
    let Some(map) = v.as_object() else { return };
    if depth > 64 {
        return;
    }
    // The top level maps group names to groups.
    if depth == 0 {
        for g in map.values() {
            yaml_group(g, vars, 1);
        }
        return;
    }
    if let Some(hosts) = map.get("hosts").and_then(|h| h.as_object()) {
        for (pattern, hv) in hosts {
            for name in expand(pattern) {
                add(vars, &name, Some(hv));
            }
        }
    }
    if let Some(children) = map.get("children").and_then(|c| c.as_object()) {
        for g in children.values() {
            yaml_group(g, vars, depth + 1);
        }
    }
}

/// INI: host lines in `[group]` sections (and before any section); `:vars` sections set group
/// variables (not host addresses), `:children` sections name groups.
fn ini_hosts(file: &SourceFile, vars: &mut Vars) -> Result<()> {
    let mut section = Section::Hosts;
    let mut offset = 0;
    for line in file.text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if l.starts_with('[') {
            let Some(name) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
                return Err(invalid(
                    file,
                    Some(start..start + line.trim_end().len()),
                    tr!(
                        "a section header must be `[group]`, `[group:vars]` or `[group:children]`",
                        "セクション見出しは `[group]`、`[group:vars]`、`[group:children]` のいずれかです"
                    ),
                ));
            };
            section = if name.ends_with(":vars") {
                Section::Vars
            } else if name.ends_with(":children") {
                Section::Children
            } else {
                Section::Hosts
            };
            continue;
        }
        if section != Section::Hosts {
            continue;
        }
        let mut words = split_words(l).into_iter();
        let Some(pattern) = words.next() else {
            continue;
        };
        let mut hv = serde_json::Map::new();
        for w in words {
            if w.starts_with('#') {
                break;
            }
            let Some((k, val)) = w.split_once('=') else {
                return Err(invalid(
                    file,
                    Some(start..start + line.trim_end().len()),
                    tr!(
                        "after the host name, a host line has `key=value` pairs; `{w}` is not one",
                        "ホスト行のホスト名の後は `key=value` の組です: `{w}` は違います"
                    ),
                ));
            };
            hv.insert(k.to_string(), serde_json::Value::String(val.to_string()));
        }
        let hv = serde_json::Value::Object(hv);
        let names = expand(&pattern);
        if vars.len() + names.len() > MAX_HOSTS {
            return Err(invalid(
                file,
                Some(start..start + line.trim_end().len()),
                tr!(
                    "more than {MAX_HOSTS} hosts",
                    "ホストが {MAX_HOSTS} 台を超えています"
                ),
            ));
        }
        for n in names {
            add(vars, &n, Some(&hv));
        }
    }
    Ok(())
}

#[derive(PartialEq, Eq)]
enum Section {
    Hosts,
    Vars,
    Children,
}

/// Split a host line into words: whitespace separates, `'…'` and `"…"` quote.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Expand Ansible host ranges: `web[01:03]` → web01, web02, web03; `[a:c]`; `[1:9:2]`.
/// A pattern that is not a well-formed range stays as it is (IPv6 names in brackets too).
pub fn expand(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('[') else {
        return vec![pattern.to_string()];
    };
    let Some(close) = pattern[open..].find(']').map(|c| open + c) else {
        return vec![pattern.to_string()];
    };
    let (head, body, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let parts: Vec<&str> = body.split(':').collect();
    let items: Vec<String> = match parts.as_slice() {
        [a, b] | [a, b, _] => {
            let step: usize = parts.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
            if step == 0 {
                return vec![pattern.to_string()];
            }
            if let (Ok(x), Ok(y)) = (a.parse::<u64>(), b.parse::<u64>()) {
                if y < x || y - x > MAX_HOSTS as u64 {
                    return vec![pattern.to_string()];
                }
                let width = if a.starts_with('0') && a.len() > 1 {
                    a.len()
                } else {
                    0
                };
                (x..=y)
                    .step_by(step)
                    .map(|n| format!("{n:0width$}"))
                    .collect()
            } else if a.len() == 1
                && b.len() == 1
                && a.chars().all(|c| c.is_ascii_alphabetic())
                && b.chars().all(|c| c.is_ascii_alphabetic())
                && a <= b
            {
                let (x, y) = (a.as_bytes()[0], b.as_bytes()[0]);
                (x..=y)
                    .step_by(step)
                    .map(|c| (c as char).to_string())
                    .collect()
            } else {
                return vec![pattern.to_string()];
            }
        }
        _ => return vec![pattern.to_string()],
    };
    let mut out = Vec::new();
    for i in items {
        for rest in expand(tail) {
            out.push(format!("{head}{i}{rest}"));
            if out.len() > MAX_HOSTS {
                return out;
            }
        }
    }
    out
}
