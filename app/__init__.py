"""The Streamlit course app: `streamlit run streamlit_app.py`.

Pages live in ``app/pages`` (one script each) and in :mod:`app.lesson` (one callable page per
lesson); :mod:`app.logic` holds the pure helpers (no Streamlit, no TensorFlow) that the tests
use directly; :mod:`app.shell` and :mod:`app.views` hold the Streamlit pieces pages share.
"""
