"""The Streamlit search and chat app (entry point: ``app/streamlit_app.py``)."""
