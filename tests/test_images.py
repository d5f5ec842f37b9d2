"""Uploaded pictures (issue 19, item 4): refused from the header before decoding, one line for
what is wrong, EXIF orientation, 16-bit range, transparency, and a centre crop that is said.
The peak-memory probe runs benchmarks/upload_memory.py's cases in fresh interpreters."""

from __future__ import annotations

import io
import runpy
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from keras_cnn.analysis import images
from keras_cnn.analysis.images import ImageError, read_image

BENCH = runpy.run_path(
    str(Path(__file__).resolve().parents[1] / "benchmarks" / "upload_memory.py"),
    run_name="upload_memory",
)


def encoded(picture: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> bytes:
    """The issue's picture: a valid 13000x13000 PNG of about 0.5 MB."""
    path = BENCH["write_png"](tmp_path_factory.mktemp("bomb") / "bomb.png", 13000, 13000)
    return path.read_bytes()


def test_the_13000_pixel_png_is_refused_from_its_header_before_any_decoding(bomb, monkeypatch):
    assert 0.4e6 < len(bomb) < 0.6e6

    def no_decoding(self, *args):
        raise AssertionError("the picture was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageError) as error:
        read_image(bomb, (32, 32, 1), name="big.png")
    assert str(error.value) == (
        "big.png is 13000x13000 = 169 megapixels; pictures of at most 25 megapixels "
        "(e.g. 5000x5000) are read: scale it down first"
    )


def test_a_picture_beyond_pillows_own_limit_is_refused_in_the_same_words():
    header = BENCH["_chunk"](b"IHDR", bytes.fromhex("0000753000007530 08 02 00 00 00"))
    pixels = BENCH["_chunk"](b"IDAT", zlib.compress(b""))  # 30000x30000, no pixel data
    data = b"\x89PNG\r\n\x1a\n" + header + pixels + BENCH["_chunk"](b"IEND", b"")
    with pytest.raises(ImageError, match=r"^huge.png is 900 megapixels; pictures of at most 25"):
        read_image(data, (32, 32, 3), name="huge.png")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"just some notes\n", "notes.png is not a PNG or JPEG picture"),
        (encoded(Image.new("RGB", (8, 8)), "GIF"), "notes.png is not a PNG or JPEG picture"),
        (
            encoded(Image.effect_noise((200, 160), 60).convert("RGB"), "JPEG")[:2500],
            "notes.png is damaged or cut short (image file is truncated",
        ),
        (b"\x89PNG\r\n\x1a\n\0\0", "notes.png is "),
    ],
    ids=["text", "gif", "truncated-jpeg", "cut-header"],
)
def test_what_is_wrong_is_said_in_one_line(data, message):
    with pytest.raises(ImageError) as error:
        read_image(data, (32, 32, 3), name="notes.png")
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value) and "/" not in str(error.value)  # no paths, no traceback


def test_a_file_over_the_size_limit_is_refused_before_opening(monkeypatch):
    monkeypatch.setattr(images, "MAX_UPLOAD_MB", 1)
    with pytest.raises(ImageError, match=r"^a.png is 2 MB; files of at most 1 MB are read$"):
        read_image(b"\0" * (2 << 20), (32, 32, 3), name="a.png")


def test_the_fitting_is_a_centre_crop_and_says_so():
    picture = np.zeros((160, 200, 3), np.uint8)
    picture[:, :10, 0] = picture[:, 190:, 0] = 255  # red bands in what the crop cuts off
    picture[:, 20:180, 1] = 255
    fitted = read_image(encoded(Image.fromarray(picture)), (32, 32, 3), name="x.png")
    assert fitted.description == "200x160 → centre-cropped to 160x160, resized to 32x32"
    assert fitted.crop == (20, 0, 180, 160) and fitted.pixels.shape == (32, 32, 3)
    np.testing.assert_allclose(fitted.pixels[..., 0], 0.0, atol=1e-6)  # nothing stretched in
    np.testing.assert_allclose(fitted.pixels[:, 1:-1, 1], 1.0, atol=1e-6)
    square = read_image(encoded(Image.new("L", (32, 32), 128)), (32, 32, 1))
    assert square.description == "32x32 → used as it is"
    np.testing.assert_allclose(square.pixels, 128 / 255, atol=1e-6)


def test_a_tall_model_input_crops_the_middle_rows():
    assert images.centre_crop((200, 160), (1, 2)) == (60, 0, 140, 160)
    assert images.centre_crop((100, 300), (1, 1)) == (0, 100, 100, 200)


def test_exif_orientation_is_honoured_like_imageops_exif_transpose():
    raw = np.full((40, 80), 255, np.uint8)
    raw[:, :40] = 0  # black on the left as stored; orientation 6 turns it to the top
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(Image.fromarray(raw), "JPEG", exif=exif, quality=95)
    fitted = read_image(data, (32, 32, 1), name="phone.jpg")
    assert fitted.description == (
        "40x80 → turned upright (EXIF), centre-cropped to 40x40, resized to 32x32"
    )
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("L")
    expected = np.asarray(upright.resize((32, 32), Image.Resampling.BILINEAR, box=fitted.crop))
    np.testing.assert_allclose(fitted.pixels[..., 0], expected / 255.0, atol=0.02)
    assert fitted.pixels[:12].mean() < 0.05 and fitted.pixels[-12:].mean() > 0.95


def test_16_bit_pictures_use_their_full_range_not_0_and_255():
    ramp = np.linspace(0, 65535, 64).astype(np.uint16)
    data = encoded(Image.fromarray(np.tile(ramp, (64, 1))))
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    for channels in (1, 3):
        fitted = read_image(data, (16, 16, channels))
        row = fitted.pixels[8, :, 0]
        assert fitted.pixels.shape == (16, 16, channels) and fitted.depth == 16
        assert row[0] < 0.05 and row[-1] > 0.95 and 0.4 < row[8] < 0.6
        assert len(np.unique(np.round(row, 3))) == 16  # a ramp, not two values
    assert fitted.description == "64x64 → resized to 16x16, 16-bit scaled to [0, 1]"


def test_transparency_is_shown_on_white_and_palettes_read():
    clear = encoded(Image.new("RGBA", (20, 20), (0, 0, 0, 0)))
    np.testing.assert_allclose(read_image(clear, (8, 8, 3)).pixels, 1.0)
    palette = Image.new("RGB", (20, 20), (255, 0, 0)).convert("P")
    red = read_image(encoded(palette), (8, 8, 3)).pixels
    np.testing.assert_allclose(red[..., 0], 1.0) and np.testing.assert_allclose(red[..., 1], 0.0)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_and_described_in_its_own_pixels():
    data = encoded(Image.new("RGB", (4000, 3000), (10, 200, 30)), "JPEG")
    fitted = read_image(data, (32, 32, 3), name="camera.jpg")
    assert fitted.description == "4000x3000 → centre-cropped to 3000x3000, resized to 32x32"
    np.testing.assert_allclose(fitted.pixels[16, 16], np.array([10, 200, 30]) / 255, atol=0.03)


def test_a_bad_shape_is_a_value_error():
    with pytest.raises(ValueError, match=r"Received: shape=\(32, 32, 4\)"):
        read_image(b"", (32, 32, 4))


@pytest.mark.slow
def test_peak_server_memory_of_an_upload_stays_far_under_500_mb(bomb, tmp_path):
    """A fresh interpreter's peak RSS while it reads the worst uploads (the probe)."""
    refused = BENCH["peak_rss_mb"](BENCH["write_png"](tmp_path / "b.png", 13000, 13000))
    assert refused["outcome"].startswith("refused: upload is 13000x13000")
    assert refused["mb"] < 20
    largest = BENCH["write_png"](tmp_path / "l.png", 5000, 5000, "RGBA")  # the most accepted
    read = BENCH["peak_rss_mb"](largest)
    assert read["outcome"] == "read" and read["mb"] < 250
