"""Replicas starting together on a new keys directory agree on one key pair.

In containers every replica shares the keys directory through a bind mount but has its own
PID namespace, so each child here reports the same PID, as they do there. A CI run failed on
exactly this: two ESIA containers wrote the same PID-named temporary file.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from gosstand.mocks.core import keyfiles
from gosstand.mocks.core.keys import CERT_FILE, KEY_FILE, ensure_signing_keys
from gosstand.mocks.core.settings import Settings
from gosstand.mocks.crypto import gost
from gosstand.mocks.esia.crypto.gost_keys import gost_signing_keys

RACERS = 6


def _public_bytes(key) -> bytes:  # type: ignore[no-untyped-def]
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _start_like_a_container_replica(state_dir: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """One replica's start; ``results`` is a pipe (a Queue checks PIDs, which this child fakes)."""
    barrier.wait()
    os.getpid = lambda: 7  # every container's replica process is PID 7 in its own namespace
    try:
        settings = Settings.in_state_dir("esia", "esia-1", Path(state_dir), control_token="t")
        keys = ensure_signing_keys(settings.esia_keys_dir)
        outcome = {"key": _public_bytes(keys.private_key.public_key()), "cert": _public_bytes(keys.public_key)}
        if gost.available():
            gost_keys = gost_signing_keys(settings)
            assert gost_keys is not None
            outcome["gost"] = gost_keys.certificate_der
        results.send(outcome)
    except BaseException as error:  # reported to the test, which names it
        results.send({"error": repr(error)})


def test_racing_replicas_end_with_one_matching_pair(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(RACERS)
    pipes = [context.Pipe(duplex=False) for _ in range(RACERS)]
    racers = [context.Process(target=_start_like_a_container_replica, args=(str(tmp_path), barrier, sender))
              for _, sender in pipes]
    for racer in racers:
        racer.start()
    outcomes = []
    for (receiver, _), racer in zip(pipes, racers, strict=True):
        assert receiver.poll(120), "a replica reported nothing"
        outcomes.append(receiver.recv())
        racer.join(timeout=30)

    assert [o["error"] for o in outcomes if "error" in o] == []
    assert all(o["key"] == o["cert"] for o in outcomes), "a replica's private key does not match its certificate"
    assert len({o["cert"] for o in outcomes}) == 1, "replicas ended with different key pairs"
    if gost.available():
        assert len({o["gost"] for o in outcomes}) == 1
    assert not [p.name for p in (tmp_path / "esia-keys").iterdir() if p.name.endswith(".tmp")]


def test_an_existing_pair_is_kept(tmp_path: Path) -> None:
    first = ensure_signing_keys(tmp_path)
    assert ensure_signing_keys(tmp_path).certificate == first.certificate


def test_a_half_written_pair_is_replaced_as_a_whole(tmp_path: Path) -> None:
    """A key without its certificate (a creator killed between the two renames) is not paired
    with a new certificate: both are written again."""
    ensure_signing_keys(tmp_path)
    (tmp_path / CERT_FILE).unlink()
    orphan = (tmp_path / KEY_FILE).read_bytes()
    keys = ensure_signing_keys(tmp_path)
    assert (tmp_path / KEY_FILE).read_bytes() != orphan
    assert _public_bytes(keys.private_key.public_key()) == _public_bytes(keys.public_key)


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    def broken() -> tuple[bytes, ...]:
        return (b"key",)  # one file for two names

    with pytest.raises(ValueError, match="1 files for 2 names"):
        keyfiles.create_once(tmp_path, ("a", "b"), broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == [keyfiles.LOCK_FILE]
