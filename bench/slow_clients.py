"""Slow-client probe: opens many connections that trickle their headers or bodies (loopback only) and
measures how long `/api/health/live` takes meanwhile.

    python bench/slow_clients.py http://127.0.0.1:8000 [--connections 200] [--seconds 8]

Prints the slowest health answer and exits 1 if one took longer than --limit seconds (1 by default)
or failed. tests/test_slow_clients.py runs it against the server `make run` and the image start.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
import urllib.request
from urllib.parse import urlsplit


def _trickle(host: str, port: int, index: int, stop: threading.Event, opened: list) -> None:
    """Half the connections trickle headers that never end, half a body that never completes."""
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError:
        return
    opened.append(1)
    try:
        if index % 2:
            sock.sendall(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n")
            chunk = b"X-Slow: a\r\n"
        else:
            sock.sendall(
                b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n{"
            )
            chunk = b" "
        while not stop.wait(0.5):
            sock.sendall(chunk)
    except OSError:
        pass  # the server closing a slow connection is allowed
    finally:
        sock.close()


def probe(base_url: str, *, connections: int = 200, seconds: float = 8.0) -> dict:
    """Holds `connections` trickling connections for `seconds` while timing health checks."""
    parts = urlsplit(base_url)
    stop = threading.Event()
    opened: list = []
    threads = [
        threading.Thread(target=_trickle, args=(parts.hostname, parts.port, i, stop, opened), daemon=True)
        for i in range(connections)
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every slow connection is open and has sent its first bytes
    timings, failures = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"{base_url}/api/health/live", timeout=5) as answer:  # noqa: S310
                answer.read()
                if answer.status != 200:
                    failures.append(answer.status)
        except Exception as exc:  # noqa: BLE001 - reported
            failures.append(repr(exc))
        timings.append(time.monotonic() - started)
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(5)
    return {"opened": len(opened), "checks": len(timings), "slowest": max(timings, default=0.0), "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--limit", type=float, default=1.0)
    args = parser.parse_args()
    result = probe(args.base_url, connections=args.connections, seconds=args.seconds)
    print(
        f"{result['opened']} slow connections open; {result['checks']} health checks, slowest "
        f"{result['slowest'] * 1000:.0f} ms, failures {len(result['failures'])} {result['failures'][:3]}"
    )
    return 0 if result["slowest"] <= args.limit and not result["failures"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
