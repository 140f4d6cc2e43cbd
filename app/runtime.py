"""What every page shares: settings, the served index (re-resolved every 30 s), the feedback store."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lifecycle.feedback import FeedbackStore
from search.chat import LLMConfig
from search.chunking import Chunk
from search.encoding import Encoder, load_encoder
from search.index import IndexStore, SearchIndex, read_manifest
from search.settings import Settings

logger = logging.getLogger(__name__)

CHAMPION_TTL_S = 30  # how often a new MLflow champion is looked for
FROM_REGISTRY = "MLflow champion"  # where the served version came from (shown in the sidebar)
FROM_LOCAL_STORE = "newest local index"


@dataclass(frozen=True)
class Serving:
    """Which index version answers, where it is, and how it was chosen."""

    version: str  # the index version folder: what feedback rows and monitoring name
    path: str
    source: str  # FROM_REGISTRY or FROM_LOCAL_STORE
    label: str = ""  # e.g. "docsearch-index v3" for a registered champion
    note: str = ""  # why the registry was not used, when it was not


def settings() -> Settings:
    return Settings.from_env()


@st.cache_data(ttl=CHAMPION_TTL_S, show_spinner=False)
def resolve_serving(home: str, index_root: str) -> Serving | None:
    """The MLflow champion when the registry answers, else the local CURRENT (or newest) version.

    Cached for CHAMPION_TTL_S per (home, index root), so a promotion is picked up within that
    time without a restart; the index itself is cached by version in ``load_index``.
    """
    note = ""
    try:
        from lifecycle.registry import resolve_champion

        champion = resolve_champion(settings())
        if champion:
            label, path = champion
            path = Path(path)
            # a champion still in its IndexStore keeps its folder name, so feedback logged
            # under it lines up with the same index served as the local fallback
            version = path.name if path.parent.name == "versions" else str(label)
            return Serving(version, str(path), FROM_REGISTRY, str(label))
        note = "no MLflow champion yet"
    except ImportError:
        note = "no model registry is installed"
    except Exception as exc:  # noqa: BLE001 - an unreachable registry must not stop search
        logger.warning("champion lookup failed: %s", exc)
        note = f"the MLflow registry could not be read ({type(exc).__name__})"
    store = IndexStore(index_root)
    version = store.current() or (store.versions() or [None])[-1]
    if version is None:
        return None
    return Serving(version, str(store.path(version)), FROM_LOCAL_STORE, note=note)


@st.cache_resource(show_spinner="Loading the encoder…")
def load_model(model_id: str) -> Encoder:
    return load_encoder(model_id)


@st.cache_resource(show_spinner="Loading the index…", max_entries=3)
def load_index(version: str, path: str) -> SearchIndex:
    """One SearchIndex per version, loaded once and shared by every session."""
    model_id = read_manifest(path)["model"]["id"]
    return SearchIndex.load(path, load_model(model_id))


@st.cache_resource(max_entries=3)
def chunk_map(version: str, path: str) -> dict[str, Chunk]:
    return {c.id: c for c in load_index(version, path).chunks}


@st.cache_resource
def feedback_store(url: str) -> FeedbackStore:
    return FeedbackStore(url)


def serving() -> Serving | None:
    s = settings()
    return resolve_serving(str(s.home), str(s.index_root()))


def current_index() -> tuple[Serving, SearchIndex]:
    """The served version and its index; stops the page with an explanation when there is none."""
    served = serving()
    if served is None:
        st.warning(
            "No index has been built yet. Run `make run` or `.venv/bin/docsearch build`, "
            "then reload this page."
        )
        st.stop()
    return served, load_index(served.version, served.path)


def store() -> FeedbackStore:
    return feedback_store(settings().feedback_url)


def llm() -> LLMConfig | None:
    s = settings()
    return LLMConfig.configured(s.llm_url, s.llm_model, s.llm_api_key)


def session_id() -> str:
    if "session_id" not in st.session_state:
        st.session_state.session_id = uuid.uuid4().hex
    return st.session_state.session_id


def document_text(index: SearchIndex, doc_id: str) -> str:
    """A document's text rebuilt from its chunks (overlaps removed), in order."""
    parts, end = [], 0
    for chunk in sorted((c for c in index.chunks if c.doc_id == doc_id), key=lambda c: c.position):
        skip = max(0, end - chunk.start)
        if parts and chunk.start > end:
            parts.append("\n")
        parts.append(chunk.text[skip:])
        end = max(end, chunk.end)
    return "".join(parts)


def original_file(doc_id: str, metadata: dict) -> Path | None:
    """The document's file under the documents folder, if it is there (and inside it)."""
    root = settings().docs.resolve()
    candidate = (root / str(metadata.get("path", doc_id))).resolve()
    if candidate.is_file() and candidate.is_relative_to(root):
        return candidate
    return None


def sidebar(served: Serving | None) -> None:
    with st.sidebar:
        if served is None:
            st.caption("No index is being served yet.")
            return
        st.caption("Serving index version")
        st.code(served.version, language=None)
        source = f"{served.source}: {served.label}" if served.label else served.source
        st.caption(f"Source: {source}" + (f" ({served.note})" if served.note else ""))
        mode = llm()
        st.caption(
            f"Chat answers: generated by {mode.model}" if mode else "Chat answers: extractive"
        )
