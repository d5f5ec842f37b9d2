"""Pictures from keras_cnn.inside display themselves in a notebook and save as PNG, while
staying numpy arrays (issue 25, item 3; issue 19, item 12)."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest

from keras_cnn import inside
from keras_cnn.analysis import pictures

PNG = b"\x89PNG\r\n\x1a\n"


def decode(png: bytes) -> np.ndarray:
    """The RGB pixels of a PNG written by pictures._png (8-bit truecolour, filter 0)."""
    assert png.startswith(PNG)
    chunks, at = {}, 8
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        crc = int.from_bytes(png[at + 8 + length : at + 12 + length], "big")
        assert zlib.crc32(kind + data) == crc, kind
        chunks.setdefault(kind, b"")
        chunks[kind] += data
        at += 12 + length
    width, height = (
        int.from_bytes(chunks[b"IHDR"][:4], "big"),
        int.from_bytes(chunks[b"IHDR"][4:8], "big"),
    )
    assert chunks[b"IHDR"][8:10] == bytes([8, 2])  # 8 bits, RGB
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + 3 * width)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, 3)


def _every_picture():
    rng = np.random.default_rng(0)
    image = rng.random((8, 8, 3)).astype(np.float32)
    heat = rng.random((4, 4)).astype(np.float32)
    return {
        "to_image": inside.to_image(heat, size=16),
        "tile": inside.tile(rng.random((5, 3, 3))),
        "overlay": inside.overlay(image, heat),
        "draw_box": inside.draw_box(image, (1, 1, 5, 6)),
    }


@pytest.mark.parametrize("name", ["to_image", "tile", "overlay", "draw_box"])
def test_pictures_display_themselves_and_stay_arrays(name, tmp_path):
    picture = _every_picture()[name]
    assert isinstance(picture, np.ndarray) and isinstance(picture, inside.Picture)
    png = picture._repr_png_()
    pixels = decode(png)
    expected = (
        np.asarray(picture) if picture.dtype == np.uint8 else np.asarray(inside.to_image(picture))
    )
    np.testing.assert_array_equal(pixels, expected)
    assert picture.save(tmp_path / "x.png").read_bytes() == png
    # still a plain array for numpy, Streamlit and matplotlib
    assert type(np.asarray(picture)) is np.ndarray
    assert isinstance(np.nanmax(picture), np.number) and isinstance(picture.sum(), np.number)
    assert picture[0].ndim == picture.ndim - 1


def test_first_layer_filters_are_a_picture():
    import keras_cnn

    kernels = inside.first_layer_filters(keras_cnn.build_lenet5())
    assert isinstance(kernels, inside.Picture) and kernels.shape == (11, 17, 3)  # 6 of 5x5: 2 x 3
    assert decode(kernels._repr_png_()).shape == (11, 17, 3)


def test_what_is_no_picture_is_said():
    assert pictures.Picture(np.zeros(4))._repr_png_() is None  # IPython falls back to repr
    with pytest.raises(ValueError, match=r"\(H, W\), \(H, W, 1\) or \(H, W, 3\).*shape=\(4,\)"):
        pictures.Picture(np.zeros(4)).png()
    with pytest.raises(ValueError, match=r"writes \.png files.*x\.jpg"):
        inside.to_image(np.zeros((2, 2))).save("x.jpg")


def test_pillow_reads_the_png():
    image = pytest.importorskip("PIL.Image")
    picture = inside.to_image(np.arange(12.0).reshape(3, 4), size=8)
    read = np.asarray(image.open(io.BytesIO(picture._repr_png_())).convert("RGB"))
    np.testing.assert_array_equal(read, np.asarray(picture))


def test_a_jupyter_kernel_shows_a_picture_as_an_image():
    """A real kernel: the cell's result is a display with image/png, as for show()."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\n"
            "from keras_cnn.analysis.pictures import to_image\n"
            "to_image(np.linspace(0, 1, 16).reshape(4, 4), size=8)"
        )
    ]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    (output,) = notebook.cells[0].outputs
    assert output.output_type == "execute_result"
    assert "image/png" in output.data and "text/plain" in output.data
    import base64

    pixels = decode(base64.b64decode(output.data["image/png"]))
    np.testing.assert_array_equal(
        pixels, np.asarray(inside.to_image(np.linspace(0, 1, 16).reshape(4, 4), size=8))
    )
