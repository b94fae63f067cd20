#!/usr/bin/env bash
# Load every ruleset of the corpus into its own fresh network namespace and read it back.
#
#   sudo tests/corpus/check.sh [CORPUS_DIR]
#
# For each file in manifest.json, in a new namespace named pcorp-chk-<pid>-<n>:
#   1. create the interfaces listed in "create_interfaces" (dummy, else ifb),
#      the ipsets of "ipset" (ipset restore) and the nfacct objects of "nfacct";
#   2. load it: iptables-restore / ip6tables-restore / nft -f;
#   3. dump it the way the audit reads it: iptables-save or ip6tables-save (the number of
#      -A lines must equal "rules" in the manifest) and `nft -j list ruleset` (must be valid
#      JSON; for nft files its rule objects must number "rules");
#   4. delete the namespace.
# Prints one line per file, "ok" or "FAIL", and exits non-zero if any failed.
# Namespaces are removed on every exit path; the host's own firewall is never touched
# (every iptables/nft command runs under `ip netns exec`).
#
# CORPUS_DIR: where the ruleset files are. Default: $PORTPLAN_CORPUS, else this directory
# if it holds them, else <repo>/../shared/data/corpus (see README.md). If CORPUS_DIR has its
# own manifest.json (as the output of generate.sh does), that manifest is used instead of
# the one next to this script.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest="$here/manifest.json"

if [ $# -ge 1 ]; then
  dir=$1
elif [ -n "${PORTPLAN_CORPUS:-}" ]; then
  dir=$PORTPLAN_CORPUS
elif [ -f "$here/tum-i8-2015-09.rules" ]; then
  dir=$here
else
  dir="$(cd "$here/../.." && pwd)/../shared/data/corpus"
fi
if [ ! -d "$dir" ]; then
  echo "check.sh: corpus directory not found: $dir (give it as an argument or in PORTPLAN_CORPUS)" >&2
  exit 2
fi
# a corpus that carries its own manifest (e.g. the one generate.sh writes) is checked against it
if [ -f "$dir/manifest.json" ]; then
  manifest="$dir/manifest.json"
fi
if [ "$(id -u)" != 0 ]; then
  echo "check.sh: needs root (network namespaces)" >&2
  exit 2
fi
for tool in ip iptables-restore ip6tables-restore iptables-save ip6tables-save nft python3; do
  command -v "$tool" >/dev/null || { echo "check.sh: missing $tool" >&2; exit 2; }
done

prefix="pcorp-chk-$$"
cleanup() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-"); do
    ip netns del "$ns" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# file <TAB> format <TAB> rules <TAB> ipset <TAB> nfacct <TAB> interfaces (space separated); "-" = none
entries=$(python3 - "$manifest" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    print("\t".join([e["file"], e["format"], str(e["rules"]), e.get("ipset") or "-",
                     e.get("nfacct") or "-", " ".join(e.get("create_interfaces", [])) or "-"]))
PY
) || { echo "check.sh: cannot read $manifest" >&2; exit 2; }

count_nft_rules() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for o in d["nftables"] if "rule" in o))'
}

fail=0 n=0 total=0
while IFS=$'\t' read -r -u 3 file format rules ipset nfacct ifaces; do
  [ -n "$file" ] || continue
  [ "$ipset" = - ] && ipset=""
  [ "$nfacct" = - ] && nfacct=""
  [ "$ifaces" = - ] && ifaces=""
  n=$((n + 1)) total=$((total + 1))
  ns="$prefix-$n"
  path="$dir/$file"
  why=""
  if [ ! -f "$path" ]; then
    why="file missing"
  elif ! ip netns add "$ns" 2>/dev/null; then
    why="cannot create namespace"
  else
    for i in $ifaces; do
      ip -n "$ns" link add "$i" type dummy 2>/dev/null ||
        ip -n "$ns" link add "$i" type ifb 2>/dev/null || why="cannot create interface $i"
    done
    if [ -z "$why" ] && [ -n "$ipset" ]; then
      command -v ipset >/dev/null || why="needs ipset"
      [ -n "$why" ] || ip netns exec "$ns" ipset restore < "$dir/$ipset" 2>/tmp/$prefix.err || why="ipset restore: $(head -c 200 /tmp/$prefix.err)"
    fi
    if [ -z "$why" ] && [ -n "$nfacct" ]; then
      if ! command -v nfacct >/dev/null; then
        why="needs nfacct (apt-get install nfacct)"
      else
        while read -r obj; do
          [ -n "$obj" ] && { ip netns exec "$ns" nfacct add "$obj" >/dev/null 2>&1 || why="nfacct add $obj failed"; }
        done < "$dir/$nfacct"
      fi
    fi
    if [ -z "$why" ]; then
      case $format in
        iptables)  ip netns exec "$ns" iptables-restore < "$path" 2>/tmp/$prefix.err ;;
        ip6tables) ip netns exec "$ns" ip6tables-restore < "$path" 2>/tmp/$prefix.err ;;
        nft)       ip netns exec "$ns" nft -f "$path" 2>/tmp/$prefix.err ;;
        *)         echo "unknown format $format" > /tmp/$prefix.err; false ;;
      esac || why="load: $(head -c 300 /tmp/$prefix.err | tr '\n' ' ')"
    fi
    if [ -z "$why" ]; then
      got=""
      case $format in
        iptables)  got=$(ip netns exec "$ns" iptables-save 2>/dev/null | grep -c '^-A ') ;;
        ip6tables) got=$(ip netns exec "$ns" ip6tables-save 2>/dev/null | grep -c '^-A ') ;;
      esac
      json=$(ip netns exec "$ns" nft -j list ruleset 2>/tmp/$prefix.err) || why="nft -j list ruleset failed: $(head -c 200 /tmp/$prefix.err)"
      if [ -z "$why" ]; then
        nrules=$(printf '%s' "$json" | count_nft_rules 2>/dev/null) || why="nft -j output is not valid JSON"
        [ "$format" = nft ] && got=$nrules
      fi
      if [ -z "$why" ] && [ "$got" != "$rules" ]; then
        why="read back $got rules, manifest says $rules"
      fi
    fi
    ip netns del "$ns" 2>/dev/null
  fi
  if [ -z "$why" ]; then
    printf 'ok    %-36s %-9s %6s rules\n' "$file" "$format" "$rules"
  else
    printf 'FAIL  %-36s %-9s %s\n' "$file" "$format" "$why"
    fail=$((fail + 1))
  fi
done 3<<< "$entries"
rm -f /tmp/$prefix.err

echo "$((total - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
