#!/usr/bin/env bash
# Issue 12, rulesets the audit reads exactly: no NAT and no rate limit, so it also computes the
# redundant rules. Generated with `gen_audit.py --exact` (the same rules as the default
# benchmark, without the nat table and with plain LOG rules). Each size is audited with the
# suffix pass (the default) and with the per-rule replay it replaced (`PORTPLAN_REDUNDANCY=replay`,
# stopped after REPLAY_LIMIT seconds), side by side with the kernel's own parse of the same file
# (`iptables-restore --test` in a scratch network namespace), and the two JSON reports are
# compared when both finish. Root (network namespaces). Python 3 for the generator.
#
#   bench/audit/exact.sh [BIN] [SIZES]
#
# BIN defaults to target/release/portplan; SIZES (rules) defaults to "2500 11000 100000";
# REPLAY_LIMIT defaults to 900. Inputs go to /tmp/portplan-exact/N (kept between runs). Prints
# one line per run: input, redundancy computation, wall seconds, user seconds, peak RSS MB, exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-target/release/portplan}"
sizes="${2:-2500 11000 100000}"
limit="${REPLAY_LIMIT:-900}"
work=/tmp/portplan-exact
mkdir -p "$work"
ns="pp-exact-$$"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT

measure() { # label how out command...
  local label="$1" how="$2" out="$3"
  shift 3
  local rc
  set +e
  /usr/bin/time -f "%e %U %M" -o "$out.t" "$@" >"$out" 2>"$out.err"
  rc=$?
  set -e
  read -r wall user rss < <(tail -n 1 "$out.t")
  printf '%-16s %-34s wall %8.2f s  user %8.2f s  rss %6d MB  exit %d\n' \
    "$label" "$how" "$wall" "$user" $((rss / 1024)) "$rc"
  if [ "$rc" -gt 1 ] && [ "$rc" -ne 124 ]; then sed -n 1,5p "$out.err"; fi
  return 0
}

for n in $sizes; do
  dir="$work/$n"
  if [ ! -f "$dir/ruleset.iptables" ]; then
    apps=225
    [ "$n" -lt 100000 ] && apps=$(( n < 5000 ? 1 : 25 ))
    python3 bench/audit/gen_audit.py --rules "$n" --apps "$apps" --exact --out-dir "$dir" >/dev/null
  fi
  measure "$n rules" "iptables-restore --test (peer)" "$dir/peer.out" \
    ip netns exec "$ns" sh -c "iptables-restore --test < '$dir/ruleset.iptables'"
  args=(--catalog-dir "$dir/catalogs" audit "$dir/site.yaml" --for fw-core
    --ruleset "$dir/ruleset.iptables" --format json)
  measure "$n rules" "suffix pass (default)" "$dir/suffix.json" "$bin" "${args[@]}"
  measure "$n rules" "replay (stopped after ${limit} s)" "$dir/replay.json" \
    env PORTPLAN_REDUNDANCY=replay timeout "$limit" "$bin" "${args[@]}"
  if [ -s "$dir/replay.json" ]; then
    if cmp -s "$dir/suffix.json" "$dir/replay.json"; then
      echo "$n rules: identical reports ($(grep -c '"chain"' "$dir/suffix.json") rule references)"
    else
      echo "$n rules: THE REPORTS DIFFER ($dir/suffix.json, $dir/replay.json)"
    fi
  fi
done
