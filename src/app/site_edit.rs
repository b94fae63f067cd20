//! Form edits of a site file (the web UI's Site page): zones, product options, role endpoints
//! and network firewalls changed field by field, the rest of the file kept as it is.
//!
//! The file is read into an ordered YAML tree ([`Node`]: key order kept, so the rewritten file
//! reads like the original) and written back with serde-saphyr. A field is applied only when
//! its text differs from what the current value shows as ([`list_text`], [`sides_text`]), so
//! untouched fields never change. Comments are not kept: the page says so. Checking the
//! result is [`crate::app::Context::load`]'s job, exactly as for a file on disk.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::diag::{Error, Result, SourceFile};
use crate::tr;

/// A YAML value with its mapping keys in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `~` / nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys in file order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Set `key` of a mapping (appended when new); a non-mapping becomes one.
    pub fn set(&mut self, key: &str, value: Node) {
        if !matches!(self, Node::Map(_)) {
            *self = Node::Map(Vec::new());
        }
        if let Node::Map(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => m.push((key.to_string(), value)),
            }
        }
    }

    fn remove(&mut self, key: &str) {
        if let Node::Map(m) = self {
            m.retain(|(k, _)| k != key);
        }
    }

    /// The elements of a sequence (none for anything else).
    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(v) => v,
            _ => &[],
        }
    }

    /// A scalar as text (`None` for sequences, mappings and null).
    pub fn scalar(&self) -> Option<String> {
        match self {
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(f.to_string()),
            Node::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// A scalar typed the way YAML reads it: `true`/`false`, an integer, else a string.
    pub fn typed(text: &str) -> Node {
        match text {
            "true" => Node::Bool(true),
            "false" => Node::Bool(false),
            t => t
                .parse::<i64>()
                .ok()
                .filter(|_| !(t.starts_with('+') || t.len() > 1 && t.starts_with('0')))
                .map_or_else(|| Node::Str(t.to_string()), Node::Int),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Node, E> {
                Ok(i64::try_from(v).map_or_else(|_| Node::Str(v.to_string()), Node::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Node::Seq(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Node, A::Error> {
                let mut m: Vec<(String, Node)> = Vec::new();
                while let Some((k, v)) = a.next_entry::<Node, Node>()? {
                    let k = k.scalar().unwrap_or_default();
                    m.retain(|(x, _)| *x != k);
                    m.push((k, v));
                }
                Ok(Node::Map(m))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::Float(f) => s.serialize_f64(*f),
            Node::Str(x) => s.serialize_str(x),
            Node::Seq(v) => {
                let mut q = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    q.serialize_element(x)?;
                }
                q.end()
            }
            Node::Map(m) => {
                let mut q = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    q.serialize_entry(k, v)?;
                }
                q.end()
            }
        }
    }
}

/// Read a site file into a tree; a file that is not YAML gets the CLI's located error.
pub fn parse(file: &SourceFile) -> Result<Node> {
    serde_saphyr::from_str_with_options::<Node>(&file.text, crate::diag::yaml_options()).map_err(
        |e| Error::Yaml {
            file: file.clone(),
            error: Box::new(e),
        },
    )
}

/// A list of scalars as one line: `a, b`; `[]` for an empty list; a scalar as itself; `None`
/// for anything a line cannot show (mappings), which the form then shows read-only.
pub fn list_text(n: &Node) -> Option<String> {
    match n {
        Node::Seq(v) if v.is_empty() => Some("[]".into()),
        Node::Seq(v) => v
            .iter()
            .map(Node::scalar)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(", ")),
        other => other.scalar(),
    }
}

fn list_node(text: &str) -> Node {
    let t = text.trim();
    if t == "[]" {
        return Node::Seq(Vec::new());
    }
    Node::Seq(
        t.split([',', ' ', '\n', '\r', '\t'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Node::Str(s.to_string()))
            .collect(),
    )
}

/// A firewall's `between` as one line: sides separated by `;`, the zones of a side by `,`
/// (`clients, servers; internet`).
pub fn sides_text(n: &Node) -> Option<String> {
    n.items()
        .iter()
        .map(|side| match side {
            Node::Seq(_) => list_text(side),
            other => other.scalar(),
        })
        .collect::<Option<Vec<_>>>()
        .map(|v| v.join("; "))
}

fn sides_node(text: &str) -> Node {
    Node::Seq(
        text.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|side| match list_node(side) {
                Node::Seq(mut v) if v.len() == 1 => v.remove(0),
                n => n,
            })
            .collect(),
    )
}

fn seq_mut<'a>(root: &'a mut Node, key: &str) -> &'a mut Vec<Node> {
    if !matches!(root.get(key), Some(Node::Seq(_))) {
        root.set(key, Node::Seq(Vec::new()));
    }
    match root.get_mut(key) {
        Some(Node::Seq(v)) => v,
        _ => unreachable!("just made a sequence"),
    }
}

fn bad_field(name: &str) -> Error {
    Error::usage(
        tr!(
            "form field `{name}` does not name a part of this site",
            "フォーム項目 `{name}` はこのサイトのどこも指していません"
        ),
        None,
    )
}

/// Apply the form's fields to the site's text and return the new text. Fields:
/// `zone.N.id|cidrs|delete`, `zone.new.id|cidrs`, `opt.P.NAME`, `role.P.ROLE` (blank: not
/// mapped, `[]`: not deployed), `fw.N.id|between|target|delete`, `fw.new.id|between|target`
/// (N and P are indexes into `zones`, `products`, `firewalls`). Other fields are ignored.
pub fn apply(file: &SourceFile, fields: &[(String, String)]) -> Result<String> {
    let mut root = parse(file)?;
    let mut delete_zones = Vec::new();
    let mut delete_fws = Vec::new();
    let (mut new_zone, mut new_fw) = (Node::Map(Vec::new()), Node::Map(Vec::new()));
    for (name, value) in fields {
        let parts: Vec<&str> = name.splitn(3, '.').collect();
        let [section, index, field] = parts.as_slice() else {
            continue;
        };
        let value = value.trim();
        match (*section, *index) {
            ("zone", "new") if !value.is_empty() => match *field {
                "id" => new_zone.set("id", Node::Str(value.into())),
                "cidrs" => new_zone.set("cidrs", list_node(value)),
                _ => return Err(bad_field(name)),
            },
            ("fw", "new") if !value.is_empty() => match *field {
                "id" => new_fw.set("id", Node::Str(value.into())),
                "between" => new_fw.set("between", sides_node(value)),
                "target" => new_fw.set("target", Node::Str(value.into())),
                _ => return Err(bad_field(name)),
            },
            ("zone" | "fw", "new") => {}
            ("zone", i) | ("opt", i) | ("role", i) | ("fw", i) => {
                let i: usize = i.parse().map_err(|_| bad_field(name))?;
                let key = match *section {
                    "zone" => "zones",
                    "fw" => "firewalls",
                    _ => "products",
                };
                let list = seq_mut(&mut root, key);
                let item = list.get_mut(i).ok_or_else(|| bad_field(name))?;
                match (*section, *field) {
                    ("zone" | "fw", "delete") => {
                        if *section == "zone" {
                            delete_zones.push(i)
                        } else {
                            delete_fws.push(i)
                        }
                    }
                    ("zone" | "fw", "id") | ("fw", "target") => {
                        if item.get(field).and_then(Node::scalar).as_deref() != Some(value) {
                            item.set(field, Node::Str(value.into()));
                        }
                    }
                    ("zone", "cidrs") => {
                        if item.get("cidrs").and_then(list_text).as_deref() != Some(value) {
                            item.set("cidrs", list_node(value));
                        }
                    }
                    ("fw", "between") => {
                        if item.get("between").and_then(sides_text).as_deref() != Some(value) {
                            item.set("between", sides_node(value));
                        }
                    }
                    ("opt", opt) => {
                        let current = item.get("options").and_then(|o| o.get(opt));
                        if current.and_then(Node::scalar).as_deref() == Some(value) {
                            continue;
                        }
                        let mut options = item.get("options").cloned().unwrap_or(Node::Null);
                        if value.is_empty() {
                            options.remove(opt);
                        } else {
                            options.set(opt, Node::typed(value));
                        }
                        item.set("options", options);
                    }
                    ("role", role) => {
                        let current = item.get("roles").and_then(|o| o.get(role));
                        if current.and_then(list_text).as_deref().unwrap_or("") == value {
                            continue;
                        }
                        let mut roles = item.get("roles").cloned().unwrap_or(Node::Null);
                        if value.is_empty() {
                            roles.remove(role);
                        } else {
                            roles.set(role, list_node(value));
                        }
                        item.set("roles", roles);
                    }
                    _ => return Err(bad_field(name)),
                }
            }
            _ => {}
        }
    }
    for (key, mut del) in [("zones", delete_zones), ("firewalls", delete_fws)] {
        del.sort_unstable();
        del.dedup();
        let list = seq_mut(&mut root, key);
        for i in del.into_iter().rev() {
            list.remove(i);
        }
    }
    // A new row counts once it has an id (the form always sends the new row's target).
    if new_zone.get("id").is_some() {
        seq_mut(&mut root, "zones").push(new_zone);
    }
    if new_fw.get("id").is_some() {
        seq_mut(&mut root, "firewalls").push(new_fw);
    }
    serde_saphyr::to_string(&root).map_err(|e| {
        Error::usage(
            tr!(
                "cannot write the edited site: {e}",
                "編集したサイトを書き出せません: {e}"
            ),
            None,
        )
    })
}
