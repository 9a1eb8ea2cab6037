"""Do FTS and UTKO list and filter requests stay fast with a year of production data loaded?

    python benchmarks/data_at_scale.py [--declarations 1000000] [--objects 100000] [--rounds 40]
                                       [--state-dir DIR]

Builds two stands — an empty one and one seeded with ``gosstand seed``'s loaders (default a
million FTS declarations and a hundred thousand UTKO objects) — runs the real service apps
in-process (one replica each, through their ASGI app, SQLite stores as the embedded stack uses),
sends every request of :mod:`gosstand.scenarios.data_at_scale` to both, and prints each one's
p50/p95 latency on the empty store, on the loaded one, and the loaded/empty ratio of the p50.

An empty store answers empty pages, so part of that ratio is merely the cost of a full page
(twenty cards to encode). A third stand seeded with a hundredth of the data shows what is left
once pages are full: the ``×100 data`` column is the loaded p50 over that small stand's p50 —
near 1 when a request does not grow with the data.

Both stands' clocks are frozen at the same instant, so the data's age is the same on every run.
``--state-dir DIR`` keeps the loaded stand there and reuses it on the next run (seeding a
million declarations takes minutes). Figures are one machine's, never targets.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from gosstand.mocks.core.access import organisations_claim
from gosstand.mocks.core.app import create_app
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER, Settings
from gosstand.mocks.core.store_url import open_store
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims
from gosstand.mocks.utko.repository import ObjectRepository
from gosstand.scenarios.data_at_scale import ScaleRequest, readers_organisations, scale_requests
from gosstand.stand.seed import SeedPlan, seed_stand, store_urls

#: The instant both stands' clocks stand still at (a year of data lies before it).
NOW = float(calendar.timegm(dt.datetime(2026, 5, 20, 9, 0, 0).timetuple()))
SUMMARY_FILE = "seed.json"


async def _freeze_clocks(state_dir: Path) -> None:
    for url in store_urls(state_dir).values():
        store = open_store(url)
        await store.set("clock", json.dumps({"frozen_at": NOW}))
        await store.close()


async def _loaded_stand(state_dir: Path, plan: SeedPlan) -> dict[str, Any]:
    """Seed ``state_dir`` unless a previous run left the same plan there; the seed summary."""
    marker = state_dir / SUMMARY_FILE
    if marker.exists():
        kept = json.loads(marker.read_text())
        if kept["plan"] == [plan.declarations, plan.objects, plan.weight_controls, plan.seed]:
            print(f"reusing the seeded stand in {state_dir}")
            return kept["summary"]
        raise SystemExit(f"{state_dir} holds another seed ({kept['plan']}); use an empty directory")
    state_dir.mkdir(parents=True, exist_ok=True)
    await _freeze_clocks(state_dir)
    urls = store_urls(state_dir)
    started = time.perf_counter()

    def progress(what: str, written: int) -> None:
        print(f"  seeding {what}: {written} ({time.perf_counter() - started:.0f} s)", flush=True)

    summary = await seed_stand(plan, fts_url=urls["fts"], utko_url=urls["utko"], progress=progress)
    seconds = time.perf_counter() - started
    print(f"seeded {plan.declarations} declarations and {plan.objects} objects in {seconds:.0f} s")
    marker.write_text(json.dumps({"plan": [plan.declarations, plan.objects, plan.weight_controls, plan.seed],
                                  "summary": summary, "seconds": seconds}))
    return summary


async def _empty_stand(state_dir: Path, loaded_dir: Path, summary: dict[str, Any]) -> None:
    """An empty stand — but for the one object whose weight controls are read (it has none here)."""
    await _freeze_clocks(state_dir)
    object_id = summary["utko"].get("objectWithWeightControls")
    if object_id is None:
        return
    source, target = open_store(store_urls(loaded_dir)["utko"]), open_store(store_urls(state_dir)["utko"])
    record = await ObjectRepository(source).get(object_id)
    assert record is not None
    await ObjectRepository(target).create(record)
    await source.close()
    await target.close()


def _apps(state_dir: Path, keys_dir: Path) -> dict[str, Any]:
    apps = {}
    for service, url in store_urls(state_dir).items():
        settings = Settings(service=service, replica=f"{service}-1", state_dir=state_dir, store_url=url,
                            control_token="benchmark", public_url="http://bench", esia_issuer=TEST_STAND_ISSUER,
                            esia_keys_dir=keys_dir)
        apps[service] = create_app(settings)
    return apps


async def _measure(apps: dict[str, Any], requests: list[ScaleRequest], token: str, rounds: int,
                   warmup: int) -> dict[str, list[float]]:
    """Latency (ms) of each request, sent ``rounds`` times after ``warmup`` untimed ones."""
    headers = {"Authorization": f"Bearer {token}"}
    clients = {service: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
               for service, app in apps.items()}
    timings: dict[str, list[float]] = {}
    try:
        for request in requests:
            client = clients[request.service]
            samples: list[float] = []
            for round_number in range(warmup + rounds):
                started = time.perf_counter()
                response = await client.get(request.path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{request.name}: {response.status_code} {response.text[:300]}")
                if round_number >= warmup:
                    samples.append(elapsed)
            timings[request.name] = samples
    finally:
        for client in clients.values():
            await client.aclose()
    return timings


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _report(requests: list[ScaleRequest], empty: dict[str, list[float]], loaded: dict[str, list[float]],
            small: dict[str, list[float]]) -> str:
    lines = [f"{'request':36} {'empty p50':>9} {'p95':>7} {'loaded p50':>10} {'p95':>7} {'ratio':>6} "
             f"{'1% p50':>7} {'x100 data':>9}"]
    for request in requests:
        e, f, s = empty[request.name], loaded[request.name], small[request.name]
        e50, f50, s50 = statistics.median(e), statistics.median(f), statistics.median(s)
        lines.append(f"{request.name:36} {e50:9.2f} {_percentile(e, 0.95):7.2f} {f50:10.2f} "
                     f"{_percentile(f, 0.95):7.2f} {f50 / e50:6.2f} {s50:7.2f} {f50 / s50:9.2f}")
    lines.append("(milliseconds per request, in-process through the ASGI app; ratio = loaded p50 / empty p50; "
                 "x100 data = loaded p50 / p50 on a stand seeded with 1% of the data)")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="gosstand-scale-"))
    loaded_dir = Path(args.state_dir) if args.state_dir else scratch / "loaded"
    try:
        plan = SeedPlan(args.declarations, args.objects, args.weight_controls, args.seed)
        summary = await _loaded_stand(loaded_dir, plan)
        small_plan = SeedPlan(max(1, plan.declarations // 100), max(1, plan.objects // 100),
                              max(10, plan.weight_controls // 100), plan.seed)
        small_summary = await _loaded_stand(scratch / "small", small_plan)
        await _empty_stand(scratch / "empty", loaded_dir, summary)
        keys = ensure_signing_keys(scratch / "esia-keys")
        requests = scale_requests(now=NOW, fts=summary["fts"], utko=summary["utko"])
        small_requests = scale_requests(now=NOW, fts=small_summary["fts"], utko=small_summary["utko"])
        # The reader acts for the organisations both request sets are about (each stand's own).
        parties = [*readers_organisations(fts=summary["fts"], utko=summary["utko"]),
                   *readers_organisations(fts=small_summary["fts"], utko=small_summary["utko"])]
        claims = access_token_claims(
            oid=1, client_id="BENCH", scopes=("openid", "usr_org"), issuer=TEST_STAND_ISSUER, now=NOW,
            session_id="bench", organisations=organisations_claim(
                (index, party["inn"], party["kpps"]) for index, party in enumerate(parties, start=1)))
        token = sign(claims, kind="access", key=keys.private_key)
        largest = summary["fts"]["largest"]
        print(f"loaded stand: {summary['fts']['declarations']} declarations of {summary['fts']['declarants']} "
              f"declarants (the listed one files {largest['declarations'] if largest else 0}); "
              f"{summary['utko']['objects']} objects, {summary['utko']['weightControls']} weight controls")
        empty = await _measure(_apps(scratch / "empty", scratch / "esia-keys"), requests, token, args.rounds, 3)
        loaded = await _measure(_apps(loaded_dir, scratch / "esia-keys"), requests, token, args.rounds, 3)
        # The same requests, naming the small stand's own largest declarant, operator and object.
        small_timings = await _measure(_apps(scratch / "small", scratch / "esia-keys"), small_requests, token,
                                       args.rounds, 3)
        print(_report(requests, empty, loaded, small_timings))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--declarations", type=int, default=1_000_000)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--weight-controls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=40, help="timed requests of each kind per stand")
    parser.add_argument("--state-dir", help="keep (and reuse) the loaded stand here")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
