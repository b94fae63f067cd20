//! The Ansible side of a fleet run: inventory, playbook, vars and `ansible.cfg`.
//!
//! Documents are built as [`Node`] trees (mappings keep their order: Ansible's linter wants
//! `name` first) and written by serde-saphyr, so quoting is the serializer's job, not string
//! pasting. Every string that comes from the site, the inventory or the command line goes in as
//! [`Node::data`]: if it holds a Jinja delimiter (`{{`, `{%`, `{#`) it is tagged `!unsafe`, which
//! Ansible reads as "never template this". Only the playbook's own expressions are templates.
//!
//! The playbook has four plays: prepare (copy the binary and the site to every host that
//! listens or probes), listen (start `portplan listen` asynchronously on every destination,
//! wait until it reports ready), probe (every source, in batches of `serial`, at most
//! `throttle` at once, each bounded by `--rate`/`--concurrency`/`--timeout`; fetch each
//! result), stop (interrupt the listeners, fetch their logs). Linux hosts: POSIX shell, `kill`,
//! `/proc`.

use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::{Fleet, FleetOptions};
use crate::diag::{Error, Result};
use crate::tr;

/// A YAML node.
#[derive(Debug, Clone)]
pub enum Node {
    /// A string Ansible may template (the playbook's own expressions and plain words).
    Str(String),
    /// A string that is data: tagged `!unsafe` when it holds a Jinja delimiter.
    Data(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in this order.
    Map(Vec<(String, Node)>),
    /// Null (`~`): a host without variables.
    Null,
}

impl Node {
    /// A data string (see [`Node::Data`]).
    pub fn data(s: impl Into<String>) -> Node {
        Node::Data(s.into())
    }
    fn s(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }
}

/// Whether Jinja would read `s` as (part of) a template.
pub fn templatable(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Node::Str(s) => ser.serialize_str(s),
            Node::Data(s) if templatable(s) => {
                serde_saphyr::Tagged(s.as_str(), Some("!unsafe".to_string())).serialize(ser)
            }
            Node::Data(s) => ser.serialize_str(s),
            Node::Int(i) => ser.serialize_i64(*i),
            Node::Bool(b) => ser.serialize_bool(*b),
            Node::Null => ser.serialize_unit(),
            Node::Seq(v) => {
                let mut s = ser.serialize_seq(Some(v.len()))?;
                for x in v {
                    s.serialize_element(x)?;
                }
                s.end()
            }
            Node::Map(v) => {
                let mut m = ser.serialize_map(Some(v.len()))?;
                for (k, x) in v {
                    m.serialize_entry(k, x)?;
                }
                m.end()
            }
        }
    }
}

macro_rules! map {
    ($($k:expr => $v:expr),* $(,)?) => {
        Node::Map(vec![$(($k.to_string(), $v)),*])
    };
}

/// YAML text of a node, with a leading comment.
pub fn to_yaml(comment: &str, node: &Node) -> Result<String> {
    // Sequences indented under their key: the layout yamllint (and so ansible-lint) expects.
    let opts = serde_saphyr::ser_options! { compact_list_indent: false };
    let body = serde_saphyr::to_string_with_options(node, opts).map_err(|e| {
        Error::usage(
            tr!("cannot write YAML: {e}", "YAML を書き出せません: {e}"),
            None,
        )
    })?;
    let mut out = String::new();
    for l in comment.lines() {
        let _ = writeln!(out, "# {l}");
    }
    out.push_str("---\n");
    out.push_str(&body);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// An inventory group name from `product.role`: Ansible wants `[A-Za-z0-9_]`, not starting
/// with a digit.
pub fn group_name(role: &str) -> String {
    let mut s: String = role
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    s.insert_str(0, "portplan_");
    s
}

/// The inventory: group `portplan` with every host and its variables, children
/// `portplan_sources`, `portplan_destinations`, and one group per `product.role`.
/// With `--inventory`, hosts carry no `ansible_host`: the user's inventory has it.
pub fn inventory(fleet: &Fleet) -> Node {
    let mut hosts = Vec::with_capacity(fleet.hosts.len());
    let mut by_role: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for h in &fleet.hosts {
        let mut vars = Vec::new();
        if let Some(c) = &h.connect {
            vars.push(("ansible_host".to_string(), Node::data(c.clone())));
        }
        vars.push(("portplan_as".to_string(), Node::data(h.spec())));
        vars.push(("portplan_file".to_string(), Node::data(h.file.clone())));
        hosts.push((h.name.clone(), Node::Map(vars)));
        for r in &h.roles {
            by_role
                .entry(group_name(r))
                .or_default()
                .push(h.name.clone());
        }
    }
    let members = |names: Vec<String>| {
        map! {"hosts" => Node::Map(names.into_iter().map(|n| (n, Node::Null)).collect())}
    };
    let mut children = vec![
        (
            "portplan_sources".to_string(),
            members(fleet.sources().map(|h| h.name.clone()).collect()),
        ),
        (
            "portplan_destinations".to_string(),
            members(fleet.destinations().map(|h| h.name.clone()).collect()),
        ),
    ];
    for (g, names) in by_role {
        children.push((g, members(names)));
    }
    map! {
        "portplan" => map! {
            "hosts" => Node::Map(hosts),
            "children" => Node::Map(children),
        }
    }
}

/// Variables of the run (`vars.yml`): every limit in one place, each overridable with `-e`.
pub fn vars(opts: &FleetOptions) -> Node {
    let secs = |d: std::time::Duration| d.as_secs().max(1) as i64;
    map! {
        "portplan_local_bin" => Node::data(opts.binary.clone()),
        "portplan_remote_dir" => Node::data(opts.remote_dir.clone()),
        "portplan_results_dir" => Node::s("{{ playbook_dir }}/results"),
        "portplan_listen_duration" => Node::data(format!("{}s", secs(opts.listen_duration))),
        // The async job outlives the listener by a minute, so Ansible never kills it first.
        "portplan_listen_async" => Node::Int(secs(opts.listen_duration) + 60),
        "portplan_listen_ready_timeout" => Node::Int(60),
        "portplan_probe_timeout" => Node::data(format!("{}ms", opts.probe_timeout.as_millis())),
        "portplan_probe_rate" => Node::Int(i64::from(opts.probe_rate)),
        "portplan_probe_concurrency" => Node::Int(opts.probe_concurrency as i64),
    }
}

fn remote(file_suffix: &str) -> String {
    format!("{{{{ portplan_remote_dir }}}}/{{{{ portplan_file }}}}.{file_suffix}")
}

/// The playbook.
pub fn playbook(fleet: &Fleet, opts: &FleetOptions) -> Node {
    let play = |name: &str, hosts: &str, mut extra: Vec<(String, Node)>, tasks: Vec<Node>| {
        let mut v = vec![
            ("name".to_string(), Node::s(name)),
            ("hosts".to_string(), Node::s(hosts)),
            ("gather_facts".to_string(), Node::Bool(false)),
        ];
        v.append(&mut extra);
        v.push((
            "vars_files".to_string(),
            Node::Seq(vec![Node::s("vars.yml")]),
        ));
        v.push(("tasks".to_string(), Node::Seq(tasks)));
        Node::Map(v)
    };
    let bin = "{{ portplan_remote_dir }}/portplan";
    let site = "{{ portplan_remote_dir }}/site.yaml";
    let q = |expr: &str| format!("{{{{ {expr} | quote }}}}");
    let pid = "(portplan_remote_dir ~ '/' ~ portplan_file ~ '.listen.pid')";
    let log = "(portplan_remote_dir ~ '/' ~ portplan_file ~ '.listen.json')";
    let bin_expr = "(portplan_remote_dir ~ '/portplan')";
    let site_expr = "(portplan_remote_dir ~ '/site.yaml')";

    let prepare = play(
        &format!("Prepare the hosts of site {}", safe_words(&fleet.site)),
        "portplan_sources,portplan_destinations",
        vec![],
        vec![
            map! {
                "name" => Node::s("Create the work directory"),
                "ansible.builtin.file" => map! {
                    "path" => Node::s("{{ portplan_remote_dir }}"),
                    "state" => Node::s("directory"),
                    "mode" => Node::s("0700"),
                },
            },
            map! {
                "name" => Node::s("Copy the portplan binary"),
                "ansible.builtin.copy" => map! {
                    "src" => Node::s("{{ portplan_local_bin }}"),
                    "dest" => Node::s(bin),
                    "mode" => Node::s("0755"),
                },
            },
            map! {
                "name" => Node::s("Copy the site"),
                "ansible.builtin.copy" => map! {
                    "src" => Node::s("site.yaml"),
                    "dest" => Node::s(site),
                    "mode" => Node::s("0644"),
                },
            },
        ],
    );
    // `exec` keeps the shell's process id, so the pid file names the listener itself.
    let listen_cmd = format!(
        "echo $$ > {} && exec {} listen {} --as {} --duration {} --format json > {} 2>&1",
        q(pid),
        q(bin_expr),
        q(site_expr),
        q("portplan_as"),
        q("portplan_listen_duration"),
        q(log),
    );
    let listen = play(
        "Start the listeners",
        "portplan_destinations",
        vec![],
        vec![
            map! {
                "name" => Node::s("Start portplan listen"),
                "ansible.builtin.shell" => map! {"cmd" => Node::s(listen_cmd)},
                "async" => Node::s("{{ portplan_listen_async }}"),
                "poll" => Node::Int(0),
                "changed_when" => Node::Bool(true),
            },
            map! {
                "name" => Node::s("Wait until the listener is ready"),
                "ansible.builtin.wait_for" => map! {
                    "path" => Node::s(remote("listen.json")),
                    "search_regex" => Node::s("\"event\":\"ready\""),
                    "timeout" => Node::s("{{ portplan_listen_ready_timeout }}"),
                },
            },
        ],
    );
    let probe = play(
        "Probe from every source",
        "portplan_sources",
        vec![("serial".to_string(), Node::Int(i64::from(opts.serial)))],
        vec![
            map! {
                "name" => Node::s("Run portplan probe"),
                "ansible.builtin.command" => map! {
                    "argv" => Node::Seq(vec![
                        Node::s(bin), Node::s("probe"), Node::s(site),
                        Node::s("--from"), Node::s("{{ portplan_as }}"),
                        Node::s("--format"), Node::s("json"),
                        Node::s("--timeout"), Node::s("{{ portplan_probe_timeout }}"),
                        Node::s("--rate"), Node::s("{{ portplan_probe_rate }}"),
                        Node::s("--concurrency"), Node::s("{{ portplan_probe_concurrency }}"),
                        Node::s("-o"), Node::s(remote("probe.json")),
                    ]),
                },
                "register" => Node::s("portplan_probe"),
                "changed_when" => Node::Bool(false),
                // 1 is "not as planned", which the merge reports; 2 and others are errors.
                "failed_when" => Node::s("portplan_probe.rc not in [0, 1]"),
                "throttle" => Node::Int(i64::from(opts.throttle())),
                "timeout" => Node::Int(i64::from(opts.probe_task_timeout)),
            },
            map! {
                "name" => Node::s("Fetch the result"),
                "ansible.builtin.fetch" => map! {
                    "src" => Node::s(remote("probe.json")),
                    "dest" => Node::s("{{ portplan_results_dir }}/{{ portplan_file }}.json"),
                    "flat" => Node::Bool(true),
                },
            },
        ],
    );
    // Only a process whose command line is portplan's is interrupted: a stale pid file never
    // signals another program.
    let stop_cmd = format!(
        "pid=$(cat {}) && grep -q portplan /proc/\"$pid\"/cmdline && kill -INT \"$pid\" || true",
        q(pid)
    );
    let stop = play(
        "Stop the listeners",
        "portplan_destinations",
        vec![],
        vec![
            map! {
                "name" => Node::s("Interrupt portplan listen"),
                "ansible.builtin.shell" => map! {"cmd" => Node::s(stop_cmd)},
                "changed_when" => Node::Bool(true),
            },
            map! {
                "name" => Node::s("Wait until the listener has stopped"),
                "ansible.builtin.wait_for" => map! {
                    "path" => Node::s(remote("listen.json")),
                    "search_regex" => Node::s("\"event\":\"done\""),
                    "timeout" => Node::Int(30),
                },
            },
            map! {
                "name" => Node::s("Fetch the listener's log"),
                "ansible.builtin.fetch" => map! {
                    "src" => Node::s(remote("listen.json")),
                    "dest" => Node::s("{{ portplan_results_dir }}/listen/{{ portplan_file }}.json"),
                    "flat" => Node::Bool(true),
                },
            },
        ],
    );
    Node::Seq(vec![prepare, listen, probe, stop])
}

/// Text safe in a play name: the site's name without Jinja delimiters or line breaks.
fn safe_words(s: &str) -> String {
    let mut t: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    for d in ["{{", "}}", "{%", "%}", "{#", "#}"] {
        t = t.replace(d, " ");
    }
    t.trim().to_string()
}

/// `ansible.cfg` for the run: forks, SSH timeout, pipelining.
pub fn ansible_cfg(opts: &FleetOptions) -> String {
    format!(
        "# Written by portplan fleet. Ansible reads this file when run from this directory.\n\
         [defaults]\n\
         forks = {}\n\
         timeout = {}\n\
         inventory = inventory.yml\n\
         retry_files_enabled = False\n\
         \n\
         [ssh_connection]\n\
         pipelining = True\n",
        opts.forks, opts.ssh_timeout
    )
}

/// Every file of a fleet directory: (name, content). `site` is the site file's text, copied
/// as `site.yaml` so the playbook and the merge read the very same site.
pub fn files(fleet: &Fleet, opts: &FleetOptions, site: &str) -> Result<Vec<(String, String)>> {
    let header = format!(
        "portplan fleet: site {}\n{} hosts: {} probe, {} listen.",
        safe_words(&fleet.site),
        fleet.hosts.len(),
        fleet.sources().count(),
        fleet.destinations().count()
    );
    let manifest = serde_json::json!({
        "site": fleet.site,
        "hosts": fleet.hosts,
        "uncovered": fleet.uncovered,
        "unmatched_inventory_hosts": fleet.unmatched,
        "throttle": opts.throttle(),
        "serial": opts.serial,
        "forks": opts.forks,
    });
    Ok(vec![
        ("inventory.yml".into(), to_yaml(&header, &inventory(fleet))?),
        (
            "playbook.yml".into(),
            to_yaml(
                "portplan fleet: listen on every destination, probe from every source, fetch the results.\n\
                 Run: ansible-playbook -i inventory.yml playbook.yml (add -i YOUR_INVENTORY first with --inventory)\n\
                 then: portplan fleet merge site.yaml results/*.json",
                &playbook(fleet, opts),
            )?,
        ),
        (
            "vars.yml".into(),
            to_yaml(
                "portplan fleet: the limits of the run; override any with -e NAME=VALUE.",
                &vars(opts),
            )?,
        ),
        ("ansible.cfg".into(), ansible_cfg(opts)),
        ("site.yaml".into(), site.to_string()),
        (
            "fleet.json".into(),
            serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n",
        ),
    ])
}
