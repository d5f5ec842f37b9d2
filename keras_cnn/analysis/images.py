"""Read an uploaded picture for a model: checked before decoding, oriented, scaled, fitted.

Framework-free (Pillow and NumPy). :func:`read_image` is what the Look inside page calls on an
upload:

* **Size first.** ``Image.open`` reads only the header, so a picture of more than
  :data:`MAX_PIXELS` (25 megapixels, e.g. 5000x5000) or a file of more than
  :data:`MAX_UPLOAD_MB` is refused before a pixel is decoded: a 0.5 MB PNG of 13000x13000
  would otherwise take 0.5 GB decoded and several GB as floats.
* **One line for what is wrong**: not a PNG or JPEG (a text file named ``.png``), damaged or cut
  short (a truncated JPEG), too large. :class:`ImageError` is a ``ValueError``.
* **EXIF orientation** is honoured (``ImageOps.exif_transpose``'s table, applied to the fitted
  picture): a phone photo taken upright is fed upright.
* **16-bit pictures** are scaled by their full range (65535), not clipped to 0/255.
* **Transparency** is composited on white, as a browser shows it.
* **Fitting: centre crop.** The largest centred region with the model's aspect ratio is cut out
  and resized (Pillow's antialiased bilinear) to the model's input: nothing is stretched and
  no bars the model never saw are added. :attr:`FittedImage.description` says what was done,
  e.g. ``"200x160 → centre-cropped to 160x160, resized to 32x32"``.

Example:

    >>> fitted = read_image(open("cat.jpg", "rb").read(), (224, 224, 3), name="cat.jpg")  # doctest: +SKIP
    >>> fitted.pixels.shape, fitted.description  # a photo of one's own  # doctest: +SKIP
    ((224, 224, 3), '4032x3024 → centre-cropped to 3024x3024, resized to 224x224')
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np

MAX_PIXELS = 25_000_000
"""Largest picture read, in pixels (25 megapixels: a 24-megapixel camera's 6000x4000 fits)."""

MAX_UPLOAD_MB = 20
"""Largest file read, in megabytes (a 25-megapixel JPEG is some 10 MB)."""

FORMATS = ("PNG", "JPEG")
"""Formats read (Pillow names); the rest of Pillow's formats are not opened at all."""

_SIXTEEN_BIT = 65535.0

_BOMB = re.compile(r"\((\d+) pixels\)")


class ImageError(ValueError):
    """A picture that cannot be read; the message is one line for the learner."""


@dataclass(frozen=True)
class FittedImage:
    """A picture fitted to a model's input.

    Attributes:
        pixels: float32 array ``(height, width, channels)`` in [0, 1], the model's input size.
        size: ``(width, height)`` of the picture as shown (after its EXIF orientation).
        crop: ``(left, top, right, bottom)`` of the centred region kept, in those pixels.
        rotated: Whether the EXIF orientation turned or flipped the picture.
        depth: Bits per channel of the file (8 or 16).
    """

    pixels: np.ndarray
    size: tuple[int, int]
    crop: tuple[int, int, int, int]
    rotated: bool
    depth: int

    @property
    def description(self) -> str:
        """How the picture was fitted, e.g. ``"200x160 → centre-cropped to 160x160, resized
        to 32x32"``."""
        width, height = self.size
        left, top, right, bottom = self.crop
        out_h, out_w = self.pixels.shape[:2]
        steps = []
        if self.rotated:
            steps.append("turned upright (EXIF)")
        if (right - left, bottom - top) != (width, height):
            steps.append(f"centre-cropped to {right - left}x{bottom - top}")
        if (right - left, bottom - top) != (out_w, out_h):
            steps.append(f"resized to {out_w}x{out_h}")
        if self.depth == 16:
            steps.append("16-bit scaled to [0, 1]")
        return f"{width}x{height} → " + (", ".join(steps) if steps else "used as it is")


def centre_crop(size: tuple[int, int], aspect: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest centred box of ``size = (width, height)`` with the aspect ``(width,
    height)``.

    Args:
        size: ``(width, height)`` of the picture.
        aspect: ``(width, height)`` whose ratio the box must have.

    Returns:
        ``(left, top, right, bottom)``.
    """
    width, height = size
    want_w, want_h = aspect
    if width * want_h > height * want_w:  # too wide: keep the full height
        crop_w, crop_h = max(1, round(height * want_w / want_h)), height
    else:
        crop_w, crop_h = width, max(1, round(width * want_h / want_w))
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    return left, top, left + crop_w, top + crop_h


def _open(data: bytes, name: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as error:
        found = _BOMB.search(str(error))
        pixels = f"{int(found.group(1)) / 1e6:,.0f} megapixels" if found else "too many pixels"
        raise _too_large(name, pixels) from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not a PNG or JPEG picture, whatever its name says") from None
    except OSError as error:  # a header cut short
        raise ImageError(f"{name} is damaged: {error}") from None
    width, height = picture.size
    if width < 1 or height < 1:
        raise ImageError(f"{name} has no pixels ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise _too_large(name, f"{width}x{height} = {width * height / 1e6:,.0f} megapixels")
    return picture


def _too_large(name: str, what: str) -> ImageError:
    return ImageError(
        f"{name} is {what}; pictures of at most {MAX_PIXELS / 1e6:.0f} megapixels (e.g. "
        "5000x5000) are read: scale it down first"
    )


#: EXIF orientation -> the transpose that makes the picture upright (``ImageOps.exif_transpose``'s
#: table); applied to the fitted picture, so no full-size copy is made to turn a photo.
_UPRIGHT = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE"}
_UPRIGHT |= {6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}


def _prepared(picture):
    """The picture in a mode Pillow resizes well: L, RGB, LA, RGBA or a 16-bit grey mode."""
    mode = picture.mode
    if mode in ("L", "RGB", "LA", "RGBA") or mode.startswith("I;16"):
        return picture
    if mode == "1":
        return picture.convert("L")
    if mode in ("P", "PA"):
        return picture.convert("RGBA" if "transparency" in picture.info or mode == "PA" else "RGB")
    if mode in ("I", "F"):
        return picture.convert("F")
    return picture.convert("RGB")  # CMYK, YCbCr, LAB, HSV


def _to_pixels(small, channels: int) -> np.ndarray:
    """A small fitted picture as float32 ``(height, width, channels)`` in [0, 1]."""
    from PIL import Image

    if small.mode in ("LA", "RGBA"):  # transparency on white, as a browser shows it
        white = Image.new("RGBA", small.size, (255, 255, 255, 255))
        small = Image.alpha_composite(white, small.convert("RGBA")).convert("RGB")
    if small.mode in ("L", "RGB"):
        pixels = np.asarray(small.convert("L" if channels == 1 else "RGB"), np.float32) / 255.0
    else:  # 16-bit grey: the file's full range is [0, 65535]
        pixels = np.asarray(small, np.float32) / _SIXTEEN_BIT
    pixels = np.clip(pixels, 0.0, 1.0)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.shape[-1] != channels:
        pixels = np.repeat(pixels, channels, axis=-1)
    return pixels


def read_image(
    data: bytes, shape: tuple[int, int, int], *, name: str = "the picture"
) -> FittedImage:
    """Read a PNG or JPEG and fit it to a model's input (centre crop, then resize).

    Args:
        data: The file's bytes.
        shape: ``(height, width, channels)`` of the model's input; channels 1 or 3.
        name: The file name, for messages.

    Returns:
        The fitted picture, float32 in [0, 1], and how it was fitted.

    Raises:
        ImageError: If the file is larger than :data:`MAX_UPLOAD_MB`, not a PNG or JPEG,
            damaged, or has more than :data:`MAX_PIXELS` pixels (checked before decoding).
        ValueError: If ``shape`` is not ``(height, width, 1 or 3)``.
    """
    from PIL import Image

    height, width, channels = shape
    if channels not in (1, 3) or height < 1 or width < 1:
        raise ValueError(f"shape must be (height, width, 1 or 3). Received: shape={shape}")
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise ImageError(
            f"{name} is {len(data) / 2**20:.0f} MB; files of at most {MAX_UPLOAD_MB} MB are read"
        )
    picture = _open(data, name)
    depth = 16 if picture.mode.startswith("I;16") or picture.mode == "I" else 8
    try:
        orientation = picture.getexif().get(0x0112, 1)  # EXIF Orientation
        turn = _UPRIGHT.get(orientation)
        turned = orientation in (5, 6, 7, 8)
        raw_w, raw_h = picture.size
        upright = (raw_h, raw_w) if turned else (raw_w, raw_h)
        crop = centre_crop(upright, (width, height))  # what the learner sees, upright
        target = (height, width) if turned else (width, height)  # the same, before turning
        if picture.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 when that still suffices
            box = centre_crop(picture.size, target)
            scale = max(target[0] / (box[2] - box[0]), target[1] / (box[3] - box[1]))
            picture.draft(picture.mode, (max(1, int(raw_w * scale)), max(1, int(raw_h * scale))))
        picture = _prepared(picture)
        small = picture.resize(
            target, Image.Resampling.BILINEAR, box=centre_crop(picture.size, target)
        )
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
        raise ImageError(f"{name} is damaged or cut short ({error})") from None
    if turn is not None:
        small = small.transpose(getattr(Image.Transpose, turn))
    return FittedImage(_to_pixels(small, channels), upright, crop, turn is not None, depth)
