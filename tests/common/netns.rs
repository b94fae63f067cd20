//! A network-namespace lab: client ── router ── server, with a real kernel firewall on the
//! router. Shared by the render, audit and verify tests. Everything it creates is named with
//! the test's process id and torn down on drop; traffic only goes between its namespaces.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

/// One side of the router: its address(es) on that link and the hosts' addresses.
pub struct SideSpec {
    /// Router addresses with prefix, e.g. `10.20.0.1/16`, `2001:db8:30::1/64`.
    pub router: Vec<&'static str>,
    /// Host addresses with prefix.
    pub hosts: Vec<&'static str>,
}

/// The lab.
pub struct Lab {
    /// Namespace names.
    pub client: String,
    /// Router namespace.
    pub router: String,
    /// Server namespace.
    pub server: String,
    /// Host addresses (without prefix) per namespace.
    pub addrs: Vec<(String, Vec<String>)>,
    /// The router's interfaces: (towards the client, towards the server).
    pub router_ifs: (String, String),
    listeners: Vec<Child>,
}

fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    /// Build the lab. `tag` keeps names unique across tests of one process.
    pub fn new(tag: &str, client: SideSpec, server: SideSpec) -> Lab {
        let id = format!("{}{}", tag, std::process::id() % 100_000);
        let strip = |v: &[&str]| {
            v.iter()
                .map(|a| a.split('/').next().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let lab = Lab {
            client: format!("ppc{id}"),
            router: format!("ppr{id}"),
            server: format!("pps{id}"),
            addrs: vec![
                (format!("ppc{id}"), strip(&client.hosts)),
                (format!("pps{id}"), strip(&server.hosts)),
            ],
            router_ifs: (format!("c{id}b"), format!("s{id}b")),
            listeners: vec![],
        };
        for ns in [&lab.client, &lab.router, &lab.server] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            run(&["ip", "netns", "add", ns]);
            run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        let (ca, cb, sa, sb) = (
            format!("c{id}a"),
            format!("c{id}b"),
            format!("s{id}a"),
            format!("s{id}b"),
        );
        run(&[
            "ip",
            "link",
            "add",
            &ca,
            "netns",
            &lab.client,
            "type",
            "veth",
            "peer",
            "name",
            &cb,
            "netns",
            &lab.router,
        ]);
        run(&[
            "ip",
            "link",
            "add",
            &sa,
            "netns",
            &lab.server,
            "type",
            "veth",
            "peer",
            "name",
            &sb,
            "netns",
            &lab.router,
        ]);
        for (ns, dev, addrs) in [
            (&lab.client, &ca, &client.hosts),
            (&lab.router, &cb, &client.router),
            (&lab.server, &sa, &server.hosts),
            (&lab.router, &sb, &server.router),
        ] {
            for a in addrs.iter() {
                let mut args = vec!["ip", "-n", ns, "addr", "add", a, "dev", dev];
                if a.contains(':') {
                    args.push("nodad");
                }
                run(&args);
            }
            run(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        for (ns, side) in [(&lab.client, &client), (&lab.server, &server)] {
            for r in &side.router {
                let gw = r.split('/').next().unwrap();
                let dflt = if gw.contains(':') { "-6" } else { "-4" };
                run(&["ip", dflt, "-n", ns, "route", "add", "default", "via", gw]);
            }
        }
        run(&[
            "ip",
            "netns",
            "exec",
            &lab.router,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
        ]);
        run(&[
            "ip",
            "netns",
            "exec",
            &lab.router,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.forwarding=1",
        ]);
        lab.wait_ipv6_ready();
        lab
    }

    /// Wait (at most 5 s) until no namespace has a tentative IPv6 address: until the link-local
    /// addresses pass duplicate address detection, neighbour discovery stalls and the first
    /// IPv6 packets are lost.
    fn wait_ipv6_ready(&self) {
        for _ in 0..50 {
            let tentative = [&self.client, &self.router, &self.server].iter().any(|ns| {
                Command::new("ip")
                    .args(["-n", ns, "-6", "addr", "show", "tentative"])
                    .output()
                    .is_ok_and(|o| !o.stdout.is_empty())
            });
            if !tentative {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Replace the router's ruleset with an nftables file.
    pub fn load_nft(&self, text: &str) {
        self.flush();
        self.stdin_run(&self.router, &["nft", "-f", "-"], text);
    }

    /// Replace the router's ruleset with iptables-restore (and ip6tables-restore) input.
    pub fn load_iptables(&self, v4: &str, v6: Option<&str>) {
        self.flush();
        self.stdin_run(&self.router, &["iptables-restore"], v4);
        if let Some(v6) = v6 {
            self.stdin_run(&self.router, &["ip6tables-restore"], v6);
        }
    }

    /// Add iptables-restore (and ip6tables-restore) input to the router's rules
    /// (`--noflush`: what is there stays).
    pub fn add_iptables(&self, v4: &str, v6: Option<&str>) {
        self.stdin_run(&self.router, &["iptables-restore", "--noflush"], v4);
        if let Some(v6) = v6 {
            self.stdin_run(&self.router, &["ip6tables-restore", "--noflush"], v6);
        }
    }

    /// Remove every rule from the router (both front ends share the kernel's nftables).
    pub fn flush(&self) {
        run(&[
            "ip",
            "netns",
            "exec",
            &self.router,
            "nft",
            "flush",
            "ruleset",
        ]);
    }

    /// Run a command in a namespace and return its stdout.
    pub fn output(&self, ns: &str, cmd: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd:?} in {ns}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn stdin_run(&self, ns: &str, cmd: &[&str], input: &str) {
        let mut c = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?} in {ns} failed: {}\n{input}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Start a listener in `ns` on these ports (both families) for `seconds`.
    pub fn listen(&mut self, ns: &str, tcp: &[u16], udp: &[u16], seconds: u32) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/netprobe.py");
        let mut c = Command::new("ip")
            .args(["netns", "exec", ns, "python3", script, "listen"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let addrs = self
            .addrs
            .iter()
            .find(|(n, _)| n == ns)
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        let cfg = serde_json::json!({"tcp": tcp, "udp": udp, "addrs": addrs, "seconds": seconds});
        c.stdin
            .take()
            .unwrap()
            .write_all(cfg.to_string().as_bytes())
            .unwrap();
        let mut line = String::new();
        BufReader::new(c.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "READY", "listener in {ns} did not start");
        self.listeners.push(c);
    }

    /// Start a long-running command in `ns`; returns its id and the first line it prints
    /// (a readiness line). It is killed by [`Lab::stop`] or when the lab is dropped.
    pub fn start(&mut self, ns: &str, cmd: &[&str]) -> (usize, String) {
        let mut c = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(c.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(!line.is_empty(), "{cmd:?} in {ns} printed nothing");
        self.listeners.push(c);
        (self.listeners.len() - 1, line)
    }

    /// Kill a command started with [`Lab::start`].
    pub fn stop(&mut self, id: usize) {
        let _ = self.listeners[id].kill();
        let _ = self.listeners[id].wait();
    }

    /// Run a command in `ns` to completion: (exit code, stdout, stderr).
    pub fn run_in(&self, ns: &str, cmd: &[&str]) -> (i32, String, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Probe from `ns`: (src, dst, proto, port) → "open" | "closed" | "filtered" | "error…".
    pub fn probe(&self, ns: &str, probes: &[(String, String, &str, u16)]) -> Vec<String> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/netprobe.py");
        let items: Vec<_> = probes
            .iter()
            .map(|(s, d, p, n)| serde_json::json!({"src": s, "dst": d, "proto": p, "port": n}))
            .collect();
        let mut c = Command::new("ip")
            .args(["netns", "exec", ns, "python3", script, "probe"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin
            .take()
            .unwrap()
            .write_all(serde_json::to_string(&items).unwrap().as_bytes())
            .unwrap();
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).expect("probe output")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for l in &mut self.listeners {
            let _ = l.kill();
            let _ = l.wait();
        }
        for ns in [&self.client, &self.router, &self.server] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}
