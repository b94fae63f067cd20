#!/usr/bin/env python3
"""Do two rulesets permit the same packets? Sampled in a network-namespace lab (run as root).

  check.py --plan PLAN.json [--samples 300] [--seed S] [--json OUT] \\
           --rules NAME=nft:FILE ... --rules NAME=ipt:FILE[,FILE.v6] ...

Samples `--samples` packets from the plan's firewall `fw` (half from the openings: a random
opening, a random source host inside `from`, destination inside `to`, port inside one of its
ranges; half near misses, in turn: a port just outside a range edge, the opening swapped
(to -> from), the other protocol), and says for each whether the plan permits it (re-derived
here from the plan JSON, independently of portplan's and Aerleon's renderers).

For each ruleset it builds a fresh lab — namespaces client, router and server, two veth pairs,
only the sampled hosts' addresses (/32 and /128, IPv6 with nodad) plus one link network per
side, and a route per host on the router — loads the ruleset into the router (`nft -f`, or
`iptables-restore` / `ip6tables-restore`), starts a responder in client and server that binds
every probed (protocol, address, port) separately (so UDP replies leave from the probed
address and match conntrack), and probes with tests/common/netprobe.py from the namespace that
holds each source; neighbour entries are static and DAD is off, so no probe waits on ARP or
neighbour discovery. A packet the plan permits that got no answer is probed once more (and the
retry reported). Then it tears the lab down. A fresh lab per ruleset also means a fresh
conntrack table.

Prints one line per ruleset and every packet on which a ruleset and the plan disagree; exits 1
if any ruleset disagrees with the plan (and so with another ruleset), 2 on a lab failure.
Traffic only ever goes between the namespaces it made; every wait is bounded.
"""

import argparse
import ipaddress
import json
import os
import random
import selectors
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETPROBE = os.path.join(HERE, "..", "..", "tests", "common", "netprobe.py")
# Link networks between router and each side (inside the lab only).
LINKS = {
    "client": ("198.51.100.1/24", "198.51.100.2/24", "fd00:aa:c::1/64", "fd00:aa:c::2/64"),
    "server": ("203.0.113.1/24", "203.0.113.2/24", "fd00:aa:5::1/64", "fd00:aa:5::2/64"),
}


# --- the plan --------------------------------------------------------------------------------

class Opening:
    def __init__(self, k, o):
        self.k = k
        self.proto = o["protocol"]
        self.src = [ipaddress.ip_network(c) for c in o["from"]]
        self.dst = [ipaddress.ip_network(c) for c in o["to"]]
        self.ports = []
        for p in o["ports"]:
            a, _, b = p.partition("-")
            self.ports.append((int(a), int(b or a)))
        self.reqs = o.get("requirements", [])
        rng = lambda nets: [(n.version, int(n.network_address), int(n.broadcast_address)) for n in nets]
        self._src, self._dst = rng(self.src), rng(self.dst)

    def permits(self, src, dst, proto, port):
        if proto != self.proto or not any(a <= port <= b for a, b in self.ports):
            return False
        s, d = (src.version, int(src)), (dst.version, int(dst))
        return any(v == s[0] and a <= s[1] <= b for v, a, b in self._src) and any(
            v == d[0] and a <= d[1] <= b for v, a, b in self._dst
        )


def load_openings(path):
    with open(path) as f:
        plan = json.load(f)
    pts = [p for p in plan["enforcement_points"] if p["id"] == "fw"]
    if len(pts) != 1:
        sys.exit("plan has no enforcement point `fw`")
    return [Opening(k, o) for k, o in enumerate(pts[0]["openings"], 1)]


def host_in(rng, net):
    """A random usable host address inside `net` (not .0/.255 in IPv4, not ::0 in IPv6)."""
    if net.num_addresses == 1:
        return net.network_address
    for _ in range(1000):
        a = net.network_address + rng.randrange(net.num_addresses)
        if a.version == 4 and 0 < int(a) & 255 < 255:
            return a
        if a.version == 6 and int(a) & 0xFFFF:
            return a
    return net.network_address + 1


def sample(ops, n, seed):
    """Probes: dicts with kind, opening, src, dst, proto, port, src_side, expect."""
    rng = random.Random(seed)
    out = []
    kinds = ["edge", "swapped", "other-proto"]
    for i in range(n):
        o = rng.choice(ops)
        kind = "inside" if i % 2 == 0 else kinds[(i // 2) % 3]
        src, dst = host_in(rng, rng.choice(o.src)), host_in(rng, rng.choice(o.dst))
        side = "client"
        a, b = rng.choice(o.ports)
        port, proto = rng.randint(a, b), o.proto
        if kind == "edge":
            choices = [p for p in (a - 1, b + 1) if 1 <= p <= 65535]
            port = rng.choice(choices)
        elif kind == "swapped":
            src, dst, side = dst, src, "server"
        elif kind == "other-proto":
            proto = "udp" if o.proto == "tcp" else "tcp"
        expect = any(x.permits(src, dst, proto, port) for x in ops)
        out.append({"kind": kind, "opening": o.k, "src": str(src), "dst": str(dst),
                    "proto": proto, "port": port, "src_side": side, "expect": expect})
    return out


# --- the lab ---------------------------------------------------------------------------------

def sh(args, input=None, timeout=300):
    r = subprocess.run(args, input=input, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])}... failed ({r.returncode}): {r.stderr.strip()[:2000]}")
    return r.stdout


class Lab:
    def __init__(self, tag, probes):
        self.ns = {s: f"pa{tag}{s[0]}{os.getpid() % 100000}" for s in ("client", "router", "server")}
        self.responders = []
        hosts = {"client": set(), "server": set()}
        for p in probes:
            other = "server" if p["src_side"] == "client" else "client"
            hosts[p["src_side"]].add(p["src"])
            hosts[other].add(p["dst"])
        self.hosts = hosts
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def _build(self):
        ns = self.ns
        for n in ns.values():
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
            sh(["ip", "netns", "add", n])
            sh(["ip", "-n", n, "link", "set", "lo", "up"])
            # No duplicate address detection, not even for the link-local addresses.
            sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0"])
        router = []
        for side in ("client", "server"):
            r4, h4, r6, h6 = LINKS[side]
            dev_h, dev_r = f"{ns[side]}h", f"{ns[side]}r"
            dev_h, dev_r = dev_h[-15:], dev_r[-15:]
            sh(["ip", "link", "add", dev_h, "netns", ns[side], "type", "veth", "peer", "name", dev_r,
                "netns", ns["router"]])
            mac_h = json.loads(sh(["ip", "-n", ns[side], "-j", "link", "show", "dev", dev_h]))[0]["address"]
            mac_r = json.loads(sh(["ip", "-n", ns["router"], "-j", "link", "show", "dev", dev_r]))[0]["address"]
            cmds = [f"addr add {h4} dev {dev_h}", f"addr add {h6} dev {dev_h} nodad"]
            for h in sorted(self.hosts[side]):
                plen = 128 if ":" in h else 32
                cmds.append(f"addr add {h}/{plen} dev {dev_h}" + (" nodad" if plen == 128 else ""))
            # Static neighbour entries both ways: no ARP or neighbour discovery delays a probe.
            cmds += [f"link set {dev_h} up",
                     f"neigh replace {r4.split('/')[0]} lladdr {mac_r} dev {dev_h} nud permanent",
                     f"neigh replace {r6.split('/')[0]} lladdr {mac_r} dev {dev_h} nud permanent",
                     f"route add default via {r4.split('/')[0]}",
                     f"route add default via {r6.split('/')[0]}"]
            sh(["ip", "-n", ns[side], "-batch", "-"], input="\n".join(cmds) + "\n")
            router += [f"addr add {r4} dev {dev_r}", f"addr add {r6} dev {dev_r} nodad", f"link set {dev_r} up"]
            for gw in (h4, h6):
                router.append(f"neigh replace {gw.split('/')[0]} lladdr {mac_h} dev {dev_r} nud permanent")
            for h in sorted(self.hosts[side]):
                gw = (h6 if ":" in h else h4).split("/")[0]
                router.append(f"route add {h}/{128 if ':' in h else 32} via {gw}")
        sh(["ip", "-n", ns["router"], "-batch", "-"], input="\n".join(router) + "\n")
        sh(["ip", "netns", "exec", ns["router"], "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        sh(["ip", "netns", "exec", ns["router"], "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])

    def load(self, kind, files):
        """Load a ruleset into the router; returns the load's wall time in seconds."""
        t = time.monotonic()
        r = self.ns["router"]
        if kind == "nft":
            sh(["ip", "netns", "exec", r, "nft", "-f", files[0]])
        else:
            with open(files[0]) as f:
                sh(["ip", "netns", "exec", r, "iptables-restore"], input=f.read())
            if len(files) > 1:
                with open(files[1]) as f:
                    sh(["ip", "netns", "exec", r, "ip6tables-restore"], input=f.read())
        return time.monotonic() - t

    def respond(self, side, binds, seconds):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[side], sys.executable, os.path.abspath(__file__),
                              "--respond"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.responders.append(p)
        p.stdin.write(json.dumps({"binds": binds, "seconds": seconds}))
        p.stdin.close()
        line = p.stdout.readline().strip()
        if line != "READY":
            raise RuntimeError(f"responder in {side} did not start: {line!r}")

    def probe(self, side, items):
        r = subprocess.run(["ip", "netns", "exec", self.ns[side], sys.executable, NETPROBE, "probe"],
                           input=json.dumps(items), capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"netprobe in {side} failed: {r.stderr[-2000:]}")
        return json.loads(r.stdout)

    def close(self):
        for p in self.responders:
            if p.poll() is None:
                p.kill()
            p.wait()
        for n in self.ns.values():
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


def responder(cfg):
    """Bind every (proto, addr, port) given; answer TCP with a line, echo UDP; stop after N s."""
    sel = selectors.DefaultSelector()
    for proto, addr, port in cfg["binds"]:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        if proto == "tcp":
            s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, proto)
    print("READY", flush=True)
    end = time.monotonic() + float(cfg["seconds"])
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                if key.data == "tcp":
                    c, _ = s.accept()
                    c.settimeout(1)
                    try:
                        c.sendall(b"OK portplan\n")  # netprobe.py checks for "OK"
                    finally:
                        c.close()
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
            except OSError:
                pass


def run_one(name, kind, files, probes):
    lab = Lab(name[:3], probes)
    try:
        load_s = lab.load(kind, files)
        for side in ("client", "server"):
            binds = sorted({(p["proto"], p["dst"], p["port"]) for p in probes if p["src_side"] != side})
            lab.respond(side, binds, seconds=600)
        results = [None] * len(probes)

        def probe_all(which):
            for side in ("client", "server"):
                idx = [i for i in which if probes[i]["src_side"] == side]
                items = [{k: probes[i][k] for k in ("src", "dst", "proto", "port")} for i in idx]
                for i, r in zip(idx, lab.probe(side, items) if items else []):
                    results[i] = r

        probe_all(range(len(probes)))
        # A packet the plan permits but that got no answer is probed once more before it counts:
        # on a loaded machine a probe can time out. Only this direction can be a fluke (no
        # timing makes a dropped packet pass), and every retry is reported.
        retried = [i for i, p in enumerate(probes) if p["expect"] and results[i] != "open"]
        first = {i: results[i] for i in retried}
        if retried:
            probe_all(retried)
        return load_s, results, [(i, first[i], results[i]) for i in retried]
    finally:
        lab.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--respond", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--plan")
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--rules", action="append", default=[], metavar="NAME=KIND:FILE[,FILE]")
    ap.add_argument("--json", help="write the probes and every ruleset's results here")
    args = ap.parse_args()
    if args.respond:
        return responder(json.load(sys.stdin))
    if not args.plan or not args.rules:
        ap.error("--plan and --rules are required")
    ops = load_openings(args.plan)
    probes = sample(ops, args.samples, args.seed)
    n_exp = sum(p["expect"] for p in probes)
    print(f"{len(probes)} sampled packets from {len(ops)} openings: {n_exp} permitted by the plan, "
          f"{len(probes) - n_exp} not", flush=True)
    report = {"probes": probes, "rulesets": {}}
    bad = False
    for spec in args.rules:
        name, _, rest = spec.partition("=")
        kind, _, files = rest.partition(":")
        files = files.split(",")
        try:
            load_s, results, retried = run_one(name, kind, files, probes)
        except Exception as e:  # noqa: BLE001 - a lab failure is reported, not a mismatch
            print(f"LAB FAILURE for {name}: {e}", file=sys.stderr)
            return 2
        got = [r == "open" for r in results]
        odd = [(i, r) for i, r in enumerate(results) if r not in ("open", "filtered")]
        diff = [i for i, p in enumerate(probes) if got[i] != p["expect"]]
        report["rulesets"][name] = {"kind": kind, "files": files, "load_s": round(load_s, 3),
                                    "results": results, "permitted": sum(got), "mismatches": diff,
                                    "retried": retried}
        print(f"{name:<14} load {load_s:6.2f} s  permitted {sum(got):>3}/{len(probes)}  "
              f"mismatches vs plan {len(diff)}  retried {len(retried)}  other outcomes {len(odd)}",
              flush=True)
        for i in diff:
            p = probes[i]
            print(f"  MISMATCH {name}: {p['kind']} (opening {p['opening']}) {p['proto']} "
                  f"{p['src']} -> {p['dst']} port {p['port']}: plan {'permits' if p['expect'] else 'denies'}, "
                  f"ruleset {results[i]}")
        for i, r1, r2 in retried:
            p = probes[i]
            print(f"  RETRIED {name}: {p['proto']} {p['src']} -> {p['dst']} port {p['port']}: "
                  f"first {r1}, then {r2}")
        for i, r in odd:
            p = probes[i]
            print(f"  NOTE {name}: {p['proto']} {p['src']} -> {p['dst']} port {p['port']}: {r}")
        bad |= bool(diff)
    names = list(report["rulesets"])
    same = all(report["rulesets"][a]["results"] == report["rulesets"][names[0]]["results"] for a in names)
    print(f"all rulesets agree packet by packet: {'yes' if same else 'NO'}; "
          f"all equal to the plan: {'yes' if not bad else 'NO'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if bad or not same else 0


if __name__ == "__main__":
    sys.exit(main())
