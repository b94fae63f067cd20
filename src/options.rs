//! Product options: the typed switches a vendor's notes column implies, and their values.
//!
//! An option is a `bool`, a `choice` among named values, or a `port` the admin may change.
//! [`OptionValues`] holds one resolved value per option of a product (defaults included),
//! built from `--set NAME=VALUE` or a site file by [`OptionValues::set`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::i18n::Text;
use crate::portset::check_port;
use crate::tr;

/// The type of an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionKind {
    /// `true` / `false`.
    Bool,
    /// One of a fixed list of values.
    Choice(Vec<String>),
    /// A TCP/UDP port number, 1-65535, or a range of them (`5000-5100`: an RPC range the
    /// admin narrowed).
    Port,
}

impl OptionKind {
    /// Name of the type as catalogs write it.
    pub fn name(&self) -> &'static str {
        match self {
            OptionKind::Bool => "bool",
            OptionKind::Choice(_) => "choice",
            OptionKind::Port => "port",
        }
    }

    /// The values an admin may give, for error messages.
    pub fn allowed(&self) -> String {
        match self {
            OptionKind::Bool => "true, false".into(),
            OptionKind::Choice(v) => v.join(", "),
            OptionKind::Port => "1-65535".into(),
        }
    }

    /// Parse a value written by an admin (`--set`, site file, condition literal).
    pub fn parse(&self, text: &str) -> Option<Value> {
        match self {
            OptionKind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Some(Value::Bool(true)),
                "false" | "no" | "off" => Some(Value::Bool(false)),
                _ => None,
            },
            OptionKind::Choice(values) => values
                .iter()
                .find(|v| v.as_str() == text)
                .map(|v| Value::Choice(v.clone())),
            OptionKind::Port => {
                let port = |t: &str| t.trim().parse::<u64>().ok().and_then(check_port);
                match text.split_once('-') {
                    None => port(text).map(Value::Port),
                    Some((a, b)) => match (port(a), port(b)) {
                        (Some(a), Some(b)) if a < b => Some(Value::Range(a, b)),
                        (Some(a), Some(b)) if a == b => Some(Value::Port(a)),
                        _ => None,
                    },
                }
            }
        }
    }
}

/// A resolved option value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// A bool option's value.
    Bool(bool),
    /// A choice option's value.
    Choice(String),
    /// A port option's value.
    Port(u16),
    /// A port option's value that is a range, first < last.
    Range(u16, u16),
}

impl Value {
    /// The ports this value stands for in a `ports:` list: a port option's port or range, a
    /// choice whose value is a port number; nothing for the rest.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self {
            Value::Port(p) => Some((*p, *p)),
            Value::Range(a, b) => Some((*a, *b)),
            Value::Choice(c) => c.parse::<u64>().ok().and_then(check_port).map(|p| (p, p)),
            Value::Bool(_) => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Choice(s) => f.write_str(s),
            Value::Port(p) => write!(f, "{p}"),
            Value::Range(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Bool(b) => s.serialize_bool(*b),
            // A choice written as numbers in the catalog (`values: [80, 8080]`) stays a
            // number: JSON readers compare `proxy_port` with 8080, not "8080".
            Value::Choice(c) => match c.parse::<u64>() {
                Ok(n) if n.to_string() == *c => s.serialize_u64(n),
                _ => s.serialize_str(c),
            },
            Value::Port(p) => s.serialize_u16(*p),
            Value::Range(a, b) => s.serialize_str(&format!("{a}-{b}")),
        }
    }
}

/// One option of a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDef {
    /// Identifier, e.g. `rpc_ports`.
    pub id: String,
    /// Type.
    pub kind: OptionKind,
    /// Value when the admin says nothing.
    pub default: Value,
    /// What it means.
    pub description: Text,
    /// For a choice: the ports each value opens (`postgresql` → 5432), in value order; empty
    /// when the catalog maps none.
    pub ports: Vec<(String, crate::portset::PortSet)>,
}

/// The resolved value of every option of one product.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct OptionValues(BTreeMap<String, Value>);

/// A value an admin gave that the option does not accept, or an option that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// What went wrong, in both languages.
    pub message: Text,
    /// The valid alternatives.
    pub help: Text,
}

impl OptionValues {
    /// Every option at its default.
    pub fn defaults(defs: &[OptionDef]) -> OptionValues {
        OptionValues(
            defs.iter()
                .map(|d| (d.id.clone(), d.default.clone()))
                .collect(),
        )
    }

    /// Set `name` to the value written as `text`, checking it against `defs`.
    pub fn set(&mut self, defs: &[OptionDef], name: &str, text: &str) -> Result<(), OptionError> {
        let Some(def) = defs.iter().find(|d| d.id == name) else {
            let names: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
            let names = names.join(", ");
            return Err(OptionError {
                message: tr!(
                    "unknown option `{name}`",
                    "オプション `{name}` はありません"
                ),
                help: tr!("options: {names}", "指定できるオプション: {names}"),
            });
        };
        let Some(value) = def.kind.parse(text) else {
            let allowed = def.kind.allowed();
            let kind = def.kind.name();
            return Err(OptionError {
                message: tr!(
                    "`{text}` is not a valid value for option `{name}` ({kind})",
                    "`{text}` はオプション `{name}` ({kind}) の値として使えません"
                ),
                help: tr!("valid values: {allowed}", "指定できる値: {allowed}"),
            });
        };
        self.0.insert(name.to_string(), value);
        Ok(())
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// `(name, value)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}
