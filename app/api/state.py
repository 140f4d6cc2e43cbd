"""What every request shares: settings, the served index under the policy in force, the
feedback store, the identities, the API's conversations and its rate limiters."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from app.api.limits import RateLimiter
from app.api.oidc import OidcVerifier
from app.api.problems import ApiError
from lifecycle.access import PolicyStatus, served_index
from lifecycle.conversation import Conversations
from lifecycle.experiments import ExperimentStore, LiveExperiment
from lifecycle.experiments.live import live_experiment
from lifecycle.feedback import FeedbackStore
from lifecycle.serving import LoadedIndexes, Serving, resolve_serving
from lifecycle.warmup import Warmed, warm
from search.chat import LLMConfig
from search.index import SearchIndex
from search.settings import Settings

CHAMPION_TTL_S = 30  # how often a new MLflow champion is looked for (as the app does)
_WARMING = "warming"  # a warm-up running on its thread
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Current:
    """The served version, its index carrying the policy in force for its documents, and
    that policy."""

    served: Serving
    index: SearchIndex
    policy: PolicyStatus
    experiment: LiveExperiment | None = None  # one running on live traffic, if any


@dataclass
class Services:
    settings: Settings
    store: FeedbackStore
    identities: object  # lifecycle.identity.Identities
    oidc: OidcVerifier | None
    limiter: RateLimiter
    failures: RateLimiter  # failed sign-ins, per client address
    loaded: LoadedIndexes = field(default_factory=LoadedIndexes)
    conversations: Conversations = field(default_factory=Conversations)
    _serving: tuple[float, Serving | None] = (0.0, None)
    _experiment: tuple[float, LiveExperiment | None] = (0.0, None)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _warmth: dict[str, object] = field(default_factory=dict)  # version path -> state

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        from lifecycle.identity import Identities
        from lifecycle.warmup import keep_sentence_vectors

        keep_sentence_vectors(settings)  # chat's sentence vectors shared with this home's others
        return cls(
            settings=settings,
            store=FeedbackStore(settings.feedback_url),
            identities=Identities(settings.feedback_url),
            oidc=OidcVerifier.from_secrets(settings.auth_secrets),
            limiter=RateLimiter(settings.api_rate_limit),
            failures=RateLimiter(settings.api_auth_failures, "failed sign-ins from this address"),
        )

    def serving(self) -> Serving | None:
        """The served version, looked up again every CHAMPION_TTL_S seconds."""
        with self._lock:
            at, served = self._serving
            if served is not None and time.monotonic() - at < CHAMPION_TTL_S:
                return served
        served = resolve_serving(self.settings)
        with self._lock:
            self._serving = (time.monotonic(), served)
        return served

    def forget_serving(self) -> None:
        """Look the served version up again on the next request (after a promotion)."""
        with self._lock:
            self._serving = (0.0, None)
            self._experiment = (0.0, None)

    def experiment(self, policy) -> LiveExperiment | None:
        """The experiment running on live traffic, looked up again every CHAMPION_TTL_S."""
        with self._lock:
            at, live = self._experiment
            if at and time.monotonic() - at < CHAMPION_TTL_S:
                return live
        live = live_experiment(
            self.settings, ExperimentStore(self.store.engine), self.loaded, policy
        )
        with self._lock:
            self._experiment = (time.monotonic(), live)
        return live

    def current(self) -> Current:
        served = self.serving()
        if served is None:
            raise ApiError(
                503, "no index has been built yet; run `make run` or `docsearch build` first"
            )
        index, policy = served_index(self.settings, self.loaded, served)
        return Current(served, index, policy, self.experiment(policy.policy))

    def warmed(self) -> Warmed | None:
        """The served version's warm-up (``lifecycle.warmup``) once done; None while it runs
        on its thread (started by the first call) and no earlier version was warmed up. A
        failed one is reported (ApiError 503) and started again."""
        served = self.serving()
        if served is None:
            self.current()  # the 503 that says no index has been built
        with self._lock:
            state = self._warmth.get(served.path)
            if state is None or isinstance(state, Exception):  # a failure is tried again
                self._warmth[served.path] = _WARMING
                threading.Thread(target=self._warm, args=(served.path,), daemon=True).start()
            earlier = [w for w in self._warmth.values() if isinstance(w, Warmed)]
        if isinstance(state, Warmed):
            return state
        # once ready, a process stays ready while it warms up a newly promoted version: all
        # replicas taken out of rotation at each promotion would be an outage
        if earlier:
            return earlier[-1]
        if isinstance(state, Exception):
            raise ApiError(503, f"the served index could not be warmed up: {state}")
        return None

    def _warm(self, path: str) -> None:
        try:
            state = warm(self.current().index)
        except Exception as exc:  # noqa: BLE001 - reported by the next /readyz
            logger.warning("warm-up of %s failed: %s", path, exc)
            state = exc
        with self._lock:
            self._warmth[path] = state

    def llm(self) -> LLMConfig | None:
        s = self.settings
        return LLMConfig.configured(s.llm_url, s.llm_model, s.llm_api_key)
