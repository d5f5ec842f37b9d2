"""Server memory of an upload on the Look inside page: peak RSS of reading one picture.

    .venv/bin/python benchmarks/upload_memory.py [--side 5000]

Each case runs in a fresh interpreter that imports Pillow and ``keras_cnn.analysis.images``
first; the number is how far the process's peak resident memory (``ru_maxrss``) rose while it
read the picture, in MB. Cases:

* ``bomb_13000``: the issue's 13000x13000 PNG of about 0.5 MB, read by ``read_image``
  (refused from its header; the old page decoded it and grew by 6.5 GB);
* ``largest_png``: a ``side`` x ``side`` RGBA PNG (25 megapixels by default, the most
  ``read_image`` accepts), by ``read_image``, and by the reference: the old page's decode
  (``Image.open(...).convert("RGB")`` then float32), measured in the same run;
* ``largest_jpeg``: the same size as a JPEG, by ``read_image`` (decoded at a reduced scale).

Goal (issue 19, item 4): any upload raises the server's memory by less than 500 MB. Prints one
line per case and, last, a JSON object of the numbers.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 500

_COLOURS = {"L": (0, 1), "RGB": (2, 3), "RGBA": (6, 4)}  # PNG colour type, channels


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, width: int, height: int, mode: str = "RGB") -> Path:
    """A valid 8-bit PNG of a blank picture, written row by row (never held decoded).

    Args:
        path: The file to write.
        width: Pixels.
        height: Pixels.
        mode: ``"L"``, ``"RGB"`` or ``"RGBA"``.

    Returns:
        ``path``.
    """
    colour, channels = _COLOURS[mode]
    row = b"\0" * (1 + width * channels)  # filter byte 0, then the pixels
    packer = zlib.compressobj(9)
    with path.open("wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)))
        for _ in range(height):
            if data := packer.compress(row):
                fh.write(_chunk(b"IDAT", data))
        fh.write(_chunk(b"IDAT", packer.flush()))
        fh.write(_chunk(b"IEND", b""))
    return path


def write_jpeg(path: Path, width: int, height: int) -> Path:
    """A JPEG of a smooth gradient (held decoded while it is written: this process only)."""
    import numpy as np
    from PIL import Image

    ramp = np.linspace(0, 255, width, dtype=np.float32).astype(np.uint8)
    Image.fromarray(np.broadcast_to(ramp, (height, width))).convert("RGB").save(path, "JPEG")
    return path


_NEW = """
from keras_cnn.analysis.images import ImageError, read_image
try:
    read_image(data, (224, 224, 3), name="upload")
except ImageError as error:
    outcome = "refused: " + str(error)
else:
    outcome = "read"
"""

_OLD = """
import numpy as np
picture = Image.open(io.BytesIO(data)).convert("RGB")
array = np.asarray(picture, np.float32) / 255.0
outcome = "read"
"""

_CHILD = """
import io, json, resource, sys, warnings
warnings.simplefilter("ignore")
from PIL import Image
import numpy
import keras_cnn.analysis.images
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
{body}
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"mb": (after - before) / 1024, "outcome": outcome}}))
"""


def peak_rss_mb(picture: Path, reference: bool = False) -> dict:
    """How far a fresh interpreter's peak RSS rises while it reads ``picture``.

    Args:
        picture: The file.
        reference: Read it the old page's way instead of with ``read_image``.

    Returns:
        ``{"mb": float, "outcome": "read" | "refused: ..."}``.
    """
    code = _CHILD.format(body=_OLD if reference else _NEW)
    done = subprocess.run(
        [sys.executable, "-c", code, str(picture)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=5000, help="side of the largest pictures")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        bomb = write_png(folder / "bomb.png", 13000, 13000)
        png = write_png(folder / "largest.png", args.side, args.side, "RGBA")
        jpeg = write_jpeg(folder / "largest.jpg", args.side, args.side)
        cases = [
            ("bomb_13000", bomb, False),
            ("largest_png", png, False),
            ("largest_png_reference", png, True),
            ("largest_jpeg", jpeg, False),
        ]
        for name, path, reference in cases:
            result = peak_rss_mb(path, reference)
            results[name] = round(result["mb"], 1)
            size = path.stat().st_size / 2**20
            print(f"{name:<24} {size:7.1f} MB file  +{result['mb']:7.1f} MB  {result['outcome']}")
    ratio = results["largest_png_reference"] / max(results["largest_png"], 0.1)
    worst = max(v for k, v in results.items() if not k.endswith("reference"))
    verdict = "met" if worst < GOAL_MB else "NOT met"
    print(f"reference / read_image on the largest PNG: {ratio:.1f}x")
    print(f"goal +{GOAL_MB} MB for any upload: {verdict} (worst +{worst:.0f} MB)")
    results["reference_ratio"] = round(ratio, 2)
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
