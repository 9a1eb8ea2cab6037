"""The declaration's life cycle as a state machine driven by the mock's clock.

Nothing runs in the background: a declaration stores when it was submitted and which *plan*
(sequence of steps) it follows, and its state is computed whenever it is read, from the clock
every replica shares — so two replicas reading at the same moment agree, and a test moves time
with ``POST /_gosstand/control/clock`` instead of sleeping.

First cut: one plan, ``release`` — submitted → registered after 5 s → released (decision 10)
30 s after submission. Further plans (registration refused, documents requested, inspection,
conditional release, refusal, withdrawal) are more entries in :data:`PLANS`; the invariants of
shared/reference/fts-utko.md hold for any plan whose decision steps come after registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DEFAULT_PLAN", "PLANS", "Progress", "Status", "Step", "progress"]


class Status(StrEnum):
    #: "ДТ подана": received, not yet registered; no number, no decision.
    SUBMITTED = "submitted"
    #: "ДТ зарегистрирована": the registration number is assigned and never changes again.
    REGISTERED = "registered"
    #: "Выпуск товаров разрешен": decision 10.
    RELEASED = "released"
    #: Reserved for the next cut (decisions 11, 90, 81 and the control steps).
    CONDITIONALLY_RELEASED = "conditionally_released"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REGISTRATION_REFUSED = "registration_refused"
    UNDER_CONTROL = "under_control"


@dataclass(frozen=True, slots=True)
class Step:
    status: Status
    #: Seconds after submission at which the declaration enters this step.
    after: float
    #: The customs decision code this step records (``"10"`` release…), if any.
    decision: str | None
    #: The notification text the declarant sees; ``{number}`` is the registration number.
    comment: str


REGISTRATION_DELAY = 5.0
RELEASE_DELAY = 30.0

PLANS: dict[str, tuple[Step, ...]] = {
    "release": (
        Step(Status.SUBMITTED, 0.0, None, "ДТ подана"),
        Step(Status.REGISTERED, REGISTRATION_DELAY, None,
             "ДТ зарегистрирована. Регистрационный номер ДТ {number}"),
        Step(Status.RELEASED, RELEASE_DELAY, "10", "Выпуск товаров разрешен"),
    ),
}
DEFAULT_PLAN = "release"


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a declaration stands at one moment: the steps it has passed, with their times."""

    reached: tuple[tuple[Step, float], ...]

    @property
    def status(self) -> Status:
        return self.reached[-1][0].status

    @property
    def updated_at(self) -> float:
        return self.reached[-1][1]

    @property
    def decision(self) -> str | None:
        decisions = [step.decision for step, _ in self.reached if step.decision]
        return decisions[-1] if decisions else None

    @property
    def registered_at(self) -> float | None:
        """When the number was (or is to be) assigned; ``None`` while not registered."""
        for step, at in self.reached:
            if step.status is Status.REGISTERED:
                return at
        return None


def progress(*, submitted_at: float, plan: str, now: float) -> Progress:
    """The steps of ``plan`` reached by ``now``; the first step always counts, so a
    declaration read at the very moment it was submitted is ``submitted``."""
    steps = PLANS[plan]
    reached = [(steps[0], submitted_at)]
    reached.extend((step, submitted_at + step.after) for step in steps[1:]
                   if submitted_at + step.after <= now)
    return Progress(tuple(reached))
