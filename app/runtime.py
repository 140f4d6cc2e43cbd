"""What every page shares: who is signed in, the settings, the served index under the access
policy in force for its documents (the version looked up again every 30 s), the feedback store, the session.
Streamlit caching around the lifecycle layer's services.

Sign-in is Streamlit's own OpenID Connect (``st.login`` / ``st.user``, Authlib), configured in
the ``[auth]`` section of ``.streamlit/secrets.toml``; groups come from the token's
``DOCSEARCH_GROUPS_CLAIM`` claim. Without an ``[auth]`` section the app runs for one local
user, an admin, and says so on every page."""

from __future__ import annotations

import streamlit as st

from app.render import md
from lifecycle.access import PolicyStatus, current_policy, served_index
from lifecycle.feedback import FeedbackStore
from lifecycle.readers import Reader, claimed_identity, new_session, with_admin_group
from lifecycle.serving import LoadedIndexes, Serving, resolve_serving, version_name
from lifecycle.warmup import keep_sentence_vectors
from search.chat import LLMConfig
from search.index import SearchIndex
from search.settings import Settings

CHAMPION_TTL_S = 30  # how often a new MLflow champion is looked for
LOCAL_NAME = "local"
LOCAL_NOTE = "Signed in as the local user: no identity provider is configured."


def settings() -> Settings:
    return Settings.from_env()


@st.cache_data(ttl=CHAMPION_TTL_S, show_spinner=False)
def _serving(home: str, index_root: str) -> Serving | None:
    """Cached per home and index for CHAMPION_TTL_S: a promotion is picked up within that
    time without a restart."""
    return resolve_serving(settings())


@st.cache_data(ttl=CHAMPION_TTL_S, show_spinner=False)
def version_links(index_version: str) -> dict[str, str]:
    """The MLflow run and Dagster run that built an index version (result details)."""
    from lifecycle.lineage import version_links as links

    return links(settings(), index_version)


@st.cache_resource
def _loaded() -> LoadedIndexes:
    """Indexes and encoders, loaded once per server process and shared by every session;
    chat's sentence vectors read from the home's embedding cache (the API warms it up)."""
    keep_sentence_vectors(settings())
    return LoadedIndexes()


@st.cache_resource
def _feedback_store(url: str) -> FeedbackStore:
    return FeedbackStore(url)


def serving() -> Serving | None:
    s = settings()
    return _serving(str(s.home), str(s.index_root()))


def policy() -> PolicyStatus:
    """The policy in force for the served version's documents (the configured folder's while
    nothing serves)."""
    served = serving()
    if served is None:
        return current_policy(settings())
    return served_index(settings(), _loaded(), served)[1]


def current_index() -> tuple[Serving, SearchIndex]:
    """The served version and its index carrying the access policy in force; stops the page
    with an explanation when there is none."""
    served = serving()
    if served is None:
        st.warning(
            "No index has been built yet. Run `make run` or `.venv/bin/docsearch build`, "
            "then reload this page."
        )
        st.stop()
    with st.spinner("Loading the index…"):
        return served, served_index(settings(), _loaded(), served)[0]


def store() -> FeedbackStore:
    return _feedback_store(settings().feedback_url)


@st.cache_resource(ttl=CHAMPION_TTL_S, show_spinner=False)
def _experiment(url: str, policy_hash: str | None):
    from lifecycle.experiments import ExperimentStore
    from lifecycle.experiments.live import live_experiment

    return live_experiment(settings(), ExperimentStore(store().engine), _loaded(), policy().policy)


def experiment():
    """The experiment running on live traffic (looked up again every 30 s), or None."""
    status = policy()
    return _experiment(settings().feedback_url, status.policy.hash if status.policy else None)


def llm() -> LLMConfig | None:
    s = settings()
    return LLMConfig.configured(s.llm_url, s.llm_model, s.llm_api_key)


def session_id() -> str:
    """This browser session's id, owned by the signed-in reader."""
    if "session_id" not in st.session_state:
        st.session_state.session_id = new_session(reader())
    return st.session_state.session_id


@st.cache_resource
def _identities(url: str):
    from lifecycle.identity import Identities

    return Identities(url)


def auth_provider() -> str | None:
    """The provider to sign in with: "" for the single one at the top of ``[auth]``, its name
    for a ``[auth.NAME]`` section; None when no provider is configured."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets file, or one Streamlit cannot read
        return None
    if not auth:
        return None
    if "server_metadata_url" in auth:
        return ""
    return next((name for name, value in auth.items() if hasattr(value, "keys")), None)


def reader() -> Reader:
    """Who is using the app: the signed-in person (the sign-in page and a stop when nobody
    is), or the local user when no provider is configured."""
    from lifecycle.identity import User

    s = settings()
    provider = auth_provider()
    if provider is None:
        return User(LOCAL_NAME, frozenset(), admin=True)
    if not st.user.is_logged_in:
        _sign_in_page(provider)
    name, groups = claimed_identity(st.user.to_dict(), s.name_claim, s.groups_claim)
    key = (name, tuple(sorted(groups)))
    if st.session_state.get("signed_in_as") != key:
        # a new person in this browser session: nothing of the previous one's stays
        for item in list(st.session_state.keys()):
            del st.session_state[item]
        st.session_state.signed_in_as = key
        st.session_state.reader = with_admin_group(
            _identities(s.feedback_url).sign_in(name, groups), s.admin_group
        )
    return st.session_state.reader


def _sign_in_page(provider: str) -> None:
    st.title("docsearch")
    st.write("Sign in to search the documents you may read.")
    if st.button("Sign in", type="primary"):
        st.login(provider) if provider else st.login()
    st.stop()


def sidebar(served: Serving | None, who: Reader) -> None:
    with st.sidebar:
        if auth_provider() is None:
            st.info(LOCAL_NOTE)
        else:
            groups = ", ".join(sorted(getattr(who, "groups", ()))) or "no groups"
            admin = " · admin" if who.admin else ""
            st.caption(f"Signed in as {md(who.name)} ({md(groups)}){admin}")
            if st.button("Sign out"):
                st.logout()
        status = policy()
        if status.error and who.admin:
            st.error(status.error)
        if served is None:
            st.caption("No index is being served yet.")
            return
        st.caption(f"Index: {md(version_name(served))}")
        if who.admin:  # operator details: the folder id, where it came from, why
            with st.expander("Version details"):
                st.code(served.version, language=None)
                source = f"{served.source}: {served.label}" if served.label else served.source
                st.caption(f"Source: {source}" + (f" ({served.note})" if served.note else ""))
        mode = llm()
        st.caption(
            f"Chat answers: generated by {mode.model}" if mode else "Chat answers: extractive"
        )


@st.cache_data(ttl=CHAMPION_TTL_S, show_spinner=False)
def _version_numbers(mlflow_uri: str) -> dict[str, str]:
    from lifecycle.monitoring import version_numbers as numbers

    return numbers(settings())


def version_numbers() -> dict[str, str]:
    """Index version folder -> the registry's number ("v3"), looked up again every 30 s."""
    return _version_numbers(settings().mlflow_uri)
