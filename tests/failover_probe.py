"""An independent observer of a service during a failover: the standard library only.

It shares no code with gosstand — not its HTTP client, not its recorder, not its reports — so
when its figures agree with the report's, two observers of one event agree, not one program
with itself. Run as its own process:

    python failover_probe.py --url http://127.0.0.1:PORT/_gosstand/health --rate 200 \\
        --timeout 1 --seconds 30 --out probe.jsonl

Every ``1/rate`` seconds it sends one GET on a new connection (``Connection: close``), from a
pool of threads large enough that a request hanging into its timeout does not delay the next one
(each starts on its own schedule: the probe's spacing holds through a replica's outage), and
bounded, so a service that stops answering altogether gets at most that many connections a
timeout from the probe rather than an ever-growing queue. Each request
is one JSON line: when it was meant to start, started and ended (epoch seconds), its status,
the replica that answered (the ``X-Gosstand-Replica`` header every answer of the stand carries),
and its error class (``timeout``, ``refused``, ``reset``) if no answer came. The probe stops
after ``--seconds`` or on SIGTERM, and writes its file once at the end.

:func:`figures` computes what this observer saw of a fault, by the definitions the report
documents — written again here from the words, not imported.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Enough threads for half the requests of a one-second timeout at 200/s to hang at once.
WORKERS = 128


def _error_class(error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    return "reset"


def probe_once(host: str, port: int, path: str, timeout: float, intended: float) -> dict[str, Any]:
    started = time.time()
    status, replica, error = 0, None, None
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        status, replica = response.status, response.getheader("X-Gosstand-Replica")
    except (OSError, http.client.HTTPException) as exc:
        error = _error_class(exc)
    finally:
        connection.close()
    return {"intended": intended, "started": started, "ended": time.time(), "status": status, "replica": replica,
            "error": error}


def run(url: str, *, rate: float, timeout: float, seconds: float, out: Path) -> None:
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    # A flag, not an Event: a handler that took the Event's lock while the main thread held it
    # in Event.wait would never return.
    stopped: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    spacing = 1.0 / rate
    begin = time.time()
    futures = []
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for slot in range(int(seconds * rate)):  # bounded: --seconds at --rate
            intended = begin + slot * spacing
            time.sleep(max(0.0, intended - time.time()))
            if stopped:
                break
            futures.append(pool.submit(probe_once, host, port, path, timeout, intended))
    rows = [future.result() for future in futures]
    out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def affected(row: dict[str, Any], slow_after_s: float) -> bool:
    """Failed (no answer, or a 5xx), or answered later than ``slow_after_s`` after it was meant
    to start."""
    return row["error"] is not None or row["status"] >= 500 or row["ended"] - row["intended"] > slow_after_s


def figures(rows: list[dict[str, Any]], *, t_f: float, until: float, slow_after_s: float) -> dict[str, Any]:
    """What this observer saw of a fault at ``t_f``, counting its requests in flight at the fault
    (meant to start at most ``slow_after_s`` before it, ended after it) or begun before ``until``:

    - TTFE: the first end of an affected request, minus ``t_f``;
    - outage: from the first affected request's intended start (or ``t_f``, if later) to the
      last affected request's end;
    - TTR: the last affected request's end, minus ``t_f``; all three 0 when none was affected.
    """
    near = [r for r in rows if t_f - slow_after_s <= r["intended"] < until and r["ended"] >= t_f]
    hit = [r for r in near if affected(r, slow_after_s)]
    if not hit:
        return {"requests": len(near), "affected": 0, "ttfe_s": 0.0, "outage_s": 0.0, "ttr_s": 0.0,
                "outage_start": None, "outage_end": None}
    first_end = min(r["ended"] for r in hit)
    last_end = max(r["ended"] for r in hit)
    start = max(t_f, min(r["intended"] for r in hit))
    return {"requests": len(near), "affected": len(hit), "ttfe_s": first_end - t_f, "outage_s": last_end - start,
            "ttr_s": last_end - t_f, "outage_start": start, "outage_end": last_end,
            "errors": sorted({r["error"] or str(r["status"]) for r in hit})}


def spacing(sent: list[float], moment: float, *, within: float) -> float:
    """How finely an observer sampled ``moment``: from its last send before it to its first send
    at or after it, counting sends at most ``within`` s before it (none: ``within``). The first
    send after it counts however late it came: an observer that sent the faulted replica nothing
    for 0.7 s after a pause met the pause 0.7 s late (seen in CI: a load whose kept-alive
    connections sent the paused replica two requests in its 2 s, the first 0.69 s in). No send
    after it (a killed replica takes none) leaves the gap before it: what was in flight then is
    all that could see the moment."""
    before = max((t for t in sent if moment - within < t < moment), default=moment - within)
    after = min((t for t in sent if t >= moment), default=moment)
    return after - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    run(args.url, rate=args.rate, timeout=args.timeout, seconds=args.seconds, out=args.out)


if __name__ == "__main__":
    main()
