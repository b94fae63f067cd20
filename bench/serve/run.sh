#!/usr/bin/env bash
# Server time of `portplan serve` (bench/README.md, section "serve"): an option change on the
# Ports page, and an option change of a site (form edit + the new plan page) for
# examples/hq.yaml and a generated 10,000-host site; page weights. curl's time to first byte on
# loopback is the server time (the pages are built before the first byte is sent).
#
#   bench/serve/run.sh [BIN]      BIN defaults to target/release/portplan
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-target/release/portplan}
N=${N:-15}
PORT=${PORT:-18470}
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
python3 bench/gen_site.py --out "$TMP/site-10k.yaml"

# CPU time of the server process (user + system, clock ticks): what it spent, whatever else the
# machine runs (wall time on a loaded machine mostly measures the wait for a core).
cpu() { awk '{print $14 + $15}' /proc/$SERVER/stat; }
per_op() { python3 -c "import os; print('%.1f ms CPU per change' % (($2 - $1) * 1000 / os.sysconf('SC_CLK_TCK') / $3))"; }
median() { python3 -c 'import sys,statistics as s; v=[float(x)*1000 for x in sys.stdin.read().split()]; print("median %.1f ms (min %.1f, max %.1f, n=%d)" % (s.median(v), min(v), max(v), len(v)))'; }

bench_site() { # $1 = site file, $2 = label
  "$BIN" serve "$1" --listen 127.0.0.1:$PORT 2>/dev/null &
  SERVER=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  local base="http://127.0.0.1:$PORT"
  local page; page=$(curl -s "$base/site")
  local csrf; csrf=$(sed -n 's/.*data-csrf="\([0-9a-f]*\)".*/\1/p' <<<"$page" | head -1)
  local id; id=$(sed -n 's/.*id="to-plan" href="[^"]*s=\([0-9a-f]*\).*/\1/p' <<<"$page" | head -1)
  : > "$TMP/t"
  local c0; c0=$(cpu)
  for i in $(seq $N); do
    # A new value each time: a text the server has not seen, so it is checked and planned anew.
    loc=$(curl -s -o /dev/null -w '%{redirect_url} %{time_starttransfer}' \
      -d "opt.0.service_port=$((20000 + i))" "$base/site/form?s=$id&csrf=$csrf")
    new=$(sed -n 's/.*s=\([0-9a-f]*\).*/\1/p' <<<"${loc% *}")
    t2=$(curl -s -o "$TMP/plan.html" -w '%{time_starttransfer}' "$base/plan?s=$new")
    python3 -c "print(${loc#* } + $t2)" >> "$TMP/t"
  done
  local c1; c1=$(cpu)
  echo "$2: option change (form POST + new plan page): $(per_op $c0 $c1 $N); wall $(median < "$TMP/t"); plan page $(wc -c < "$TMP/plan.html") bytes"
  : > "$TMP/t"
  c0=$(cpu)
  for i in $(seq $N); do
    curl -s -o /dev/null -w '%{time_starttransfer}\n' -H 'Expect:' -H "x-portplan-csrf: $csrf" \
      --data-binary @"$1" "$base/site/check" >> "$TMP/t"
  done
  c1=$(cpu)
  echo "$2: live check of the whole file (POST /site/check): $(per_op $c0 $c1 $N); wall $(median < "$TMP/t")"
  local sp; sp=$(curl -s -o /dev/null -w '%{size_download}' "$base/site?s=$id")
  echo "$2: site page $sp bytes"
  kill $SERVER; wait $SERVER 2>/dev/null || true
}

"$BIN" serve --listen 127.0.0.1:$PORT 2>/dev/null &
SERVER=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
: > "$TMP/t"
c0=$(cpu)
for i in $(seq $N); do
  v=$([ $((i % 2)) = 0 ] && echo fixed || echo dynamic)
  curl -s -o "$TMP/ports.html" -w '%{time_starttransfer}\n' \
    "http://127.0.0.1:$PORT/ports?p=devicelock&p=tmws&rpc_ports=$v&service_port=$((20000 + i))" >> "$TMP/t"
done
c1=$(cpu)
echo "ports: option change (GET /ports, devicelock + tmws): $(per_op $c0 $c1 $N); wall $(median < "$TMP/t"); page $(wc -c < "$TMP/ports.html") bytes"
kill $SERVER; wait $SERVER 2>/dev/null || true

bench_site examples/hq.yaml hq
bench_site "$TMP/site-10k.yaml" "10,000 hosts"
