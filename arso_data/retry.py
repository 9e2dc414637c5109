"""The retry policy for API calls, on urllib3's ``Retry``.

Idempotent requests are retried on connection errors and on 429, 500, 502,
503 and 504, with exponential backoff and jitter, a bounded number of attempts
and a total deadline. A 500 is retried too: the API (Spring) answers 500 for a
passing backend failure as well as for a bug, and repeating a GET is harmless;
a POST is never retried here (see :mod:`arso_data.upload`). ``Retry-After`` is
honoured in both its forms (seconds and an HTTP date) up to a cap: a server
that asks for a longer wait than the cap gets no retry, and the caller sees a
:class:`~arso_data.errors.RateLimitError` that carries the wait it asked for.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from typing import Self

    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How API calls are retried. Every field can be set on the client.

    Parameters
    ----------
    attempts
        Tries in all, the first included (4: the first and three retries).
    backoff
        Base of the exponential backoff in seconds (0.5, 1, 2, ... plus jitter).
    backoff_max
        The longest wait between two tries that backoff alone may cause.
    jitter
        Random seconds (0 to this) added to each backoff wait.
    retry_after_cap
        The longest ``Retry-After`` that is honoured; a longer one is not
        waited for but reported.
    deadline
        Seconds after the first try past which no retry starts.
    statuses
        HTTP statuses that are retried.
    """

    attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.5
    retry_after_cap: float = 60.0
    deadline: float = 300.0
    statuses: frozenset[int] = RETRY_STATUSES

    def to_urllib3(self) -> CappedRetry:
        """The urllib3 ``Retry`` that carries this policy out."""
        retries = max(self.attempts - 1, 0)
        return CappedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            backoff_factor=self.backoff,
            backoff_max=self.backoff_max,
            backoff_jitter=self.jitter,
            status_forcelist=self.statuses,
            allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
            raise_on_status=False,
            respect_retry_after_header=True,
            retry_after_cap=self.retry_after_cap,
            deadline=self.deadline,
        )


class CappedRetry(Retry):
    """urllib3's Retry with a cap on Retry-After, a deadline and a log line."""

    def __init__(
        self,
        *args: Any,
        retry_after_cap: float = 60.0,
        deadline: float = 300.0,
        started: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = retry_after_cap
        self.deadline = deadline
        self.started = started

    def new(self, **kw: Any) -> Self:
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        kw.setdefault("deadline", self.deadline)
        kw.setdefault("started", self.started)
        return super().new(**kw)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: Any = None,
    ) -> Self:
        now = time.monotonic()
        started = self.started if self.started is not None else now
        if now - started > self.deadline:
            raise MaxRetryError(_pool, url or "", error)  # type: ignore[arg-type]
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.retry_after_cap:
                # Not retried: the caller reports the wait the server asked for.
                raise MaxRetryError(_pool, url or "", error)  # type: ignore[arg-type]
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        new.started = started
        return new

    def get_backoff_time(self) -> float:
        # urllib3 waits nothing before the first retry; a server that said 429
        # or 503 deserves a pause from the first retry on.
        tries = len(self.history)
        if tries == 0:
            return 0.0
        wait = self.backoff_factor * 2 ** (tries - 1)
        if self.backoff_jitter:
            wait += random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, wait)))

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is None:
            wait = self.get_backoff_time()
            why = (
                f"HTTP {response.status}"
                if response is not None
                else self._last_error_name()
            )
        else:
            why = f"HTTP {response.status if response else '?'} with Retry-After"
        wait = min(wait, self.retry_after_cap)
        logger.info("retrying after %s: waiting %.1f s", why, wait)
        if wait > 0:
            time.sleep(wait)

    def _last_error_name(self) -> str:
        if self.history and self.history[-1].error is not None:
            return type(self.history[-1].error).__name__
        return "a connection error"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date)."""
    if not value:
        return None
    probe = Retry()
    try:
        return max(probe.parse_retry_after(value), 0.0)
    except Exception:
        return None


__all__ = ["RETRY_STATUSES", "CappedRetry", "RetryPolicy", "parse_retry_after"]
