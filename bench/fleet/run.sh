#!/usr/bin/env bash
# Scale benchmark of `portplan fleet` (issue 19): generating the inventory, playbook and vars
# for a 10,000-host site, and merging 10,000 result files. Target: each under 2 s.
#
#   bench/fleet/run.sh
#
# Site: bench/gen_site.py (10,000 client hosts as single addresses over 200 /24s, 50 servers).
# Result files: bench/fleet/results.py gives every source the checks of one client's
# `probe --dry-run`, all passed, in the shape of `probe --format json`. Each step runs $ROUNDS
# times; the median wall time and the peak RSS (GNU time) are printed.
#
# Environment: WORK (default /tmp/portplan-fleet-bench), HOSTS (10000), ROUNDS (5),
# PROFILE (release; `debug` measures the dev profile, opt-level 1, without a release build),
# CARGO_TARGET_DIR (default: the repository's target/).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-/tmp/portplan-fleet-bench}
HOSTS=${HOSTS:-10000}
ROUNDS=${ROUNDS:-5}
PROFILE=${PROFILE:-release}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/portplan

if [ "$PROFILE" = release ]; then (cd "$ROOT" && cargo build --release --quiet); else (cd "$ROOT" && cargo build --quiet); fi
rm -rf "$WORK" && mkdir -p "$WORK"
python3 "$ROOT/bench/gen_site.py" --hosts "$HOSTS" --out "$WORK/site.yaml"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name, command...
  local name=$1; shift
  local times=() rss=0
  for _ in $(seq "$ROUNDS"); do
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null || [ $? -eq 1 ]
    read -r t m <"$WORK/time"
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  printf '%-28s median %s s  peak RSS %s MB  (%s rounds)\n' "$name" \
    "$(printf '%s\n' "${times[@]}" | median)" "$((rss / 1024))" "$ROUNDS"
}

measure "fleet (generate, $HOSTS hosts)" "$BIN" fleet "$WORK/site.yaml" -o "$WORK/fleet"
SRC=$(python3 -c 'import json,sys; print(next(h["addrs"][0] for h in json.load(open(sys.argv[1]))["hosts"] if h["probe"] and "devicelock.service" in h["roles"]))' "$WORK/fleet/fleet.json")
"$BIN" probe "$WORK/site.yaml" --from "$SRC" --dry-run --format json >"$WORK/dry.json"
python3 "$HERE/results.py" "$WORK/fleet" "$WORK/dry.json" "$WORK/results"
echo "$(ls "$WORK/results" | wc -l) files, $(du -sh "$WORK/results" | cut -f1)"
measure "fleet merge ($(ls "$WORK/results" | wc -l) files)" \
  "$BIN" fleet merge "$WORK/site.yaml" "$WORK"/results/*.json --format json
