"""The declaration's life cycle as a state machine driven by the mock's clock.

Nothing runs in the background: a declaration stores when it was submitted, which *plan*
(sequence of steps) it follows and, if the declarant withdrew it, when; its state is computed
whenever it is read, from the clock every replica shares — so two replicas reading at the same
moment agree, and a test moves time with ``POST /_gosstand/control/clock`` instead of sleeping.

The plan is the scenario seed of a declaration: a submission names it (``scenario``) so a test
can ask for a refusal or an inspection; without one it is :data:`DEFAULT_PLAN`. Every plan
starts ``submitted``; every decision step comes after ``registered`` (the invariant "no
decision before registration" holds by construction and is tested over all plans).

Withdrawal (decision 81 once registered) is the one transition a client causes: it is allowed
while no decision is taken, and cuts the plan at the moment it was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["DEFAULT_PLAN", "MAX_PLAN_SPAN", "PLANS", "Progress", "Status", "Step", "WITHDRAWAL", "progress",
           "progress_of", "registration_delay"]


class Status(StrEnum):
    #: "ДТ подана": received, not yet registered; no number, no decision.
    SUBMITTED = "submitted"
    #: "ДТ зарегистрирована": the registration number is assigned and never changes again.
    REGISTERED = "registered"
    #: "Выпуск товаров разрешен": decision 10.
    RELEASED = "released"
    #: "Условный выпуск": decision 11.
    CONDITIONALLY_RELEASED = "conditionally_released"
    #: "Отказ в выпуске товаров": decision 90.
    REFUSED = "refused"
    #: "ДТ отозвана декларантом": decision 81 once registered, none before.
    WITHDRAWN = "withdrawn"
    #: "Отказ в регистрации ДТ": final, no number, no decision.
    REGISTRATION_REFUSED = "registration_refused"
    #: Customs control: documents requested or an inspection (the comment says which).
    UNDER_CONTROL = "under_control"


#: Statuses after which nothing changes any more.
FINAL = frozenset({Status.RELEASED, Status.CONDITIONALLY_RELEASED, Status.REFUSED, Status.WITHDRAWN,
                   Status.REGISTRATION_REFUSED})


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
CONTROL_DELAY = 15.0
RELEASE_DELAY = 30.0
CONTROLLED_DECISION_DELAY = 120.0

_SUBMITTED = Step(Status.SUBMITTED, 0.0, None, "ДТ подана")
_REGISTERED = Step(Status.REGISTERED, REGISTRATION_DELAY, None,
                   "ДТ зарегистрирована. Регистрационный номер ДТ {number}")
_DOCUMENTS = Step(Status.UNDER_CONTROL, CONTROL_DELAY, None,
                  "Запрос документов и сведений: представьте инвойс и контракт")
_INSPECTION = Step(Status.UNDER_CONTROL, CONTROL_DELAY, None,
                   "Досмотр товара назначен должностным лицом таможенного поста")


def _release(after: float) -> Step:
    return Step(Status.RELEASED, after, "10", "Выпуск товаров разрешен")


def _conditional(after: float) -> Step:
    return Step(Status.CONDITIONALLY_RELEASED, after, "11",
                "Выпуск товаров разрешен условно до представления документов")


def _refusal(after: float) -> Step:
    return Step(Status.REFUSED, after, "90", "Отказ в выпуске товаров: несоблюдение условий выпуска")


PLANS: dict[str, tuple[Step, ...]] = {
    "release": (_SUBMITTED, _REGISTERED, _release(RELEASE_DELAY)),
    "conditional_release": (_SUBMITTED, _REGISTERED, _conditional(RELEASE_DELAY)),
    "refusal": (_SUBMITTED, _REGISTERED, _refusal(RELEASE_DELAY)),
    "registration_refused": (
        _SUBMITTED,
        Step(Status.REGISTRATION_REFUSED, REGISTRATION_DELAY, None,
             "Отказ в регистрации ДТ: сведения заявлены не в полном объеме"),
    ),
    "documents_requested": (_SUBMITTED, _REGISTERED, _DOCUMENTS, _release(CONTROLLED_DECISION_DELAY)),
    "inspection": (_SUBMITTED, _REGISTERED, _INSPECTION, _conditional(CONTROLLED_DECISION_DELAY)),
    "inspection_refusal": (_SUBMITTED, _REGISTERED, _INSPECTION, _refusal(CONTROLLED_DECISION_DELAY)),
}
DEFAULT_PLAN = "release"
#: No plan's step comes later than this after submission (the event feed relies on it).
MAX_PLAN_SPAN = max(step.after for steps in PLANS.values() for step in steps)

def registration_delay(plan: str) -> float | None:
    """Seconds from submission to registration under ``plan``; ``None`` if it is never registered."""
    return next((step.after for step in PLANS[plan] if step.status is Status.REGISTERED), None)


WITHDRAWAL = Step(Status.WITHDRAWN, 0.0, "81", "ДТ отозвана декларантом")
_WITHDRAWAL_UNREGISTERED = Step(Status.WITHDRAWN, 0.0, None, "ДТ отозвана декларантом до регистрации")


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

    @property
    def withdrawable(self) -> bool:
        """The declarant may still withdraw: no decision taken, registration not refused."""
        return self.status not in FINAL


def progress(*, submitted_at: float, plan: str, now: float, withdrawn_at: float | None = None) -> Progress:
    """The steps of ``plan`` reached by ``now`` (cut at ``withdrawn_at``, if the declarant
    withdrew); the first step always counts, so a declaration read at the very moment it was
    submitted is ``submitted``."""
    steps = PLANS[plan]
    horizon = now if withdrawn_at is None else min(now, withdrawn_at)
    reached = [(steps[0], submitted_at)]
    reached.extend((step, submitted_at + step.after) for step in steps[1:]
                   if submitted_at + step.after <= horizon)
    if withdrawn_at is not None and withdrawn_at <= now:
        state = Progress(tuple(reached))
        if state.withdrawable:
            withdrawal = WITHDRAWAL if state.registered_at is not None else _WITHDRAWAL_UNREGISTERED
            reached.append((withdrawal, withdrawn_at))
    return Progress(tuple(reached))


def progress_of(record: dict[str, Any], now: float) -> Progress:
    """:func:`progress` of a stored declaration (its full record or its head) at ``now``."""
    withdrawn_us = record.get("withdrawnUs")
    return progress(submitted_at=record["submittedUs"] / 1e6, plan=record["plan"], now=now,
                    withdrawn_at=None if withdrawn_us is None else withdrawn_us / 1e6)
