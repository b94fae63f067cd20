#!/usr/bin/env python3
"""Check a `portplan plan SITE --format json` output against the optimal CIDR cover.

For every opening and each side (from, to): the CIDRs printed must be the optimal cover of
the addresses they denote, i.e. `ipaddress.collapse_addresses` (per family) over them gives
back exactly as many prefixes — no two could merge, none is contained in another. FQDNs are
counted as one entry each and left alone.

Per enforcement point it reports: openings, CIDRs on the from/to sides (summed over
openings), and `from x to` summed over openings (the rule count of a target that writes one
rule per source/destination prefix pair, e.g. iptables without ipset).

With --site it also computes the optimal cover of the site's client host list (the
`devicelock.service` list of a bench/gen_site.py site) as a reference figure.

    portplan plan SITE --format json | python3 bench/check_plan.py [--site SITE]

Exit status 1 if any side is not optimally covered.
"""

import argparse
import ipaddress
import json
import re
import sys


def split(entries):
    nets, names = [], []
    for e in entries:
        try:
            nets.append(ipaddress.ip_network(e, strict=True))
        except ValueError:
            names.append(e)
    return nets, names


def optimal_count(nets):
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    return len(list(ipaddress.collapse_addresses(v4))) + len(
        list(ipaddress.collapse_addresses(v6))
    )


def client_cover(site_path):
    """Optimal cover of the `service:` host list of a generated site."""
    text = open(site_path, encoding="utf-8").read()
    m = re.search(r"^      service:\n((?:        - .*\n)+)", text, re.M)
    if not m:
        return None
    ips = [ipaddress.ip_network(line.split("- ", 1)[1].strip()) for line in m.group(1).splitlines()]
    return len(ips), len(list(ipaddress.collapse_addresses(ips)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("json", nargs="?", default="-", help="plan JSON (default stdin)")
    p.add_argument("--site", help="generated site YAML, for the client cover reference")
    a = p.parse_args()
    f = sys.stdin if a.json == "-" else open(a.json, encoding="utf-8")
    plan = json.load(f)

    bad = 0
    print(f"{'point':<10} {'kind':<8} {'openings':>8} {'from CIDRs':>10} {'to CIDRs':>9} "
          f"{'from x to':>10} {'max side':>8}  optimal?")
    totals = [0, 0, 0, 0]
    for pt in plan["enforcement_points"]:
        n_from = n_to = pairs = biggest = 0
        ok = True
        for o in pt["openings"]:
            counts = []
            for side in ("from", "to"):
                nets, names = split(o[side])
                opt = optimal_count(nets)
                if opt != len(nets):
                    ok = False
                    bad += 1
                    print(f"  NOT OPTIMAL: {pt['id']} {o['protocol']} {o['ports']} {side}: "
                          f"{len(nets)} prefixes, optimal {opt}", file=sys.stderr)
                counts.append(len(nets) + len(names))
            n_from += counts[0]
            n_to += counts[1]
            pairs += counts[0] * counts[1]
            biggest = max(biggest, *counts)
        totals = [totals[0] + len(pt["openings"]), totals[1] + n_from, totals[2] + n_to,
                  totals[3] + pairs]
        print(f"{pt['id']:<10} {pt['kind']:<8} {len(pt['openings']):>8} {n_from:>10} {n_to:>9} "
              f"{pairs:>10} {biggest:>8}  {'yes' if ok else 'NO'}")
    print(f"{'total':<19} {totals[0]:>8} {totals[1]:>10} {totals[2]:>9} {totals[3]:>10}")
    if a.site:
        c = client_cover(a.site)
        if c:
            print(f"client hosts: {c[0]} addresses, optimal CIDR cover {c[1]} prefixes")
    if bad:
        print(f"{bad} side(s) not optimally covered", file=sys.stderr)
        return 1
    print("every opening side is its optimal CIDR cover")
    return 0


if __name__ == "__main__":
    sys.exit(main())
