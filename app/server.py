"""What ``streamlit run streamlit_app.py`` serves besides the pages: one ASGI middleware.

Opened by its address (``/model_lab``, ``/lesson-vgg``), a page's HTML makes Streamlit's
frontend look for the server first under the page's own path (``/model_lab/_stcore/health``
and ``/_stcore/host-config``), which answer 404, logged as console errors, and only then at the
root. :class:`PageAddress` answers the HTML of such a single-segment page address itself, with
one line before Streamlit's script: ``window.__streamlit.BACKEND_BASE_URL`` = the app's root, so
the frontend asks the root only. Every other request goes to Streamlit unchanged.

Imports neither Streamlit's runtime nor TensorFlow: ``streamlit_app.py`` passes
``MIDDLEWARE`` to ``st.App`` when ``streamlit run`` imports it to start the server.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

#: A page address: one path segment without a dot (files such as ``favicon.png`` have one).
PAGE_PATH = re.compile(r"^/[A-Za-z0-9_-]+$")
#: Streamlit's own single-segment routes, never a page: the sign-in's OpenID Connect callback.
STREAMLIT_ROUTES = frozenset({"/oauth2callback"})


def _base_path() -> str:
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


@cache
def page_html() -> bytes:
    """Streamlit's ``index.html`` with the backend's base URL set before its scripts run."""
    import streamlit

    index = Path(streamlit.__file__).parent / "static" / "index.html"
    html = index.read_text(encoding="utf-8")
    base = _base_path()
    script = (
        "<script>window.__streamlit=Object.assign(window.__streamlit||{},"
        f'{{BACKEND_BASE_URL:window.location.origin+"{base}/"}});</script>'
    )
    head = html.index("<head>") + len("<head>")
    return (html[:head] + script + html[head:]).encode("utf-8")


class PageAddress:
    """ASGI middleware: serve a page address's HTML so the frontend asks only the app's root."""

    def __init__(self, app) -> None:
        self.app = app
        self.base = _base_path()

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and scope.get("method") in ("GET", "HEAD")
            and path.startswith(self.base)
            and PAGE_PATH.match(path[len(self.base) :])
            and path[len(self.base) :] not in STREAMLIT_ROUTES
        ):
            body = page_html()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", b"no-cache"),
                    ],
                }
            )
            await send(
                {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
            )
            return
        await self.app(scope, receive, send)


def middleware() -> list:
    """The middleware list for ``st.App``."""
    from starlette.middleware import Middleware

    return [Middleware(PageAddress)]
