"""E-mail ESIA sends (activation links, one-time codes), kept per address in the shared store
(``esia:mail:<address>``) so tests and load runs read them back through the control API
(``GET /_gosstand/control/mailbox?email=…``), as they read SMS from the outbox."""

from __future__ import annotations

import json
from typing import Any

from ...core.store import Store


async def send_mail(store: Store, *, email: str, subject: str, text: str, now: float, **extra: Any) -> None:
    message = {"email": email, "subject": subject, "text": text, "sent_at": now, **extra}
    await store.append(f"esia:mail:{email.lower()}", json.dumps(message, ensure_ascii=False))


async def mailbox(store: Store, email: str) -> list[dict[str, Any]]:
    return [json.loads(item) for item in await store.items(f"esia:mail:{email.lower()}")]
