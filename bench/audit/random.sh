#!/usr/bin/env bash
# The random kernel differential at length: N seeds (three rulesets each: iptables-save v4,
# ip6tables-save, nft), every probe the model is certain about checked against the kernel.
# Root (network namespaces). Usage: sudo bench/audit/random.sh [SEEDS]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds="${1:-200}"
start=$(date +%s)
PORTPLAN_RANDOM_CASES="$seeds" cargo test --test netns_random random_rulesets_agree_with_the_kernel -- --nocapture 2>&1 |
  grep -E "random differential|disagree|panicked|test result" || true
echo "wall: $(( $(date +%s) - start )) s for $seeds seeds"
