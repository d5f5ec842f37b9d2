"""The lesson widgets of keras_cnn.inside (app/inside_widgets.py) through AppTest."""

import os
import re
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _widget(name: str) -> AppTest:
    script = f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom app import widgets\nwidgets.render({name!r}, key='w')\n"
    at = AppTest.from_string(script, default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def test_vgg_boxes_grow_3_5_7_and_are_cut_at_the_border():
    at = _widget("vgg-boxes")
    legend = at.markdown[0].value
    assert "(red): **3x3** pixels, rows 15..17, columns 11..13" in legend
    assert "(orange): **5x5** pixels, rows 14..18" in legend
    assert "(blue): **7x7** pixels, rows 13..19, columns 9..15" in legend
    at.slider(key="w:row").set_value(0).run()
    assert "(blue): **7x4** pixels, rows 0..3" not in at.markdown[0].value
    assert "(blue): **4x7** pixels, rows 0..3, columns 9..15" in at.markdown[0].value


def test_first_layer_maps_of_a_lenet5_trained_once_and_kept():
    at = _widget("first-layer-maps")
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert captions[0] == "a 7, read as 7"  # test digit 3, read right by the trained LeNet-5
    assert captions[1:] == [
        "C1's six 28x28 feature maps (yellow: high)",
        "C1's six 5x5 kernels, each on its own scale (white: most positive)",
    ]
    kept = list((Path(os.environ["KERAS_CNN_HOME"]) / "models").glob("lenet5_digits_*.keras"))
    assert len(kept) == 1  # the next session loads it instead of training again


def test_the_shipped_lenet5_is_lesson_1_s_model_trained_on_the_digits():
    import keras
    import numpy as np

    from app import inside_widgets
    from keras_cnn import data
    from keras_cnn.train import build_model

    shipped = keras.models.load_model(inside_widgets.SHIPPED_LENET5)  # safe mode
    reference = build_model("lenet5")
    assert [(layer.name, type(layer)) for layer in shipped.layers] == [
        (layer.name, type(layer)) for layer in reference.layers
    ]
    assert shipped.count_params() == reference.count_params() == 61_706
    x, y = data.arrays("digits", "test", input_shape=(32, 32, 1), normalize=False)
    x = x - data.pixel_mean("digits", (32, 32, 1))
    predicted = shipped.predict(x, verbose=0).argmax(-1)
    assert (predicted == y).sum() == 324 and len(y) == 360
    assert np.mean(predicted == y) == inside_widgets.SHIPPED_LENET5_ACCURACY
    assert inside_widgets.SHIPPED_LENET5.stat().st_size < 400_000  # weights only
    # and lesson 1 says so, above the picture
    import quiz

    lesson = quiz.load_course().lesson("convolution")
    (section,) = [s for s in lesson.sections if s.widget == "first-layer-maps"]
    assert "reads\n324 of the 360 test digits right (90%)" in section.body


def test_without_the_shipped_copy_the_lenet5_is_trained_and_kept(tmp_path, monkeypatch):
    import keras_cnn.train
    from app import inside_widgets

    trained = []
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path))
    monkeypatch.setattr(inside_widgets, "SHIPPED_LENET5", tmp_path / "missing.keras")
    monkeypatch.setattr(keras_cnn.train, "train", lambda model, **kw: trained.append(kw))
    model = inside_widgets.trained_lenet5()
    assert model.name == "lenet5" and trained == [
        {"epochs": inside_widgets.LENET_EPOCHS, "seed": 0, "record": False, "verbose": 0}
    ]
    assert inside_widgets.lenet5_file().is_file()


def test_residual_erf_compares_resnet20_and_plain20():
    at = _widget("residual-erf")
    text = [m.value for m in at.markdown if "as much with the shortcuts" in m.value][0]
    ratio = re.search(r"\*\*([\d,]+)x\*\* as much", text).group(1)
    assert int(ratio.replace(",", "")) > 10  # measured: 670x (56.8 against 0.085)
    assert [m.value for m in at.markdown[:2]] == ["**ResNet-20**", "**Plain-20**"]
