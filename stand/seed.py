"""Seeding a stand's stores with data at production scale before a load run.

``gosstand seed --state-dir DIR --declarations 1000000 --objects 100000`` fills the SQLite
files an embedded stack started later with ``gosstand up --state-dir DIR`` serves (or Redis
databases given by URL): FTS declarations (:mod:`gosstand.mocks.fts.bulk`) and UTKO objects with
weight controls (:mod:`gosstand.mocks.utko.bulk`), dated over the year before each service's own
clock, their people and companies from the traffic's identities (:mod:`gosstand.scenarios.identities`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..mocks.core.clock import Clock
from ..mocks.core.store_url import open_store
from ..mocks.fts.bulk import seed_declarations
from ..mocks.utko.bulk import seed_objects
from ..scenarios.identities import russian_faker

if TYPE_CHECKING:
    from faker import Faker

__all__ = ["SeedPlan", "seed_stand", "store_urls"]


@dataclass(frozen=True, slots=True)
class SeedPlan:
    declarations: int = 1_000_000
    objects: int = 100_000
    weight_controls: int = 10_000
    seed: int = 1


def _people(seed: int) -> Faker:
    """Realistic Russian people and companies, the same for the same seed: the traffic's own
    identities, so seeded declarants and operators look like the ones the load logs in as."""
    return russian_faker(seed=seed)


def store_urls(state_dir: Path) -> dict[str, str]:
    """The store of each service in an embedded stack's state directory (as the stack opens them)."""
    return {service: f"sqlite:///{state_dir / (service + '.sqlite3')}" for service in ("fts", "utko")}


async def seed_stand(plan: SeedPlan, *, fts_url: str, utko_url: str,
                     progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Write ``plan`` into the two stores; returns what was written (``{"fts": …, "utko": …}``)."""
    summary: dict[str, Any] = {}
    fts = open_store(fts_url)
    try:
        declarations = await seed_declarations(
            fts, count=plan.declarations, now=await Clock(fts).now(), people=_people, seed=plan.seed,
            progress=None if progress is None else (lambda n: progress("declarations", n)))
        summary["fts"] = declarations.summary()
    finally:
        await fts.close()
    utko = open_store(utko_url)
    try:
        objects = await seed_objects(
            utko, count=plan.objects, now=await Clock(utko).now(), people=_people, seed=plan.seed,
            weight_controls=plan.weight_controls if plan.objects else 0,
            progress=None if progress is None else (lambda n: progress("objects", n)))
        summary["utko"] = objects.summary()
    finally:
        await utko.close()
    return summary
