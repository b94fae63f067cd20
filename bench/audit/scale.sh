#!/usr/bin/env bash
# Issue 12's scaling table in one run: `portplan audit` on generated rulesets of growing size and
# on the TUM firewall, each side by side with the kernel's own parse of the same file
# (`iptables-restore --test`, `nft -j -c -f`) in a scratch network namespace.
# Root (network namespaces). Python 3 for the generator.
#
#   bench/audit/scale.sh [BIN] [SIZES]
#
# BIN defaults to target/release/portplan; SIZES (rules) defaults to "2500 11000 100000 1000000".
# Inputs are generated into /tmp/portplan-scale/N (kept between runs). Prints one line per run:
# input, tool, wall seconds, user seconds, peak RSS MB, exit code.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-target/release/portplan}"
sizes="${2:-2500 11000 100000 1000000}"
work=/tmp/portplan-scale
mkdir -p "$work"
ns="pp-scale-$$"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT

measure() { # label tool command...
  local label="$1" tool="$2"
  shift 2
  local out rc
  out=$(mktemp)
  set +e
  /usr/bin/time -f "%e %U %M" -o "$out.t" "$@" >"$out" 2>"$out.err"
  rc=$?
  set -e
  read -r wall user rss < <(tail -n 1 "$out.t")
  printf '%-22s %-28s wall %7.2f s  user %7.2f s  rss %6d MB  exit %d\n' \
    "$label" "$tool" "$wall" "$user" $((rss / 1024)) "$rc"
  if [ "$rc" -gt 1 ]; then sed -n 1,5p "$out.err"; fi
  rm -f "$out" "$out.t" "$out.err"
}

for n in $sizes; do
  dir="$work/$n"
  if [ ! -f "$dir/ruleset.iptables" ]; then
    apps=225
    [ "$n" -lt 100000 ] && apps=$(( n < 5000 ? 1 : 25 ))
    python3 bench/audit/gen_audit.py --rules "$n" --apps "$apps" --out-dir "$dir" --no-nft-text >/dev/null
  fi
  measure "$n rules" "iptables-restore --test" \
    ip netns exec "$ns" sh -c "iptables-restore --test < '$dir/ruleset.iptables'"
  measure "$n rules" "portplan audit (iptables)" \
    "$bin" --catalog-dir "$dir/catalogs" audit "$dir/site.yaml" --for fw-core \
    --ruleset "$dir/ruleset.iptables" --format json
  if [ "$n" -le 100000 ]; then
    measure "$n rules" "nft -j -c -f" ip netns exec "$ns" nft -j -c -f "$dir/ruleset.nft.json"
    measure "$n rules" "portplan audit (nft JSON)" \
      "$bin" --catalog-dir "$dir/catalogs" audit "$dir/site.yaml" --for fw-core \
      --ruleset "$dir/ruleset.nft.json" --format json
  fi
done

tum="${TUM:-tests/corpus/tum-i8-2015-09.rules}"
if [ -f "$tum" ]; then
  measure "TUM I8 (4,973 rules)" "iptables-restore --test" \
    ip netns exec "$ns" sh -c "iptables-restore --test < '$tum'"
  measure "TUM I8 (4,973 rules)" "portplan audit" \
    "$bin" audit examples/hq.yaml --for fw-core --ruleset "$tum" --format json
else
  echo "TUM firewall not found at $tum (see tests/corpus/README.md; TUM=FILE to point at it)"
fi
