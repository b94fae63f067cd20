#!/usr/bin/env bash
# Peer benchmark: portplan against Aerleon on the same 10,000 openings (see RESULTS.md).
#
#   sudo bench/aerleon/run.sh
#
# Installs aerleon (pip) if missing, builds portplan (release), generates a synthetic catalog
# and site whose firewall has $OPENINGS openings, expresses the plan's openings as an Aerleon
# policy, times both tools rendering nftables and iptables ($ROUNDS interleaved rounds: the
# first is the one-run figure, the best of them the other), then checks in a namespace lab that
# both tools' outputs permit the same $SAMPLES sampled packets, and exactly the plan's.
# Prints a summary table (also written to $WORK/summary.md). Needs root (network namespaces).
#
# Environment: WORK (default /tmp/portplan-aerleon), OPENINGS (10000), ROUNDS (3),
# SAMPLES (300), SCALING (extra sizes timed once for nftables, default "1000 3000"; "" = none),
# CARGO_TARGET_DIR (default /tmp/aerleon-target).
# Exit status: 0 when the outputs agree, 1 when they differ, 2 on a setup or lab failure.
# (Missing the 50x target is reported in the summary, not as a failure.)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-/tmp/portplan-aerleon}
OPENINGS=${OPENINGS:-10000}
ROUNDS=${ROUNDS:-3}
SAMPLES=${SAMPLES:-300}
SCALING=${SCALING-1000 3000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/aerleon-target}

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: needs root (it builds network namespaces)" >&2
    exit 2
fi

echo "== aerleon"
python3 -c 'import aerleon' 2>/dev/null || python3 -m pip install --quiet aerleon
ACLGEN=$(command -v aclgen || python3 -c 'import os, sys; print(os.path.join(os.path.dirname(sys.executable), "aclgen"))')
[ -x "$ACLGEN" ] || { echo "run.sh: aclgen not found after installing aerleon" >&2; exit 2; }

echo "== build (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
mkdir -p "$WORK"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null | head -c 1)
(cd "$ROOT" && cargo build --release --locked)
BIN=$CARGO_TARGET_DIR/release/portplan

rm -f "$WORK/check.json" "$WORK/summary.md"
python3 - "$WORK/versions.json" "$ROOT" "$COMMIT" "$DIRTY" <<'EOF'
import importlib.metadata, json, os, platform, subprocess, sys
def out(*cmd, cwd=None):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd).stdout.strip().splitlines()[0]
    except Exception:
        return "?"
v = {
    "portplan_commit": sys.argv[3],
    "portplan_commit_after_build": out("git", "rev-parse", "--short", "HEAD", cwd=sys.argv[2]),
    "portplan_dirty": bool(sys.argv[4]),
    "aerleon": importlib.metadata.version("aerleon"),
    "rustc": out("rustc", "--version"),
    "python": platform.python_version(),
    "nft": out("nft", "--version"),
    "iptables": out("iptables", "--version"),
    "kernel": platform.release(),
    "nproc": os.cpu_count(),
    "load_before": " ".join(open("/proc/loadavg").read().split()[:3]),
}
json.dump(v, open(sys.argv[1], "w"), indent=1)
print(json.dumps(v))
EOF

echo "== timings, $OPENINGS openings, $ROUNDS rounds"
python3 "$HERE/bench.py" --portplan "$BIN" --aclgen "$ACLGEN" --work "$WORK/n$OPENINGS" \
    --openings "$OPENINGS" --rounds "$ROUNDS"
for n in $SCALING; do
    echo "== scaling: $n openings, one run, nftables"
    python3 "$HERE/bench.py" --portplan "$BIN" --aclgen "$ACLGEN" --work "$WORK/n$n" \
        --openings "$n" --rounds 1 --targets nftables
done
python3 - "$WORK/versions.json" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
v["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
json.dump(v, open(sys.argv[1], "w"), indent=1)
EOF

echo "== equivalence in a namespace lab, $SAMPLES sampled packets"
D=$WORK/n$OPENINGS
python3 "$HERE/gen.py" ipt-restore --in "$D/aerleon/out/ipt/synth" --out "$D/aerleon.ipt"
pp_ipt=$D/portplan.ipt; [ -f "$D/portplan.ipt.v6" ] && pp_ipt="$pp_ipt,$D/portplan.ipt.v6"
ae_ipt=$D/aerleon.ipt; [ -f "$D/aerleon.ipt.v6" ] && ae_ipt="$ae_ipt,$D/aerleon.ipt.v6"
check_rc=0
python3 "$HERE/check.py" --plan "$D/plan.json" --samples "$SAMPLES" --json "$WORK/check.json" \
    --rules "portplan-nft=nft:$D/portplan.nft" \
    --rules "aerleon-nft=nft:$D/aerleon/out/nft/synth.nft" \
    --rules "portplan-ipt=ipt:$pp_ipt" \
    --rules "aerleon-ipt=ipt:$ae_ipt" || check_rc=$?

echo "== summary"
python3 "$HERE/summary.py" --work "$WORK" --openings "$OPENINGS" --scaling "$SCALING" --out "$WORK/summary.md"
exit "$check_rc"
