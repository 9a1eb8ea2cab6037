"""Plain Locust on gosstand's journeys: ``locust -f`` on the package's locustfile, without
``gosstand peak`` — headless or with Locust's web UI — against a stand ``gosstand up`` started, or
any system with gosstand's control API.

What ``gosstand peak`` does around Locust is done here in Locust's own hooks, on the one local
runner: when Locust has parsed its options (``init``) the stand is found (a manifest, or URLs and a
control token), checked to answer, seeded with the run's people, client system and declarants,
and the run's configuration written into the run directory as ``peak`` writes it; when Locust
quits, the run's description (``run.json``) and the reconciliation of its writes
(``records.json``) are written beside the request records, so ``gosstand report DIR`` builds the
report of the run as of any other.

Locust runs the locustfile before it parses its options, and the load shape and user classes
come from the profile, so the profile is read from the environment (``GOSSTAND_PROFILE``,
``GOSSTAND_DURATION``, ``GOSSTAND_PEAK_USERS``); everything else is an option (or its variable).
There is no failover schedule here (``gosstand peak`` runs them). The load runs in this one
process, or — with ``--master`` — in ``--expect-workers`` workers started as
``GOSSTAND_REMOTE_WORKER=1 locust -f … --worker`` (or ``gosstand worker``), which learn the run
from the master and stream their records to it (:mod:`~gosstand.loadtests.distributed`); Locust's
``--processes`` forks workers that would not know to, and is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from ..stand.manifest import StackManifest
from ..stand.records import LATE_START_S, RunConfig
from .config import LoadConfig
from .profile import Profile, load_profile
from .streaming import ledger_problems, stream_ledger

__all__ = ["StandaloneRun", "add_options", "profile_from_env", "prepare"]


class StandaloneError(RuntimeError):
    """A plain Locust run that cannot do what it was asked (no stand, a silent one, a failed seed)."""


def profile_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> Profile:
    """The profile a plain run follows: ``GOSSTAND_PROFILE`` (a file, or a packaged one by name;
    the peak hour by default) with ``GOSSTAND_DURATION`` and ``GOSSTAND_PEAK_USERS`` applied."""
    duration = environ.get("GOSSTAND_DURATION")
    peak_users = environ.get("GOSSTAND_PEAK_USERS")
    return load_profile(environ.get("GOSSTAND_PROFILE") or None,
                        duration_s=float(duration) if duration else None,
                        peak_users=int(peak_users) if peak_users else None)


def add_options(parser: Any) -> None:
    """Locust's ``init_command_line_parser`` hook: where the stand is and what to seed it with."""
    group = parser.add_argument_group("gosstand", "the stand a plain Locust run loads (no `gosstand peak`)")
    group.add_argument("--gosstand-manifest", env_var="GOSSTAND_MANIFEST", default="",
                       help="stack.json of a running stand (`gosstand up` prints its path)")
    for service in ("esia", "utko", "fts"):
        group.add_argument(f"--gosstand-{service}-url", env_var=f"GOSSTAND_{service.upper()}_URL", default="",
                           help=f"{service.upper()}'s base URL (instead of, or over, the manifest's)")
    group.add_argument("--gosstand-control-token", env_var="GOSSTAND_CONTROL_TOKEN", default="",
                       help="bearer token of the stand's control API (with URLs and no manifest)")
    group.add_argument("--gosstand-run-dir", env_var="GOSSTAND_RUN_DIR", default="",
                       help="where the request records go (default: gosstand-runs/<time>)")
    group.add_argument("--gosstand-users", type=int, env_var="GOSSTAND_USERS", default=60,
                       help="ESIA people to seed")
    group.add_argument("--gosstand-declarants", type=int, env_var="GOSSTAND_DECLARANTS", default=8,
                       help="declarant organisations to use")
    group.add_argument("--gosstand-metrics-port", type=int, env_var="GOSSTAND_METRICS_PORT", default=None,
                       help="serve the run's Prometheus series on this port of 127.0.0.1 while it runs")
    group.add_argument("--gosstand-seed", type=int, env_var="GOSSTAND_SEED", default=2026,
                       help="seed of the test data")


def _manifest(options: Any) -> StackManifest:
    urls = {service: url.rstrip("/") for service in ("esia", "utko", "fts")
            if (url := getattr(options, f"gosstand_{service}_url", ""))}
    if options.gosstand_manifest:
        manifest = StackManifest.load(options.gosstand_manifest)
        manifest = manifest.with_urls(urls) if urls else manifest
        if options.gosstand_control_token:
            manifest = StackManifest.from_json({**manifest.to_json(), "control_token": options.gosstand_control_token})
        return manifest
    if not urls or not options.gosstand_control_token:
        raise StandaloneError("say which stand to load: --gosstand-manifest STACK_JSON (GOSSTAND_MANIFEST), or "
                              "--gosstand-esia-url/--gosstand-fts-url/--gosstand-utko-url with "
                              "--gosstand-control-token")
    return StackManifest(backend="external", urls=urls, control_token=options.gosstand_control_token)


class StandaloneRun:
    """One plain run: its directory, configuration and description, written as ``peak`` writes them."""

    def __init__(self, config: LoadConfig, manifest: StackManifest, *, seed: int) -> None:
        workers = config.run.remote_workers
        self.config = config
        self.manifest = manifest
        self.description: dict[str, Any] = {
            "title": f"{config.profile.name}: {config.profile.description} (plain Locust)",
            "profile": config.profile.name, "duration_s": config.profile.duration_s,
            "model": "open" if config.profile.open_model else "closed", "mix": config.profile.mix,
            "processes": workers or 1, **({"remote_workers": workers} if workers else {}),
            "seed": seed, "schedule": [], "failover_schedule": None, "runner": "locust",
            "backend": manifest.backend, "targets": manifest.urls, "problems": [],
        }

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir

    def started(self) -> None:
        self.description.setdefault("started", time.time())

    def finish(self) -> None:
        """The description and the reconciliation, once the load is over (Locust's ``quitting``)."""
        from .fixtures import reconcile
        from .run import HARNESS_ERRORS

        self.description["ended"] = time.time()
        workers = self.config.run.remote_workers
        if workers:  # every request the workers sent must be here, or nothing is judged
            self.description["workers"] = stream_ledger(self.run_dir)
            self.description["problems"].extend(ledger_problems(self.run_dir, workers))
        if "started" not in self.description:
            self.description["problems"].append("the load never started")
        elif any(self.run_dir.glob("requests*.jsonl")):
            try:
                reconcile(self.manifest, self.run_dir)
            except HARNESS_ERRORS as exc:
                self.description["problems"].append(f"reconciling the writes failed: {type(exc).__name__}: {exc}"[:500])
        (self.run_dir / "run.json").write_text(json.dumps(self.description, indent=2, ensure_ascii=False))


def prepare(options: Any, profile: Profile, *, remote_workers: int = 0) -> StandaloneRun:
    """Find, check and seed the stand; write the run's configuration (for ``remote_workers``
    workers that learn it from this master, when there are). :class:`StandaloneError` when the
    stand is not given, does not answer or cannot be seeded."""
    from .fixtures import seed
    from .run import (
        HARNESS_ERRORS,
        UsageError,
        check_gost,
        seeded_people,
        sends_utko_traffic,
        signs_in_to_accounts,
        unanswered,
    )

    # Locust logs at INFO; httpx would log every seeding call of the control API there
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        check_gost(profile)
    except UsageError as exc:
        raise StandaloneError(str(exc)) from None
    manifest = _manifest(options)
    silent = unanswered(dict(manifest.urls))
    if silent:
        raise StandaloneError("; ".join(silent))
    run_dir = Path(options.gosstand_run_dir or Path("gosstand-runs") / dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = manifest.write(run_dir / "manifest.json")
    try:
        fixtures_path = seed(manifest, run_dir, users=seeded_people(profile, options.gosstand_users),
                             declarants=options.gosstand_declarants, seed=options.gosstand_seed,
                             utko_objects=sends_utko_traffic(profile),
                             certificates=signs_in_to_accounts(profile))
    except HARNESS_ERRORS as exc:
        raise StandaloneError(f"seeding the stand failed: {type(exc).__name__}: {exc}"[:500]) from None
    config = RunConfig(run_dir=str(run_dir), manifest_path=str(manifest_path), fixtures_path=str(fixtures_path),
                       profile=profile.to_mapping(), schedule=[], processes=remote_workers or 1, live_every_s=5.0,
                       late_start_s=LATE_START_S, metrics_port=options.gosstand_metrics_port,
                       remote_workers=remote_workers)
    config.write()
    return StandaloneRun(LoadConfig(config), manifest, seed=options.gosstand_seed)
