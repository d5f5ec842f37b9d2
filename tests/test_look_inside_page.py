"""The Look inside page through Streamlit's AppTest: a learner's run comes first, its
prediction, feature maps, a unit's boxes and Grad-CAM render; random weights are flagged."""

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from keras_cnn import runs
from keras_cnn.train import train

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "pages" / "look_inside.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=180).run()


def test_a_trained_run_comes_first_and_every_view_renders():
    train("lenet5", epochs=1, limit=64, batch_size=32, seed=0, verbose=0)
    (run_id,) = runs.list_runs().id
    at = _page()
    assert not at.exception, at.exception
    model = at.selectbox(key="inside_model")
    assert model.options[0].startswith("Your run: lenet5 on digits") and run_id in model.options[0]
    # the picker spans the page: in the left column a run's label was cut after ~30 characters
    assert not [s for column in at.columns for s in column.selectbox if s.key == "inside_model"]
    assert not at.warning, "a trained run needs no random-weights warning"
    assert any(m.value.startswith("**Prediction: ") for m in at.markdown)
    # the top 5 classes, each label whole in its bar's text (issue 19 item 7: a table cut them)
    top = [b.proto.text for b in at.get("progress") if re.match(r"^\d: \d+\.\d%$", b.proto.text)]
    assert len(top) == 5 and len({t.split(":")[0] for t in top}) == 5
    # LeNet-5's middle stage is C3: the centre unit (5, 5) sees 14x14 pixels from (10, 10).
    assert at.selectbox(key="inside_layer").value == "c3"
    unit = [m.value for m in at.markdown if m.value.startswith("Unit (")]
    assert (
        "Unit (5, 5) of `c3`" in unit[0] and "14x14 pixels (rows 10..23, columns 10..23)" in unit[0]
    )
    # Another layer and unit: C1's unit (0, 3) sees rows 0..4, columns 3..7.
    at.selectbox(key="inside_layer").set_value("c1").run()
    at.number_input(key="inside_row").set_value(0).run()
    at.number_input(key="inside_col").set_value(3).run()
    assert not at.exception, at.exception
    unit = [m.value for m in at.markdown if m.value.startswith("Unit (")]
    assert "5x5 pixels (rows 0..4, columns 3..7)" in unit[0]
    at.selectbox(key="inside_class").set_value("7").run()
    assert not at.exception, at.exception
    assert any("Grad-CAM of class 7 at s4" in c.value for c in at.caption)


def test_the_lesson_1_lenet5_and_the_registry_s_models_are_offered():
    """Issue 19, item 7: lesson 1 says Look inside shows your trained runs first, yet its
    LeNet-5 was not offered; issue 18, item 7: the lists come from the registry."""
    import keras_cnn
    from app import inside_widgets
    from keras_cnn.train import build_model

    path = inside_widgets.lenet5_file()
    path.parent.mkdir(parents=True)
    build_model("lenet5").save(path)  # as lesson 1 keeps it (untrained here: fast)
    at = _page()
    assert not at.exception, at.exception
    model = at.selectbox(key="inside_model")
    assert model.options[0] == "LeNet-5 trained in lesson 1 (digits)"
    assert not at.warning, "a trained model needs no random-weights warning"
    registry = keras_cnn.list_models().set_index("name")
    published = registry[registry.imagenet_weights.astype(bool)].index
    assert all(any(o.startswith(f"{n}, ") for o in model.options) for n in published)
    assert "plain56 (CIFAR plain), random weights" in model.options


def test_random_weights_are_flagged():
    at = _page()  # no run yet: the first choice is a small model with random weights
    model = at.selectbox(key="inside_model")
    assert model.options[0] == "lenet5 (LeNet), random weights"
    model.set_value(model.options.index("resnet20 (CIFAR ResNet), random weights")).run()
    assert not at.exception, at.exception
    assert "Random weights" in at.warning[0].value
    assert any(m.value.startswith("**Prediction: ") for m in at.markdown)


def test_a_run_on_a_prepared_tfds_dataset_offers_its_test_images(monkeypatch):
    import numpy as np

    from keras_cnn import data
    from keras_cnn.train import build_model

    run = runs.new_run("lenet5", {"data": "fashion_mnist"})
    runs.save_model(run, build_model("lenet5"))
    runs.update_run(run, status="finished")
    original = data.arrays

    def arrays(name, split="train", **kwargs):
        if name != "fashion_mnist":
            return original(name, split, **kwargs)
        rng = np.random.default_rng(0)
        return rng.random((5, 32, 32, 1), dtype=np.float32), np.arange(5)

    monkeypatch.setattr(data, "is_available", lambda name, **kwargs: name == "fashion_mnist")
    monkeypatch.setattr(data, "arrays", arrays)
    monkeypatch.setattr(
        data, "pixel_mean", lambda name, shape, **kwargs: np.zeros(shape, "float32")
    )
    at = _page()
    assert not at.exception, at.exception
    assert (
        at.selectbox(key="inside_model").options[0].startswith("Your run: lenet5 on fashion_mnist")
    )
    source = at.radio(key="inside_input")
    assert source.options == ["Embedded digit", "Test image of fashion_mnist", "Upload an image"]
    source.set_value("Test image of fashion_mnist").run()
    at.number_input(key="inside_test_image").set_value(4).run()
    assert not at.exception, at.exception
    assert "fashion_mnist test image 4: class 4" in [
        i.proto.imgs[0].caption for i in at.get("image")
    ]


def _png(picture) -> bytes:
    import io

    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def test_a_bad_upload_is_one_line_and_a_good_one_is_fitted_as_said():
    """Issue 19, item 4: a text file named .png showed a traceback with server paths."""
    from PIL import Image

    at = _page()
    at.radio(key="inside_input").set_value("Upload an image").run()
    assert not at.exception, at.exception
    at.file_uploader(key="inside_upload").set_value(("notes.png", b"not a picture\n", "image/png"))
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "notes.png is not a PNG or JPEG picture, whatever its name says"
    ]
    picture = Image.linear_gradient("L").resize((200, 160))
    at.file_uploader(key="inside_upload").set_value(("ramp.png", _png(picture), "image/png"))
    at.run()
    assert not at.exception and not at.error, at.exception
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert "ramp.png: 200x160 → centre-cropped to 160x160, resized to 32x32" in captions
    assert any(m.value.startswith("**Prediction: ") for m in at.markdown)


def test_the_server_refuses_uploads_over_the_size_read_image_accepts():
    """The uploader's max_upload_size is checked in the browser only; the server's own limit
    (200 MB by default) must be the same, or a client could hold 200 MB in server memory."""
    import tomllib

    from keras_cnn.analysis import images

    config = Path(PAGE).parents[2] / ".streamlit" / "config.toml"
    server = tomllib.loads(config.read_text(encoding="utf-8"))["server"]
    assert server["maxUploadSize"] == images.MAX_UPLOAD_MB
