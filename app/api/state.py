"""What every request shares: settings, the served index under the policy in force, the
feedback store, the identities, the API's conversations and its rate limiters."""

from __future__ import annotations

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
from search.chat import LLMConfig
from search.index import SearchIndex
from search.settings import Settings

CHAMPION_TTL_S = 30  # how often a new MLflow champion is looked for (as the app does)


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

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        from lifecycle.identity import Identities

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

    def llm(self) -> LLMConfig | None:
        s = self.settings
        return LLMConfig.configured(s.llm_url, s.llm_model, s.llm_api_key)
