#!/usr/bin/env python3
"""The hostile-input set: generate each case in a temp dir, run portplan on it, print wall time
and peak memory (max RSS of the child) per case. Every case must finish under --max-secs
(default 10) and --max-mb (default 2048); the exit code is 1 when one does not.

Usage: bench/hostile/hostile.py --bin target/release/portplan [--only SUBSTRING] [--keep DIR]

Standard library only. Cases are deterministic (seeded PRNG); see bench/README.md for figures.
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HQ = os.path.join(ROOT, "examples", "hq.yaml")

# A minimal valid site around a role list: DeviceLock with one console role.
SITE_HEAD = """name: hostile
zones:
  - {id: clients, cidrs: [10.20.0.0/16]}
  - {id: servers, cidrs: [10.10.0.0/16]}
products:
  - product: devicelock
    options: {rpc_ports: fixed, connect_by: ip, netbios: false}
    roles:
      service: zone:clients
      enterprise_server: []
      enterprise_manager: []
      gpm: []
      ad: []
"""
SITE_FW = """firewalls:
  - {id: fw, between: [clients, servers], target: nftables}
"""

CATALOG_HEAD = """id: hostile
name: {en: Hostile, ja: Hostile}
vendor: Test
sources: [{id: doc.txt, title: {en: Doc, ja: Doc}}]
options:
  - {id: mode, type: choice, values: [a, b], default: a, description: {en: m, ja: m}}
roles:
  - {id: agent, name: {en: Agent, ja: Agent}, zone: intranet}
  - {id: server, name: {en: Server, ja: Server}, zone: intranet}
"""


def req(i, when="always", ports="[445]", frm="agent", to="server"):
    return (
        f"  - id: r{i}\n    purpose: {{en: p, ja: p}}\n    from: {frm}\n    to: {to}\n"
        f"    protocol: tcp\n    ports: {ports}\n    when: {when}\n"
        f"    notes: {{en: n, ja: n}}\n    source: {{doc: doc.txt, row: 1}}\n"
    )


def write(d, name, text, mode="w"):
    p = os.path.join(d, name)
    with open(p, mode) as f:
        f.write(text)
    return p


def cases(d):
    """(name, what, argv builder) — argv gets the binary prepended."""
    rnd = random.Random(17)
    out = []

    def case(name, what, argv):
        out.append((name, what, argv))

    # --- sites: overlaps (issue 17 item 2) ---
    for n in (1_000, 10_000, 100_000):
        text = "name: t\nzones:\n  - id: a\n    cidrs:\n" + "      - 10.0.0.0/8\n" * n + "products: []\n"
        case(f"site-cidr-repeat-{n}", f"one zone CIDR repeated {n:,} times", ["plan", write(d, f"rep{n}.yaml", text)])
    text = "name: t\nzones:\n" + "".join(f"  - {{id: z{i}, cidrs: [10.0.0.0/8]}}\n" for i in range(10_000)) + "products: []\n"
    case("site-zones-10k-same-cidr", "10,000 zones, all 10.0.0.0/8", ["plan", write(d, "zsame.yaml", text)])
    text = "name: t\nzones:\n" + "".join(
        f"  - {{id: z{i}, cidrs: [10.{i // 256}.{i % 256}.0/24]}}\n" for i in range(10_000)
    ) + "products: []\nfirewalls:\n  - {id: fw, between: [[" + ", ".join(f"z{i}" for i in range(0, 10_000, 2)) + "], [" + ", ".join(
        f"z{i}" for i in range(1, 10_000, 2)) + "]], target: nftables}\n"
    case("site-zones-10k-disjoint", "10,000 disjoint zones, one firewall between halves", ["plan", write(d, "zdis.yaml", text)])

    # --- sites: size ---
    hosts = [f"10.10.{(i >> 8) & 255}.{i & 255}" for i in range(1, 65_000)]
    text = SITE_HEAD + "      console:\n" + "".join(f"        - {h}\n" for h in hosts) + SITE_FW
    case("site-endpoints-65k", "one role with 65,000 addresses", ["plan", write(d, "ep65k.yaml", text), "--format", "json"])
    v6 = [f'"2001:db8::{i >> 16:x}:{i & 0xffff:x}"' for i in range(1, 1_000_001)]
    text = SITE_HEAD.replace("10.10.0.0/16]", '10.10.0.0/16, "2001:db8::/64"]') + "      console:\n" + "".join(
        f"        - {h}\n" for h in v6) + SITE_FW
    case("site-endpoints-1M", "one role with 1,000,000 IPv6 addresses (27 MB)", ["plan", write(d, "ep1m.yaml", text), "--format", "json"])
    text = SITE_HEAD + "      console:\n" + "".join(f"        - 10.10.0.{i}x\n" for i in range(100_000)) + SITE_FW
    case("site-bad-endpoints-100k", "100,000 invalid endpoints (100,000 problems)", ["plan", write(d, "bad100k.yaml", text)])
    text = SITE_HEAD + "      console:\n" + "".join(f"        - 224.0.{i // 256 % 256}.{i % 256}\n" for i in range(100_000)) + SITE_FW
    case("site-multicast-100k", "100,000 multicast endpoints", ["plan", write(d, "mc100k.yaml", text)])
    text = "name: t\nproducts:\n" + "  - product: devicelock\n" * 10_000
    case("site-products-10k", "one product listed 10,000 times", ["plan", write(d, "prod10k.yaml", text)])
    text = SITE_HEAD + "      console: 10.10.0.10\n" + "firewalls:\n" + "".join(
        f"  - {{id: fw{i}, between: [clients, servers], target: nftables}}\n" for i in range(2_000))
    case("site-firewalls-2k", "2,000 firewalls between the same zones", ["plan", write(d, "fw2k.yaml", text), "--format", "json"])
    text = SITE_HEAD + "      console: [10.10.0.10, 10.10.0.11]\n" + SITE_FW + "host_firewalls:\n" + "".join(
        f"  - {{id: h{i}, hosts: devicelock.console, target: windows}}\n" for i in range(2_000))
    case("site-host-firewalls-2k", "2,000 host firewalls on one role", ["plan", write(d, "hfw2k.yaml", text), "--format", "json"])

    # --- YAML shapes ---
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]\n" for i in range(1, 10))
    case("site-alias-bomb", "billion laughs (10^10 nodes)", ["plan", write(d, "bomb.yaml", "name: t\nproducts: []\nx:\n  " + bomb.replace("\n", "\n  "))])
    case("catalog-alias-bomb", "billion laughs in a catalog", ["catalog", "check", write(d, "cbomb.yaml", CATALOG_HEAD + "requirements: []\nx:\n  " + bomb.replace("\n", "\n  "))])
    case("site-nesting-flow-100k", "[[[[…]]]] 100,000 deep", ["plan", write(d, "deepflow.yaml", "name: " + "[" * 100_000 + "]" * 100_000 + "\n")])
    text = "name: t\nproducts:\n" + "".join("  " * i + "- \n" for i in range(1, 10_001))
    case("site-nesting-block-10k", "block sequences 10,000 deep", ["plan", write(d, "deepblock.yaml", text)])
    text = "name: t\n" + "".join(f"k{i % 50}: {i}\n" for i in range(100_000)) + "products: []\n"
    case("site-duplicate-keys-100k", "100,000 keys, most duplicates", ["plan", write(d, "dupk.yaml", text)])
    p = os.path.join(d, "big-comment.yaml")
    with open(p, "w") as f:
        f.write(SITE_HEAD + "      console: 10.10.0.10\n" + SITE_FW)
        line = "# " + "x" * 1022 + "\n"
        for _ in range(100 * 1024):
            f.write(line)
    case("site-100MB-comment", "a valid site followed by 100 MB of comments", ["plan", p])
    p = os.path.join(d, "big-scalar.yaml")
    with open(p, "w") as f:
        f.write('name: "')
        chunk = "y" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write('"\nproducts: []\n')
    case("site-100MB-name", "a 100 MB site name", ["plan", p])
    p = os.path.join(d, "huge.yaml")
    with open(p, "wb") as f:
        f.truncate(300 << 20)
    case("site-300MB-sparse", "300 MB of zero bytes (over the input cap)", ["plan", p])
    case("dev-zero", "/dev/zero as the site", ["plan", "/dev/zero"])
    p = os.path.join(d, "garbage.bin")
    with open(p, "wb") as f:
        f.write(rnd.randbytes(20 << 20))
    case("site-random-20MB", "20 MB of random bytes", ["plan", p])
    p = os.path.join(d, "late-bad-utf8.yaml")
    with open(p, "wb") as f:
        f.write(b"name: t\nproducts: []\n" + b"# comment line\n" * (50 << 16) + b"x: \xff\n")
    case("site-bad-utf8-at-50MB", "invalid UTF-8 after 50 MB", ["plan", p])
    p = os.path.join(d, "longline.yaml")
    with open(p, "w") as f:
        f.write("name: t\nproducts: [" + "devicelock, " * 4_000_000 + "]\n")
    case("site-long-line-48MB", "one 48 MB line (a flow list of 4M items)", ["plan", p])
    text = "name: t\nproducts: [" + "{product: devicelock}, " * 200_000 + "]\n"
    case("site-long-line-200k-problems", "200,000 problems on one 4.6 MB line", ["plan", write(d, "ll.yaml", text)])

    # --- catalogs and the condition language ---
    case("catalog-condition-parens-100k", "when: ((((…)))) 100,000 deep",
         ["catalog", "check", write(d, "cparen.yaml", CATALOG_HEAD + "requirements:\n" + req(0, when="(" * 100_000 + "mode == a" + ")" * 100_000))])
    case("catalog-condition-chain-100k", "when: mode == a and … 100,000 terms",
         ["catalog", "check", write(d, "cchain.yaml", CATALOG_HEAD + "requirements:\n" + req(0, when=" and ".join(["mode == a"] * 100_000)))])
    case("catalog-condition-not-100k", "when: not not … 100,000 times",
         ["catalog", "check", write(d, "cnot.yaml", CATALOG_HEAD + "requirements:\n" + req(0, when="not " * 100_000 + "mode == a"))])
    case("catalog-condition-in-100k", "when: mode in [a, b, …] 100,000 values",
         ["catalog", "check", write(d, "cin.yaml", CATALOG_HEAD + "requirements:\n" + req(0, when="mode in [" + ", ".join(["a", "b"] * 50_000) + "]"))])
    text = CATALOG_HEAD + "requirements:\n" + "".join(req(i) for i in range(20_000))
    cat20k = write(d, "c20k.yaml", text)
    case("catalog-requirements-20k", "20,000 requirements", ["catalog", "check", cat20k])
    cdir = os.path.join(d, "cdir")
    os.mkdir(cdir)
    shutil.copy(cat20k, os.path.join(cdir, "c20k.yaml"))
    case("ports-requirements-20k", "ports for a 20,000-requirement catalog", ["--catalog-dir", cdir, "ports", "hostile"])
    site20k = write(d, "s20k.yaml", "name: t\nzones:\n  - {id: a, cidrs: [10.1.0.0/16]}\n  - {id: b, cidrs: [10.2.0.0/16]}\n"
                    "products:\n  - product: hostile\n    roles: {agent: zone:a, server: [10.2.0.1, 10.2.0.2]}\n"
                    "firewalls:\n  - {id: fw, between: [a, b], target: nftables}\n"
                    "host_firewalls:\n  - {id: h, hosts: hostile.server, target: windows}\n")
    case("plan-requirements-20k", "plan of a site using the 20,000-requirement catalog", ["--catalog-dir", cdir, "plan", site20k, "--format", "json"])
    case("report-requirements-20k", "XLSX report of that site", ["--catalog-dir", cdir, "report", site20k, "-o", os.path.join(d, "r20k.xlsx")])
    case("explain-requirements-20k", "explain tcp/445 on that site", ["--catalog-dir", cdir, "explain", site20k, "tcp/445"])
    roles = "".join(f"  - {{id: r{i}, name: {{en: R, ja: R}}, zone: intranet}}\n" for i in range(1_000))
    many = "[" + ", ".join(f"r{i}" for i in range(1_000)) + "]"
    text = CATALOG_HEAD + roles + "requirements:\n" + req(0, frm=many, to=many)
    cdir2 = os.path.join(d, "cdir2")
    os.mkdir(cdir2)
    write(cdir2, "pairs.yaml", text)
    case("catalog-role-pairs-1M", "one requirement from 1,000 roles to 1,000 roles (refused)", ["--catalog-dir", cdir2, "ports", "hostile"])
    ports = "[" + ", ".join(str(p) for p in range(1, 65536, 2)) + "]"
    cdir3 = os.path.join(d, "cdir3")
    os.mkdir(cdir3)
    write(cdir3, "ports.yaml", CATALOG_HEAD + "requirements:\n" + req(0, ports=ports))
    case("ports-32k-port-ranges", "a requirement with 32,768 single ports", ["--catalog-dir", cdir3, "ports", "hostile", "--format", "csv"])
    case("ports-set-100KB", "--set with a 100 KB value", ["ports", "devicelock", "--set", "rpc_ports=" + "x" * 100_000])

    # --- explain queries ---
    case("explain-query-100KB", "a 100 KB explain query (50,000 ports)", ["explain", HQ, "tcp/" + "1," * 50_000 + "2"])
    case("explain-query-words-20k", "an explain query of 20,000 words", ["explain", HQ] + ["10.20.1.5"] * 20_000)

    # --- rulesets (audit readers; the audit itself is measured in bench/audit) ---
    hqargs = ["audit", HQ, "--for", "fw-core", "--ruleset"]
    case("nft-json-nesting-100k", "nft JSON [[[[…]]]] 100,000 deep", hqargs + [write(d, "deep.json", '{"nftables": ' + "[" * 100_000 + "]" * 100_000 + "}")])
    case("nft-json-100MB-string", "nft JSON with a 100 MB string", hqargs + [write(d, "bigstr.json", '{"nftables": [{"x": "' + "z" * (100 << 20) + '"}]}')])
    rules = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    rules += [f":c{i} - [0:0]" for i in range(1_000)]
    rules += [f"-A c{i} -j c{(i + 1) % 1_000}" for i in range(1_000)]
    rules += ["-A FORWARD -j c0", "COMMIT"]
    case("iptables-jump-loop-1k", "1,000 chains jumping in a loop", hqargs + [write(d, "loop.rules", "\n".join(rules) + "\n")])
    rules = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    rules += [f":c{i} - [0:0]" for i in range(10_000)]
    rules += [f"-A c{i} -j c{i + 1}" for i in range(9_999)]
    rules += ["-A FORWARD -j c0", "COMMIT"]
    case("iptables-jump-chain-10k", "a chain of 10,000 jumps", hqargs + [write(d, "chain.rules", "\n".join(rules) + "\n")])
    rules = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    rules += ["-A FORWARD -m comment --comment \"" + "c" * 200 + "\" -p tcp -m tcp --dport 1 -j ACCEPT"] * 100_000
    rules += ["COMMIT"]
    case("iptables-100k-garbage-comments", "100,000 identical rules with long comments", hqargs + [write(d, "many.rules", "\n".join(rules) + "\n")])
    case("iptables-long-line-50MB", "one 50 MB rule line", hqargs + [write(d, "longrule.rules", "*filter\n:FORWARD DROP [0:0]\n-A FORWARD " + "-s 10.0.0.1 " * 4_000_000 + "-j ACCEPT\nCOMMIT\n")])

    # --- outputs ---
    text = SITE_HEAD + "      console:\n" + "".join(f"        - {h}\n" for h in hosts[::2]) + SITE_FW
    big = write(d, "big-out.yaml", text)
    case("render-32k-hosts", "render a site with 32,500 scattered hosts", ["render", big, "-o", os.path.join(d, "out.nft")])
    case("report-md-32k-hosts", "Markdown report of the same site", ["report", big, "-o", os.path.join(d, "out.md")])
    case("report-xlsx-32k-hosts", "XLSX report of the same site", ["report", big, "-o", os.path.join(d, "out.xlsx")])
    return out


def run(argv, limit):
    """Wall time and peak RSS (GNU time's %M) of one run, killed after `limit` seconds."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.monotonic()
        p = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", tf.name] + argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        killed = []

        def kill():
            killed.append(True)
            os.killpg(p.pid, signal.SIGKILL)

        timer = threading.Timer(limit, kill)
        timer.start()
        err = p.stderr.read()
        p.wait()
        timer.cancel()
        secs = time.monotonic() - t0
        lines = tf.read().split()
        kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        # GNU time reports "Command exited with non-zero status N" on its first line.
        code = p.returncode
        return secs, kb / 1024, code, bool(killed), err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "portplan"))
    ap.add_argument("--only", default="")
    ap.add_argument("--keep", default=None, help="generate the cases into DIR and keep them")
    ap.add_argument("--max-secs", type=float, default=10.0)
    ap.add_argument("--max-mb", type=float, default=2048.0)
    ap.add_argument("--kill-after", type=float, default=60.0)
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="portplan-hostile-")
    os.makedirs(d, exist_ok=True)
    try:
        print(f"generating cases in {d} …", file=sys.stderr)
        all_cases = [c for c in cases(d) if a.only in c[0]]
        print(f"{'case':34} {'exit':>4} {'secs':>7} {'peak MB':>8}  what")
        bad = 0
        for name, what, argv in all_cases:
            secs, mb, code, killed, err = run([a.bin] + argv, a.kill_after)
            over = secs > a.max_secs or mb > a.max_mb or killed or code not in (0, 1, 2)
            bad += over
            flag = "  OVER" if over else ""
            shown = "killed" if killed else str(code)
            print(f"{name:34} {shown:>4} {secs:7.2f} {mb:8.0f}  {what}{flag}", flush=True)
            if b"panicked" in err:
                print(f"  PANIC: {err[:300]!r}")
                bad += 1
        print(f"\n{len(all_cases)} cases, {bad} over {a.max_secs:g} s / {a.max_mb:g} MB (or panicked)")
        return 1 if bad else 0
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
