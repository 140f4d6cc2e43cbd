"""A tiny documents folder with a prebuilt hashing-encoder index, as the app's DOCSEARCH_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DOCS = {
    "it/vpn-setup.md": "# VPN setup on Windows\n\nInstall the WireGuard client and import the "
    "configuration file from the IT portal. Error 809 means the firewall blocks UDP port 51820. "
    "Ask the service desk to open the port if the error persists.",
    "hr/parental-leave.md": "# Parental leave policy\n\nEmployees receive sixteen weeks of paid "
    "parental leave after the birth or adoption of a child. Leave can be split into two blocks "
    "within the first year.",
    "hr/contractors.txt": "Contractor handbook\n\nContractors are not eligible for paid parental "
    "leave. Contractors may take up to four weeks of unpaid leave agreed with their manager.",
    "finance/expenses.txt": "Expense reimbursement\n\nSubmit receipts within thirty days through "
    "the finance portal. Meals while travelling are reimbursed up to 60 euros per day.",
    # plain text keeps markup verbatim (the Markdown and HTML parsers would strip it)
    "notes/release.txt": "Release <script>alert('owned')</script> notes\n\nThe release adds "
    "<img src=x onerror=alert(1)> telemetry dashboards for the robot fleet.",
}


def build_app_home(home: Path, docs: Path) -> str:
    """Write DOCS under ``docs`` and build the default index under ``home``; returns its version."""
    from search.config import IndexConfig
    from search.encoding import HashingEncoder
    from search.index import IndexStore, build_and_store
    from search.ingest import load_folder
    from search.settings import Settings

    for rel, text in DOCS.items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    os.utime(docs / "finance/expenses.txt", (1_600_000_000, 1_600_000_000))  # 2020-09-13
    settings = Settings(home=home, docs=docs, model="hashing-128")
    config = IndexConfig(model="hashing-128", chunk_tokens=64, chunk_overlap=8)
    report = load_folder(docs)
    assert len(report.documents) == len(DOCS), report.rejected
    built = build_and_store(
        report.documents, config, HashingEncoder(128), settings, IndexStore(settings.index_root())
    )
    return built.version


@pytest.fixture
def app_home(home, tmp_path, monkeypatch):
    """DOCSEARCH_HOME with a built index; the environment the app reads."""
    import streamlit as st

    docs = tmp_path / "docs"
    version = build_app_home(home, docs)
    monkeypatch.setenv("DOCSEARCH_DOCS", str(docs))
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    for name in ("DOCSEARCH_FEEDBACK_URL", "DOCSEARCH_LLM_URL", "DOCSEARCH_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield {"home": home, "docs": docs, "version": version}
    st.cache_data.clear()
    st.cache_resource.clear()
