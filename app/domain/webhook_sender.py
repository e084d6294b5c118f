"""The webhook sender: claims due deliveries, posts them signed and concurrently, records every attempt.

Deliveries are written by the transaction that causes the event (sql/functions/webhook_capture.sql), so none
is lost when a process dies: a claim is a lease (the row is due again after `LEASE_SECONDS`), so a sender
killed mid-post only delays it; a receiver may therefore see a message twice (same `webhook-id`). Order per
subscription is not guaranteed: attempts run concurrently and a failed one is retried later.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.db.queries import query
from app.domain import audit
from app.domain.retry import backoff_seconds
from app.settings import Settings
from app.webhooks import links, posting, signing, targets

logger = logging.getLogger(__name__)

#: A claimed delivery not recorded within this long (its sender died) is due again.
LEASE_SECONDS = 120.0
#: Random extra delay, as a fraction of the backoff, so a receiver coming back is not hit all at once.
JITTER = 0.2
#: Who the audit log names when the sender disables a subscription.
ACTOR = "webhook-sender"

Clock = Callable[[], datetime]


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class WebhookSender:
    """Sends due deliveries, one claimed batch per `send_once`; time comes from `clock` (injected in tests)."""

    def __init__(
        self, *, engine: Engine, settings: Settings, clock: Clock = _wall_clock, rng: random.Random | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.rng = rng or random.Random()
        self.batch = settings.webhook_concurrency * 4
        self.http = posting.client(timeout=settings.webhook_timeout_seconds, connections=settings.webhook_concurrency)
        self.pool = ThreadPoolExecutor(max_workers=settings.webhook_concurrency, thread_name_prefix="webhook-post")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.http.close()

    def send_once(self) -> int:
        """Claim, post and record one batch; returns how many were claimed (a full batch: more may be due)."""
        with self.engine.begin() as connection:
            rows = connection.execute(
                query("claim_webhook_deliveries"),
                {"now": self.clock(), "batch": self.batch, "lease_seconds": LEASE_SECONDS},
            ).all()
        if not rows:
            return 0
        answers = list(self.pool.map(self._attempt, rows))
        self._record(rows, answers)
        return len(rows)

    def wait_seconds(self, longest: float) -> float:
        """How long until the next delivery is due: 0 if one is due now, at most `longest`."""
        with self.engine.connect() as connection:
            due_in = connection.execute(query("webhook_due_in"), {"now": self.clock()}).scalar()
        return longest if due_in is None else min(max(float(due_in), 0.0), longest)

    def _attempt(self, row: Any) -> posting.Answer:
        try:
            return self._post(row)
        except Exception as exc:  # a bug must not keep the batch's other deliveries leased
            logger.exception("webhook delivery %s: unexpected error", row.id)
            return posting.Answer(None, f"internal error: {type(exc).__name__}", 0.0, "")

    def _post(self, row: Any) -> posting.Answer:
        if not row.enabled:
            return posting.Answer(None, "the subscription is disabled", 0.0, "")
        try:
            target = targets.resolve(row.url, allow_private=self.settings.webhook_allow_private)
        except targets.TargetRefused as exc:
            return posting.Answer(None, f"{exc.code}: {exc}", 0.0, "")
        payload = links.absolute_links(row.payload, self.settings.public_url)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        secrets = [row.secret, *([row.previous_secret] if row.previous_secret else [])]
        # The header time is the wall clock whatever `clock` says: receivers check it against theirs.
        headers = signing.headers(secrets, row.message_id, int(time.time()), body)
        return posting.post(self.http, target, headers, body)

    def _next_attempt(self, row: Any, answer: posting.Answer, now: datetime) -> datetime | None:
        """When to try again, or None: delivered, given up, or its subscription is disabled."""
        if answer.ok or not row.enabled or row.attempts >= self.settings.webhook_max_attempts:
            return None
        delay = backoff_seconds(
            row.attempts,
            base=self.settings.webhook_backoff_seconds,
            cap=self.settings.webhook_backoff_max_seconds,
            jitter=JITTER,
            rng=self.rng,
        )
        return now + timedelta(seconds=delay)

    def _record(self, rows: Sequence[Any], answers: Sequence[posting.Answer]) -> None:
        now = self.clock()
        with Session(self.engine) as session, session.begin():
            session.execute(
                query("record_webhook_attempts"),
                {
                    "now": now,
                    "ids": [r.id for r in rows],
                    "attempts": [r.attempts for r in rows],
                    "status_codes": [a.status_code for a in answers],
                    "errors": [a.error for a in answers],
                    "latencies": [a.latency_ms for a in answers],
                    "excerpts": [a.excerpt.replace("\x00", "") for a in answers],
                    "oks": [a.ok for a in answers],
                    "next_at": [self._next_attempt(r, a, now) for r, a in zip(rows, answers, strict=True)],
                },
            )
            tried = [(r.subscription_id, a.ok) for r, a in zip(rows, answers, strict=True) if r.enabled]
            if tried:
                self._track_failures(session, tried, now)

    def _track_failures(self, session: Session, tried: list[tuple[Any, bool]], now: datetime) -> None:
        ids, oks = [t[0] for t in tried], [t[1] for t in tried]
        session.execute(query("track_webhook_failures"), {"now": now, "subscription_ids": ids, "oks": oks})
        disabled = session.execute(
            query("disable_failing_webhooks"),
            {
                "now": now,
                "subscription_ids": sorted({i for i, ok in tried if not ok}),
                "disable_after_seconds": self.settings.webhook_disable_after_hours * 3600,
            },
        ).all()
        for sub in disabled:
            logger.warning("webhook subscription %s disabled: %s", sub.id, sub.disabled_reason)
            audit.record(
                session,
                audit.AuditContext(principal=None, actor_name=ACTOR),
                action="webhooks.disable",
                resource_type="webhook",
                resource_id=sub.id,
                namespace_id=sub.namespace_id,
                details={"url": sub.url, "reason": sub.disabled_reason},
            )
