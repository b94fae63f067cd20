#!/usr/bin/env bash
# Peer benchmark: `portplan probe` against nmap (-sT, -sU) on the same flows (see RESULTS.md).
#
#   sudo bench/verify/run.sh
#
# Builds a client ── router ── server namespace lab, a synthetic catalog whose one requirement
# pair needs $TCP TCP ports and $UDP UDP ports (every other port, so none is sampled and each is
# its own flow), renders the plan's nftables ruleset onto the router and starts
# `portplan listen` on the server. Then, $ROUNDS interleaved rounds of:
#   - portplan probe --required-only (bench limits: --concurrency 512 --rate 20000)
#   - portplan probe --required-only (default limits: --concurrency 128 --rate 2000)
#   - nmap -sT on the TCP ports, nmap -sU on the UDP ports (Debian's nmap, default timing)
# and once more with the UDP rule deleted on the router ("udp-blocked"): the flows are then
# really blocked, and a correct tool must say so.
# Correctness: for each tool, how many flows it reports in the state they really are in.
# Prints a summary table (also written to $WORK/summary.md). Needs root, nmap and conntrack.
#
# Environment: WORK (default /tmp/portplan-verify-bench), TCP (5000), UDP (1000), ROUNDS (3),
# NMAP_UDP (1; 0 skips the slow nmap -sU runs), BENCH_CONCURRENCY (512),
# CARGO_TARGET_DIR (default: the repository's target/).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-/tmp/portplan-verify-bench}
TCP=${TCP:-5000}
UDP=${UDP:-1000}
ROUNDS=${ROUNDS:-3}
NMAP_UDP=${NMAP_UDP:-1}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-512}

if [ "$(id -u)" != 0 ]; then echo "run.sh: needs root (network namespaces)" >&2; exit 2; fi
command -v nmap >/dev/null || { echo "run.sh: needs nmap (apt-get install nmap)" >&2; exit 2; }
command -v conntrack >/dev/null || { echo "run.sh: needs conntrack (apt-get install conntrack)" >&2; exit 2; }

echo "== build"
(cd "$ROOT" && cargo build --release --quiet)
PP="${CARGO_TARGET_DIR:-$ROOT/target}/release/portplan"
rm -rf "$WORK"; mkdir -p "$WORK/cat"

echo "== catalog and site ($TCP tcp + $UDP udp flows)"
python3 - "$WORK" "$TCP" "$UDP" <<'EOF'
import sys
work, ntcp, nudp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tcp = [20000 + 2 * i for i in range(ntcp)]
udp = [40000 + 2 * i for i in range(nudp)]
cat = f"""id: benchapp
name: {{en: Bench app, ja: ベンチアプリ}}
vendor: portplan bench
summary: {{en: Synthetic product for the verify benchmark, ja: verify ベンチマーク用の合成製品}}
sources:
  - id: bench.txt
    title: {{en: synthetic, ja: 合成}}
roles:
  - id: client
    name: {{en: Client, ja: クライアント}}
    zone: intranet
  - id: server
    name: {{en: Server, ja: サーバー}}
    zone: intranet
requirements:
  - id: app-tcp
    purpose: {{en: App TCP, ja: アプリ TCP}}
    from: client
    to: server
    protocol: tcp
    ports: [{", ".join(map(str, tcp))}]
    notes: {{en: synthetic, ja: 合成}}
    source: {{doc: bench.txt, row: 1}}
  - id: app-udp
    purpose: {{en: App UDP, ja: アプリ UDP}}
    from: client
    to: server
    protocol: udp
    ports: [{", ".join(map(str, udp))}]
    notes: {{en: synthetic, ja: 合成}}
    source: {{doc: bench.txt, row: 2}}
"""
open(f"{work}/cat/benchapp.yaml", "w").write(cat)
site = """name: verify-bench
zones:
  - {id: lan, cidrs: [10.71.0.0/24]}
  - {id: dc, cidrs: [10.72.0.0/24]}
products:
  - product: benchapp
    roles: {client: 10.71.0.5, server: 10.72.0.10}
firewalls:
  - {id: fw, between: [lan, dc], target: nftables}
"""
open(f"{work}/site.yaml", "w").write(site)
open(f"{work}/tcp.ports", "w").write(",".join(map(str, tcp)))
open(f"{work}/udp.ports", "w").write(",".join(map(str, udp)))
EOF
PPC=("$PP" --catalog-dir "$WORK/cat")

echo "== lab"
C=pvbc$$; R=pvbr$$; S=pvbs$$
cleanup() {
    [ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null || true
    for ns in $C $R $S; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
for ns in $C $R $S; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add vbc$$ netns "$C" type veth peer name vbcr$$ netns "$R"
ip link add vbs$$ netns "$S" type veth peer name vbsr$$ netns "$R"
ip -n "$C" addr add 10.71.0.5/24 dev vbc$$; ip -n "$C" link set vbc$$ up
ip -n "$R" addr add 10.71.0.1/24 dev vbcr$$; ip -n "$R" link set vbcr$$ up
ip -n "$S" addr add 10.72.0.10/24 dev vbs$$; ip -n "$S" link set vbs$$ up
ip -n "$R" addr add 10.72.0.1/24 dev vbsr$$; ip -n "$R" link set vbsr$$ up
ip -n "$C" route add default via 10.71.0.1
ip -n "$S" route add default via 10.72.0.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
"${PPC[@]}" render "$WORK/site.yaml" --for fw --mode replace -o "$WORK/fw.nft"
ip netns exec "$R" nft -f "$WORK/fw.nft"

ip netns exec "$S" "${PPC[@]}" listen "$WORK/site.yaml" --as 10.72.0.10 --duration 30m --format json \
    > "$WORK/listen.jsonl" 2>"$WORK/listen.err" &
LPID=$!
for _ in $(seq 100); do [ -s "$WORK/listen.jsonl" ] && break; sleep 0.1; done
python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
bad = [s for s in r["status"] if s["status"] != "bound"]
print("listener:", len(r["status"]), "responders,", len(bad), "not bound")
sys.exit(1 if bad else 0)' "$WORK/listen.jsonl"

now() { date +%s.%N; }
# portplan LABEL PROTO ARGS...: time one probe run (whole process, like nmap's); record
# "label proto seconds pass blocked refused".
portplan_run() {
    local label=$1 proto=$2; shift 2
    local t0 t1
    t0=$(now)
    ip netns exec "$C" "${PPC[@]}" probe "$WORK/site.yaml" --from 10.71.0.5 --required-only \
        --protocol "$proto" --format json "$@" > "$WORK/$label-$proto.json" || true
    t1=$(now)
    python3 - "$WORK/$label-$proto.json" "$label" "$proto" "$t0" "$t1" >> "$WORK/results.tsv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
c = {}
for x in r["results"]:
    c[x["result"]] = c.get(x["result"], 0) + 1
secs = float(sys.argv[5]) - float(sys.argv[4])
print(sys.argv[2], sys.argv[3], f"{secs:.3f}", *(c.get(s, 0) for s in ("pass", "blocked", "refused")), sep="\t")
EOF
}
# nmap LABEL -sT|-sU PORTFILE: record "label proto seconds open filtered closed open|filtered".
nmap_run() {
    local label=$1 scan=$2 ports=$3 t0 t1 proto
    proto=$([ "$scan" = -sT ] && echo tcp || echo udp)
    t0=$(now)
    ip netns exec "$C" nmap "$scan" -n -Pn -p "$(cat "$ports")" 10.72.0.10 -oX "$WORK/$label-$proto.xml" >/dev/null
    t1=$(now)
    python3 - "$WORK/$label-$proto.xml" "$label" "$proto" "$t0" "$t1" >> "$WORK/results.tsv" <<'EOF'
import sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
c = {}
for p in root.iter("port"):
    s = p.find("state").get("state")
    c[s] = c.get(s, 0) + 1
# nmap collapses the ports it reports in its main state into <extraports>.
for e in root.iter("extraports"):
    c[e.get("state")] = c.get(e.get("state"), 0) + int(e.get("count"))
secs = float(sys.argv[5]) - float(sys.argv[4])
print(sys.argv[2], sys.argv[3], f"{secs:.3f}", c.get("open", 0), c.get("filtered", 0), c.get("closed", 0), c.get("open|filtered", 0), sep="\t")
EOF
}

: > "$WORK/results.tsv"
echo "== warm-up"
portplan_run warmup tcp --concurrency 512 --rate 20000
for i in $(seq "$ROUNDS"); do
    echo "== round $i"
    for proto in tcp udp; do
        portplan_run portplan-bench "$proto" --concurrency "$BENCH_CONCURRENCY" --rate 20000
        portplan_run portplan-default "$proto"
    done
    nmap_run nmap -sT "$WORK/tcp.ports"
    # nmap -sU takes minutes (it cannot tell open from filtered and retries): once is enough.
    if [ "$NMAP_UDP" = 1 ] && [ "$i" = 1 ]; then nmap_run nmap -sU "$WORK/udp.ports"; fi
done

echo "== udp rule deleted"
H=$(ip netns exec "$R" nft -a list chain inet portplan_fw forward | grep 'udp dport' | sed 's/.*# handle //')
ip netns exec "$R" nft delete rule inet portplan_fw forward handle "$H"
# Earlier rounds left UDP conntrack entries; a probe that reuses a source port would ride one
# of them through ("established"), which is the kernel being right, not the tool. Start clean.
ip netns exec "$R" conntrack -F 2>/dev/null || true
portplan_run udp-blocked-portplan udp --concurrency "$BENCH_CONCURRENCY" --rate 20000
if [ "$NMAP_UDP" = 1 ]; then nmap_run udp-blocked-nmap -sU "$WORK/udp.ports"; fi

python3 - "$WORK/results.tsv" "$TCP" "$UDP" > "$WORK/summary.md" <<'EOF'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
ntcp, nudp = int(sys.argv[2]), int(sys.argv[3])
by = {}
for r in rows:
    by.setdefault((r[0], r[1]), []).append(r)
print("| run | proto | flows | median s (of n) | flows/s | right | wrong or undecided |")
print("|---|---|---|---|---|---|---|")
for (label, proto), rs in by.items():
    if label == "warmup":
        continue
    n = ntcp if proto == "tcp" else nudp
    secs = statistics.median(float(r[2]) for r in rs)
    last = rs[-1]
    blocked_udp = label.startswith("udp-blocked") and proto == "udp"
    if label.startswith("nmap") or label.endswith("nmap"):
        opn, filt, closed, of = map(int, last[3:7])
        right = filt if blocked_udp else opn
        wrong = f"open {opn}, filtered {filt}, closed {closed}, open|filtered {of}"
    else:
        p, b, rf = map(int, last[3:6])
        right = b if blocked_udp else p
        wrong = f"pass {p}, blocked {b}, refused {rf}"
    print(f"| {label} | {proto} | {n} | {secs:.3f} ({len(rs)}) | {n / secs:,.0f} | {right} | {wrong} |")
EOF
cat "$WORK/summary.md"
