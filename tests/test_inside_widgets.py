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


def test_residual_erf_compares_resnet20_and_plain20():
    at = _widget("residual-erf")
    text = [m.value for m in at.markdown if "as much with the shortcuts" in m.value][0]
    ratio = re.search(r"\*\*([\d,]+)x\*\* as much", text).group(1)
    assert int(ratio.replace(",", "")) > 10  # measured: 670x (56.8 against 0.085)
    assert [m.value for m in at.markdown[:2]] == ["**ResNet-20**", "**Plain-20**"]
