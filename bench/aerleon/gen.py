#!/usr/bin/env python3
"""Inputs for the Aerleon peer benchmark (python3 stdlib only; seeded, deterministic).

  gen.py site --openings N --seed S --out DIR
      DIR/catalog/synthNN.yaml  products synth01.. of 1,000 requirements each: roles c_i
                                (client) and s_i (server), requirement r_i: c_i -> s_i with its
                                own protocol and port set
      DIR/site.yaml           zones clients/servers, the roles on distinct hosts, one network
                              firewall `fw` between them

  gen.py aerleon --plan PLAN.json --out DIR
      from `portplan plan --format json`: one Aerleon term per opening of the firewall
      DIR/def/synth.net, DIR/def/synth.svc   networks S<k>/D<k>, services P<k>
      DIR/pol/nft/synth.pol                  target:: nftables mixed forward  (policy drop)
      DIR/pol/ipt/synth.pol                  target:: iptables FORWARD DROP inet, and a second
                                             filter ... inet6 with the IPv6 terms; each filter
                                             starts with an `established` term

  gen.py ipt-restore --in AERLEON_IPT_OUTPUT --out FILE
      Aerleon's iptables output as iptables-restore input: FILE (IPv4) and FILE.v6 (IPv6)

Why the openings cannot merge in portplan: every requirement has its own destination hosts
(allocated sequentially, never shared) and its own ports (a window of 6 ports per requirement,
at most 5 of them used), so no two openings of one family share `to` or `ports` (the IPv4 and
IPv6 openings of a dual-stack requirement share ports but not a family).

Every ninth requirement is dual-stack (IPv4 and IPv6 on both ends), so the renderers' IPv6
paths are exercised too. portplan plans each family as its own opening, so R requirements give
R + ceil(R/9) openings; `--openings N` picks the least R with at least N openings (N = 10,000:
9,000 requirements, 1,000 of them dual-stack, 10,000 openings, 1,000 of them IPv6).
"""

import argparse
import ipaddress
import json
import os
import random
import sys

CLIENT_V4 = ipaddress.ip_network("10.64.0.0/10")
SERVER_V4 = ipaddress.ip_network("10.128.0.0/10")
CLIENT_V6 = ipaddress.ip_network("2001:db8:c000::/36")
SERVER_V6 = ipaddress.ip_network("2001:db8:5000::/36")
PORT_BASE, PORT_STRIDE = 1024, 6
PER_PRODUCT = 1000


def v4_host(rng, net):
    while True:
        a = net.network_address + rng.randrange(net.num_addresses)
        if 0 < int(a) & 255 < 255:
            return a


def v4_subnet(rng, net, plen):
    size = 1 << (32 - plen)
    base = int(net.network_address) + rng.randrange(net.num_addresses // size) * size
    return ipaddress.ip_network((base, plen))


def v6_host(rng, net):
    return net.network_address + rng.randrange(1, 1 << 32)


def requirement(i, rng, dst_v4, dst_v6):
    """One requirement: (protocol, ports as text list, src endpoints, dst endpoints).

    Every ninth one (i % 9 == 0) is dual-stack; portplan plans each family as its own
    opening, so such a requirement gives two openings."""
    u = rng.random()
    if u < 0.5:
        src = [str(v4_host(rng, CLIENT_V4))]
    elif u < 0.75:
        src = sorted({str(v4_host(rng, CLIENT_V4)) for _ in range(rng.randint(2, 3))})
    else:
        src = [str(v4_subnet(rng, CLIENT_V4, rng.choice([28, 29])))]
    dst = [str(next(dst_v4))]
    if rng.random() < 0.2:
        dst.append(str(next(dst_v4)))
    if i % 9 == 0:  # dual-stack
        if rng.random() < 0.7:
            src.append(str(v6_host(rng, CLIENT_V6)))
        else:
            h = int(v6_host(rng, CLIENT_V6)) & ~0xF
            src.append(str(ipaddress.ip_network((h, 124))))
        dst.append(str(next(dst_v6)))
    base = PORT_BASE + PORT_STRIDE * i
    u = rng.random()
    if u < 0.5:
        ports = [str(base)]
    elif u < 0.75:
        ports = [f"{base}-{base + rng.randint(1, 4)}"]
    else:
        ports = [str(base), f"{base + 2}-{base + 4}"] if rng.random() < 0.5 else [str(base), str(base + 3)]
    proto = "tcp" if rng.random() < 0.7 else "udp"
    return proto, ports, src, dst


def server_addrs():
    """Sequential, never repeated server addresses (skipping .0 and .255)."""
    n = int(SERVER_V4.network_address)
    while True:
        n += 1
        if 0 < n & 255 < 255:
            yield ipaddress.ip_address(n)


def server_addrs_v6():
    n = int(SERVER_V6.network_address)
    while True:
        n += 1
        yield ipaddress.ip_address(n)


def gen_site(args):
    n = 1
    while n + (n + 8) // 9 < args.openings:
        n += 1
    if not 1 <= n <= (65535 - PORT_BASE) // PORT_STRIDE - 1:
        sys.exit("--openings out of range")
    rng = random.Random(args.seed)
    dst_v4, dst_v6 = server_addrs(), server_addrs_v6()
    reqs = [requirement(i, rng, dst_v4, dst_v6) for i in range(n)]
    w = len(str(n))
    # portplan's YAML reader has a budget of 250,000 nodes per file (a guard against YAML
    # bombs); one product with 9,000 requirements and 18,000 roles is over it, so the
    # requirements are dealt to products of PER_PRODUCT each, one catalog file per product.
    chunks = [range(a, min(a + PER_PRODUCT, n)) for a in range(0, n, PER_PRODUCT)]
    os.makedirs(os.path.join(args.out, "catalog"), exist_ok=True)
    site = [
        "# generated by bench/aerleon/gen.py",
        "name: synth",
        "zones:",
        f"  - {{id: clients, cidrs: [{CLIENT_V4}, {CLIENT_V6}]}}",
        f"  - {{id: servers, cidrs: [{SERVER_V4}, {SERVER_V6}]}}",
        "products:",
    ]
    for c, idx in enumerate(chunks, 1):
        pid = f"synth{c:02d}"
        cat = [
            "# generated by bench/aerleon/gen.py: synthetic product for the Aerleon peer benchmark",
            f"id: {pid}",
            f"name: {{en: {pid}, ja: {pid}}}",
            "vendor: portplan bench",
            "sources:",
            "  - id: synth.txt",
            "    title: {en: Synthetic requirements, ja: Synthetic requirements}",
            "roles:",
        ]
        for i in idx:
            k = f"{i + 1:0{w}d}"
            cat.append(f"  - {{id: c{k}, name: {{en: c{k}, ja: c{k}}}, zone: intranet}}")
            cat.append(f"  - {{id: s{k}, name: {{en: s{k}, ja: s{k}}}, zone: intranet}}")
        cat.append("requirements:")
        site += [f"  - product: {pid}", "    roles:"]
        for i in idx:
            proto, ports, src, dst = reqs[i]
            k = f"{i + 1:0{w}d}"
            cat.append(
                f"  - {{id: r{k}, purpose: {{en: r{k}, ja: r{k}}}, from: c{k}, to: s{k}, protocol: {proto}, "
                f"ports: [{', '.join(ports)}], notes: {{en: synthetic, ja: synthetic}}, "
                f"source: {{doc: synth.txt, row: {i + 1}}}}}"
            )
            site.append(f"      c{k}: [{', '.join(src)}]")
            site.append(f"      s{k}: [{', '.join(dst)}]")
        with open(os.path.join(args.out, "catalog", f"{pid}.yaml"), "w") as f:
            f.write("\n".join(cat) + "\n")
    site += [
        "firewalls:",
        "  - id: fw",
        "    between: [clients, servers]",
        "    target: nftables",
    ]
    with open(os.path.join(args.out, "site.yaml"), "w") as f:
        f.write("\n".join(site) + "\n")


def fw_openings(plan_path):
    with open(plan_path) as f:
        plan = json.load(f)
    pts = [p for p in plan["enforcement_points"] if p["id"] == "fw"]
    if len(pts) != 1:
        sys.exit("plan has no enforcement point `fw`")
    return pts[0]["openings"]


def gen_aerleon(args):
    ops = fw_openings(args.plan)
    w = len(str(len(ops)))
    net, svc = [], []
    terms4, terms6 = [], []
    for k, o in enumerate(ops, 1):
        if o["direction"] != "forward":
            sys.exit(f"opening {k}: direction {o['direction']}")
        name = f"{k:0{w}d}"
        for tag, cidrs in (("S", o["from"]), ("D", o["to"])):
            net.append(f"{tag}{name} = " + "\n    ".join(cidrs))
        svc.append(f"P{name} = " + "\n    ".join(f"{p}/{o['protocol']}" for p in o["ports"]))
        term = (
            f"term o{name} {{\n"
            f"  comment:: \"portplan opening {k}: {' '.join(o.get('requirements', []))}\"\n"
            f"  source-address:: S{name}\n"
            f"  destination-address:: D{name}\n"
            f"  protocol:: {o['protocol']}\n"
            f"  destination-port:: P{name}\n"
            f"  action:: accept\n"
            f"}}\n"
        )
        fams = {":" in c for c in o["from"]} & {":" in c for c in o["to"]}
        if False in fams:
            terms4.append(term)
        if True in fams:
            terms6.append(term)
    established = (
        "term established {\n"
        "  comment:: \"return traffic of accepted connections\"\n"
        "  option:: established\n"
        "  action:: accept\n"
        "}\n"
    )
    for d in ("def", "pol/nft", "pol/ipt"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    with open(os.path.join(args.out, "def", "synth.net"), "w") as f:
        f.write("\n".join(net) + "\n")
    with open(os.path.join(args.out, "def", "synth.svc"), "w") as f:
        f.write("\n".join(svc) + "\n")
    with open(os.path.join(args.out, "pol", "nft", "synth.pol"), "w") as f:
        # mixed = the `inet` table; the base chain hooks forward with policy drop and accepts
        # established,related itself, so no established term is needed (nor rendered) here.
        f.write("header {\n  comment:: \"synthetic plan, one term per portplan opening\"\n"
                "  target:: nftables mixed forward\n}\n\n")
        # Every opening is of one family (portplan plans each family apart): one term each,
        # the IPv4 terms first, then the IPv6 ones, all in the one `inet` table.
        for t in terms4 + terms6:
            f.write(t + "\n")
    with open(os.path.join(args.out, "pol", "ipt", "synth.pol"), "w") as f:
        for fam, terms in (("inet", terms4), ("inet6", terms6)):
            f.write(f"header {{\n  comment:: \"synthetic plan ({fam})\"\n"
                    f"  target:: iptables FORWARD DROP {fam}\n}}\n\n")
            f.write(established + "\n")
            for t in terms:
                f.write(t + "\n")
    print(json.dumps({"openings": len(ops), "terms_v4": len(terms4), "terms_v6": len(terms6)}))


def ipt_restore(args):
    """Aerleon's `iptables` generator writes one iptables command line per line (`-P FORWARD
    DROP`, `-N chain`, `-A ...`) per filter, with no table header. Wrap each filter as
    iptables-restore input: `*filter`, the `-P` policy as the chain's `:FORWARD DROP [0:0]`
    line, the `-N`/`-A` lines unchanged, `COMMIT`. The inet filter goes to OUT, the inet6
    filter to OUT.v6 (portplan's layout)."""
    with open(args.input) as f:
        text = f.read()
    filters = {}
    fam = None
    for line in text.splitlines():
        if line.startswith("# Iptables "):
            fam = None
        elif line in ("# inet", "# inet6"):
            fam = line[2:]
            filters[fam] = {"policies": [], "rules": []}
        elif fam and line.startswith("-P "):
            _, chain, pol = line.split()
            filters[fam]["policies"].append(f":{chain} {pol} [0:0]")
        elif fam and line.startswith(("-N ", "-A ")):
            filters[fam]["rules"].append(line)
        elif line.strip() and not line.startswith("#"):
            sys.exit(f"unexpected line in Aerleon iptables output: {line!r}")
    for fam, path in (("inet", args.out), ("inet6", args.out + ".v6")):
        if fam not in filters:
            continue
        flt = filters[fam]
        with open(path, "w") as f:
            f.write("# Aerleon iptables output wrapped for iptables-restore by bench/aerleon/gen.py\n")
            f.write("*filter\n" + "\n".join(flt["policies"] + flt["rules"]) + "\nCOMMIT\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("site")
    s.add_argument("--openings", type=int, default=10000)
    s.add_argument("--seed", type=int, default=20261122)
    s.add_argument("--out", required=True)
    a = sub.add_parser("aerleon")
    a.add_argument("--plan", required=True)
    a.add_argument("--out", required=True)
    r = sub.add_parser("ipt-restore")
    r.add_argument("--in", dest="input", required=True)
    r.add_argument("--out", required=True)
    args = ap.parse_args()
    {"site": gen_site, "aerleon": gen_aerleon, "ipt-restore": ipt_restore}[args.cmd](args)


if __name__ == "__main__":
    main()
