//! The draft catalog being built, the review edits that change it, and its YAML text in the
//! current catalog schema (`catalogs/*.yaml`).

use serde::{Deserialize, Serialize};

use crate::catalog::{Protocol, ZoneHint};

/// An option of the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DOption {
    /// Id.
    pub id: String,
    /// `bool`, `choice` or `port`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Values of a choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// Default value.
    pub default: String,
    /// The vendor's words it comes from.
    pub description: String,
}

/// A role of the draft.
#[derive(Debug, Clone)]
pub struct DRole {
    /// Proposed id.
    pub id: String,
    /// The table's label.
    pub name: String,
    /// Zone from the label's hint (`(インターネット)`), else `any`.
    pub zone: ZoneHint,
}

/// A ports entry, as in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DPort {
    /// `443` or `1024-65535`.
    Spec(String),
    /// `{option: NAME}`.
    Option {
        /// The option.
        option: String,
    },
    /// `{when: COND, ports: [...]}`.
    When {
        /// Condition.
        when: String,
        /// Ports.
        ports: Vec<DPort>,
    },
}

/// Protocols of a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DProto {
    /// Fixed.
    Fixed(Vec<Protocol>),
    /// A choice option.
    Option(String),
}

/// A requirement of the draft.
#[derive(Debug, Clone)]
pub struct DReq {
    /// Id.
    pub id: String,
    /// Purpose (the table's text).
    pub purpose: String,
    /// Initiators.
    pub from: Vec<String>,
    /// Acceptors.
    pub to: Vec<String>,
    /// Both sides initiate.
    pub both_ways: bool,
    /// Protocols.
    pub protocol: DProto,
    /// Ports.
    pub ports: Vec<DPort>,
    /// Conjuncts of the condition.
    pub when: Vec<String>,
    /// Notes (the table's text).
    pub notes: String,
    /// Data row.
    pub row: u32,
    /// Source lines.
    pub lines: Option<(u32, u32)>,
}

/// The draft catalog.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Product id.
    pub id: String,
    /// Product name.
    pub name: String,
    /// Source document id (file name).
    pub doc: String,
    /// Options.
    pub options: Vec<DOption>,
    /// Roles.
    pub roles: Vec<DRole>,
    /// Requirements.
    pub reqs: Vec<DReq>,
}

/// One change a review item proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Declare an option (no-op when an identical one exists).
    AddOption(DOption),
    /// AND a condition into a requirement's `when`.
    AndWhen {
        /// Requirement id.
        requirement: String,
        /// Condition.
        condition: String,
    },
    /// Remove plain port entries and add others.
    Ports {
        /// Requirement id.
        requirement: String,
        /// Plain entries to remove (`80`, `1024-65535`).
        remove: Vec<String>,
        /// Entries to add.
        add: Vec<DPort>,
    },
    /// Move plain port entries to a copy of the requirement with its own condition.
    Split {
        /// Requirement id.
        requirement: String,
        /// Plain entries to move.
        ports: Vec<String>,
        /// Id of the copy.
        id: String,
        /// Extra condition of the copy.
        when: String,
    },
    /// Take the protocol from a choice option.
    Protocol {
        /// Requirement id.
        requirement: String,
        /// The option.
        option: String,
    },
    /// Drop the requirement (a row read as "no opening needed").
    Drop {
        /// Requirement id.
        requirement: String,
    },
}

impl Draft {
    fn req_mut(&mut self, id: &str) -> Result<&mut DReq, String> {
        self.reqs
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or_else(|| format!("no requirement `{id}`"))
    }

    /// Apply one edit.
    pub fn apply(&mut self, e: &Edit) -> Result<(), String> {
        match e {
            Edit::AddOption(o) => match self.options.iter().find(|x| x.id == o.id) {
                Some(x) if x == o => {}
                Some(_) => return Err(format!("option `{}` is declared twice, differently", o.id)),
                None => self.options.push(o.clone()),
            },
            Edit::AndWhen {
                requirement,
                condition,
            } => {
                let r = self.req_mut(requirement)?;
                if !r.when.contains(condition) {
                    r.when.push(condition.clone());
                }
            }
            Edit::Ports {
                requirement,
                remove,
                add,
            } => {
                let r = self.req_mut(requirement)?;
                for p in remove {
                    let before = r.ports.len();
                    r.ports.retain(|x| *x != DPort::Spec(p.clone()));
                    if r.ports.len() == before {
                        return Err(format!(
                            "requirement `{requirement}` has no port entry `{p}`"
                        ));
                    }
                }
                r.ports.extend(add.iter().cloned());
            }
            Edit::Split {
                requirement,
                ports,
                id,
                when,
            } => {
                if self.reqs.iter().any(|r| r.id == *id) {
                    return Err(format!("requirement `{id}` exists already"));
                }
                let pos = self
                    .reqs
                    .iter()
                    .position(|r| r.id == *requirement)
                    .ok_or_else(|| format!("no requirement `{requirement}`"))?;
                let mut copy = self.reqs[pos].clone();
                let r = &mut self.reqs[pos];
                for p in ports {
                    let before = r.ports.len();
                    r.ports.retain(|x| *x != DPort::Spec(p.clone()));
                    if r.ports.len() == before {
                        return Err(format!(
                            "requirement `{requirement}` has no port entry `{p}`"
                        ));
                    }
                }
                copy.id.clone_from(id);
                copy.ports = ports.iter().map(|p| DPort::Spec(p.clone())).collect();
                copy.when.push(when.clone());
                self.reqs.insert(pos + 1, copy);
            }
            Edit::Protocol {
                requirement,
                option,
            } => {
                self.req_mut(requirement)?.protocol = DProto::Option(option.clone());
            }
            Edit::Drop { requirement } => {
                self.req_mut(requirement)?;
                self.reqs.retain(|r| r.id != *requirement);
            }
        }
        Ok(())
    }

    /// The draft as catalog YAML. Strings are written double-quoted (JSON escapes, valid YAML).
    pub fn to_yaml(&self, header: &str) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let text = |s: &str| format!("{{en: {}, ja: {}}}", q(s), q(s));
        let mut o = String::new();
        o.push_str("# yaml-language-server: $schema=../schema/catalog.schema.json\n");
        for l in header.lines() {
            o.push_str(&format!("# {l}\n"));
        }
        o.push_str(&format!(
            "id: {}\nname: {}\nvendor: {}\n",
            self.id,
            text(&self.name),
            q(&self.name)
        ));
        o.push_str(&format!(
            "sources:\n  - id: {}\n    title: {}\n",
            q(&self.doc),
            text(&self.doc)
        ));
        if !self.options.is_empty() {
            o.push_str("\noptions:\n");
            for op in &self.options {
                o.push_str(&format!("  - id: {}\n    type: {}\n", op.id, op.kind));
                if let Some(vs) = &op.values {
                    let vs: Vec<String> = vs.iter().map(|v| q(v)).collect();
                    o.push_str(&format!("    values: [{}]\n", vs.join(", ")));
                }
                let default = if op.kind == "choice" {
                    q(&op.default)
                } else {
                    op.default.clone()
                };
                o.push_str(&format!(
                    "    default: {default}\n    description: {}\n",
                    text(&op.description)
                ));
            }
        }
        o.push_str("\nroles:\n");
        for r in &self.roles {
            let zone = match r.zone {
                ZoneHint::Internet => "internet",
                ZoneHint::Intranet => "intranet",
                ZoneHint::Any => "any",
            };
            o.push_str(&format!(
                "  - id: {}\n    name: {}\n    zone: {zone}\n",
                r.id,
                text(&r.name)
            ));
        }
        o.push_str("\nrequirements:\n");
        for r in &self.reqs {
            let list = |v: &[String]| {
                if v.len() == 1 {
                    v[0].clone()
                } else {
                    format!("[{}]", v.join(", "))
                }
            };
            o.push_str(&format!(
                "  - id: {}\n    purpose: {}\n",
                r.id,
                text(&r.purpose)
            ));
            o.push_str(&format!(
                "    from: {}\n    to: {}\n",
                list(&r.from),
                list(&r.to)
            ));
            if r.both_ways {
                o.push_str("    both_ways: true\n");
            }
            match &r.protocol {
                DProto::Fixed(ps) => {
                    let ps: Vec<String> = ps.iter().map(|p| p.as_str().to_string()).collect();
                    o.push_str(&format!("    protocol: {}\n", list(&ps)));
                }
                DProto::Option(op) => o.push_str(&format!("    protocol: {{option: {op}}}\n")),
            }
            let ports: Vec<String> = r.ports.iter().map(|p| port_yaml(p, &q)).collect();
            o.push_str(&format!("    ports: [{}]\n", ports.join(", ")));
            if !r.when.is_empty() {
                let parts: Vec<String> = r
                    .when
                    .iter()
                    .map(|c| {
                        if r.when.len() > 1 && c.contains(" or ") {
                            format!("({c})")
                        } else {
                            c.clone()
                        }
                    })
                    .collect();
                o.push_str(&format!("    when: {}\n", q(&parts.join(" and "))));
            }
            o.push_str(&format!("    notes: {}\n", text(&r.notes)));
            let lines = match r.lines {
                Some((a, b)) if a == b => format!(", lines: \"{a}\""),
                Some((a, b)) => format!(", lines: \"{a}-{b}\""),
                None => String::new(),
            };
            o.push_str(&format!(
                "    source: {{doc: {}, row: {}{lines}}}\n\n",
                q(&self.doc),
                r.row
            ));
        }
        o
    }
}

fn port_yaml(p: &DPort, q: &dyn Fn(&str) -> String) -> String {
    match p {
        DPort::Spec(s) if s.parse::<u16>().is_ok() => s.clone(),
        DPort::Spec(s) => q(s),
        DPort::Option { option } => format!("{{option: {option}}}"),
        DPort::When { when, ports } => {
            let ps: Vec<String> = ports.iter().map(|p| port_yaml(p, q)).collect();
            format!("{{when: {}, ports: [{}]}}", q(when), ps.join(", "))
        }
    }
}
