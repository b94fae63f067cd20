#!/usr/bin/env python3
"""Summary table of a bench/aerleon/run.sh run (Markdown, printed and written to --out).

  summary.py --work DIR --openings N [--scaling "1000 3000"] --out FILE
reads DIR/versions.json, DIR/nN/timings.json, DIR/nM/timings.json (scaling), DIR/check.json.
"""

import argparse
import json
import os

TARGET = 50.0


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--openings", type=int, required=True)
    ap.add_argument("--scaling", default="")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    v = load(os.path.join(args.work, "versions.json")) or {}
    t = load(os.path.join(args.work, f"n{args.openings}", "timings.json"))
    chk = load(os.path.join(args.work, "check.json"))
    L = []
    commit = v.get("portplan_commit", "?")
    if v.get("portplan_commit_after_build", commit) != commit:
        commit += f" (HEAD moved to {v['portplan_commit_after_build']} during the build)"
    if v.get("portplan_dirty"):
        commit += " + uncommitted changes"
    L.append(f"portplan {commit} · aerleon {v.get('aerleon', '?')} · {v.get('rustc', '?')} · "
             f"Python {v.get('python', '?')} · {v.get('nft', '?')} · {v.get('iptables', '?')} · "
             f"kernel {v.get('kernel', '?')} · {v.get('nproc', '?')} cores · load average "
             f"{v.get('load_before', '?')} (before) / {v.get('load_after', '?')} (after)")
    L.append("")
    if t:
        c = t["commands"]
        r = t["rounds"]
        L.append(f"Timings, {t['openings']} openings at firewall `fw` (wall time of the whole command; "
                 f"CPU = user+sys; one run = round 1, best = best of {r}):")
        L.append("")
        L.append("| command | one run wall (s) | best wall (s) | one run CPU (s) | best CPU (s) |")
        L.append("| --- | ---: | ---: | ---: | ---: |")
        for name, x in c.items():
            L.append(f"| {name} | {x['one_run_wall']:.3f} | {x['best_wall']:.3f} | {x['one_run_cpu']:.3f} | {x['best_cpu']:.3f} |")
        L.append("")
        L.append(f"Ratio Aerleon / portplan (target: portplan at least {TARGET:.0f}× faster):")
        L.append("")
        L.append("| target | one run (wall) | best (wall) | one run (CPU) | best (CPU) | 50× target |")
        L.append("| --- | ---: | ---: | ---: | ---: | --- |")
        for tg, x in t["ratios"].items():
            ok = "met" if x["one_run_wall"] >= TARGET else "MISSED"
            L.append(f"| {tg} | {x['one_run_wall']:.2f}× | {x['best_wall']:.2f}× | {x['one_run_cpu']:.2f}× | "
                     f"{x['best_cpu']:.2f}× | {ok} |")
        L.append("")
        plan_w, plan_c = c["portplan plan"]["best_wall"], c["portplan plan"]["best_cpu"]
        for tg in t["ratios"]:
            rw, rc = c[f"portplan {tg}"]["best_wall"], c[f"portplan {tg}"]["best_cpu"]
            L.append(f"- portplan render {tg}: best {rw:.3f} s wall / {rc:.3f} s CPU; `plan` alone (the same "
                     f"work without rendering) best {plan_w:.3f} s wall / {plan_c:.3f} s CPU: rendering itself "
                     f"is about {max(rc - plan_c, 0):.3f} s CPU")
        L.append("")
    sc = [int(s) for s in args.scaling.split()]
    if sc:
        L.append("Scaling (one run each, nftables):")
        L.append("")
        L.append("| openings | portplan plan (s) | portplan render nftables (s) | aerleon nftables (s) | ratio |")
        L.append("| ---: | ---: | ---: | ---: | ---: |")
        for n in sc + [args.openings]:
            s = load(os.path.join(args.work, f"n{n}", "timings.json"))
            if not s:
                continue
            c = s["commands"]
            L.append(f"| {n} | {c['portplan plan']['one_run_wall']:.3f} | {c['portplan nftables']['one_run_wall']:.3f} | "
                     f"{c['aerleon nftables']['one_run_wall']:.3f} | {s['ratios']['nftables']['one_run_wall']:.2f}× |")
        L.append("")
    if chk:
        pr = chk["probes"]
        kinds = {}
        for p in pr:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        v6 = sum(":" in p["src"] for p in pr)
        exp = sum(p["expect"] for p in pr)
        L.append(f"Equivalence: {len(pr)} sampled packets ({', '.join(f'{k} {n}' for k, n in kinds.items())}; "
                 f"{v6} IPv6), {exp} permitted by the plan:")
        L.append("")
        L.append("| ruleset | load into router (s) | permitted | mismatches vs plan | retried |")
        L.append("| --- | ---: | ---: | ---: | ---: |")
        first = None
        same = True
        for name, x in chk["rulesets"].items():
            L.append(f"| {name} | {x['load_s']:.2f} | {x['permitted']}/{len(pr)} | {len(x['mismatches'])} | {len(x['retried'])} |")
            first = first or x["results"]
            same &= x["results"] == first
        L.append("")
        allok = same and all(not x["mismatches"] for x in chk["rulesets"].values())
        L.append(f"All rulesets permit exactly the same sampled packets, and exactly the plan's: "
                 f"{'yes' if allok else 'NO'}.")
    else:
        L.append("Equivalence: not run or failed (see the output above).")
    text = "\n".join(L) + "\n"
    print(text)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
