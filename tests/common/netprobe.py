#!/usr/bin/env python3
"""Traffic helper for the namespace tests. Bounded: every wait has a timeout, listeners stop
by themselves. Only ever talks to the addresses it is given (the test's own namespaces).

  netprobe.py listen   < {"tcp": [ports], "udp": [ports], "addrs": [ips], "seconds": N}
      binds TCP ports on 0.0.0.0 and ::, UDP ports on each address, prints READY, answers TCP with "OK <token>\n"
      and echoes UDP datagrams, exits after N seconds.
  netprobe.py probe    < [{"src": ip, "dst": ip, "proto": "tcp"|"udp", "port": n}, ...]
      prints a JSON list of results: "open" (answered), "closed" (refused), "filtered" (no answer).
"""
import json, selectors, socket, sys, time
from concurrent.futures import ThreadPoolExecutor

# Long enough for one TCP SYN retransmission (1 s) while neighbour discovery settles.
TIMEOUT = 2.5


def listen(cfg):
    sel = selectors.DefaultSelector()
    binds = []
    for port in cfg.get("tcp", []):
        binds += [("tcp", socket.AF_INET, "0.0.0.0", port), ("tcp", socket.AF_INET6, "::", port)]
    # UDP replies must leave from the address the datagram came to (a wildcard socket answers
    # from the interface's primary address, which conntrack would not match), so bind each one.
    for port in cfg.get("udp", []):
        for addr in cfg.get("addrs", []):
            binds.append(("udp", socket.AF_INET6 if ":" in addr else socket.AF_INET, addr, port))
    for proto, fam, addr, port in binds:
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6 and addr == "::":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        if proto == "tcp":
            s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, proto)
    print("READY", flush=True)
    end = time.monotonic() + float(cfg.get("seconds", 60))
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                if key.data == "tcp":
                    c, _ = s.accept()
                    c.settimeout(1)
                    try:
                        c.sendall(b"OK portplan\n")
                    finally:
                        c.close()
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
            except OSError:
                pass


def probe_one(p):
    fam = socket.AF_INET6 if ":" in p["dst"] else socket.AF_INET
    kind = socket.SOCK_STREAM if p["proto"] == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.settimeout(TIMEOUT)
    try:
        s.bind((p["src"], 0))
        if p["proto"] == "tcp":
            try:
                s.connect((p["dst"], p["port"]))
            except ConnectionRefusedError:
                return "closed"
            except (socket.timeout, TimeoutError):
                return "filtered"
            data = s.recv(64)
            return "open" if data.startswith(b"OK") else "error"
        token = ("portplan-%s-%d" % (p["src"], p["port"])).encode()
        # Two tries: a datagram can be lost while the neighbour cache fills.
        s.settimeout(TIMEOUT / 2)
        for _ in range(2):
            s.sendto(token, (p["dst"], p["port"]))
            try:
                data, _ = s.recvfrom(2048)
                return "open" if data == token else "error"
            except ConnectionRefusedError:
                return "closed"
            except (socket.timeout, TimeoutError):
                continue
        return "filtered"
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()


def probe(items):
    with ThreadPoolExecutor(max_workers=64) as ex:
        print(json.dumps(list(ex.map(probe_one, items))), flush=True)


if __name__ == "__main__":
    arg = json.load(sys.stdin)
    {"listen": listen, "probe": probe}[sys.argv[1]](arg)
