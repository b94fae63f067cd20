#!/usr/bin/env python3
"""Generate the audit scale benchmark's inputs (python3 stdlib only, seeded, deterministic).

A synthetic data centre: A (default 225) in-house applications, each described by its own catalog
(`appNNN`), deployed on a site whose core firewall `fw-core` separates eight zones
(users, dmz, four business-unit application zones bu1..bu4, data, mgmt). The default
parameters give a plan of about 10,000 openings at fw-core (check with
`portplan --catalog-dir DIR/catalogs plan DIR/site.yaml --for fw-core --format json`).

Each application has users (1-3 user /24s, or the whole user zone), a load balancer and web
servers in the dmz, API servers, S microservices (database-per-service: each service owns a
database of its own engine; some own a cache or share the app's), a worker, a message queue
and a search cluster in its BU zone / the data zone, and calls the APIs of a few other
applications. Shared infrastructure in mgmt: admin jump hosts (per team), monitoring, backup,
DNS, syslog.

The ruleset for fw-core's FORWARD chain is what years of hand-maintenance produce: the
required flows rendered per (source host, destination host) as rules (multiport, some with
`--ctstate NEW`, comments on about half), grouped per application in a shuffled order, plus

* missing: some required rules left out, a port left out of a multiport list, a port typo,
  "decommissioned" drops inserted before rules that are still needed;
* excess: stale rules for decommissioned hosts, app-block-wide any-port accepts, internet
  exposure of load balancers (`! -s 10.0.0.0/8`), any-any "temporary" rules, broad DNS/NTP/ICMP
  accepts, broad SSH from the admin network;
* shadowed: exact duplicates further down, specific rules behind broad ones;
* drops: a BLOCKLIST user chain (jump/return), bogon drops on the external interface, a port
  blocklist, users->data to a LOGDROP chain, a final rate-limited LOG (`-m limit`, which the
  audit cannot model: it is evaluated both ways) and DROP;
* user chains MGMT (monitoring, backup, admin rules, reached by `-s 10.5.0.0/16 -j MGMT`),
  DMZ_IN (user and internet access to the load balancers), BLOCKLIST, LOGDROP.

The filter table has exactly `--rules` rules (all chains together); a small nat table is
added (not analysed by the audit, as on a real box).

Outputs in --out-dir:
  catalogs/appNNN.yaml   one catalog per application
  site.yaml              the site (firewall fw-core)
  ruleset.iptables       iptables-save text
  ruleset.nft            the same ruleset as an nft script (`nft -f`), for checking the JSON
  ruleset.nft.json       the same ruleset as `nft -j list ruleset` (nft 1.0 JSON: table ip
                         filter, chains forward/blocklist/dmz_in/logdrop/mgmt), generated
                         directly; bench/audit/check_formats.sh loads ruleset.iptables and
                         ruleset.nft into scratch network namespaces and checks that
                         iptables-save and nft -j print the generated files back
  manifest.json          parameters and counts by category

    python3 bench/audit/gen_audit.py --out-dir /tmp/audit-bench
    python3 bench/audit/gen_audit.py --apps 25 --rules 11000 --out-dir /tmp/audit-small  # 1/10
"""

import argparse
import json
import os
import sys

MASK64 = (1 << 64) - 1


class Rng:
    """splitmix64 with the few helpers we need (stable across Python versions)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def randint(self, a, b):
        return a + self.below(b - a + 1)

    def chance(self, p):
        return self.next() < p * (1 << 64)

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def shuffle(self, lst):
        for i in range(len(lst) - 1, 0, -1):
            j = self.below(i + 1)
            lst[i], lst[j] = lst[j], lst[i]

    def sample(self, population, k):
        pool = list(population)
        for i in range(k):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


def ip(n):
    return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def aton(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


# Zones (each its own side of fw-core).
ZONES = [
    ("users", "10.64.0.0/10"),
    ("dmz", "10.1.0.0/16"),
    ("bu1", "10.16.0.0/16"),
    ("bu2", "10.17.0.0/16"),
    ("bu3", "10.18.0.0/16"),
    ("bu4", "10.19.0.0/16"),
    ("data", "10.32.0.0/14"),
    ("mgmt", "10.5.0.0/16"),
]
USERS = aton("10.64.0.0")
DMZ = aton("10.1.0.0")
BU = [aton("10.16.0.0"), aton("10.17.0.0"), aton("10.18.0.0"), aton("10.19.0.0")]
DATA = aton("10.32.0.0")
ADMIN_GROUPS = [[aton("10.5.0.10") + 2 * g, aton("10.5.0.11") + 2 * g] for g in range(6)]
MONITORS = [aton("10.5.1.10") + i for i in range(3)]
BACKUPS = [aton("10.5.2.10") + i for i in range(2)]
DNS = [aton("10.5.3.53"), aton("10.5.3.54")]
SYSLOG = [aton("10.5.3.60")]

DB_ENGINES = [("postgres", 5432, 9187), ("mysql", 3306, 9104), ("mssql", 1433, 9399),
              ("oracle", 1521, 9161), ("mongo", 27017, 9216)]
API_PORTS = [443, 8443, 8080, 9443, 8000, 8081, 5000, 3000]


def zone_of(addr):
    """Zone of an address or CIDR string (by its network address)."""
    n = aton(addr.split("/")[0])
    for name, cidr in ZONES:
        net, length = cidr.split("/")
        length = int(length)
        if (n >> (32 - length)) == (aton(net) >> (32 - length)):
            return name
    return "internet"


def host(n):
    return f"{ip(n)}/32"


class App:
    pass


def make_apps(rng, apps):
    user_slots = rng.sample(range(1 << 14), 400)
    user_nets = [f"{ip(USERS + (s << 8))}/24" for s in user_slots]
    bu_count = [0, 0, 0, 0]
    out = []
    for k in range(apps):
        a = App()
        a.k = k
        a.id = f"app{k:03d}"
        a.bu = rng.below(4)
        a.bu_block = BU[a.bu] + (bu_count[a.bu] << 8)
        bu_count[a.bu] += 1
        if bu_count[a.bu] > 256:
            raise ValueError("too many applications for one BU /16")
        a.dmz_block = DMZ + k * 64
        a.data_block = DATA + (k << 8)
        if rng.chance(0.2):
            a.users = ["zone:users"]
            a.user_nets = ["10.64.0.0/10"]
        else:
            a.user_nets = sorted(rng.sample(user_nets, rng.randint(1, 3)),
                                 key=lambda s: aton(s.split("/")[0]))
            a.users = a.user_nets
        dmz_hosts = sorted(rng.sample(range(1, 63), 8))
        a.lb = [a.dmz_block + h for h in dmz_hosts[:2]]
        a.web = [a.dmz_block + h for h in dmz_hosts[2:2 + rng.randint(2, 4)]]
        a.dmz_free = [a.dmz_block + h for h in range(1, 63)
                      if a.dmz_block + h not in a.lb + a.web]
        a.S = rng.randint(20, 60)
        n_bu = 3 + a.S * 3 + 2
        bu_hosts = rng.sample(range(1, 255), min(254, n_bu + 20))
        it = iter(bu_hosts)
        a.api = [a.bu_block + next(it) for _ in range(rng.randint(2, 3))]
        a.svc = []
        for _ in range(a.S):
            a.svc.append([a.bu_block + next(it) for _ in range(rng.randint(1, 3))])
        a.worker = [a.bu_block + next(it) for _ in range(rng.randint(1, 2))]
        used = set(a.api + a.worker + [h for s in a.svc for h in s])
        a.bu_free = [a.bu_block + h for h in range(1, 255) if a.bu_block + h not in used]
        a.api_port = rng.choice(API_PORTS)
        a.web_port = rng.choice([8080, 8443, 80, 443])
        a.metrics_port = rng.choice([9090, 9100, 8081, 9464, 9404])
        # Data tier: database per service (some share the app's main database), caches.
        data_hosts = iter(rng.sample(range(1, 255), 254))
        a.dbs = []  # (engine, port, exporter port, hosts)
        a.svc_db = []
        for i in range(a.S):
            if i > 0 and rng.chance(0.25):
                a.svc_db.append(0)
                continue
            eng = rng.choice(DB_ENGINES) if rng.chance(0.4) else DB_ENGINES[0]
            hosts = [a.data_block + next(data_hosts) for _ in range(rng.randint(1, 2))]
            a.dbs.append((eng[0], eng[1], eng[2], hosts))
            a.svc_db.append(len(a.dbs) - 1)
        a.caches = [[a.data_block + next(data_hosts)]]  # cache 0: the app's shared cache
        a.svc_cache = []
        for i in range(a.S):
            r = rng.below(10)
            if r < 3:
                a.svc_cache.append(0)
            elif r < 6:
                a.caches.append([a.data_block + next(data_hosts)])
                a.svc_cache.append(len(a.caches) - 1)
            else:
                a.svc_cache.append(None)
        a.mq = [a.data_block + next(data_hosts) for _ in range(rng.randint(1, 3))]
        a.mq_port = rng.choice([5672, 9092, 4222, 61616])
        a.search = [a.data_block + next(data_hosts) for _ in range(rng.randint(0, 3))]
        used = set(a.mq + a.search + [h for d in a.dbs for h in d[3]] + [h for c in a.caches for h in c])
        a.data_free = [a.data_block + h for h in range(1, 255) if a.data_block + h not in used]
        a.svc_mq = [rng.chance(0.4) for _ in range(a.S)]
        a.svc_search = [bool(a.search) and rng.chance(0.2) for _ in range(a.S)]
        a.admin = rng.below(len(ADMIN_GROUPS))
        a.monitor = rng.below(len(MONITORS))
        a.backup = rng.below(len(BACKUPS))
        a.upstreams = []  # (app index, [svc indices])
        out.append(a)
    for a in out:
        others = [b.k for b in out if b.k != a.k]
        for j in rng.sample(others, min(len(others), rng.randint(0, 6))):
            callers = sorted(rng.sample(range(a.S), rng.randint(1, min(4, a.S))))
            a.upstreams.append((j, callers))
    return out


def requirements(a, apps):
    """(id, purpose, from roles, to roles, protocols, ports) of one application."""
    svc = [f"svc{i + 1:02d}" for i in range(a.S)]
    reqs = [
        ("ui", "User access through the load balancer", ["users"], ["lb"], ["tcp"],
         [80, 443]),
        ("lb-web", "Load balancer to the web servers", ["lb"], ["web"], ["tcp"], [a.web_port]),
        ("web-api", "Web tier to the API", ["web"], ["api"], ["tcp"], [a.api_port]),
    ]
    for i, s in enumerate(svc):
        reqs.append((f"api-{s}", f"API to service {s}", ["api"], [s], ["tcp"], [8000 + i]))
    for d in range(len(a.dbs)):
        users_of = [svc[i] for i in range(a.S) if a.svc_db[i] == d]
        if d == 0:
            users_of.append("worker")
        reqs.append((f"db{d + 1:02d}", f"Database {d + 1} ({a.dbs[d][0]})", users_of,
                     [f"db{d + 1:02d}"], ["tcp"], [a.dbs[d][1]]))
    for c in range(len(a.caches)):
        users_of = [svc[i] for i in range(a.S) if a.svc_cache[i] == c]
        if users_of:
            reqs.append((f"cache{c + 1:02d}", f"Cache {c + 1}", users_of, [f"cache{c + 1:02d}"],
                         ["tcp"], [6379]))
    mq_users = [svc[i] for i in range(a.S) if a.svc_mq[i]] + ["worker"]
    reqs.append(("mq", "Message queue", mq_users, ["mq"], ["tcp"], [a.mq_port]))
    se = [svc[i] for i in range(a.S) if a.svc_search[i]]
    if se:
        reqs.append(("search", "Search cluster", se, ["search"], ["tcp"], [9200]))
    for u, (j, callers) in enumerate(a.upstreams):
        reqs.append((f"up{u + 1:02d}", f"Calls the API of {apps[j].id}",
                     [svc[i] for i in callers], [f"up{u + 1:02d}"], ["tcp"], [apps[j].api_port]))
    servers = ["api"] + svc + ["worker"]
    reqs.append(("metrics", "Monitoring scrapes", ["monitor"], servers + ["web"], ["tcp"],
                 sorted({9100, a.metrics_port})))
    for d in range(len(a.dbs)):
        reqs.append((f"db{d + 1:02d}-metrics", f"Database {d + 1} exporter", ["monitor"],
                     [f"db{d + 1:02d}"], ["tcp"], [a.dbs[d][2]]))
    reqs.append(("ssh", "Administration", ["admin"], ["web"] + servers, ["tcp"], [22]))
    reqs.append(("backup", "Database backups", ["backup"],
                 [f"db{d + 1:02d}" for d in range(len(a.dbs))], ["tcp"], [9102]))
    reqs.append(("dns", "Name resolution", servers, ["dns"], ["tcp", "udp"], [53]))
    reqs.append(("syslog", "Log shipping", servers + ["web"], ["syslog"], ["udp"], [514]))
    return reqs


def role_addrs(a, apps):
    r = {"users": a.users, "lb": [ip(x) for x in a.lb], "web": [ip(x) for x in a.web],
         "api": [ip(x) for x in a.api], "worker": [ip(x) for x in a.worker],
         "mq": [ip(x) for x in a.mq], "search": [ip(x) for x in a.search],
         "admin": [ip(x) for x in ADMIN_GROUPS[a.admin]], "monitor": [ip(MONITORS[a.monitor])],
         "backup": [ip(BACKUPS[a.backup])], "dns": [ip(x) for x in DNS],
         "syslog": [ip(x) for x in SYSLOG]}
    for i, hs in enumerate(a.svc):
        r[f"svc{i + 1:02d}"] = [ip(x) for x in hs]
    for d, db in enumerate(a.dbs):
        r[f"db{d + 1:02d}"] = [ip(x) for x in db[3]]
    for c, hs in enumerate(a.caches):
        r[f"cache{c + 1:02d}"] = [ip(x) for x in hs]
    for u, (j, _) in enumerate(a.upstreams):
        r[f"up{u + 1:02d}"] = [ip(x) for x in apps[j].api]
    return r


def catalog_yaml(a, apps):
    reqs = requirements(a, apps)
    roles = ["users", "lb", "web", "api"] + [f"svc{i + 1:02d}" for i in range(a.S)] + ["worker"]
    roles += [f"db{d + 1:02d}" for d in range(len(a.dbs))]
    roles += [f"cache{c + 1:02d}" for c in range(len(a.caches))]
    roles += ["mq", "search"] + [f"up{u + 1:02d}" for u in range(len(a.upstreams))]
    roles += ["admin", "monitor", "backup", "dns", "syslog"]
    o = []
    w = o.append
    w(f"# Generated by bench/audit/gen_audit.py: synthetic in-house application {a.id}.")
    w(f"id: {a.id}")
    w(f"name: {{en: Application {a.id}, ja: アプリケーション {a.id}}}")
    w("vendor: In-house")
    w("sources:")
    w(f"  - id: {a.id}-design.md")
    w(f"    title: {{en: {a.id} design document, ja: {a.id} 設計書}}")
    w("roles:")
    for r in roles:
        w(f"  - id: {r}")
        w(f"    name: {{en: {r}, ja: {r}}}")
        w("    zone: intranet")
    w("requirements:")
    for row, (rid, purpose, frm, to, protos, ports) in enumerate(reqs, 1):
        w(f"  - id: {rid}")
        w(f"    purpose: {{en: {purpose}, ja: {purpose}}}")
        w(f"    from: [{', '.join(frm)}]")
        w(f"    to: [{', '.join(to)}]")
        w(f"    protocol: {protos[0] if len(protos) == 1 else '[' + ', '.join(protos) + ']'}")
        w(f"    ports: [{', '.join(str(p) for p in ports)}]")
        w("    notes: {en: From the design document., ja: 設計書より。}")
        w(f"    source: {{doc: {a.id}-design.md, row: {row}}}")
    return "\n".join(o) + "\n"


def site_yaml(apps):
    o = []
    w = o.append
    w(f"# Generated by bench/audit/gen_audit.py: {len(apps)} applications behind fw-core.")
    w(f"name: audit-scale-{len(apps)}")
    w("zones:")
    for name, cidr in ZONES:
        w(f"  - id: {name}")
        w(f"    cidrs: [{cidr}]")
    w("products:")
    for a in apps:
        w(f"  - product: {a.id}")
        w("    roles:")
        for role, addrs in role_addrs(a, apps).items():
            if not addrs:
                w(f"      {role}: []")
            else:
                w(f"      {role}: [{', '.join(addrs)}]")
    w("firewalls:")
    w("  - id: fw-core")
    w(f"    between: [{', '.join(z for z, _ in ZONES)}]")
    w("    target: iptables")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------------------------
# Rules


class Rule:
    __slots__ = ("chain", "src", "src_neg", "dst", "dst_neg", "iif", "oif", "proto", "dports",
                 "dports_neg", "sports", "icmp", "state", "limit", "comment", "verdict",
                 "log_prefix", "cat")

    def __init__(self, chain="FORWARD", src=None, dst=None, proto=None, dports=None,
                 verdict="ACCEPT", cat="required", **kw):
        self.chain = chain
        self.src = src
        self.dst = dst
        self.proto = proto
        # list of ints or (lo, hi), sorted (nft prints set elements in order)
        self.dports = sorted(dports, key=lambda p: p[0] if isinstance(p, tuple) else p) \
            if dports else dports
        self.verdict = verdict  # ACCEPT DROP REJECT RETURN LOG or a chain name
        self.cat = cat
        self.src_neg = kw.get("src_neg", False)
        self.dst_neg = kw.get("dst_neg", False)
        self.iif = kw.get("iif")
        self.oif = kw.get("oif")
        self.dports_neg = kw.get("dports_neg", False)
        self.sports = kw.get("sports")
        self.icmp = kw.get("icmp")
        self.state = kw.get("state")
        self.limit = kw.get("limit")
        self.comment = kw.get("comment")
        self.log_prefix = kw.get("log_prefix")

    def copy(self, **kw):
        r = Rule()
        for s in Rule.__slots__:
            setattr(r, s, getattr(self, s))
        for k, v in kw.items():
            setattr(r, k, v)
        return r


def port_text(p, sep):
    return f"{p[0]}{sep}{p[1]}" if isinstance(p, tuple) else str(p)


def iptables_line(r):
    p = [f"-A {r.chain}"]
    if r.src:
        p.append(("! " if r.src_neg else "") + f"-s {r.src}")
    if r.dst:
        p.append(("! " if r.dst_neg else "") + f"-d {r.dst}")
    if r.iif:
        p.append(f"-i {r.iif}")
    if r.oif:
        p.append(f"-o {r.oif}")
    if r.proto:
        p.append(f"-p {r.proto}")
    if r.state:
        # iptables-save prints the states in its own order.
        states = [s for s in ("invalid", "new", "related", "established") if s in r.state]
        p.append(f"-m conntrack --ctstate {','.join(s.upper() for s in states)}")
    neg = "! " if r.dports_neg else ""
    if r.dports:
        if len(r.dports) == 1:
            p.append(f"-m {r.proto} {neg}--dport {port_text(r.dports[0], ':')}")
        else:
            p.append(f"-m multiport {neg}--dports {','.join(port_text(x, ':') for x in r.dports)}")
    if r.sports:
        p.append(f"-m {r.proto} --sport {port_text(r.sports[0], ':')}")
    if r.icmp is not None:
        p.append(f"-m icmp --icmp-type {r.icmp}")
    if r.limit:
        p.append(f"-m limit --limit {r.limit}/min")
    if r.comment:
        c = f'"{r.comment}"' if " " in r.comment else r.comment
        p.append(f"-m comment --comment {c}")
    if r.verdict == "LOG":
        p.append(f'-j LOG --log-prefix "{r.log_prefix}"')
    elif r.verdict == "REJECT":
        p.append("-j REJECT --reject-with icmp-port-unreachable")
    elif r.verdict:
        p.append(f"-j {r.verdict}")
    return " ".join(p)


ICMP_NAMES = {8: "echo-request", 0: "echo-reply", 3: "destination-unreachable",
              11: "time-exceeded"}


def nft_addr_text(a):
    return a[:-3] if a.endswith("/32") else a


def nft_ports_text(ps):
    if len(ps) == 1:
        return port_text(ps[0], "-")
    return "{ " + ", ".join(port_text(x, "-") for x in ps) + " }"


def nft_chain(name):
    return name.lower()


def nft_text(r):
    p = []
    if r.src:
        p.append(f"ip saddr {'!= ' if r.src_neg else ''}{nft_addr_text(r.src)}")
    if r.dst:
        p.append(f"ip daddr {'!= ' if r.dst_neg else ''}{nft_addr_text(r.dst)}")
    if r.iif:
        p.append(f'iifname "{r.iif}"')
    if r.oif:
        p.append(f'oifname "{r.oif}"')
    if r.proto and not r.dports and not r.sports and r.icmp is None:
        p.append(f"ip protocol {r.proto}")
    if r.state:
        p.append(f"ct state {','.join(r.state)}")
    if r.dports:
        p.append(f"{r.proto} dport {'!= ' if r.dports_neg else ''}{nft_ports_text(r.dports)}")
    if r.sports:
        p.append(f"{r.proto} sport {nft_ports_text(r.sports)}")
    if r.icmp is not None:
        p.append(f"icmp type {ICMP_NAMES[r.icmp]}")
    if r.limit:
        p.append(f"limit rate {r.limit}/minute")
    p.append("counter")
    if r.verdict == "LOG":
        p.append(f'log prefix "{r.log_prefix}"')
    elif r.verdict in ("ACCEPT", "DROP", "RETURN"):
        p.append(r.verdict.lower())
    elif r.verdict == "REJECT":
        p.append("reject")
    else:
        p.append(f"jump {nft_chain(r.verdict)}")
    if r.comment:
        p.append(f'comment "{r.comment}"')
    return " ".join(p)


def nft_addr_json(a):
    if a.endswith("/32"):
        return a[:-3]
    addr, length = a.split("/")
    return {"prefix": {"addr": addr, "len": int(length)}}


def nft_port_json(p):
    return {"range": [p[0], p[1]]} if isinstance(p, tuple) else p


def nft_ports_json(ps):
    if len(ps) == 1:
        return nft_port_json(ps[0])
    return {"set": [nft_port_json(x) for x in ps]}


def match(left, right, op="=="):
    return {"match": {"op": op, "left": left, "right": right}}


def payload(proto, field):
    return {"payload": {"protocol": proto, "field": field}}


def nft_json_exprs(r):
    e = []
    if r.src:
        e.append(match(payload("ip", "saddr"), nft_addr_json(r.src), "!=" if r.src_neg else "=="))
    if r.dst:
        e.append(match(payload("ip", "daddr"), nft_addr_json(r.dst), "!=" if r.dst_neg else "=="))
    if r.iif:
        e.append(match({"meta": {"key": "iifname"}}, r.iif))
    if r.oif:
        e.append(match({"meta": {"key": "oifname"}}, r.oif))
    if r.proto and not r.dports and not r.sports and r.icmp is None:
        e.append(match(payload("ip", "protocol"), r.proto))
    if r.state:
        e.append(match({"ct": {"key": "state"}},
                       r.state[0] if len(r.state) == 1 else list(r.state), "in"))
    if r.dports:
        e.append(match(payload(r.proto, "dport"), nft_ports_json(r.dports),
                       "!=" if r.dports_neg else "=="))
    if r.sports:
        e.append(match(payload(r.proto, "sport"), nft_ports_json(r.sports)))
    if r.icmp is not None:
        e.append(match(payload("icmp", "type"), ICMP_NAMES[r.icmp]))
    if r.limit:
        e.append({"limit": {"rate": r.limit, "burst": 5, "per": "minute"}})
    e.append({"counter": {"packets": 0, "bytes": 0}})
    if r.verdict == "LOG":
        e.append({"log": {"prefix": r.log_prefix}})
    elif r.verdict in ("ACCEPT", "DROP", "RETURN"):
        e.append({r.verdict.lower(): None})
    elif r.verdict == "REJECT":
        e.append({"reject": {"type": "icmp", "expr": "port-unreachable"}})
    else:
        e.append({"jump": {"target": nft_chain(r.verdict)}})
    return e


def multiport_chunks(ports):
    """iptables multiport takes at most 15 ports (a range counts two)."""
    out, cur, n = [], [], 0
    for p in ports:
        c = 2 if isinstance(p, tuple) else 1
        if n + c > 15:
            out.append(cur)
            cur, n = [], 0
        cur.append(p)
        n += c
    if cur:
        out.append(cur)
    return out


def build_rules(rng, apps, total, exact=False):
    counts = {}

    def count(cat, n=1):
        counts[cat] = counts.get(cat, 0) + n

    # --- Required rules per application, from the flows that cross fw-core.
    sections = []  # per app: list of rules (FORWARD)
    mgmt_rules = []  # monitoring and backup rules (MGMT chain)
    dmz_rules = []  # user access to load balancers (DMZ_IN chain)
    for a in apps:
        addrs = role_addrs(a, apps)
        sec = []
        # Most applications' monitoring is allowed to their whole blocks (broader than the
        # plan); some still have the per-host rules.
        broad_metrics = rng.chance(0.7)
        if broad_metrics:
            mon = host(MONITORS[a.monitor])
            mgmt_rules.append(Rule(chain="MGMT", src=mon, dst=f"{ip(a.bu_block)}/24", proto="tcp",
                                   dports=sorted({9100, a.metrics_port}),
                                   comment=f"{a.id} monitoring", cat="excess: broad monitoring"))
            mgmt_rules.append(Rule(chain="MGMT", src=mon, dst=f"{ip(a.dmz_block)}/26", proto="tcp",
                                   dports=sorted({9100, a.metrics_port}),
                                   comment=f"{a.id} monitoring", cat="excess: broad monitoring"))
            mgmt_rules.append(Rule(chain="MGMT", src=mon, dst=f"{ip(a.data_block)}/24", proto="tcp",
                                   dports=sorted({d[2] for d in a.dbs}),
                                   comment=f"{a.id} monitoring", cat="excess: broad monitoring"))
            count("excess: broad monitoring", 3)
        for rid, _, frm, to, protos, ports in requirements(a, apps):
            if rid in ("dns", "syslog", "ssh"):
                continue  # written as broad rules (see below)
            if broad_metrics and "metrics" in rid:
                continue
            comment = f"{a.id} {rid}" if rng.chance(0.5) else None
            for fr in frm:
                for src in addrs[fr]:
                    src = "10.64.0.0/10" if src == "zone:users" else src
                    for tr in to:
                        for dst in addrs[tr]:
                            if zone_of(src) == zone_of(dst):
                                continue
                            s = src if "/" in src else src + "/32"
                            d = dst + "/32"
                            for proto in protos:
                                for chunk in multiport_chunks(ports):
                                    r = Rule(src=s, dst=d, proto=proto, dports=chunk,
                                             comment=comment)
                                    if rng.chance(0.3):
                                        r.state = ["new"]
                                    if fr in ("monitor", "backup"):
                                        r.chain = "MGMT"
                                        mgmt_rules.append(r)
                                    elif fr == "users":
                                        r.chain = "DMZ_IN"
                                        dmz_rules.append(r)
                                    else:
                                        sec.append(r)
        sections.append(sec)
    required = (sum(len(s) for s in sections) + len(dmz_rules)
                + sum(1 for r in mgmt_rules if r.cat == "required"))
    count("required (rendered)", required)

    # --- Missing: leave out, drop a port, typo a port, decommission drops before rules.
    for sec in sections:
        for r in list(sec):
            x = rng.next() / (1 << 64)
            if x < 0.004:
                sec.remove(r)
                count("missing: rule left out")
            elif x < 0.006:
                r.dports = [r.dports[0] + 1 if not isinstance(r.dports[0], tuple) else r.dports[0]]
                count("missing+excess: port typo")
    for r in rng.sample(dmz_rules, max(1, len(dmz_rules) // 200)):
        if len(r.dports) > 1:
            r.dports = r.dports[1:]
            count("missing: port left out of multiport")

    # --- Shadowed: duplicates further down (within the same section or later ones).
    dups = []
    for si, sec in enumerate(sections):
        for r in sec:
            if rng.chance(0.04):
                dups.append((si, r.copy(cat="duplicate", state=None)))
    count("shadowed: exact duplicates", len(dups))

    # --- Header and chains.
    fwd_head = [
        Rule(state=["established", "related"], cat="conntrack"),
        Rule(state=["invalid"], verdict="DROP", cat="conntrack"),
        Rule(verdict="BLOCKLIST", cat="jump"),
    ]
    for bogon in ["192.168.0.0/16", "172.16.0.0/12", "127.0.0.0/8", "169.254.0.0/16",
                  "224.0.0.0/4", "0.0.0.0/8"]:
        fwd_head.append(Rule(src=bogon, iif="ext0", verdict="DROP", cat="drop: bogon"))
    fwd_head += [
        Rule(proto="tcp", dports=[23, 135, 139, 445, 3389], verdict="DROP",
             comment="blocked services", cat="drop: ports"),
        Rule(proto="udp", dports=[137, 138, 1900], verdict="DROP", cat="drop: ports"),
        Rule(src="10.64.0.0/10", dst="10.32.0.0/14", verdict="LOGDROP", cat="jump"),
        Rule(src="10.64.0.0/10", dst="10.5.0.0/16", proto="tcp", dports=[53],
             dports_neg=True, verdict="REJECT", cat="drop: users to mgmt"),
        Rule(src="10.5.0.0/16", verdict="MGMT", cat="jump"),
        Rule(dst="10.1.0.0/16", verdict="DMZ_IN", cat="jump"),
    ]
    for d in DNS:
        for proto in ("udp", "tcp"):
            fwd_head.append(Rule(dst=host(d), proto=proto, dports=[53], comment="dns",
                                 cat="excess: broad dns"))
    fwd_head.append(Rule(dst=host(SYSLOG[0]), proto="udp", dports=[514], comment="syslog",
                         cat="excess: broad syslog"))
    fwd_head.append(Rule(proto="icmp", icmp=8, cat="excess: icmp"))
    fwd_head.append(Rule(proto="icmp", icmp=3, cat="excess: icmp"))
    fwd_head.append(Rule(proto="icmp", icmp=11, cat="excess: icmp"))
    fwd_head.append(Rule(src="10.5.4.1/32", proto="udp", sports=[123], cat="excess: ntp sport"))
    for r in fwd_head:
        count(r.cat)

    mgmt_head = [Rule(chain="MGMT", src="10.5.0.0/24", proto="tcp", dports=[22],
                      comment="admin ssh", cat="excess: broad ssh")]
    count("excess: broad ssh")
    # Per-host SSH rules still there from before the broad rule (now shadowed in MGMT: not
    # reported, since shadowing is only checked in base chains) and some in FORWARD.
    legacy_ssh = []
    for a in apps:
        if rng.chance(0.3):
            for h in a.web + a.api:
                for adm in ADMIN_GROUPS[a.admin]:
                    legacy_ssh.append(Rule(chain="MGMT", src=host(adm), dst=host(h),
                                           proto="tcp", dports=[22], cat="shadowed: legacy ssh"))
    count("shadowed: legacy ssh (MGMT)", len(legacy_ssh))
    mgmt_tail = [Rule(chain="MGMT", dst="10.32.0.0/14", proto="tcp", dports=[(1, 1023)],
                      verdict="RETURN", cat="return"),
                 Rule(chain="MGMT", proto="tcp", dports=[(8000, 8999)], cat="excess: mgmt web"),
                 Rule(chain="MGMT", verdict="RETURN", cat="return")]
    for r in mgmt_tail:
        count(r.cat)

    # Internet exposure of load balancers (negation), in DMZ_IN.
    dmz_extra = []
    for a in apps:
        if rng.chance(0.3):
            for lb in a.lb:
                dmz_extra.append(Rule(chain="DMZ_IN", src="10.0.0.0/8", src_neg=True,
                                      dst=host(lb), proto="tcp", dports=[80, 443],
                                      iif="ext0", comment=f"{a.id} public",
                                      cat="excess: internet exposure"))
    count("excess: internet exposure", len(dmz_extra))
    dmz_tail = [Rule(chain="DMZ_IN", verdict="RETURN", cat="return")]
    count("return")

    # --- Per-section noise: broad any-port accepts, decommission drops, stale rules.
    broad = {}
    decom = {}
    for si, a in enumerate(apps):
        sec = sections[si]
        if rng.chance(0.15) and sec:
            # App block to its data block, any TCP port: covers (and shadows) the app's
            # specific data rules that follow it.
            broad[si] = Rule(src=f"{ip(a.bu_block)}/24", dst=f"{ip(a.data_block)}/24",
                             proto="tcp", comment=f"{a.id} temp", cat="excess: broad block")
            count("excess: broad block")
        if rng.chance(0.08) and a.dbs:
            d = a.dbs[-1]
            decom[si] = Rule(dst=host(d[3][0]), proto="tcp", dports=[d[1]], verdict="DROP",
                             comment=f"{a.id} decommissioned", cat="missing: decommission drop")
            count("missing: decommission drop")

    blocklist = []
    n_block = 2000
    for _ in range(n_block):
        if rng.chance(0.1):
            blocklist.append(Rule(chain="BLOCKLIST",
                                  src=f"{ip(rng.randint(11, 223) << 24 | rng.below(1 << 16) << 8)}/24",
                                  verdict="DROP", cat="drop: blocklist"))
        else:
            blocklist.append(Rule(chain="BLOCKLIST",
                                  src=host(rng.randint(11, 223) << 24 | rng.below(1 << 24)),
                                  verdict="DROP", cat="drop: blocklist"))
    count("drop: blocklist", n_block)
    blocklist.append(Rule(chain="BLOCKLIST", verdict="RETURN", cat="return"))
    count("return")

    limit = None if exact else 5
    log_cat = "log" if exact else "log (limit: not modelled)"
    logdrop = [Rule(chain="LOGDROP", limit=limit, verdict="LOG", log_prefix="LOGDROP: ",
                    cat=log_cat),
               Rule(chain="LOGDROP", verdict="DROP", cat="drop: logdrop")]
    count(log_cat)
    count("drop: logdrop")
    fwd_tail = [Rule(limit=limit, verdict="LOG", log_prefix="FWD-DROP: ",
                     cat=log_cat),
                Rule(verdict="DROP", cat="drop: final")]
    count(log_cat)
    count("drop: final")

    # Temporary any-any rules between two random application hosts.
    temps = []
    for _ in range(max(1, len(apps) // 4)):
        a, b = rng.choice(apps), rng.choice(apps)
        temps.append(Rule(src=host(rng.choice(a.api)), dst=host(rng.choice(b.dbs)[3][0]),
                          comment="temporary", cat="excess: any-any"))
    count("excess: any-any", len(temps))

    fixed = (len(fwd_head) + len(mgmt_head) + len(legacy_ssh) + len(mgmt_tail) + len(dmz_extra)
             + len(dmz_tail) + len(broad) + len(decom) + len(blocklist) + len(logdrop)
             + len(fwd_tail) + len(temps) + len(dups) + len(mgmt_rules) + len(dmz_rules)
             + sum(len(s) for s in sections))
    n_stale = total - fixed
    if n_stale < 0:
        raise ValueError(f"--rules {total} is too small: the required rules and fixed noise "
                         f"already take {fixed}")
    count("excess: stale (decommissioned hosts)", n_stale)

    # Stale rules: rules of the same shapes to hosts of the app's blocks nobody uses any more
    # (or from them), spread over the sections in proportion to their size.
    stale_per = [0] * len(apps)
    weights = [len(s) + 1 for s in sections]
    wsum = sum(weights)
    for i in range(len(apps)):
        stale_per[i] = n_stale * weights[i] // wsum
    for i in range(n_stale - sum(stale_per)):
        stale_per[i % len(apps)] += 1
    for si, a in enumerate(apps):
        sec = sections[si]
        for _ in range(stale_per[si]):
            kind = rng.below(4)
            if kind == 0:  # stale data host
                d = rng.choice(a.dbs)
                r = Rule(src=host(rng.choice(rng.choice(a.svc))), dst=host(rng.choice(a.data_free)),
                         proto="tcp", dports=[d[1]])
            elif kind == 1:  # stale service host to a live database
                d = rng.choice(a.dbs)
                r = Rule(src=host(rng.choice(a.bu_free)), dst=host(rng.choice(d[3])),
                         proto="tcp", dports=[d[1]])
            elif kind == 2:  # old web server to the API
                r = Rule(src=host(rng.choice(a.dmz_free)), dst=host(rng.choice(a.api)),
                         proto="tcp", dports=[a.api_port, 8080] if a.api_port != 8080 else [8080])
            else:  # old port on a live host
                d = rng.choice(a.dbs)
                r = Rule(src=host(rng.choice(rng.choice(a.svc))), dst=host(rng.choice(d[3])),
                         proto="tcp", dports=[rng.choice([5433, 5434, 3307, 1434, 27018, 6380,
                                                          (8000, 8100), 11211])])
            r.cat = "excess: stale"
            if rng.chance(0.3):
                r.comment = f"{a.id} old"
            sec.append(r)

    # Assemble FORWARD: header, app sections in a shuffled order (each shuffled inside, broad
    # and decommission rules first), duplicates later, temporaries scattered, tail.
    order = list(range(len(apps)))
    rng.shuffle(order)
    body = []
    pos_of_section = {}
    for si in order:
        sec = sections[si]
        rng.shuffle(sec)
        pos_of_section[si] = len(body)
        if si in broad:
            body.append(broad[si])
        if si in decom:
            body.append(decom[si])
        body.extend(sec)
    # Duplicates: inserted at a random later position (after their section start).
    inserts = []
    for si, r in dups:
        start = pos_of_section[si] + 1
        inserts.append((rng.randint(start, len(body)), r))
    for r in temps:
        inserts.append((rng.randint(0, len(body)), r))
    inserts.sort(key=lambda x: x[0])
    merged = []
    j = 0
    for i, r in enumerate(body):
        while j < len(inserts) and inserts[j][0] == i:
            merged.append(inserts[j][1])
            j += 1
        merged.append(r)
    merged.extend(r for _, r in inserts[j:])
    forward = fwd_head + merged + fwd_tail
    rng.shuffle(mgmt_rules)
    rng.shuffle(dmz_rules)
    # Built-in chain first, then user chains by name (iptables-save's order).
    chains = {
        "FORWARD": forward,
        "BLOCKLIST": blocklist,
        "DMZ_IN": dmz_extra + dmz_rules + dmz_tail,
        "LOGDROP": logdrop,
        "MGMT": mgmt_head + mgmt_rules + legacy_ssh + mgmt_tail,
    }
    n = sum(len(c) for c in chains.values())
    assert n == total, (n, total)
    return chains, counts


NAT = [
    "-A PREROUTING -d 198.51.100.10/32 -i ext0 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.1.0.2:443",
    "-A PREROUTING -d 198.51.100.11/32 -i ext0 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.1.0.66:443",
    "-A POSTROUTING -s 10.0.0.0/8 -o ext0 -j MASQUERADE",
]


def write_iptables(path, chains, nat=True):
    with open(path, "w") as f:
        if nat:
            f.write("# Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 22 03:00:00 2026\n")
            f.write("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                    ":POSTROUTING ACCEPT [0:0]\n")
            for line in NAT:
                f.write(line + "\n")
            f.write("COMMIT\n# Completed on Sun Nov 22 03:00:00 2026\n")
        f.write("# Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 22 03:00:00 2026\n")
        f.write("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
        for name in chains:
            if name != "FORWARD":
                f.write(f":{name} - [0:0]\n")
        for rules in chains.values():
            for r in rules:
                f.write(iptables_line(r) + "\n")
        f.write("COMMIT\n# Completed on Sun Nov 22 03:00:00 2026\n")


def write_nft_text(path, chains):
    with open(path, "w") as f:
        f.write("flush ruleset\n")
        f.write("table ip nat {\n  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
                '    iifname "ext0" ip daddr 198.51.100.10 tcp dport 443 counter dnat to 10.1.0.2:443\n'
                '    iifname "ext0" ip daddr 198.51.100.11 tcp dport 443 counter dnat to 10.1.0.66:443\n'
                "  }\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n"
                '    ip saddr 10.0.0.0/8 oifname "ext0" counter masquerade\n  }\n}\n')
        f.write("table ip filter {\n")
        f.write("  chain input {\n    type filter hook input priority filter; policy accept;\n  }\n")
        f.write("  chain forward {\n    type filter hook forward priority filter; policy drop;\n  }\n")
        f.write("  chain output {\n    type filter hook output priority filter; policy accept;\n  }\n")
        for name in chains:
            if name != "FORWARD":
                f.write(f"  chain {nft_chain(name)} {{\n  }}\n")
        f.write("}\n")
        for name, rules in chains.items():
            for r in rules:
                f.write(f"add rule ip filter {nft_chain(name)} {nft_text(r)}\n")


def write_nft_json(path, chains):
    items = [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5",
                           "json_schema_version": 1}}]
    items.append({"table": {"family": "ip", "name": "nat", "handle": 1}})
    items.append({"chain": {"family": "ip", "table": "nat", "name": "prerouting", "handle": 1,
                            "type": "nat", "hook": "prerouting", "prio": -100,
                            "policy": "accept"}})
    items.append({"chain": {"family": "ip", "table": "nat", "name": "postrouting", "handle": 2,
                            "type": "nat", "hook": "postrouting", "prio": 100,
                            "policy": "accept"}})
    items.append({"rule": {"family": "ip", "table": "nat", "chain": "prerouting", "handle": 3,
                           "expr": [match({"meta": {"key": "iifname"}}, "ext0"),
                                    match(payload("ip", "daddr"), "198.51.100.10"),
                                    match(payload("tcp", "dport"), 443),
                                    {"counter": {"packets": 0, "bytes": 0}},
                                    {"dnat": {"addr": "10.1.0.2", "port": 443}}]}})
    items.append({"rule": {"family": "ip", "table": "nat", "chain": "prerouting", "handle": 4,
                           "expr": [match({"meta": {"key": "iifname"}}, "ext0"),
                                    match(payload("ip", "daddr"), "198.51.100.11"),
                                    match(payload("tcp", "dport"), 443),
                                    {"counter": {"packets": 0, "bytes": 0}},
                                    {"dnat": {"addr": "10.1.0.66", "port": 443}}]}})
    items.append({"rule": {"family": "ip", "table": "nat", "chain": "postrouting", "handle": 5,
                           "expr": [match(payload("ip", "saddr"),
                                          {"prefix": {"addr": "10.0.0.0", "len": 8}}),
                                    match({"meta": {"key": "oifname"}}, "ext0"),
                                    {"counter": {"packets": 0, "bytes": 0}},
                                    {"masquerade": None}]}})
    items.append({"table": {"family": "ip", "name": "filter", "handle": 2}})
    handle = 1
    names = ["input", "forward", "output"] + [nft_chain(n) for n in chains if n != "FORWARD"]
    for name in names:
        c = {"family": "ip", "table": "filter", "name": name, "handle": handle}
        if name in ("input", "forward", "output"):
            c.update({"type": "filter", "hook": name, "prio": 0,
                      "policy": "drop" if name == "forward" else "accept"})
        items.append({"chain": c})
        handle += 1
    with open(path, "w") as f:
        f.write('{"nftables": [')
        f.write(", ".join(json.dumps(it, ensure_ascii=False) for it in items))
        for name, rules in chains.items():
            for r in rules:
                rule = {"family": "ip", "table": "filter", "chain": nft_chain(name),
                        "handle": handle}
                if r.comment:
                    rule["comment"] = r.comment
                rule["expr"] = nft_json_exprs(r)
                f.write(", ")
                f.write(json.dumps({"rule": rule}, ensure_ascii=False))
                handle += 1
        f.write("]}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apps", type=int, default=225, help="applications (default 225)")
    ap.add_argument("--rules", type=int, default=100_000,
                    help="rules in the filter table (default 100000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--no-nft-text", action="store_true", help="skip ruleset.nft")
    ap.add_argument("--exact", action="store_true",
                    help="iptables only: no nat table and no rate limit on the LOG rules, so "
                         "every rule is read exactly and redundant rules are computed")
    args = ap.parse_args()
    if not 1 <= args.apps <= 1000:
        sys.exit("--apps must be 1..1000")
    rng = Rng(args.seed)
    apps = make_apps(rng, args.apps)
    out = args.out_dir
    os.makedirs(os.path.join(out, "catalogs"), exist_ok=True)
    for a in apps:
        with open(os.path.join(out, "catalogs", f"{a.id}.yaml"), "w") as f:
            f.write(catalog_yaml(a, apps))
    with open(os.path.join(out, "site.yaml"), "w") as f:
        f.write(site_yaml(apps))
    chains, counts = build_rules(rng, apps, args.rules, args.exact)
    write_iptables(os.path.join(out, "ruleset.iptables"), chains, nat=not args.exact)
    if not args.exact:
        write_nft_json(os.path.join(out, "ruleset.nft.json"), chains)
    if not args.no_nft_text and not args.exact:
        write_nft_text(os.path.join(out, "ruleset.nft"), chains)
    manifest = {
        "generator": "bench/audit/gen_audit.py",
        "apps": args.apps, "rules": args.rules, "seed": args.seed, "exact": args.exact,
        "point": "fw-core",
        "chains": {k: len(v) for k, v in chains.items()},
        "rules_by_category": dict(sorted(counts.items())),
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
