#!/usr/bin/env python3
"""Compare two `nft -j list ruleset` documents up to handles (python3 stdlib only).

Used by check_formats.sh: the generated ruleset.nft.json against what nft 1.0 itself prints
after loading ruleset.nft. Tables, chains and rules must agree in order and content; `handle`
fields and the metainfo object are ignored.

    python3 bench/audit/compare_nft_json.py GENERATED.json REAL.json
"""

import json
import sys


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != "handle"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def items(path):
    with open(path) as f:
        doc = json.load(f)
    return [strip(it) for it in doc["nftables"] if "metainfo" not in it]


def main():
    gen, real = items(sys.argv[1]), items(sys.argv[2])
    if len(gen) != len(real):
        print(f"  DIFFERENT: {len(gen)} items generated, {len(real)} from nft")
    bad = 0
    for i, (a, b) in enumerate(zip(gen, real)):
        if a != b:
            bad += 1
            if bad <= 5:
                print(f"  item {i} differs:\n    generated: {json.dumps(a)}\n    nft:       {json.dumps(b)}")
    if bad or len(gen) != len(real):
        print(f"  {bad} of {min(len(gen), len(real))} items differ")
        sys.exit(1)
    print(f"  nft -j output identical up to handles ({len(gen)} items)")


if __name__ == "__main__":
    main()
