"""The locustfile of a gosstand load run: journeys, the peak-hour shape, the recorder and the
failover schedule, attached through Locust's event hooks.

Run by ``gosstand peak`` (see ``loadtests/config.py`` for the environment it expects); it can
also be run by hand: ``locust -f $(python -c 'import gosstand.loadtests.locustfile as m;
print(m.__file__)') --headless`` with the ``GOSSTAND_*`` variables set.
"""

from __future__ import annotations

import os
from typing import Any

from gosstand.loadtests import failover, recorder
from gosstand.loadtests.config import LoadConfig
from gosstand.loadtests.profile import load_profile
from gosstand.loadtests.shape import PeakHourShape
from gosstand.loadtests.users import DeclarationUser, EsiaLoginUser, configure
from locust import events

__all__ = ["EsiaLoginUser", "DeclarationUser", "PeakHourShape"]

_profile = load_profile(os.environ.get("GOSSTAND_PROFILE") or None)
EsiaLoginUser.weight = _profile.mix.get(EsiaLoginUser.journey, 0)
DeclarationUser.weight = _profile.mix.get(DeclarationUser.journey, 0)


@events.init.add_listener
def _attach(environment: Any, **_: Any) -> None:
    config = LoadConfig.from_env()
    configure(config, _profile)
    recorder.register(environment, run_dir=config.run_dir)
    failover.register(
        environment,
        schedule=failover.load_schedule(config.failover_path),
        manifest_path=config.manifest_path,
        run_dir=config.run_dir,
    )
