"""``make docs`` builds the documentation site with ``mkdocs build --strict``: broken links,
missing pages, unresolved API references and docstrings griffe cannot read fail it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("mkdocs")


@pytest.mark.slow
def test_site_builds_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    api = (site / "api" / "models" / "index.html").read_text(encoding="utf-8")
    assert "build_resnet" in api and "build_vgg" in api  # generated from the docstrings
    page = (site / "notebooks" / "03_vgg_receptive_fields" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "receptive_field" in page and "data:image/png;base64" in page  # rendered with outputs


def test_every_page_is_in_the_navigation():
    """mkdocs only informs about pages left out of the nav; a page nobody can reach fails here."""
    import re

    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w/.-]+\.(?:md|ipynb))\s*$", nav, flags=re.M))
    pages = {
        p.relative_to(ROOT / "docs").as_posix()
        for p in (ROOT / "docs").rglob("*")
        if p.suffix in (".md", ".ipynb") and ".cache" not in p.parts
    }
    assert pages <= listed, f"pages missing from mkdocs.yml's nav: {sorted(pages - listed)}"
