#!/usr/bin/env python3
"""Time portplan against Aerleon on the same synthetic plan (driven by bench/aerleon/run.sh).

  bench.py --portplan BIN --work DIR [--openings N] [--rounds R] [--targets nftables,iptables]

1. gen.py site: a synthetic catalog and site whose firewall `fw` has N openings;
2. `portplan plan SITE --for fw --format json` (the plan the Aerleon policy is made from);
   checks that `fw` really has N openings;
3. gen.py aerleon: the same openings as an Aerleon policy, one term per opening;
4. R rounds, each running, in this order, every command once (wall time of the whole command,
   and its user+sys CPU time from rusage):
     portplan plan SITE --for fw --format json            (plan only: the render share shows)
     portplan render SITE --for fw --target T --mode replace -o FILE   for each target T
     aclgen --policy_file pol/nft/synth.pol ...             (Aerleon's nftables generator)
     aclgen --policy_file pol/ipt/synth.pol ...             (Aerleon's iptables generator)
   Interleaving the tools round by round spreads any drift in machine load over both.
5. writes DIR/timings.json: every run's figures, the first round ("one run") and the best of
   the rounds per command, and the ratios Aerleon / portplan per target.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen.py")


def run(cmd, stdout=None, cwd=None):
    """Run `cmd`; (wall seconds, cpu seconds). Fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with open(stdout, "w") if stdout else open(os.devnull, "w") as out:
        r = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, cwd=cwd)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode()[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--portplan", required=True)
    ap.add_argument("--aclgen", default=shutil.which("aclgen") or "aclgen")
    ap.add_argument("--work", required=True)
    ap.add_argument("--openings", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--targets", default="nftables,iptables")
    args = ap.parse_args()
    targets = args.targets.split(",")
    w = os.path.abspath(args.work)
    os.makedirs(w, exist_ok=True)
    site, cat = os.path.join(w, "site.yaml"), os.path.join(w, "catalog")
    if os.path.isdir(cat):
        shutil.rmtree(cat)
    subprocess.run([sys.executable, GEN, "site", "--openings", str(args.openings), "--seed", str(args.seed),
                    "--out", w], check=True)
    plan = os.path.join(w, "plan.json")
    pp = [args.portplan, "--catalog-dir", cat]
    run(pp + ["plan", site, "--for", "fw", "--format", "json"], stdout=plan)
    with open(plan) as f:
        n = len([p for p in json.load(f)["enforcement_points"] if p["id"] == "fw"][0]["openings"])
    if n != args.openings:
        sys.exit(f"fw has {n} openings, not {args.openings}: the synthetic plan merged or split some")
    aer = os.path.join(w, "aerleon")
    if os.path.isdir(aer):
        shutil.rmtree(aer)
    subprocess.run([sys.executable, GEN, "aerleon", "--plan", plan, "--out", aer], check=True,
                   stdout=subprocess.DEVNULL)
    short = {"nftables": "nft", "iptables": "ipt"}
    cmds = [("portplan plan", pp + ["plan", site, "--for", "fw", "--format", "json"], os.path.join(w, "plan.run.json"), None)]
    for t in targets:
        cmds.append((f"portplan {t}", pp + ["render", site, "--for", "fw", "--target", t, "--mode", "replace", "-o",
                                             os.path.join(w, f"portplan.{short[t]}")], None, None))
    for t in targets:
        out = os.path.join(aer, "out", short[t])
        cmds.append((f"aerleon {t}", [args.aclgen, "--base_directory", os.path.join(aer, "pol"),
                                      "--policy_file", os.path.join(aer, "pol", short[t], "synth.pol"),
                                      "--definitions_directory", os.path.join(aer, "def"),
                                      "--output_directory", out], None, out))
    runs = {name: [] for name, _, _, _ in cmds}
    for r in range(args.rounds):
        for name, cmd, stdout, outdir in cmds:
            if outdir:  # Aerleon writes only what changed: start from nothing every time
                shutil.rmtree(outdir, ignore_errors=True)
                os.makedirs(outdir)
            wall, cpu = run(cmd, stdout=stdout)
            runs[name].append({"wall": round(wall, 4), "cpu": round(cpu, 4)})
            print(f"round {r + 1}  {name:<18} wall {wall:8.3f} s   cpu {cpu:8.3f} s", flush=True)
    res = {"openings": n, "rounds": args.rounds, "commands": {}, "ratios": {}}
    for name, rs in runs.items():
        res["commands"][name] = {"runs": rs, "one_run_wall": rs[0]["wall"], "one_run_cpu": rs[0]["cpu"],
                                 "best_wall": min(x["wall"] for x in rs), "best_cpu": min(x["cpu"] for x in rs)}
    c = res["commands"]
    for t in targets:
        a, p = c[f"aerleon {t}"], c[f"portplan {t}"]
        res["ratios"][t] = {k: round(a[k] / p[k], 3) for k in ("one_run_wall", "best_wall", "one_run_cpu", "best_cpu")}
    with open(os.path.join(w, "timings.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
