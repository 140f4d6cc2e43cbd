"""docsearch app entry point: `streamlit run app/streamlit_app.py` from the repository root."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # streamlit puts app/ on the path, not the repository root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import runtime  # noqa: E402
from search.settings import LIBRARY_ENVIRONMENT  # noqa: E402

for _name, _value in LIBRARY_ENVIRONMENT.items():  # before any model library is imported
    os.environ.setdefault(_name, _value)

st.set_page_config(page_title="docsearch", page_icon=":material/search:", layout="wide")
reader = runtime.reader()  # the sign-in page, and a stop, when nobody is signed in
runtime.sidebar(runtime.serving(), reader)
pages = [
    st.Page("views/search.py", title="Search", icon=":material/search:", default=True),
    st.Page("views/chat.py", title="Chat", icon=":material/chat:", url_path="chat"),
    st.Page("views/document.py", title="Document", url_path="document", visibility="hidden"),
]
if reader.admin:  # everyone's traffic is personal data: admins only
    pages.insert(
        2,
        st.Page(
            "views/monitoring.py",
            title="Monitoring",
            icon=":material/monitoring:",
            url_path="monitoring",
        ),
    )
st.navigation(pages).run()
