#!/usr/bin/env bash
# Build a corpus of real firewall rulesets from the example configurations that Debian's
# firewall packages ship, by running each tool for real and dumping what the kernel holds.
#
#   sudo tests/corpus/generate.sh [--allow-missing] [--only TOOL,...] OUTDIR
#
# Needs: Debian bookworm, root, and the packages in tests/corpus/packages.txt. Tools:
# nftables, ferm, firehol, shorewall, shorewall6, ufw, arno (arno-iptables-firewall),
# pyroman, netavark, firewalld, and fwbuilder when installed (optional: its package is a Qt
# GUI of about 85 MB). --only runs just the named tools, for development.
# Writes OUTDIR/*.rules (iptables-save), *.rules6 (ip6tables-save), *.nft (nft list ruleset)
# and OUTDIR/manifest.json (same shape as tests/corpus/manifest.json), so that
#   sudo tests/corpus/check.sh OUTDIR
# loads every file back into a fresh namespace and checks the rule counts.
#
# Isolation (nothing outside OUTDIR and this run's temp dir changes):
#  - every tool runs inside its own network namespace ppgen<pid>-<n> (ip netns exec), with
#    the interfaces its example names created there (ifb devices, fixed MACs);
#  - and inside private mount, UTS and PID namespaces (unshare) in which /etc, /var and /run
#    are overlays whose writable layer is a tmpfs that disappears with the namespace,
#    /proc/sys is read-only except /proc/sys/net (per network namespace), and the hostname is
#    "ppgen"; when the run ends, the kernel ends every process left in its PID namespace
#    (daemons such as firewalld and its D-Bus cannot outlive it);
#  - every run is bounded by `timeout`; namespaces, daemons and temp dirs are removed on
#    every exit path (trap).
# Output is deterministic (byte-identical across runs with the same package versions): the
# dumps drop iptables-save's date comments and zero counters, interfaces get fixed MACs and
# addresses, and Shorewall's compile stamp is pinned (see run_shorewall).
#
# Every tool is checked before any runs: a missing one stops the run with a message naming
# it and its package, unless --allow-missing is given (then it is skipped with a message).
# A tool that is installed but fails always stops the run, naming the tool.
set -u -o pipefail
shopt -s extglob
export LC_ALL=C TZ=UTC
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=generate.sh
TOOL_TIMEOUT=${PPGEN_TIMEOUT:-180}

usage() { echo "usage: $prog [--allow-missing] [--only TOOL[,TOOL...]] OUTDIR" >&2; exit 2; }
allow_missing=0 only="" outdir=""
while [ $# -gt 0 ]; do
  case $1 in
    --allow-missing) allow_missing=1 ;;
    --only) [ $# -ge 2 ] || usage; only=",$2,"; shift ;;
    --only=*) only=",${1#--only=},";;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    -*) usage ;;
    *) [ -z "$outdir" ] || usage; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || usage

die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (network and mount namespaces)"
for c in ip unshare timeout python3 mount iptables-save ip6tables-save iptables-legacy-save \
         ip6tables-legacy-save nft dpkg-query sed awk; do
  command -v "$c" >/dev/null || die "missing base command $c"
done
if [ -e "$outdir" ] && [ -n "$(ls -A "$outdir" 2>/dev/null)" ] && [ ! -f "$outdir/manifest.json" ]; then
  die "$outdir is not empty and holds no manifest.json: refusing to write there"
fi

TMP=$(mktemp -d /tmp/ppgen.XXXXXXXX) || die "mktemp failed"
chmod 700 "$TMP"
PREFIX="ppgen$$"
NSN=0
OUT="$TMP/out"
ENTRIES="$TMP/entries.jsonl"
mkdir -p "$OUT"
: > "$ENTRIES"

cleanup() {
  local ns pid
  # processes we started in our namespaces (daemons): end them by pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  done
  sleep 0.2
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ------------------------------------------------------------------ helpers

want() { [ -z "$only" ] || [[ $only == *",$1,"* ]]; }

# What each tool needs: TOOL | Debian packages | commands or files that must exist
REQUIREMENTS='
nftables|nftables|nft /usr/share/doc/nftables/examples/workstation.nft
ferm|ferm|ferm /usr/share/doc/ferm/examples/dmz_router.ferm
firehol|firehol firehol-doc|firehol /usr/share/doc/firehol/examples/lan-gateway.conf
shorewall|shorewall|shorewall /usr/share/doc/shorewall/examples/two-interfaces/rules
shorewall6|shorewall6|shorewall6 /usr/share/doc/shorewall6/examples/two-interfaces/rules
ufw|ufw|ufw
arno|arno-iptables-firewall|arno-iptables-firewall
pyroman|pyroman|pyroman /usr/share/doc/pyroman/examples/base/00_iptables-defaults.py
netavark|netavark|/usr/lib/podman/netavark
firewalld|firewalld|firewalld firewall-cmd dbus-daemon
fwbuilder|fwbuilder fwbuilder-common|fwb_ipt
'
# Optional tools: used when installed, skipped with a note otherwise (fwbuilder is a Qt GUI
# package of about 85 MB, for fwb_ipt alone).
OPTIONAL=" fwbuilder "

# missing TOOL: print what TOOL lacks (nothing if it is complete)
missing() {
  local line pkgs cmds p c
  line=$(grep "^$1|" <<< "$REQUIREMENTS") || { echo "unknown tool"; return; }
  IFS='|' read -r _ pkgs cmds <<< "$line"
  for p in $pkgs; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "package $p"
  done
  for c in $cmds; do
    command -v "$c" >/dev/null || [ -e "$c" ] || echo "$c"
  done
}

pkgver() { dpkg-query -W -f '${Version}' "$1"; }

# licence PKG [FILES-PATTERN]: SPDX id of the licence that /usr/share/doc/PKG/copyright
# gives for the paragraph "Files: PATTERN" (default "*"); free-form files are read for
# the GPL version and the "or any later version" clause.
licence() {
  python3 - "/usr/share/doc/$1/copyright" "${2:-*}" <<'PY'
import re, sys
path, want = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8", errors="replace").read()
SPDX = {"GPL-2": "GPL-2.0", "GPL-3": "GPL-3.0", "LGPL-2.1": "LGPL-2.1", "LGPL-2": "LGPL-2.0",
        "Expat": "MIT", "MIT": "MIT", "Apache-2.0": "Apache-2.0", "BSD-3-clause": "BSD-3-Clause"}
GNU = ("GPL-2.0", "GPL-3.0", "LGPL-2.1", "LGPL-2.0")
def spdx(short, body):
    plus = short.endswith("+")
    base = SPDX.get(short.rstrip("+"))
    if base is None:
        sys.exit("unknown licence %r in %s" % (short, path))
    if base not in GNU:
        return base
    # standalone "License: X" paragraphs hold the text when the Files paragraph does not
    if not body.strip():
        for p in re.split(r"\n\s*\n", text):
            if re.match(r"License:\s*%s\s*\n" % re.escape(short), p):
                body = p
                break
    later = plus or re.search(r"any\s+later\s+version", body) is not None
    return base + ("-or-later" if later else "-only")
if text.startswith("Format:"):
    for para in re.split(r"\n\s*\n", text):
        m = re.search(r"^Files:\s*(.+(?:\n\s+.+)*)", para, re.M)
        if not m or want not in m.group(1).split():
            continue
        lic = re.search(r"^License:\s*(\S+)[^\n]*\n?(.*)", para, re.M | re.S)
        print(spdx(lic.group(1), lic.group(2)))
        sys.exit(0)
    sys.exit("no 'Files: %s' paragraph in %s" % (want, path))
m = re.search(r"GNU (Lesser |L)?(?:General Public License|GPL).{0,200}?[Vv]ersion (\d(?:\.\d)?)", text, re.S)
if not m:
    sys.exit("cannot read a licence from %s" % path)
base = ("LGPL-" if m.group(1) else "GPL-") + m.group(2) + ("" if "." in m.group(2) else ".0")
later = re.search(r"any\s+later\s+version|[Vv]ersion\s+\d(?:\.\d)?\s+or\s+later", text)
print(base + ("-or-later" if later else "-only"))
PY
}

# new_ns IFACE[=ADDR[,ADDR...]] ... : create a network namespace with lo up and the named
# interfaces (ifb devices, fixed MACs, up, with the given addresses); its name goes to NS.
new_ns() {
  NSN=$((NSN + 1))
  NS="$PREFIX-$NSN"
  local ns=$NS spec name addrs a mac i=0
  ip netns add "$ns" || die "cannot create network namespace $ns"
  ip -n "$ns" link set lo up
  for spec in "$@"; do
    i=$((i + 1))
    name=${spec%%=*}
    mac=$(printf '02:00:00:00:%02x:%02x' "$NSN" "$i")
    ip -n "$ns" link add "$name" address "$mac" type ifb 2>/dev/null ||
      ip -n "$ns" link add "$name" address "$mac" type dummy 2>/dev/null ||
      die "cannot create interface $name in $ns"
    ip -n "$ns" link set "$name" up
    if [[ $spec == *=* ]]; then
      IFS=, read -r -a addrs <<< "${spec#*=}"
      for a in "${addrs[@]}"; do
        ip -n "$ns" addr add "$a" dev "$name" nodad 2>/dev/null || ip -n "$ns" addr add "$a" dev "$name" ||
          die "cannot add $a to $name"
      done
    fi
  done
}

del_ns() {
  local pid
  for pid in $(ip netns pids "$1" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  ip netns del "$1" 2>/dev/null
}

# The script run as PID 1 of the private mount/UTS/PID namespaces: overlays over /etc, /var
# and /run (writes go to a tmpfs that vanishes with the namespace), read-only /proc/sys
# except the per-netns /proc/sys/net, the files staged under $work/root (etc, var, run only)
# copied in, then the command.
SANDBOX_INIT='
set -e
work=$1; shift
hostname ppgen
mkdir -p "$work/ovl"
mount -t tmpfs -o mode=0755 ppgen-ovl "$work/ovl"
for d in etc var run; do
  mkdir -p "$work/ovl/$d-up" "$work/ovl/$d-work"
  mount -t overlay "ppgen-$d" -o "lowerdir=/$d,upperdir=$work/ovl/$d-up,workdir=$work/ovl/$d-work" "/$d"
done
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
for f in "$work/root"/* "$work/root"/.[!.]*; do
  [ -e "$f" ] || continue
  case ${f##*/} in etc|var|run) ;; *) echo "sandbox: refusing to stage ${f##*/} (only etc, var, run are private)"; exit 1 ;; esac
done
cp -a "$work/root/." /
if [ -n "${PPGEN_PIN_DATE:-}" ]; then
  # `date` without arguments prints $PPGEN_PIN_DATE (reproducible compile stamps)
  cp /usr/bin/date "$work/date.real"
  printf "#!/bin/sh\n[ \$# -eq 0 ] && { echo \"%s\"; exit 0; }\nexec %s \"\$@\"\n" "$PPGEN_PIN_DATE" "$work/date.real" > "$work/date"
  chmod 755 "$work/date"
  mount --bind "$work/date" /usr/bin/date
fi
mkdir -p "$work/tmp" "$work/home"
export TMPDIR="$work/tmp" HOME="$work/home" PYTHONDONTWRITEBYTECODE=1
set +e
"$@"
'

# sandbox TOOL NS WORK CMD... : run CMD in network namespace NS and private mount, UTS and
# PID namespaces, bounded by timeout; output to WORK/log. Stops the whole run if it fails.
sandbox() {
  local tool=$1 ns=$2 work=$3 rc; shift 3
  timeout --kill-after=5 "$TOOL_TIMEOUT" ip netns exec "$ns" \
    unshare --mount --uts --pid --fork --kill-child --propagation private -- /bin/bash -c "$SANDBOX_INIT" ppgen-sandbox "$work" "$@" \
    < /dev/null >> "$work/log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "---- $tool: last lines of its output:" >&2
    tail -n 25 "$work/log" >&2
    { [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && die "$tool: timed out (limit ${TOOL_TIMEOUT}s, exit $rc): $*"
    die "$tool failed (exit $rc): $*"
  fi
}

# new_work NAME: a fresh work dir for one run
new_work() {
  local w="$TMP/work/$1"
  rm -rf "$w"; mkdir -p "$w/root"
  : > "$w/log"
  echo "$w"
}

# Normalise an iptables-save dump: drop the dated comments, zero the counters.
norm_ipt() { sed -E -e '/^#/d' -e 's/^(:[^ ]+ [^ ]+) \[[0-9]+:[0-9]+\]$/\1 [0:0]/'; }
# Normalise nft list ruleset: zero counters and quota usage.
norm_nft() { sed -E -e 's/counter packets [0-9]+ bytes [0-9]+/counter packets 0 bytes 0/g'; }

# dump_ipt NS 4|6 FILE: write the iptables(-legacy)-save dump of NS to $OUT/FILE.
# Sets DUMP_RULES (number of -A lines) and DUMP_WITH (the save command used).
# Returns 1 if the family holds no table at all.
dump_ipt() {
  local ns=$1 fam=$2 file=$3 nft_cmd legacy_cmd a b
  if [ "$fam" = 4 ]; then nft_cmd=iptables-nft-save legacy_cmd=iptables-legacy-save
  else nft_cmd=ip6tables-nft-save legacy_cmd=ip6tables-legacy-save; fi
  a=$(ip netns exec "$ns" "$nft_cmd" 2>/dev/null | norm_ipt)
  b=$(ip netns exec "$ns" "$legacy_cmd" 2>/dev/null | norm_ipt)
  if [ -n "$a" ] && [ -n "$b" ]; then
    die "$file: both nf_tables and legacy iptables tables are present; cannot dump one ruleset"
  fi
  if [ -n "$b" ]; then DUMP_WITH=$legacy_cmd; a=$b; else DUMP_WITH=$nft_cmd; fi
  [ -n "$a" ] || return 1
  printf '%s\n' "$a" > "$OUT/$file"
  DUMP_RULES=$(grep -c '^-A ' "$OUT/$file")
  return 0
}

# dump_nft NS FILE [DIR]: `nft list ruleset` of NS into $OUT/FILE; DUMP_RULES = rule
# objects of `nft -j list ruleset`. With DIR, take DIR/ruleset.nft and DIR/ruleset.json,
# dumped inside the sandbox while the tool's daemon was still running.
dump_nft() {
  local ns=$1 file=$2 dir=${3:-}
  if [ -n "$dir" ]; then
    [ -f "$dir/ruleset.nft" ] && [ -f "$dir/ruleset.json" ] || die "$file: no dump in $dir"
    norm_nft < "$dir/ruleset.nft" > "$OUT/$file"
  else
    ip netns exec "$ns" nft list ruleset | norm_nft > "$OUT/$file" || die "$file: nft list ruleset failed"
    ip netns exec "$ns" nft -j list ruleset > "$TMP/ruleset.json" || die "$file: nft -j list ruleset failed"
    dir=$TMP
  fi
  [ -s "$OUT/$file" ] || return 1
  DUMP_RULES=$(python3 -c '
import json, sys
print(sum(1 for o in json.load(open(sys.argv[1]))["nftables"] if "rule" in o))' "$dir/ruleset.json") ||
    die "$file: cannot count the rules"
  DUMP_WITH="nft list ruleset"
  return 0
}

# entry key=value ... : one manifest entry (keys: file format kind tool package example
# source licence description adaptations(;;-separated) create_interfaces(space-separated) rules)
entry() {
  python3 - "$@" >> "$ENTRIES" <<'PY'
import json, sys
e = dict(a.split("=", 1) for a in sys.argv[1:])
e["rules"] = int(e["rules"])
e["adaptations"] = [x for x in e.get("adaptations", "").split(";;") if x]
e["create_interfaces"] = e.get("create_interfaces", "").split()
print(json.dumps(e, sort_keys=True))
PY
}

# keep_ipt NS TOOL PKG EXAMPLE_PATH BASENAME KIND LICENCE DESCRIPTION HOW [ADAPTATIONS]:
# dump both families of NS; record each one that holds a table with a rule or a non-ACCEPT
# policy (a family the tool did not touch is left out).
keep_ipt() {
  local ns=$1 tool=$2 pkg=$3 ex=$4 base=$5 kind=$6 lic=$7 desc=$8 how=$9 adapt=${10:-}
  local fam file fmt n=0
  for fam in 4 6; do
    if [ $fam = 4 ]; then file="$base.rules" fmt=iptables; else file="$base.rules6" fmt=ip6tables; fi
    dump_ipt "$ns" $fam "$file" || continue
    if [ "$DUMP_RULES" = 0 ] && ! grep -qE '^:[A-Z]+ (DROP|REJECT)' "$OUT/$file"; then
      rm -f "$OUT/$file"; continue
    fi
    entry file="$file" format=$fmt kind="$kind" tool="$tool" package="$pkg" version="$(pkgver "$pkg")" \
      example="$ex" licence="$lic" rules="$DUMP_RULES" description="$desc" adaptations="$adapt" \
      source="$pkg $(pkgver "$pkg"): $ex; $how, then $DUMP_WITH in that namespace"
    n=$((n + 1))
  done
  [ $n -gt 0 ] || die "$tool: $ex produced no ruleset"
}

# keep_nft NS TOOL PKG EXAMPLE FILE KIND LICENCE DESCRIPTION HOW [ADAPTATIONS [IFACES [DUMPDIR]]]
keep_nft() {
  local ns=$1 tool=$2 pkg=$3 ex=$4 file=$5 kind=$6 lic=$7 desc=$8 how=$9 adapt=${10:-} ifs=${11:-} dd=${12:-}
  dump_nft "$ns" "$file" "$dd" || die "$tool: $ex produced no ruleset"
  entry file="$file" format=nft kind="$kind" tool="$tool" package="$pkg" version="$(pkgver "$pkg")" \
    example="$ex" licence="$lic" rules="$DUMP_RULES" description="$desc" adaptations="$adapt" \
    create_interfaces="$ifs" source="$pkg $(pkgver "$pkg"): $ex; $how, then $DUMP_WITH in that namespace"
}

# conffile_ok PKG PATH: PATH is the package's conffile as shipped (md5 as dpkg recorded it)
conffile_ok() {
  local want have
  want=$(dpkg-query -W -f '${Conffiles}\n' "$1" | awk -v f="$2" '$1 == f {print $2}')
  have=$(md5sum < "$2" | awk '{print $1}')
  [ -n "$want" ] && [ "$want" = "$have" ]
}

# ================================================================== the tools
# Each gen_TOOL runs TOOL on its own shipped examples (or its shipped default setup).

# ---------------------------------------------------------------- nftables
gen_nftables() {
  local d=/usr/share/doc/nftables/examples lic ex kind ifs desc w pre adapt
  lic=$(licence nftables) || die "nftables: cannot read its licence"
  # example | kind | interfaces it names (must exist for iif/oif/netdev) | description
  while IFS='|' read -r -u 3 ex kind ifs desc; do
    [ -f "$d/$ex.nft" ] || die "nftables: example $d/$ex.nft not found"
    new_ns $ifs
    w=$(new_work "nftables-$ex")
    pre=true adapt=""
    if grep -q '^delete table filter' "$d/$ex.nft"; then
      # the example replaces an existing table: give it one to delete
      pre="nft add table ip filter"
      adapt="An empty \`table ip filter\` is created before loading: the example starts with \`delete table filter\` (it replaces a loaded version of itself), which fails when there is none."
    fi
    sandbox nftables "$NS" "$w" /bin/sh -c "$pre && nft -f \"\$0\"" "$d/$ex.nft"
    keep_nft "$NS" nftables nftables "$d/$ex.nft" "nftables-$ex.nft" "$kind" "$lic" "$desc" \
      "loaded with \`nft -f\` in a fresh network namespace${ifs:+ holding interfaces $ifs}" "$adapt" "$ifs"
    del_ns "$NS"
  done 3<<'LIST'
workstation|host||nftables' example workstation: inet filter input chain, policy drop, ICMPv6 per RFC 4890, established/related.
ct_helpers|host||nftables' ct helper example: ct helper objects (ftp, sip, tftp) assigned by rule and by map, input policy drop.
nat|router||nftables' NAT example: DNAT and SNAT through anonymous maps (concatenated address:port map), ip nat prerouting/postrouting.
overview|host|bond0 bond1|nftables' syntax overview: one chain without a hook holding selectors, anonymous sets, iif/oif by index, reject variants (never traversed).
sets_and_maps|host|eth0 eth1 eth2 eth3|nftables' sets and maps example: named set/map of iface_index, verdict map, symbolic defines expanded to anonymous sets.
LIST
}

# ---------------------------------------------------------------- ferm
gen_ferm() {
  local d=/usr/share/doc/ferm/examples lic ex kind desc w src
  lic=$(licence ferm) || die "ferm: cannot read its licence"
  while IFS='|' read -r -u 3 ex kind desc; do
    if [ "$ex" = ferm.conf ]; then
      src=/etc/ferm/ferm.conf
      conffile_ok ferm "$src" || die "ferm: $src differs from the one the package ships"
    else
      src="$d/$ex.ferm"
    fi
    [ -f "$src" ] || die "ferm: example $src not found"
    new_ns
    w=$(new_work "ferm-$ex")
    sandbox ferm "$NS" "$w" ferm "$src"
    keep_ipt "$NS" ferm ferm "$src" "ferm-${ex/ferm.conf/default}" "$kind" "$lic" "$desc" \
      "applied with \`ferm FILE\` in a fresh network namespace (ferm prefers the iptables-legacy tools)"
    del_ns "$NS"
  done 3<<'LIST'
ferm.conf|host|ferm's default /etc/ferm/ferm.conf as Debian ships it: one rule set for both domains (ip, ip6) with @if on the domain, INPUT/FORWARD policy DROP.
dmz_router|router|ferm example: router with a static IP and a DMZ on a third interface (DNAT per service, masquerade, admin hosts).
dsl_router|router|ferm example: DSL router (ppp0 uplink, masquerade of the LAN, forward policy).
fileserver|host|ferm example: Samba/NFS file server (port lists, udp port range, final REJECT).
ipv6|host|ferm example: IPv6-only host filter (domain ip6, ipv6-icmp, ssh, auth).
webserver|host|ferm example: web server (http/https/ssh in, restricted output).
workstation|host|ferm example: workstation (ssh and ident in, everything out).
LIST
}

# ---------------------------------------------------------------- FireHOL
gen_firehol() {
  local d=/usr/share/doc/firehol/examples lic ex kind ifs desc w adapt conf
  lic=$(licence firehol-doc) || die "firehol: cannot read its licence"
  [ "$lic" = "$(licence firehol)" ] || die "firehol: firehol and firehol-doc licences differ"
  # example | kind | interfaces (name[=addresses]) | description
  while IFS='|' read -r -u 3 ex kind ifs desc; do
    [ -f "$d/$ex.conf" ] || die "firehol: example $d/$ex.conf not found"
    new_ns $ifs
    w=$(new_work "firehol-$ex")
    # Debian's wrapper refuses to start unless enabled in /etc/default/firehol
    mkdir -p "$w/root/etc/default"
    sed 's/^START_FIREHOL=.*/START_FIREHOL=YES/' /etc/default/firehol > "$w/root/etc/default/firehol"
    adapt=""
    if grep -q 'my-office-pc.example.com' "$d/$ex.conf"; then
      # the example trusts a PC by host name; iptables resolves it when loading
      printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n192.0.2.10\tmy-office-pc.example.com\n' > "$w/root/etc/hosts"
      adapt="The example's TRUSTED_PCS host name my-office-pc.example.com resolves through a private /etc/hosts to 192.0.2.10 (TEST-NET-1); iptables resolves names when loading and there is no DNS."
    fi
    if grep -q '^SQUID_USERS="squid"' "$d/$ex.conf"; then
      # -m owner --uid-owner squid needs the user to exist
      cp /etc/passwd "$w/root/etc/passwd"
      echo 'squid:x:3128:3128:squid:/nonexistent:/usr/sbin/nologin' >> "$w/root/etc/passwd"
      adapt="${adapt:+$adapt;;}A user squid (uid 3128) is added to a private /etc/passwd: the example's SQUID_USERS=\"squid\" becomes \`-m owner --uid-owner\`, which needs the user to exist (the dump shows the uid)."
    fi
    conf="$d/$ex.conf"
    if ! grep -qE '^[[:space:]]*version[[:space:]]' "$conf"; then
      conf="$w/$ex.conf"
      { echo "version 5"; cat "$d/$ex.conf"; } > "$conf"
      adapt="${adapt:+$adapt;;}\`version 5\` prepended: the example (2008) has no version line, so FireHOL 3 would read it as a dual-stack version 6 config and feed its IPv4 addresses to ip6tables; version 5 is how FireHOL marks an IPv4-only config."
    fi
    sandbox firehol "$NS" "$w" firehol "$conf" start
    keep_ipt "$NS" firehol firehol-doc "$d/$ex.conf" "firehol-$ex" "$kind" "$lic" "$desc" \
      "started with \`firehol FILE start\` (START_FIREHOL=YES in a private /etc/default/firehol) in a fresh network namespace${ifs:+ holding interfaces ${ifs//=*([^ ])/}}" "$adapt"
    del_ns "$NS"
  done 3<<'LIST'
client-all|host||FireHOL example client-all (also Debian's default /etc/firehol/firehol.conf): interface any world, client all accept; full FireHOL chain layout for both families.
icmpv6|router|lan0=192.168.1.1/24 wan0=198.51.100.2/24|FireHOL example icmpv6: IPv6 neighbour/router/MLD handling, lan/wan interfaces with protection strong, router lan2wan.
lan-gateway|router|eth0=10.0.0.1/16 ppp0|FireHOL example lan-gateway: home gateway with transparent squid, masquerade on ppp+, unroutable-source filter, trusted PC, DHCP.
server-dmz|host|eth0=198.51.100.2/24 eth1=192.168.1.1/24|FireHOL example server-dmz (version 5 config, IPv4 only): internet and private interfaces (eth0+, eth1+ wildcards), protection strong with rate limits, ident reject with tcp-reset.
LIST
}

# ---------------------------------------------------------------- Shorewall, Shorewall6
# run_shorewall PRODUCT SAMPLES-PATTERN: the four sample configurations, each copied into a
# private /etc/PRODUCT (the quick-start guides' procedure) and started with `PRODUCT start`.
run_shorewall() {
  local prod=$1 pat=$2 d=/usr/share/doc/$1/examples lic ex kind ifs desc w f fam
  lic=$(licence "$prod" "$pat") || die "$prod: cannot read its licence"
  [ "$prod" = shorewall ] && fam=IPv4 || fam=IPv6
  while IFS='|' read -r -u 3 ex kind ifs desc; do
    [ -f "$d/$ex/rules" ] || die "$prod: example $d/$ex not found"
    new_ns $ifs
    w=$(new_work "$prod-$ex")
    mkdir -p "$w/root/etc/$prod"
    for f in "$d/$ex"/*; do
      case $f in *.annotated|*/README.txt) ;; *) cp "$f" "$w/root/etc/$prod/" ;; esac
    done
    sed -i 's/^STARTUP_ENABLED=No$/STARTUP_ENABLED=Yes/' "$w/root/etc/$prod/$prod.conf"
    # The compiler stamps `date` into the compiled script and names two empty marker chains
    # (sha-lh-*, sha-rh-*) after that script's SHA1: pin the stamp so they are reproducible.
    PPGEN_PIN_DATE="Thu Jan  1 00:00:00 UTC 2026" sandbox "$prod" "$NS" "$w" "$prod" start
    keep_ipt "$NS" "$prod" "$prod" "$d/$ex" "$prod-$ex" "$kind" "$lic" "$prod sample $ex ($fam): $desc" \
      "its files (without *.annotated) copied into a private /etc/$prod and started with \`$prod start\` in a fresh network namespace holding interfaces ${ifs//=*([^ ])/}" \
      "STARTUP_ENABLED=No -> Yes in $prod.conf: the samples ship disabled as a guard until the user has reviewed them (the option's own documentation); nothing else in the sample changed.;;\`date\` without arguments prints a fixed time during the run: the compiler stamps it into the compiled script, whose SHA1 names the two empty marker chains sha-lh-*/sha-rh-*; pinned so the file is reproducible."
    del_ns "$NS"
  done
}

gen_shorewall() {
  run_shorewall shorewall 'shorewall/Samples/*' 3<<'LIST'
one-interface|host|eth0=198.51.100.2/24|standalone host on one interface (net zone, DHCP, tcpflags/nosmurfs/logmartians, Ping(DROP) from net, policies with logging).
two-interfaces|router|eth0=198.51.100.2/24 eth1=192.168.1.1/24|router with a local zone: masquerade of RFC 1918 nets on the net interface, routefilter, SSH/Ping from loc, DNS out.
three-interfaces|router|eth0=198.51.100.2/24 eth1=192.168.1.1/24 eth2=192.168.2.1/24|router with loc and dmz zones: masquerade, per-zone SSH/DNS/Ping rules, zone-pair chains.
Universal|host|eth0=198.51.100.2/24|universal configuration: every interface in one net zone (physical=+, routeback), SSH and Ping accepted.
LIST
}

gen_shorewall6() {
  run_shorewall shorewall6 'shorewall6/Samples6/*' 3<<'LIST'
one-interface|host|eth0=2001:db8:1::2/64|standalone host on one interface (net zone, ICMPv6 essentials, Ping(DROP) from net).
two-interfaces|router|eth0=2001:db8:1::2/64 eth1=2001:db8:2::1/64|router with a local zone (forward=1 per interface), SSH/Ping from loc, DNS out.
three-interfaces|router|eth0=2001:db8:1::2/64 eth1=2001:db8:2::1/64 eth2=2001:db8:3::1/64|router with loc and dmz zones, per-zone SSH/DNS/Ping rules.
Universal|host|eth0=2001:db8:1::2/64|universal configuration: every interface in one net zone, SSH and Ping accepted.
LIST
}

# ---------------------------------------------------------------- ufw
# Debian's defaults (deny incoming, allow outgoing, deny routed), enabled; then the same
# plus commands quoted from the EXAMPLES of ufw(8) as shipped in the package.
gen_ufw() {
  local lic name kind desc w cmds ex
  lic=$(licence ufw) || die "ufw: cannot read its licence"
  conffile_ok ufw /etc/default/ufw || die "ufw: /etc/default/ufw differs from the one the package ships"
  while IFS='|' read -r -u 3 name kind cmds desc; do
    new_ns eth0=198.51.100.2/24,2001:db8:1::2/64 eth1=192.168.1.1/24,2001:db8:2::1/64 eth2=192.168.2.1/24
    w=$(new_work "ufw-$name")
    { echo 'set -e'; echo 'ufw --force enable'; printf '%s\n' "${cmds//;; /$'\n'}"; } > "$w/commands"
    [ "$cmds" = - ] && sed -i '$d' "$w/commands"
    sandbox ufw "$NS" "$w" /bin/bash "$w/commands"
    ex="/etc/default/ufw and /etc/ufw as shipped (Debian defaults)"
    [ "$cmds" = - ] || ex="$ex + commands from /usr/share/man/man8/ufw.8.gz (EXAMPLES)"
    keep_ipt "$NS" ufw ufw "$ex" "ufw-$name" "$kind" "$lic" "$desc" \
      "with Debian's /etc/default/ufw and /etc/ufw as shipped (private copies), in a fresh network namespace holding eth0 eth1 eth2, ran: $(sed 1d "$w/commands" | paste -sd ';' | sed 's/;/; /g')"
    del_ns "$NS"
  done 3<<'LIST'
default|host|-|ufw enabled with Debian's defaults and no user rule: the full ufw chain layout (before/after/user/logging/limit chains from /etc/ufw/before.rules etc.), INPUT/FORWARD policy DROP.
manpage-host|host|ufw limit ssh/tcp;; ufw allow 53;; ufw allow smtp;; ufw allow in http;; ufw reject telnet comment 'telnet is unencrypted';; ufw reject out smtp;; ufw deny proto tcp from 10.0.0.0/8 to 192.168.0.1 port 25;; ufw deny proto tcp from 2001:db8::/32 to any port 25;; ufw allow proto tcp from any to any port 80,443,8080:8090 comment 'web app';; ufw allow proto udp from 1.2.3.5 port 5469 to 1.2.3.4 port 5469;; ufw allow in on eth0 from 192.168.0.0/16;; ufw deny in on eth0 to 224.0.0.1 proto igmp;; ufw allow log 22/tcp;; ufw allow 'WWW Full'|ufw host: Debian defaults plus host rules quoted from ufw(8) EXAMPLES (limit, reject with comment, outgoing reject, per-interface, multiport and ranges, IPv6 source, igmp, logged rule, application profile 'WWW Full' from /etc/ufw/applications.d).
manpage-router|router|ufw default deny routed;; ufw route allow in on eth1 out on eth2;; ufw route allow in on eth0 out on eth1 to 12.34.45.67 port 80 proto tcp;; ufw route allow in on eth0 out on eth1 to 10.0.0.0/8 from 192.168.0.0/16;; ufw allow in on eth0 to 192.168.0.1 proto gre;; ufw allow to 10.0.0.1 proto esp;; ufw allow to 224.0.0.0/24 from 10.0.0.1 proto vrrp;; ufw allow out on eth1 to 10.0.0.0/8;; ufw limit 2222/tcp comment 'SSH port'|ufw router: Debian defaults plus the route (FORWARD) rules and protocol rules quoted from ufw(8) EXAMPLES (ufw-user-forward chain, gre/esp/vrrp, per-interface out rule, limit with comment).
LIST
}

# ---------------------------------------------------------------- arno-iptables-firewall
# Debian's setup: firewall.conf as shipped plus conf.d/00debconf.conf, the file the package's
# postinst writes from its debconf answers: the defaults (noninteractive install), and the
# answers for a NAT router.
gen_arno() {
  local lic name kind ifs desc w answers
  lic=$(licence arno-iptables-firewall) || die "arno-iptables-firewall: cannot read its licence"
  conffile_ok arno-iptables-firewall /etc/arno-iptables-firewall/firewall.conf ||
    die "arno-iptables-firewall: /etc/arno-iptables-firewall/firewall.conf differs from the one the package ships"
  while IFS='|' read -r -u 3 name kind ifs answers desc; do
    new_ns $ifs
    w=$(new_work "arno-$name")
    mkdir -p "$w/root/etc/arno-iptables-firewall/conf.d"
    printf '%s\n' ${answers} > "$w/root/etc/arno-iptables-firewall/conf.d/00debconf.conf"
    sandbox arno-iptables-firewall "$NS" "$w" arno-iptables-firewall start
    keep_ipt "$NS" arno-iptables-firewall arno-iptables-firewall \
      "/etc/arno-iptables-firewall/firewall.conf + conf.d/00debconf.conf ($answers)" "arno-$name" "$kind" "$lic" "$desc" \
      "firewall.conf as shipped and that 00debconf.conf in a private /etc/arno-iptables-firewall, started with \`arno-iptables-firewall start\` in a fresh network namespace holding interfaces ${ifs//=*([^ ])/}"
    del_ns "$NS"
  done 3<<'LIST'
debconf-default|host|ppp0=198.51.100.2/24|EXT_IF="ppp+" EXT_IF_DHCP_IP=1 OPEN_TCP="" OPEN_UDP="" INT_IF="" NAT=0 INTERNAL_NET="" NAT_INTERNAL_NET="" OPEN_ICMP=0|arno-iptables-firewall as a noninteractive Debian install configures it (debconf defaults: external interface ppp+, dynamic IP, nothing open): many logging chains, scan detection, IPv6 dropped (IPV6_SUPPORT=0).
debconf-nat-router|router|eth0=198.51.100.2/24 eth1=192.168.1.1/24|EXT_IF="eth0" EXT_IF_DHCP_IP=0 OPEN_TCP="22 80 443" OPEN_UDP="53" INT_IF="eth1" NAT=1 INTERNAL_NET="192.168.1.0/24" NAT_INTERNAL_NET="192.168.1.0/24" OPEN_ICMP=1|arno-iptables-firewall with its debconf questions answered for a NAT router (external eth0 static, internal eth1 192.168.1.0/24 masqueraded, TCP 22 80 443 and UDP 53 open, ping allowed).
LIST
}

# ---------------------------------------------------------------- pyroman
# The "base" example (also Debian's default /etc/pyroman) and base + personal-firewall.
gen_pyroman() {
  local d=/usr/share/doc/pyroman/examples lic name kind desc w f adapt ex
  lic=$(licence pyroman) || die "pyroman: cannot read its licence"
  while IFS='|' read -r -u 3 name kind desc; do
    new_ns
    w=$(new_work "pyroman-$name")
    mkdir -p "$w/rules"
    for f in "$d/base"/*.py "$d/base"/*.py.gz; do
      case $f in *.gz) zcat "$f" > "$w/rules/$(basename "$f" .gz)" ;; *) cp "$f" "$w/rules/" ;; esac
    done
    adapt=""
    if [ "$name" != base ]; then
      [ -d "$d/$name" ] || die "pyroman: example $d/$name not found"
      cp "$d/$name"/*.py "$w/rules/"
    fi
    if grep -q -- '--gid-owner skype' "$w/rules"/*.py; then
      # `-m owner --gid-owner skype` needs the group to exist
      mkdir -p "$w/root/etc"
      cp /etc/group "$w/root/etc/group"
      echo 'skype:x:5060:' >> "$w/root/etc/group"
      adapt="A group skype (gid 5060) is added to a private /etc/group: 05_skype.py's \`-m owner --gid-owner skype\` needs it to exist (the dump shows the gid)."
    fi
    sandbox pyroman "$NS" "$w" pyroman -r "$w/rules"
    ex="$d/base/"
    [ "$name" = base ] || ex="$d/base/ + $d/$name/"
    keep_ipt "$NS" pyroman pyroman "$ex" "pyroman-$name" "$kind" "$lic" "$desc" \
      "the example's rule files (base first, then the example's own files over it) in one directory, applied with \`pyroman -r DIR\` in a fresh network namespace" "$adapt"
    del_ns "$NS"
  done 3<<'LIST'
base|host|pyroman's base example (identical to Debian's default /etc/pyroman): standard accept/drop/reject chains, conntrack, loopback, RFC 4890 ICMPv6 chains; no host defined, so everything else is rejected.
personal-firewall|host|pyroman's personal-firewall example on top of base: localhost services (ssh, www, https, mDNS, high ports), skype group restricted to web ports by `-m owner`.
LIST
}

# ---------------------------------------------------------------- netavark (podman)
# netavark has no example files: it is driven by podman with a JSON description of the
# container's networks. Run it the way podman does for (1) its default network "podman"
# (10.88.0.0/16, bridge podman0, podman's fixed network id) with `-p 8080:80`, and (2) a
# dual-stack network as `podman network create --ipv6` makes one, with several -p forms.
gen_netavark() {
  local lic name kind desc w ctr spid json
  lic=$(licence netavark) || die "netavark: cannot read its licence"
  while IFS='|' read -r -u 3 name kind json desc; do
    new_ns eth0=198.51.100.2/24,2001:db8:1::2/64
    NSN=$((NSN + 1)); ctr="$PREFIX-$NSN"
    ip netns add "$ctr" || die "netavark: cannot create namespace $ctr"
    w=$(new_work "netavark-$name")
    printf '%s\n' "$json" > "$w/network.json"
    mkdir -p "$w/config"
    # the container's namespace, reachable through /proc while /run is private
    ip netns exec "$ctr" sleep "$TOOL_TIMEOUT" & spid=$!
    sleep 0.1
    sandbox netavark "$NS" "$w" /usr/lib/podman/netavark --config "$w/config" --file "$w/network.json" \
      setup "/proc/$spid/ns/net"
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
    keep_ipt "$NS" netavark netavark "netavark setup input: $(tr -d '\n' < "$w/network.json" | sed 's/  */ /g')" \
      "netavark-$name" "$kind" "$lic" "$desc" \
      "\`netavark --file NETWORK.json setup CONTAINER-NETNS\` run in a fresh host namespace (eth0) against a second, empty container namespace"
    del_ns "$ctr"; del_ns "$NS"
  done 3<<'LIST'
podman-default|router|{"container_id": "6a2e2d8c5f1b4a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e", "container_name": "web", "port_mappings": [{"host_ip": "", "container_port": 80, "host_port": 8080, "range": 1, "protocol": "tcp"}], "networks": {"podman": {"static_ips": ["10.88.0.2"], "interface_name": "eth0"}}, "network_info": {"podman": {"name": "podman", "id": "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9", "driver": "bridge", "network_interface": "podman0", "subnets": [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}], "ipv6_enabled": false, "internal": false, "dns_enabled": false, "ipam_options": {"driver": "host-local"}}}}|netavark (podman's network backend) on podman's default network with one published port (`podman run -p 8080:80`): NETAVARK_FORWARD, per-network masquerade chain, HOSTPORT-DNAT/SETMARK/MASQ chains, addrtype LOCAL, mark-based masquerade.
dualstack-ports|router|{"container_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "container_name": "app", "port_mappings": [{"host_ip": "", "container_port": 443, "host_port": 8443, "range": 1, "protocol": "tcp"}, {"host_ip": "", "container_port": 53, "host_port": 5353, "range": 1, "protocol": "udp"}, {"host_ip": "127.0.0.1", "container_port": 9000, "host_port": 9000, "range": 3, "protocol": "tcp"}, {"host_ip": "", "container_port": 22, "host_port": 2222, "range": 1, "protocol": "tcp"}, {"host_ip": "", "container_port": 22, "host_port": 2222, "range": 1, "protocol": "udp"}], "networks": {"appnet": {"static_ips": ["10.89.0.2", "fd00:dead:beef::2"], "interface_name": "eth0"}}, "network_info": {"appnet": {"name": "appnet", "id": "c3a1b7e9d4f2a6c8e0b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9", "driver": "bridge", "network_interface": "podman1", "subnets": [{"subnet": "10.89.0.0/24", "gateway": "10.89.0.1"}, {"subnet": "fd00:dead:beef::/64", "gateway": "fd00:dead:beef::1"}], "ipv6_enabled": true, "internal": false, "dns_enabled": false, "ipam_options": {"driver": "host-local"}}}}|netavark on a dual-stack network (`podman network create --ipv6`) with published ports as podman passes them: tcp, udp, a 3-port range bound to 127.0.0.1, and one port for both tcp and udp (two mappings); both families.
LIST
}

# ---------------------------------------------------------------- firewalld
# firewalld with Debian's shipped configuration (/etc/firewalld/firewalld.conf: nftables
# backend, default zone public) and its shipped zone definitions (/usr/lib/firewalld/zones):
# once untouched, once with three interfaces bound to the shipped external, internal and dmz
# zones. It needs a system D-Bus: a private dbus-daemon runs in the sandbox (its socket is
# in the private /run). The ruleset is dumped while firewalld runs (it removes its rules on
# exit), then both daemons are stopped by pid.
gen_firewalld() {
  local lic name kind desc w cmds
  lic=$(licence firewalld) || die "firewalld: cannot read its licence"
  conffile_ok firewalld /etc/firewalld/firewalld.conf || die "firewalld: /etc/firewalld/firewalld.conf differs from the one the package ships"
  while IFS='|' read -r -u 3 name kind cmds desc; do
    new_ns eth0=198.51.100.2/24,2001:db8:1::2/64 eth1=192.168.1.1/24,2001:db8:2::1/64 eth2=192.168.2.1/24,2001:db8:3::1/64
    w=$(new_work "firewalld-$name")
    { cat <<'RUN'
w=$1
mkdir -p /run/dbus
dpid=$(dbus-daemon --system --fork --nopidfile --print-pid) || { echo "dbus-daemon failed"; exit 1; }
firewalld --nofork --nopid > "$w/firewalld.log" 2>&1 &
fpid=$!
up=0
for i in $(seq 1 150); do firewall-cmd --state >/dev/null 2>&1 && { up=1; break; }; sleep 0.2; done
rc=1
if [ $up = 1 ]; then
  rc=0
RUN
      if [ "$cmds" != - ]; then
        while read -r c; do printf '  %s || rc=1\n' "$c"; done <<< "${cmds//;; /$'\n'}"
      fi
      cat <<'RUN'
  nft list ruleset > "$w/ruleset.nft" || rc=1
  nft -j list ruleset > "$w/ruleset.json" || rc=1
else
  echo "firewalld did not come up:"; cat "$w/firewalld.log"
fi
kill "$fpid"; wait "$fpid"
kill "$dpid"
exit $rc
RUN
    } > "$w/run.sh"
    sandbox firewalld "$NS" "$w" /bin/bash "$w/run.sh" "$w"
    keep_nft "$NS" firewalld firewalld "/etc/firewalld/firewalld.conf and /usr/lib/firewalld/zones/*.xml as shipped" \
      "firewalld-$name.nft" "$kind" "$lic" "$desc" \
      "firewalld --nofork started with a private system D-Bus in a fresh network namespace holding eth0 eth1 eth2$([ "$cmds" = - ] || echo ", then: ${cmds//;;/;}")" \
      "" "" "$w"
    del_ns "$NS"
  done 3<<'LIST'
default|host|-|firewalld as installed: default zone public (ssh, dhcpv6-client, forward) for every interface; table inet firewalld with zone dispatch chains, policy chains (allow-host-ipv6), rpfilter, ct helper object.
zones-router|router|firewall-cmd --zone=external --change-interface=eth0;; firewall-cmd --zone=internal --change-interface=eth1;; firewall-cmd --zone=dmz --change-interface=eth2|firewalld with its shipped zones external (masquerade, ssh), internal (ssh, mdns, samba-client, dhcpv6-client) and dmz (ssh) bound to three interfaces: per-interface zone dispatch, masquerade in nat postrouting, forward between zones.
LIST
}

# ---------------------------------------------------------------- Firewall Builder (optional)
# fwbuilder ships a library of firewall templates (templates.xml) from which its GUI creates
# new firewalls. fwb_ipt compiles the two generic Linux iptables ones into a shell script,
# which is then run with `start` in the namespace (it also sets the interfaces' addresses).
gen_fwbuilder() {
  local tpl lic name kind ifs desc w obj file
  tpl=$(ls /usr/share/fwbuilder-*/templates.xml 2>/dev/null | head -n 1)
  [ -n "$tpl" ] || die "fwbuilder: templates.xml not found under /usr/share/fwbuilder-*"
  lic=$(licence fwbuilder-common) || die "fwbuilder: cannot read its licence"
  while IFS='|' read -r -u 3 name kind ifs obj desc; do
    grep -q "<Firewall [^>]*name=\"$obj\"" "$tpl" || die "fwbuilder: no firewall object '$obj' in $tpl"
    new_ns $ifs
    w=$(new_work "fwbuilder-$name")
    mkdir -p "$w/out"
    # The templates say version="" (any iptables), for which fwb_ipt writes the pre-1.4.3
    # negation `-d ! NET` that iptables 1.8 rejects; choose a version as the GUI would.
    sed -E "/<Firewall [^>]*name=\"$obj\"/ s/ version=\"\"/ version=\"1.4.20\"/" "$tpl" > "$w/templates.xml"
    cat > "$w/run.sh" <<'RUN'
w=$1 obj=$2
cd "$w/out" || exit 1
fwb_ipt -q -f "$w/templates.xml" -d "$w/out" "$obj" || exit 1
script=$(ls "$w/out"/*.fw) || exit 1
/bin/sh "$script" start
RUN
    sandbox fwbuilder "$NS" "$w" /bin/bash "$w/run.sh" "$w" "$obj"
    # the generated script does not stop on a failed iptables command: look for one
    if grep -qE "Bad argument|Try .ip6?tables -h|iptables(-restore)?: |No chain/target/match" "$w/log"; then
      tail -n 25 "$w/log" >&2
      die "fwbuilder: the script compiled from '$obj' hit iptables errors"
    fi
    keep_ipt "$NS" fwbuilder fwbuilder-common "$tpl: firewall object \"$obj\"" "fwbuilder-$name" "$kind" "$lic" "$desc" \
      "compiled with \`fwb_ipt -f templates.xml '$obj'\` and the resulting script run with \`start\` in a fresh network namespace holding interfaces ${ifs//=*([^ ])/}" \
      "The template's firewall object has version=\"\" (any iptables version); in a private copy of templates.xml it is set to 1.4.20, as a user picks the version when creating a firewall from the template: for \"any\" fwb_ipt writes the pre-1.4.3 negation \`-d ! NET\`, which iptables 1.8 rejects."
    del_ns "$NS"
  done 3<<'LIST'
template3-router|router|eth0 eth1 eth2|fw template 3|Firewall Builder template "fw template 3": router with outside (eth0), inside (eth1) and DMZ (eth2) interfaces, anti-spoofing, SSH to the firewall from inside only, NAT of the DMZ mail relay, per-rule chains (In_RULE_n, RULE_n) as fwb_ipt generates them.
webserver|host|eth0|web server|Firewall Builder template "web server": single-interface server, anti-spoofing chain, HTTP and SSH in (multiport), ident rejected, DNS and SMTP out, OUTPUT policy DROP, logging deny chains.
LIST
}

# ================================================================== run and assemble
TOOLS="nftables ferm firehol shorewall shorewall6 ufw arno pyroman netavark firewalld fwbuilder"
if [ -n "$only" ]; then
  for t in ${only//,/ }; do
    [[ " $TOOLS " == *" $t "* ]] || die "--only: unknown tool $t (known: $TOOLS)"
  done
fi
# Check every tool before running any, and name all that are missing.
skip=" " bad=0
for t in $TOOLS; do
  want "$t" || continue
  lack=$(missing "$t" | paste -sd, | sed 's/,/, /g')
  [ -z "$lack" ] && continue
  pkgs=$(grep "^$t|" <<< "$REQUIREMENTS" | cut -d'|' -f2)
  if [[ $OPTIONAL == *" $t "* ]]; then
    note "skipping $t (optional): missing $lack (apt-get install $pkgs to include it)"
    skip+="$t "
  elif [ "$allow_missing" = 1 ]; then
    note "skipping $t: missing $lack (apt-get install $pkgs)"
    skip+="$t "
  else
    note "$t: missing $lack (apt-get install $pkgs)"
    bad=1
  fi
done
[ $bad = 0 ] || die "required tools are missing (see above; tests/corpus/packages.txt lists them), or pass --allow-missing to skip them"
for t in $TOOLS; do
  want "$t" || continue
  [[ $skip == *" $t "* ]] && continue
  if declare -F "gen_$t" >/dev/null; then
    note "$t ..."
    "gen_$t"
  fi
done

[ -s "$ENTRIES" ] || die "no ruleset was generated"
python3 - "$ENTRIES" "$OUT" "$here" <<'PY' || die "cannot write the manifest"
import hashlib, json, os, re, sys
entries_path, out, here = sys.argv[1:4]
sys.path.insert(0, here)
import features  # noqa: E402  (same directory; stdlib only)
entries = [json.loads(l) for l in open(entries_path) if l.strip()]
seen = set()
by_digest = {}
manifest = []
for e in entries:
    if e["file"] in seen:
        sys.exit("duplicate file name " + e["file"])
    seen.add(e["file"])
    path = os.path.join(out, e["file"])
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest in by_digest:
        print("generate.sh: %s is identical to %s: left out" % (e["file"], by_digest[digest]), file=sys.stderr)
        os.remove(path)
        continue
    by_digest[digest] = e["file"]
    _, _, ifaces = features.analyse(path, e["format"])
    text = open(path).read()
    if e["format"] == "iptables":
        family = "IPv4 (iptables)"
    elif e["format"] == "ip6tables":
        family = "IPv6 (ip6tables)"
    else:
        fams = sorted(set(re.findall(r"^table (\w+) ", text, re.M)))
        family = "nft " + "+".join(fams)
    manifest.append({
        "file": e["file"], "format": e["format"], "kind": e["kind"], "interfaces": ifaces,
        "rules": e["rules"], "source": e["source"], "licence": e["licence"],
        "description": e["description"], "adaptations": e["adaptations"],
        "create_interfaces": e["create_interfaces"], "tool": e["tool"],
        "package": e["package"], "version": e["version"], "example": e["example"],
        "family": family,
    })
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1, ensure_ascii=False)
    f.write("\n")
PY

mkdir -p "$outdir" || die "cannot create $outdir"
if [ -f "$outdir/manifest.json" ]; then
  python3 - "$outdir" <<'PY'
import json, os, sys
d = sys.argv[1]
for e in json.load(open(os.path.join(d, "manifest.json"))):
    p = os.path.join(d, os.path.basename(e["file"]))
    if os.path.exists(p):
        os.remove(p)
PY
fi
cp "$OUT"/* "$outdir/" || die "cannot copy into $outdir"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$outdir/manifest.json")
note "wrote $n rulesets and manifest.json to $outdir"
