"""The locustfile of a gosstand load run: the journeys in the profile's model, the recorder, the
generator's meter, the live line and the failover schedule, attached through Locust's event hooks.

Run by ``gosstand peak``, which writes the run's configuration (``run-config.json``: the
profile, the validated schedule, the manifest and fixtures) and names it in
``GOSSTAND_RUN_CONFIG`` (:mod:`gosstand.loadtests.config`). Run by plain ``locust -f`` (no
``GOSSTAND_RUN_CONFIG``), it finds, seeds and describes the stand itself, from Locust's options
(:mod:`gosstand.loadtests.standalone`). Run by ``gosstand worker`` on another host
(``GOSSTAND_REMOTE_WORKER``), it learns the run from its master when it joins
(:mod:`gosstand.loadtests.distributed`): it defines every user class either model has, and the
master's spawn messages name the ones the run uses. Locust runs every user class and the first load shape it
finds in this module, so only the model's own are put here: the closed model's users and
:class:`~gosstand.loadtests.shape.PeakHourShape`, or the open model's
:class:`~gosstand.loadtests.open_model.ArrivalDispatcher` and its shape.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gosstand.loadtests import (
    distributed,
    failover,
    generator,
    journeys,
    live,
    recorder,
    run_metrics,
    standalone,
)
from gosstand.loadtests.config import LoadConfig
from gosstand.loadtests.streaming import RecordSink, RecordWriter
from gosstand.stand.manifest import ManifestError
from gosstand.stand.records import RunConfig
from locust import events
from locust.runners import LocalRunner, MasterRunner

#: A worker on another host: the run comes from its master, after Locust has connected.
_remote_worker = distributed.REMOTE_WORKER_ENV in os.environ
#: ``None`` in a plain Locust run until its ``init`` hook has prepared the stand.
_config: LoadConfig | None = LoadConfig.from_env() if RunConfig.ENV in os.environ and not _remote_worker else None
_profile = None if _remote_worker else _config.profile if _config is not None else standalone.profile_from_env()

if _profile is None:  # a remote worker: the master's spawn messages name the classes of the run's model
    from gosstand.loadtests.open_model import ArrivalDispatcher
    from gosstand.loadtests.users import (
        AccountLoginUser,
        DeclarationUser,
        EsiaLoginUser,
        UtkoObjectsUser,
        WeighStationUser,
        closed_model_users,
    )

    __all__ = ["AccountLoginUser", "ArrivalDispatcher", "DeclarationUser", "EsiaLoginUser", "UtkoObjectsUser",
               "WeighStationUser"]
elif _profile.open_model:
    from gosstand.loadtests.open_model import ArrivalDispatcher, ArrivalShape

    ArrivalShape.profile = _profile
    ArrivalShape.processes = _config.processes if _config is not None else 1
    __all__ = ["ArrivalDispatcher", "ArrivalShape"]
else:
    from gosstand.loadtests.shape import PeakHourShape
    from gosstand.loadtests.users import (
        AccountLoginUser,
        DeclarationUser,
        EsiaLoginUser,
        UtkoObjectsUser,
        WeighStationUser,
        closed_model_users,
    )

    closed_model_users(_profile)
    PeakHourShape.profile = _profile
    __all__ = ["AccountLoginUser", "DeclarationUser", "EsiaLoginUser", "PeakHourShape", "UtkoObjectsUser",
               "WeighStationUser"]

if _config is None and not _remote_worker:
    events.init_command_line_parser.add_listener(standalone.add_options)


def _standalone(environment: Any) -> LoadConfig:
    """A plain Locust run's configuration: the stand found, checked and seeded, or the run ends
    here with exit code 2 and the reason in one line."""
    options = environment.parsed_options
    master = isinstance(environment.runner, MasterRunner)
    if not (isinstance(environment.runner, LocalRunner) or master) or getattr(options, "processes", None):
        print("gosstand locustfile: a plain Locust run is one process or a --master of workers that learn the run "
              "from it (GOSSTAND_REMOTE_WORKER=1 locust -f … --worker, or `gosstand worker`); not --processes; "
              "`gosstand peak --processes N` shares a run between workers on this host", file=sys.stderr)
        raise SystemExit(2)
    assert _profile is not None  # a plain run reads its profile from the environment at import
    try:
        run = standalone.prepare(options, _profile, remote_workers=options.expect_workers if master else 0)
    except (standalone.StandaloneError, ManifestError, OSError) as exc:
        print(f"gosstand locustfile: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if _profile.open_model:  # a dispatcher per load process: the master's workers, or this one
        from gosstand.loadtests.open_model import ArrivalShape as Shape

        Shape.processes = run.config.processes
    print(f"gosstand: records of this run go to {run.run_dir}; `gosstand report {run.run_dir}` once it ends",
          file=sys.stderr, flush=True)
    environment.events.test_start.add_listener(lambda **_: run.started())
    environment.events.quitting.add_listener(lambda **_: run.finish())
    return run.config


def _attach_load(environment: Any, config: LoadConfig, sink: RecordSink) -> None:
    """The journeys, the generator's meter, the live line, the run's metrics, the recorder and
    the failovers, on this process's role; its records go to ``sink``."""
    journeys.configure(config)
    meter = generator.register(environment, sink=sink, open_model=config.profile.open_model,
                               late_after_s=config.run.late_start_s)
    live.register(environment, meter=meter, schedule=config.schedule, duration_s=config.profile.duration_s,
                  every_s=config.run.live_every_s)
    run_metrics.register(environment, run_dir=config.run_dir, meter=meter, port=config.run.metrics_port)
    if not isinstance(environment.runner, MasterRunner):  # a master sends no request of its own
        recorder.register(environment, sink=sink)
    failover.register(environment, schedule=config.schedule, manifest_path=config.manifest_path,
                      run_dir=config.run_dir)


def _attach_remote(environment: Any, config: LoadConfig, sink: RecordSink) -> None:
    """A remote worker's run, as its master shipped it: the closed model's users take the
    profile's client timeouts, then everything else as on any worker."""
    if not config.profile.open_model:
        closed_model_users(config.profile)
    _attach_load(environment, config, sink)


@events.init.add_listener
def _attach(environment: Any, **_: Any) -> None:
    if _remote_worker:
        distributed.join(environment, lambda config, stream: _attach_remote(environment, config, stream))
        return
    config = _config if _config is not None else _standalone(environment)
    files = RecordWriter(config.run_dir, str(os.getpid()))
    environment.events.quit.add_listener(lambda **_: files.close())
    _attach_load(environment, config, files)
    if isinstance(environment.runner, MasterRunner) and config.run.remote_workers:
        distributed.serve(environment, config)
