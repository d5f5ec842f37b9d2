"""Build the example notebooks: each Jupytext percent script here becomes an executed ``.ipynb``.

The ``.py`` files are the sources (diffable, reviewed like code); the ``.ipynb`` files beside them
are built from them, with their outputs, into ``docs/notebooks/`` for the documentation site, the
lesson pages' download links and Colab:

    python notebooks/build.py            # all notebooks, full setting (``make notebooks``)
    python notebooks/build.py --small    # the tiny setting the test suite runs
    python notebooks/build.py 03_vgg_receptive_fields.py

Each notebook runs in a fresh Jupyter kernel (nbclient) with the notebooks folder as its working
directory; ``KERAS_CNN_NOTEBOOK_SMALL=1`` in the kernel's environment selects the tiny setting.
A cell that raises stops the build with the notebook's name and the error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "notebooks"  # where the site (mkdocs-jupyter) and Colab find them
SMALL_ENV = "KERAS_CNN_NOTEBOOK_SMALL"
TIMEOUT = 900  # seconds per cell


def sources() -> list[Path]:
    """The notebook sources, in lesson order."""
    return sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def build(source: Path, *, small: bool = False, out: Path | None = None) -> Path:
    """Execute one source in a fresh kernel and write the notebook with its outputs.

    Args:
        source: a ``NN_name.py`` percent script.
        small: run the tiny setting (what ``make test`` runs).
        out: where to write the ``.ipynb``; defaults to ``docs/notebooks/``.

    Returns:
        The written path.

    Raises:
        nbclient.exceptions.CellExecutionError: naming the cell that failed.
    """
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    previous = os.environ.get(SMALL_ENV)
    os.environ[SMALL_ENV] = "1" if small else "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow start-up chatter in outputs
    try:
        NotebookClient(
            notebook,
            timeout=TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(HERE)}},
        ).execute()
    finally:
        if previous is None:
            os.environ.pop(SMALL_ENV, None)
        else:
            os.environ[SMALL_ENV] = previous
    _drop_framework_chatter(notebook)
    target = out or OUT / source.with_suffix(".ipynb").name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


#: Lines TensorFlow and absl print on stderr at start-up (CUDA probing, CPU features): not the
#: notebook's output, so they are dropped from the saved notebook.
_CHATTER = re.compile(
    r"^(WARNING: All log messages before absl|[IWE]\d{4} \d\d:\d\d|To enable the following"
    r"|\S*\.cc:\d+\])"
)


def _drop_framework_chatter(notebook) -> None:
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = [ln for ln in output.text.splitlines(True) if not _CHATTER.match(ln)]
                if not "".join(lines).strip():
                    continue
                output.text = "".join(lines)
            kept.append(output)
        cell.outputs = kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="sources to build (default: all)")
    parser.add_argument("--small", action="store_true", help="the test suite's tiny setting")
    args = parser.parse_args(argv)
    chosen = [HERE / n for n in args.names] if args.names else sources()
    missing = [str(p) for p in chosen if not p.is_file()]
    if missing:
        print(f"no such notebook source: {', '.join(missing)}", file=sys.stderr)
        return 2
    for source in chosen:
        print(f"building {source.name} ...", flush=True)
        build(source, small=args.small)
    return 0


if __name__ == "__main__":
    sys.exit(main())
