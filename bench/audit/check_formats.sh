#!/usr/bin/env bash
# Check that gen_audit.py writes what the real tools write: load ruleset.iptables with
# iptables-restore and ruleset.nft with nft -f, each in a scratch network namespace, dump them
# again (iptables-save, nft -j list ruleset) and compare with the generated files.
# Needs root, iptables (nf_tables) and nft. Deletes its namespaces on exit.
#
#   bash bench/audit/check_formats.sh DIR        # DIR as written by gen_audit.py --out-dir
set -euo pipefail
dir=${1:?usage: check_formats.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
ns_ipt=auditbench-ipt-$$
ns_nft=auditbench-nft-$$
cleanup() {
    ip netns del "$ns_ipt" 2>/dev/null || true
    ip netns del "$ns_nft" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns_ipt"
ip netns add "$ns_nft"

echo "iptables-restore $dir/ruleset.iptables ..."
start=$(date +%s)
ip netns exec "$ns_ipt" iptables-restore < "$dir/ruleset.iptables"
ip netns exec "$ns_ipt" iptables-save -t filter > "$dir/roundtrip.iptables"
echo "  took $(( $(date +%s) - start )) s"
# Compare the filter table's rules and chain declarations (counters and the header differ).
diff <(sed -n '/^\*filter/,/^COMMIT/p' "$dir/ruleset.iptables" | grep -E '^(-A|:)' | sed 's/ \[[0-9]*:[0-9]*\]$//') \
     <(grep -E '^(-A|:)' "$dir/roundtrip.iptables" | sed 's/ \[[0-9]*:[0-9]*\]$//') \
    > "$dir/roundtrip.iptables.diff" && echo "  iptables-save output identical (filter rules and chains)" \
    || { echo "  DIFFERENT: see $dir/roundtrip.iptables.diff"; exit 1; }

echo "nft -f $dir/ruleset.nft ..."
start=$(date +%s)
ip netns exec "$ns_nft" nft -f "$dir/ruleset.nft"
ip netns exec "$ns_nft" nft -j list ruleset > "$dir/roundtrip.nft.json"
echo "  took $(( $(date +%s) - start )) s"
python3 "$here/compare_nft_json.py" "$dir/ruleset.nft.json" "$dir/roundtrip.nft.json"
