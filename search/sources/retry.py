"""Retries with exponential backoff (tenacity) around one call to a store.

Each connector says which of its library's errors are worth another try (``TRANSIENT``: a
refused or dropped connection, a timeout, a 5xx or throttling answer), which concern one
object only (``OBJECT``: gone, no permission) and which mean the store cannot be used now
(``FATAL``: credentials refused, no such bucket). A transient error that outlasts the retries
and a fatal one both end as ``SourceUnavailable``; an object error as ``ObjectError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from search.sources.model import ObjectError, SourceUnavailable

T = TypeVar("T")
TRANSIENT, OBJECT, FATAL = "transient", "object", "fatal"
Classify = Callable[[BaseException], str]


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries, waiting ``backoff`` seconds after the first failure and twice as
    long after each next one (at most ``max_wait``); ``timeout`` bounds one request."""

    attempts: int = 4
    backoff: float = 1.0
    max_wait: float = 30.0
    timeout: float = 30.0


def describe(exc: BaseException) -> str:
    """An error in one line, for a failure's reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}" if type(exc).__name__ not in text else text[:300]


def call(
    fn: Callable[[], T], policy: RetryPolicy, classify: Classify, what: str, default: str = OBJECT
) -> T:
    """``fn()``, retried while ``classify`` calls its error transient; ``what`` names the call
    in the message ("listing s3://bucket/docs"). An error ``classify`` does not know counts as
    ``default``."""

    def kind(exc: BaseException) -> str:
        if isinstance(exc, SourceUnavailable):
            return FATAL
        if isinstance(exc, ObjectError):
            return OBJECT
        found = classify(exc)
        return found if found in (TRANSIENT, OBJECT, FATAL) else default

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.backoff, max=policy.max_wait),
        retry=retry_if_exception(lambda exc: kind(exc) == TRANSIENT),
        reraise=True,
    )
    try:
        return retrying(fn)
    except (SourceUnavailable, ObjectError):
        raise
    except Exception as exc:  # noqa: BLE001 - every library error is sorted into one of three
        found = kind(exc)
        if found == OBJECT:
            raise ObjectError(describe(exc)) from exc
        tries = f" after {policy.attempts} attempts" if found == TRANSIENT else ""
        raise SourceUnavailable(f"{what} failed{tries}: {describe(exc)}") from exc
