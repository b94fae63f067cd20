#!/usr/bin/env python3
"""Fabricate one `portplan probe --format json` result file per source of a fleet (stdlib only).

    results.py FLEET_DIR DRY_RUN_JSON OUT_DIR

FLEET_DIR/fleet.json lists the hosts (`portplan fleet` writes it). DRY_RUN_JSON is
`portplan probe SITE --from ONE_SOURCE --dry-run --format json` of one source; every source of
the fleet gets the same checks with its own address as the source and every check passed, in
the shape `probe --format json` writes. For the merge benchmark only: nothing is sent.
"""

import json
import os
import sys


def main():
    fleet_dir, dry_path, out_dir = sys.argv[1:4]
    with open(os.path.join(fleet_dir, "fleet.json")) as f:
        fleet = json.load(f)
    with open(dry_path) as f:
        dry = json.load(f)
    template = dry.get("checks", [])
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for h in fleet["hosts"]:
        if not h["probe"]:
            continue
        src = h["addrs"][0]
        results = []
        for c in template:
            r = dict(c)
            r["src"] = src
            r["result"] = "pass"
            if c["expect"] == "open":
                r["observed"] = {"kind": "open", "detail": {"token": True}}
                r["rtt_ms"] = 0.4
            else:
                r["observed"] = {"kind": "silent"}
                r["rtt_ms"] = None
            results.append(r)
        doc = {
            "host": {"label": ",".join(h["addrs"]), "addrs": h["addrs"]},
            "skipped": dry.get("skipped", []),
            "sampled": dry.get("sampled", []),
            "unenforced": dry.get("unenforced", []),
            "internet": dry.get("internet", []),
            "options": {"timeout": 1000, "concurrency": 64, "rate": 200},
            "results": results,
            "elapsed_ms": 1000.0,
            "ok": True,
        }
        with open(os.path.join(out_dir, h["file"] + ".json"), "w") as f:
            json.dump(doc, f, indent=2)
        n += 1
    print(f"{n} result files, {len(template)} checks each")


if __name__ == "__main__":
    main()
