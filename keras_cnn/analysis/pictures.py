"""Pictures of what a network computes, as RGB ``uint8`` arrays that show themselves.

:func:`to_image` colours any map (a feature map, a heat map, a preprocessed input) with an
embedded colour map, :func:`tile` lays maps out in a grid, :func:`overlay` blends a heat map
over an image, :func:`draw_box` outlines a receptive field and :func:`first_layer_filters`
shows the first convolution's kernels. No plotting library is needed.

Every result is a :class:`Picture`: a numpy array (index it, ``np.asarray`` it, hand it to
``st.image`` or matplotlib as before) that a notebook displays as an image
(``_repr_png_``), as ``keras_cnn.show`` does for diagrams, and that ``.save("x.png")`` writes.

Example:
    >>> picture = to_image(np.random.rand(8, 8), size=64)   # displays itself in Jupyter
    >>> picture.shape, picture.dtype
    ((64, 64, 3), dtype('uint8'))
    >>> picture.save("map.png")
    PosixPath('map.png')
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np


class Picture(np.ndarray):
    """A numpy array that is a picture: it displays itself in a notebook and saves as PNG.

    An RGB ``uint8`` ``(H, W, 3)`` array is shown as it is; any other 2-D or ``(H, W, 1|3)``
    array (a :func:`tile` grid of raw maps, the float kernels of :func:`first_layer_filters`)
    through :func:`to_image`. Slices and arithmetic stay Pictures (a 1-D slice simply has
    no image to show), reductions to one value are numbers; ``np.asarray(picture)`` is the
    plain array.
    """

    def __new__(cls, array) -> Picture:
        return np.asarray(array).view(cls)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if return_scalar or np.ndim(array) == 0:  # picture.max(): a number, not a 0-d Picture
            return np.asarray(array)[()]
        return super().__array_wrap__(array, context, return_scalar)

    def _rgb(self) -> np.ndarray | None:
        array = np.asarray(self)
        if array.dtype == np.uint8 and array.ndim == 3 and array.shape[-1] == 3:
            return array
        if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (1, 3)):
            return np.asarray(to_image(array))
        return None

    def png(self) -> bytes:
        """The picture as PNG bytes.

        Raises:
            ValueError: If the array is no picture (not ``(H, W)`` or ``(H, W, 1|3)``).
        """
        rgb = self._rgb()
        if rgb is None or rgb.size == 0:
            raise ValueError(
                f"A Picture must be (H, W), (H, W, 1) or (H, W, 3) to be drawn. Received: "
                f"shape={self.shape}"
            )
        return _png(rgb)

    def _repr_png_(self) -> bytes | None:
        rgb = self._rgb()
        return None if rgb is None or rgb.size == 0 else _png(rgb)

    def save(self, path) -> Path:
        """Write the picture as a PNG file.

        Args:
            path: str or Path. A ``.png`` file name.

        Returns:
            The path written.

        Raises:
            ValueError: For another extension, or an array that is no picture.
        """
        path = Path(path)
        if path.suffix.lower() != ".png":
            raise ValueError(f"Picture.save writes .png files. Received: path={str(path)!r}")
        path.write_bytes(self.png())
        return path


def _png(rgb: np.ndarray) -> bytes:
    """An RGB ``uint8`` array as a PNG file (8-bit truecolour, no filter), by zlib alone."""
    height, width, _ = rgb.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(np.ascontiguousarray(rows).tobytes(), 6))
        + chunk(b"IEND", b"")
    )


#: Colour maps as 9 evenly spaced RGB anchors (viridis and inferno from matplotlib).
COLORMAPS: dict[str, np.ndarray] = {
    "viridis": np.array(
        [
            [68, 1, 84],
            [71, 44, 122],
            [59, 81, 139],
            [44, 113, 142],
            [33, 144, 141],
            [39, 173, 129],
            [92, 200, 99],
            [170, 220, 50],
            [253, 231, 37],
        ],
        np.float32,
    ),
    "inferno": np.array(
        [
            [0, 0, 4],
            [31, 12, 72],
            [85, 15, 109],
            [136, 34, 106],
            [186, 54, 85],
            [227, 89, 51],
            [249, 140, 10],
            [249, 201, 50],
            [252, 255, 164],
        ],
        np.float32,
    ),
    "gray": np.array([[0, 0, 0], [255, 255, 255]], np.float32),
}


def _scale(array: np.ndarray, vmin=None, vmax=None) -> np.ndarray:
    lo = float(np.min(array)) if vmin is None else vmin
    hi = float(np.max(array)) if vmax is None else vmax
    return np.clip((array - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(array)


def to_image(
    array,
    cmap: str = "viridis",
    *,
    size: int | tuple[int, int] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Picture:
    """Any map or image as an RGB ``uint8`` picture.

    A 2-D array (a feature map, a heat map) is scaled to [``vmin``, ``vmax``] (default: its
    own minimum and maximum) and coloured with ``cmap``; an ``(H, W, 1)`` image is grey and an
    ``(H, W, 3)`` image is scaled as a whole (a preprocessed input becomes visible again).
    NaN pixels (the gaps of :func:`tile`) are white.

    Args:
        array: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``.
        cmap: one of :data:`COLORMAPS`. Defaults to ``"viridis"``.
        size: optional int or ``(height, width)``: enlarge by repeating pixels (nearest
            neighbour, so every unit stays a visible square) to at least this size.
        vmin: optional lower end of the scale.
        vmax: optional upper end of the scale.

    Returns:
        ``(H', W', 3)`` ``uint8`` :class:`Picture`.

    Raises:
        ValueError: for another shape or an unknown colour map.
    """
    if cmap not in COLORMAPS:
        raise ValueError(f"`cmap` must be one of {sorted(COLORMAPS)}. Received: {cmap=}")
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 3 and a.shape[-1] == 1:
        a, cmap = a[..., 0], "gray"
    gaps = np.isnan(a).any(axis=-1) if a.ndim == 3 else np.isnan(a)
    if gaps.any():  # the gaps of a tile() grid: white
        a = np.where(np.isnan(a), np.nanmin(a) if (~np.isnan(a)).any() else 0.0, a)
    if a.ndim == 2:
        t = _scale(a, vmin, vmax)
        anchors = COLORMAPS[cmap]
        position = t * (len(anchors) - 1)
        low = np.floor(position).astype(int).clip(0, len(anchors) - 2)
        frac = (position - low)[..., None]
        rgb = anchors[low] * (1 - frac) + anchors[low + 1] * frac
    elif a.ndim == 3 and a.shape[-1] == 3:
        rgb = _scale(a, vmin, vmax) * 255
    else:
        raise ValueError(
            f"`array` must be (H, W), (H, W, 1) or (H, W, 3). Received: shape={a.shape}"
        )
    picture = np.rint(rgb).astype(np.uint8)
    picture[gaps] = 255
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else size
        factor = max(1, math.ceil(height / picture.shape[0]), math.ceil(width / picture.shape[1]))
        picture = picture.repeat(factor, axis=0).repeat(factor, axis=1)
    return Picture(picture)


def tile(
    maps, columns: int | None = None, *, pad: int = 1, fill: float = np.nan, scale: bool = False
) -> Picture:
    """Lay out ``(count, h, w[, 3])`` maps in a grid, ``pad`` pixels apart.

    Args:
        maps: a stack of 2-D maps or RGB tiles.
        columns: optional int; defaults to a near-square grid.
        pad: int. Gap between tiles. Defaults to 1.
        fill: value of the gaps; defaults to NaN (white in :func:`to_image`).
        scale: bool. Scale each map to [0, 1] on its own (each channel's own contrast).
            Defaults to False.

    Returns:
        One float :class:`Picture` ``(rows*(h+pad)-pad, columns*(w+pad)-pad[, 3])`` (shown
        through :func:`to_image`).
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim not in (3, 4) or len(maps) == 0:
        raise ValueError(
            f"`maps` must be a non-empty (count, h, w[, 3]) stack. Received: {maps.shape}"
        )
    count, h, w = maps.shape[:3]
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    if scale:
        maps = np.stack([_scale(m) for m in maps])
    grid = np.full((rows * (h + pad) - pad, columns * (w + pad) - pad, *maps.shape[3:]), fill)
    for i, m in enumerate(maps):
        r, c = divmod(i, columns)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = m
    return Picture(grid.astype(np.float32))


def top_channels(maps: np.ndarray, count: int = 8) -> np.ndarray:
    """The indices of the ``count`` most active channels of one ``(h, w, C)`` map (by mean).

    Args:
        maps: ``(h, w, C)`` activations of one image.
        count: int. How many channels. Defaults to 8.

    Returns:
        Channel indices, most active first.
    """
    means = np.asarray(maps).reshape(-1, np.shape(maps)[-1]).mean(axis=0)
    return np.argsort(-means, kind="stable")[:count]


def first_layer_filters(model, *, pad: int = 1) -> Picture:
    """The first convolution's kernels as one picture grid, each kernel scaled on its own.

    RGB kernels are shown in colour, one-channel (or other) kernels in grey (their mean over
    the input channels).

    Args:
        model: keras.Model. Its first ``Conv2D`` is shown.
        pad: int. Gap between kernels. Defaults to 1.

    Returns:
        ``(H, W, 3)`` float :class:`Picture` in [0, 1]; :func:`to_image` makes it ``uint8``.

    Raises:
        ValueError: if the model has no ``Conv2D``.
    """
    import keras  # here, so that the pictures themselves need no framework

    conv = next((op for op in model.layers if isinstance(op, keras.layers.Conv2D)), None)
    if conv is None:
        raise ValueError(f"Model {model.name!r} has no Conv2D layer.")
    kernel = keras.ops.convert_to_numpy(conv.kernel)  # (kh, kw, cin, cout)
    kernel = np.moveaxis(kernel, -1, 0)
    if kernel.shape[-1] != 3:
        kernel = np.repeat(kernel.mean(axis=-1, keepdims=True), 3, axis=-1)
    scaled = np.stack([_scale(k) for k in kernel])
    return tile(scaled, pad=pad, fill=1.0)


def _rgb(image) -> np.ndarray:
    image = np.asarray(image)  # a Picture too: its plain array
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3:
        return image
    return to_image(image)


def overlay(image, heat, *, alpha: float = 0.7, cmap: str = "inferno") -> Picture:
    """A heat map (``(H, W)``, e.g. :func:`grad_cam`) coloured and blended over an image.

    Each pixel's blend weight grows with its heat (``alpha * heat / max(heat)``), so where
    the heat is zero the image shows unchanged.

    Args:
        image: ``(H, W, C)`` model input (any scale) or RGB ``uint8``, possibly enlarged by
            :func:`to_image` (``size=``) to a whole multiple of the heat map's size.
        heat: ``(h, w)`` non-negative map; ``(H, W)`` or a whole fraction of it.
        alpha: float. Weight of the hottest pixel's colour. Defaults to 0.7.
        cmap: colour map of the heat. Defaults to ``"inferno"``.

    Returns:
        ``(H, W, 3)`` ``uint8`` :class:`Picture`.

    Raises:
        ValueError: if the sizes do not fit.
    """
    base = _rgb(image).astype(np.float32)
    heat = np.asarray(heat, np.float32)
    factor = base.shape[0] // max(heat.shape[0], 1)
    if heat.ndim != 2 or factor < 1 or heat.shape[0] * factor != base.shape[0]:
        factor = 0
    heat = heat.repeat(factor, axis=0).repeat(factor, axis=1) if factor else heat
    if heat.shape != base.shape[:2]:
        raise ValueError(
            f"`heat` must have the image's size {base.shape[:2]} or a whole fraction of it. "
            f"Received: heat.shape={heat.shape}"
        )
    peak = float(heat.max()) or 1.0
    colour = to_image(heat, cmap, vmin=0.0, vmax=peak).astype(np.float32)
    weight = alpha * np.clip(heat / peak, 0, 1)[..., None]
    return Picture(np.rint(base * (1 - weight) + colour * weight).astype(np.uint8))


def draw_box(
    image, box: tuple[int, int, int, int], *, colour=(255, 64, 64), width: int = 1
) -> Picture:
    """Draw a ``(top, left, bottom, right)`` box (bottom and right exclusive) on an image.

    Args:
        image: ``(H, W, C)`` model input or RGB ``uint8``.
        box: from :func:`receptive_field_box`.
        colour: RGB. Defaults to red.
        width: int. Line width in pixels. Defaults to 1.

    Returns:
        A new ``(H, W, 3)`` ``uint8`` picture.
    """
    picture = _rgb(image).copy()
    top, left, bottom, right = box
    c = np.asarray(colour, np.uint8)
    picture[top : top + width, left:right] = c
    picture[max(bottom - width, top) : bottom, left:right] = c
    picture[top:bottom, left : left + width] = c
    picture[top:bottom, max(right - width, left) : right] = c
    return Picture(picture)
