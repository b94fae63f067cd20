#!/usr/bin/env python3
"""Count the match modules, statements and targets used across the ruleset corpus.

Usage:
    features.py [CORPUS_DIR]             # prints FEATURES.md (markdown) on stdout
    features.py --per-file [CORPUS_DIR]  # prints per-file rule counts and interfaces as JSON

CORPUS_DIR is where the ruleset files are (see README.md, "Where the rulesets live");
the default is the same search that check.sh does. The file list comes from manifest.json
next to this script. Static text analysis only: nothing is loaded into the kernel.
"""
import json
import os
import re
import shlex
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def corpus_dir(arg=None):
    if arg:
        return arg
    if os.environ.get("PORTPLAN_CORPUS"):
        return os.environ["PORTPLAN_CORPUS"]
    manifest = load_manifest()
    if all(os.path.exists(os.path.join(HERE, e["file"])) for e in manifest):
        return HERE
    repo = os.path.dirname(os.path.dirname(HERE))
    return os.path.join(os.path.dirname(repo), "shared", "data", "corpus")


def load_manifest(cdir=None):
    """The corpus directory's own manifest.json if it has one (generate.sh writes one),
    else the manifest next to this script."""
    path = os.path.join(HERE, "manifest.json")
    if cdir and os.path.exists(os.path.join(cdir, "manifest.json")):
        path = os.path.join(cdir, "manifest.json")
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- iptables-save


def ipt_rules(text):
    """Yield (table, tokens) for every -A/-I rule line of an iptables-save/restore file."""
    table = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith("-A ") or line.startswith("-I "):
            try:
                toks = shlex.split(line)
            except ValueError:
                toks = line.split()
            yield table, toks


def ipt_features(table, toks):
    feats = {"table " + table}
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if t in ("-m", "--match"):
            mod = nxt
            if mod == "state":
                feats.add("-m state/conntrack --state/--ctstate")
            elif mod == "conntrack":
                feats.add("-m state/conntrack --state/--ctstate")
            feats.add("-m " + mod)
            i += 2
            continue
        if t in ("-j", "--jump", "-g", "--goto"):
            builtin = {"ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "DNAT", "SNAT", "MASQUERADE",
                       "REDIRECT", "MARK", "CONNMARK", "NOTRACK", "CT", "TPROXY", "TCPMSS", "ULOG",
                       "NFLOG", "NFQUEUE", "TOS", "DSCP", "CLASSIFY", "SET", "TTL", "HL", "QUEUE",
                       "CHECKSUM", "AUDIT", "SECMARK", "CONNSECMARK", "TRACE", "NETMAP", "MIRROR",
                       "TEE", "LED", "IDLETIMER", "RATEEST", "SYNPROXY", "ULOG", "CLUSTERIP"}
            if nxt in builtin:
                feats.add("-j " + nxt)
            else:
                feats.add(("-g" if t in ("-g", "--goto") else "-j") + " <user chain>")
            i += 2
            continue
        if t in ("-f", "--fragment"):
            feats.add("-f (fragments)")
        elif t == "--syn":
            feats.add("--syn")
        elif t == "--tcp-flags":
            feats.add("--tcp-flags")
        elif t in ("--icmp-type", "--icmpv6-type"):
            feats.add(t)
        elif t in ("-i", "--in-interface"):
            feats.add("-i (in interface)")
            if nxt.endswith("+"):
                feats.add("interface wildcard (+)")
        elif t in ("-o", "--out-interface"):
            feats.add("-o (out interface)")
            if nxt.endswith("+"):
                feats.add("interface wildcard (+)")
        elif t == "!":
            feats.add("! (negation)")
        elif t in ("--dport", "--sport", "--destination-port", "--source-port") and ":" in nxt:
            feats.add("port range a:b")
        elif t in ("-p", "--protocol"):
            feats.add("-p " + nxt.lower())
        i += 1
    return feats


def ipt_interfaces(toks):
    out = set()
    for i, t in enumerate(toks[:-1]):
        if t in ("-i", "-o", "--in-interface", "--out-interface",
                 "--physdev-in", "--physdev-out"):
            out.add(toks[i + 1])
    return out


# ---------------------------------------------------------------- nft text

NFT_PATTERNS = [
    ("ct state", r"\bct state\b"),
    ("ct status", r"\bct status\b"),
    ("ct helper set", r"\bct helper set\b"),
    ("ct mark", r"\bct mark\b"),
    ("verdict map (vmap)", r"\bvmap\b"),
    ("concatenation (a . b)", r"\S \. \S"),
    ("named set/map reference (@name)", r"@[A-Za-z0-9_]"),
    ("anonymous set { ... }", r"(?<!vmap )(?<!elements = )\{[^}]*,[^}]*\}"),
    ("meta mark / mark set", r"\b(meta )?mark\b"),
    ("fib", r"\bfib\b"),
    ("tcp flags", r"\btcp flags\b"),
    ("tcp option maxseg", r"\btcp option maxseg\b"),
    ("icmp type", r"\bicmp type\b"),
    ("icmpv6 type", r"\bicmpv6 type\b"),
    ("icmp/icmpv6 code", r"\bicmp(v6)? code\b"),
    ("limit rate", r"\blimit rate\b"),
    ("dnat", r"\bdnat\b"),
    ("snat", r"\bsnat\b"),
    ("masquerade", r"\bmasquerade\b"),
    ("redirect", r"\bredirect\b"),
    ("notrack", r"\bnotrack\b"),
    ("reject", r"\breject\b"),
    ("drop", r"\bdrop\b"),
    ("accept", r"\baccept\b"),
    ("return", r"\breturn\b"),
    ("jump", r"\bjump\b"),
    ("goto", r"\bgoto\b"),
    ("log", r"\blog\b"),
    ("counter", r"\bcounter\b"),
    ("comment", r"\bcomment\b"),
    ("numgen random", r"\bnumgen\b"),
    ("iifname/oifname", r"\b(iifname|oifname)\b"),
    ("iif/oif (by index)", r"\b(iif|oif)\b"),
    ("meta l4proto", r"\bmeta l4proto\b"),
    ("meta nfproto", r"\bmeta nfproto\b"),
    ("th dport/sport", r"\bth (dport|sport)\b"),
    ("tcp/udp dport/sport", r"\b(tcp|udp) (dport|sport)\b"),
    ("ip saddr/daddr", r"\bip (saddr|daddr)\b"),
    ("ip6 saddr/daddr", r"\bip6 (saddr|daddr)\b"),
    ("!= (negation)", r"!="),
    ("update @set (dynamic set)", r"\bupdate @"),
    ("fully-random", r"\bfully-random\b"),
    ("meta time/hour/day", r"\bmeta (time|hour|day)\b"),
    ("pkttype", r"\bpkttype\b"),
    ("meta skuid/skgid", r"\bskuid|\bskgid\b"),
]

NFT_DECL_PATTERNS = [
    ("set/map flags interval", r"flags\s+[a-z,\s]*interval"),
    ("set/map flags timeout/dynamic", r"flags\s+[a-z,\s]*(timeout|dynamic)"),
    ("named set", r"^\s*(add )?set\s"),
    ("named map", r"^\s*(add )?map\s"),
    ("ct helper object", r"^\s*ct helper\s+\S+\s*\{"),
    ("flowtable", r"^\s*flowtable\b"),
    ("define (variables)", r"^\s*define\b"),
    ("include", r"^\s*include\b"),
    ("chain policy drop", r"policy drop"),
]


def nft_statements(text):
    """Yield ('rule', text) for each rule and ('decl', text) for each declaration line.

    Understands both the block syntax (`table ... { chain ... { rules } }`) and the
    command syntax (`add rule ...`, `add element ...`). A rule that spans several
    lines (an anonymous set or map written over lines) is joined into one statement.
    """
    stack = []
    pending, balance = "", 0
    for raw in text.splitlines():
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if pending:
            pending += " " + s
            balance += s.count("{") - s.count("}")
            if balance <= 0:
                yield ("rule" if stack and stack[-1] == "chain" else "decl"), pending
                pending, balance = "", 0
            continue
        top = stack[-1] if stack else None
        net = s.count("{") - s.count("}")
        if top is None:
            if s.startswith(("add rule", "insert rule")):
                yield "rule", s
            elif s.startswith("table ") and net > 0:
                stack.append("table")
            else:
                yield "decl", s
        elif s == "}" or (s.startswith("}") and net < 0):
            stack.pop()
        elif top == "table":
            kind = s.split()[0]
            yield "decl", s
            if net > 0:
                stack.append("chain" if kind == "chain" else "obj")
        elif top == "chain":
            if re.match(r"^(type|policy|comment|devices)\b", s):
                yield "decl", s
            elif net > 0:
                pending, balance = s, net
            else:
                yield "rule", s
        else:  # inside a set, map, flowtable, ct helper ...
            yield "decl", s
            if net > 0:
                stack.append("inner")
    if pending:
        yield "rule", pending


def nft_interfaces(text):
    out = set()
    for m in re.finditer(r'\b(?:iifname|oifname|iif|oif)\s+(?:!=\s*)?("?)([A-Za-z0-9_.*+@-]+)\1', text):
        name = m.group(2)
        if name not in ("vmap", "{"):
            out.add(name)
    for m in re.finditer(r'\b(?:iifname|oifname|iif|oif)\s+(?:!=\s*)?\{([^}]*)\}', text):
        for n in re.findall(r'"?([A-Za-z0-9_.*+-]+)"?', m.group(1)):
            out.add(n)
    for m in re.finditer(r'elements\s*=\s*\{([^}]*)\}', text):
        for n in re.findall(r'"([A-Za-z0-9_.*+-]+)"\s*:', m.group(1)):
            out.add(n)
    for m in re.finditer(r'define\s+\w+_devices\s*=\s*\{([^}]*)\}', text):
        for n in re.findall(r'"([A-Za-z0-9_.*+-]+)"', m.group(1)):
            out.add(n)
    return out


# ---------------------------------------------------------------- driver


def analyse(path, fmt):
    text = open(path, encoding="utf-8", errors="replace").read()
    per_rule = []  # list of feature sets, one per rule
    decl_feats = defaultdict(int)
    ifaces = set()
    if fmt in ("iptables", "ip6tables"):
        for table, toks in ipt_rules(text):
            per_rule.append(ipt_features(table or "?", toks))
            ifaces |= ipt_interfaces(toks)
    else:
        for kind, s in nft_statements(text):
            if kind == "rule":
                f = {name for name, rx in NFT_PATTERNS if re.search(rx, s)}
                per_rule.append(f)
            else:
                for name, rx in NFT_DECL_PATTERNS:
                    if re.search(rx, s):
                        decl_feats[name] += 1
        for m in re.finditer(r"\btable\s+(ip6?|inet|arp|bridge|netdev)\b", text):
            decl_feats["family " + m.group(1)] += 0
        fams = set(re.findall(r"\btable\s+(ip6|ip|inet|arp|bridge|netdev)\b", text))
        for fam in fams:
            decl_feats["family " + fam] += 1
        for hook in set(re.findall(r"hook\s+(prerouting|input|forward|output|postrouting|ingress)", text)):
            decl_feats["hook " + hook] += 1
        for ctype in set(re.findall(r"type\s+(filter|nat|route)\s+hook", text)):
            decl_feats["chain type " + ctype] += 1
        ifaces = nft_interfaces(text)
    return per_rule, decl_feats, sorted(ifaces)


def main(argv):
    per_file = "--per-file" in argv
    args = [a for a in argv if not a.startswith("--")]
    cdir = corpus_dir(args[0] if args else None)
    manifest = load_manifest(cdir)
    use = defaultdict(lambda: [0, set()])  # feature -> [rules, files]
    fam_of = {}
    report = {}
    for e in manifest:
        fmt = e["format"]
        path = os.path.join(cdir, e["file"])
        per_rule, decl, ifaces = analyse(path, fmt)
        report[e["file"]] = {"rules_static": len(per_rule), "interfaces": ifaces}
        kind = "nft" if fmt == "nft" else "iptables"
        for feats in per_rule:
            for f in feats:
                key = (kind, f)
                use[key][0] += 1
                use[key][1].add(e["file"])
        for f, n in decl.items():
            key = (kind, f)
            use[key][0] += n
            use[key][1].add(e["file"])
        fam_of[e["file"]] = kind
    if per_file:
        json.dump(report, sys.stdout, indent=1, sort_keys=True)
        print()
        return
    n_ipt = sum(1 for k in fam_of.values() if k == "iptables")
    n_nft = sum(1 for k in fam_of.values() if k == "nft")
    out = []
    if os.path.exists(os.path.join(cdir, "manifest.json")):
        out.append("# Feature frequency across the generated corpus\n")
        out.append("Generated by `python3 tests/corpus/features.py OUTDIR > tests/corpus/FEATURES-generated.md`, "
                   "OUTDIR being the output of `tests/corpus/generate.sh OUTDIR` "
                   "(static text analysis of the %d files in OUTDIR/manifest.json: %d iptables/ip6tables, %d nft).\n"
                   % (len(manifest), n_ipt, n_nft))
    else:
        out.append("# Feature frequency across the corpus\n")
        out.append("Generated by `python3 tests/corpus/features.py [CORPUS_DIR] > tests/corpus/FEATURES.md` "
                   "(static text analysis of the %d files in manifest.json: %d iptables/ip6tables, %d nft).\n"
                   % (len(manifest), n_ipt, n_nft))
    out.append("*rules* = number of rules (or, for declaration-level features such as sets, "
               "hooks and families, declarations) using the feature; *files* = corpus files using it. "
               "Sorted by files, then rules.\n")
    for kind, title in (("iptables", "iptables / ip6tables (%d files)" % n_ipt),
                        ("nft", "nftables (%d files)" % n_nft)):
        rows = [(f, r, fs) for (k, f), (r, fs) in use.items() if k == kind]
        rows.sort(key=lambda x: (-len(x[2]), -x[1], x[0]))
        out.append("\n## %s\n" % title)
        out.append("| feature | rules | files |")
        out.append("|---|---:|---:|")
        for f, r, fs in rows:
            out.append("| `%s` | %d | %d |" % (f.replace("|", "\\|"), r, len(fs)))
    rows = [(k, f, r, fs) for (k, f), (r, fs) in use.items()]
    rows.sort(key=lambda x: (-len(x[3]), -x[2], x[1]))
    out.append("\n## Top 25 overall (both syntaxes)\n")
    out.append("| # | syntax | feature | rules | files |")
    out.append("|---:|---|---|---:|---:|")
    for i, (k, f, r, fs) in enumerate(rows[:25], 1):
        out.append("| %d | %s | `%s` | %d | %d |" % (i, k, f, r, len(fs)))
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
