"""The lab's programs that run *inside* a network namespace: servers, clients, a packet capture.

This file is run as a script (``ip netns exec NS python agent.py ...``), not imported by the
rest of the package, and uses the standard library only, so it starts fast and needs nothing
from the course. Every command prints JSON lines on stdout; ``serve`` and ``capture`` print
``ready`` once they listen, so the lab knows when to go on.

Commands:

* ``serve IP:PORT:KIND ...`` - TCP servers until SIGTERM. Kinds: ``http`` (answers any
  request with httpbin's ``{"origin": <client address>}``), ``ssh`` (an SSH version banner
  exchange), ``mysql`` (a server greeting), ``bulk`` (sends the number of bytes the request
  line asks for: ``GET /<bytes>``).
* ``tcp IP PORT --mode http|ssh|probe|bulk`` - one client connection from a fixed source port.
* ``scan IP PORT,PORT,... --sport N`` - connect to every port at once (one SYN each, a short
  timeout): a small connect scan.
* ``ping IP --count N`` - ICMP echo requests from a raw socket, with a fixed identifier.
* ``capture IFACE FILE`` - an AF_PACKET capture of every frame the interface sends or
  receives, one line per frame, until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6


def _say(**fields) -> None:
    print(json.dumps(fields), flush=True)


# --- servers ---------------------------------------------------------------------------------


def _read_line(conn: socket.socket, limit: int = 4096) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < limit:
        chunk = conn.recv(limit)
        if not chunk:
            break
        data += chunk
    return data


def _handle(conn: socket.socket, peer: str, kind: str) -> None:
    try:
        conn.settimeout(5)
        if kind == "http":
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            body = json.dumps({"origin": peer}).encode() + b"\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode()
                         + b"\r\nConnection: close\r\n\r\n" + body)
        elif kind == "ssh":
            conn.sendall(b"SSH-2.0-OpenSSH_8.7\r\n")
            _read_line(conn)
        elif kind == "mysql":
            conn.sendall(b"\x4a\x00\x00\x00\x0a8.0.35\x00" + bytes(64))
            _read_line(conn)
        elif kind == "bulk":
            line = _read_line(conn).decode(errors="replace").split()
            size = int(line[1].strip("/")) if len(line) > 1 and line[1].strip("/").isdigit() else 0
            block = bytes(65536)
            while size > 0:
                conn.sendall(block[:min(size, len(block))])
                size -= len(block)
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):  # wait for the client's FIN: a clean close on both sides
            pass
    except OSError:
        pass
    finally:
        conn.close()


def serve(specs: list[str]) -> int:
    listeners = {}
    for spec in specs:
        ip, port, kind = spec.rsplit(":", 2)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, int(port)))
        sock.listen(64)
        listeners[sock.fileno()] = (sock, kind)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    while not stop.is_set():
        ready, _, _ = select.select([s for s, _ in listeners.values()], [], [], 0.2)
        for sock in ready:
            conn, (peer, _) = sock.accept()
            threading.Thread(target=_handle, args=(conn, peer, listeners[sock.fileno()][1]),
                             daemon=True).start()
    return 0


# --- clients ---------------------------------------------------------------------------------


def _bound(src: str, sport: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((src, sport))
    return sock


def tcp(ip: str, port: int, mode: str, src: str, sport: int, timeout: float, size: int) -> int:
    sock = _bound(src, sport)
    sock.settimeout(timeout)
    received = 0
    try:
        sock.connect((ip, port))
    except TimeoutError:
        _say(dst=ip, dport=port, sport=sport, result="timeout")
        return 1
    except ConnectionRefusedError:
        _say(dst=ip, dport=port, sport=sport, result="refused")
        return 1
    try:
        sock.settimeout(10)
        if mode == "http":
            sock.sendall(f"GET /ip HTTP/1.1\r\nHost: {ip}\r\nUser-Agent: curl/8.5.0\r\n"
                         "Accept: */*\r\n\r\n".encode())
        elif mode == "ssh":
            banner = _read_line(sock)
            received += len(banner)
            sock.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        elif mode == "bulk":
            sock.sendall(f"GET /{size} HTTP/1.0\r\n".encode())
        if mode != "probe":
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                received += len(chunk)
    finally:
        sock.close()
    _say(dst=ip, dport=port, sport=sport, result="open", received=received)
    return 0


def scan(ip: str, ports: list[int], src: str, sport: int, timeout: float) -> int:
    pending = {}
    for i, port in enumerate(ports):
        sock = _bound(src, sport + i)
        sock.setblocking(False)
        sock.connect_ex((ip, port))
        pending[sock] = (port, sport + i)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(pending), [], deadline - time.monotonic())
        for sock in writable:
            port, sp = pending.pop(sock)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            _say(dst=ip, dport=port, sport=sp, result="open" if error == 0 else "refused")
            sock.close()
    for sock, (port, sp) in pending.items():
        _say(dst=ip, dport=port, sport=sp, result="timeout")
        sock.close()
    return 0


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(ip: str, count: int, interval: float, timeout: float, ident: int, src: str) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.bind((src, 0))
    payload = bytes(range(56))  # 56 bytes, as ping sends: 84-byte IP packets
    replies = 0
    for seq in range(1, count + 1):
        header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
        sock.sendto(packet, (ip, 0))
        end = time.monotonic() + (interval if seq < count else timeout)
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            data = sock.recv(2048)
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if kind == 0 and rid == ident and socket.inet_ntoa(data[12:16]) == ip:
                replies += 1
    _say(dst=ip, sent=count, replies=replies, result="open" if replies else "timeout")
    return 0


# --- capture ---------------------------------------------------------------------------------


def capture(iface: str, path: str) -> int:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:  # root may pass the namespace's rmem_max: no drops in a burst (the download)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, 32 * 1024 * 1024)
    except (AttributeError, PermissionError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
    sock.bind((iface, 0))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the lab stops the capture itself
    out = open(path, "w", buffering=1)
    print("ready", flush=True)
    sock.settimeout(0.05)
    while True:
        try:
            data, address = sock.recvfrom(65535)
        except TimeoutError:
            if stop.is_set():
                break
            continue
        now = time.time()
        direction = "out" if address[2] == PACKET_OUTGOING else "in"
        if len(data) >= 34 and data[12:14] == b"\x08\x00":
            ip = data[14:]
            ihl = (ip[0] & 0x0F) * 4
            length = struct.unpack("!H", ip[2:4])[0]
            proto = ip[9]
            src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
            sport = dport = flags = 0
            icmp = -1
            l4 = ip[ihl:]
            if proto in (6, 17) and len(l4) >= 4:
                sport, dport = struct.unpack("!HH", l4[:4])
                if proto == 6 and len(l4) >= 14:
                    flags = l4[13]
            elif proto == 1 and l4:
                icmp = l4[0]
            out.write(f"{now:.6f}\t{direction}\t{src}\t{dst}\t{proto}\t{sport}\t{dport}\t"
                      f"{length}\t{flags}\t{icmp}\n")
        else:
            out.write(f"{now:.6f}\t{direction}\tother\t{len(data)}\n")
    stats = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    _, drops = struct.unpack("II", stats)
    out.write(f"# drops\t{drops}\n")
    out.close()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="agent.py")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve")
    p.add_argument("specs", nargs="+")
    p = sub.add_parser("tcp")
    p.add_argument("ip")
    p.add_argument("port", type=int)
    p.add_argument("--mode", default="probe", choices=["http", "ssh", "probe", "bulk"])
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--timeout", type=float, default=0.5)
    p.add_argument("--size", type=int, default=0)
    p = sub.add_parser("scan")
    p.add_argument("ip")
    p.add_argument("ports")
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--timeout", type=float, default=0.5)
    p = sub.add_parser("ping")
    p.add_argument("ip")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=0.5)
    p.add_argument("--ident", type=int, default=4242)
    p.add_argument("--src", required=True)
    p = sub.add_parser("capture")
    p.add_argument("iface")
    p.add_argument("path")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.specs)
    if args.command == "tcp":
        return tcp(args.ip, args.port, args.mode, args.src, args.sport, args.timeout, args.size)
    if args.command == "scan":
        return scan(args.ip, [int(p) for p in args.ports.split(",")], args.src, args.sport,
                    args.timeout)
    if args.command == "ping":
        return ping(args.ip, args.count, args.interval, args.timeout, args.ident, args.src)
    return capture(args.iface, args.path)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main(sys.argv[1:]))
