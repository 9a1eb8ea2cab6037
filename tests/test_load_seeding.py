"""A load run seeds the stand it is given: a second run against the same running stand (``gosstand
up`` + ``--manifest``, or plain Locust) with the same seed meets the first run's people — ESIA keeps
each phone to one person — and must say what to do, not pass on ESIA's bare 409."""

from __future__ import annotations

from pathlib import Path

import pytest
from gosstand.loadtests.fixtures import StandAlreadySeeded, seed
from gosstand.stand.manifest import StackManifest


def test_a_second_seeding_with_the_same_seed_names_the_way_out(gosstand_inprocess, tmp_path: Path) -> None:
    manifest = StackManifest(backend="embedded", urls=dict(gosstand_inprocess.urls),
                             control_token=gosstand_inprocess.control_token)
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    (tmp_path / "third").mkdir()
    seed(manifest, tmp_path / "first", users=1, declarants=1, seed=7)
    with pytest.raises(StandAlreadySeeded) as refused:
        seed(manifest, tmp_path / "second", users=1, declarants=1, seed=7)
    assert "seed 7" in str(refused.value) and "--seed" in str(refused.value) and "already belongs" in str(refused.value)
    assert (tmp_path / "third" / "fixtures.json") == seed(manifest, tmp_path / "third", users=1, declarants=1, seed=8)
