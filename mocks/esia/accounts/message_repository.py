"""What ESIA sends a person — SMS codes and e-mail (activation links, one-time codes) — kept
per phone (``esia:sms:<phone>``) and per address (``esia:mail:<address>``) in the shared store,
so tests and load runs read them back through the control API (``GET /outbox?phone=…``,
``GET /mailbox?email=…``) as a person reads their phone and inbox."""

from __future__ import annotations

import json
from typing import Any

from ...core.store import Store, Writes

__all__ = ["MessageRepository"]


class MessageRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def send_sms(self, *, phone: str, code: str, now: float) -> None:
        await self._store.commit(self.sms(phone=phone, code=code, now=now))

    @staticmethod
    def sms(*, phone: str, code: str, now: float) -> Writes:
        """The write that sends an SMS, to commit with whatever the code belongs to (a login's
        request carries its code: both land in one commit)."""
        message = {
            "phone": phone,
            "code": code,
            "sent_at": now,
            "text": f"Код подтверждения: {code}. Никому не сообщайте его. Госуслуги",
        }
        return Writes().append(f"esia:sms:{phone}", json.dumps(message, ensure_ascii=False))

    async def outbox(self, phone: str, *, last: int | None = None) -> list[dict[str, Any]]:
        """The messages sent to ``phone``, oldest first; only the ``last`` few when given (a load
        run reads one code per login, and a phone's outbox grows with every login)."""
        start = -last if last else 0
        return [json.loads(item) for item in await self._store.items(f"esia:sms:{phone}", start)]

    async def send_mail(self, *, email: str, subject: str, text: str, now: float, **extra: str) -> None:
        message = {"email": email, "subject": subject, "text": text, "sent_at": now, **extra}
        await self._store.append(f"esia:mail:{email.lower()}", json.dumps(message, ensure_ascii=False))

    async def mailbox(self, email: str) -> list[dict[str, Any]]:
        return [json.loads(item) for item in await self._store.items(f"esia:mail:{email.lower()}")]
