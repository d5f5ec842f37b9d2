"""How fast is looking inside a loaded model? Feature maps + Grad-CAM for one image.

    python benchmarks/inside_latency.py [--repeats 5]

For ResNet-50 at 224x224 (goal: < 2 s) and the CIFAR-size models at 32x32 (goal: < 0.3 s),
prints the median time of ``feature_maps`` (every stage's output) plus ``grad_cam`` (the
predicted class at the last spatial layer) for one image, after one warm-up call, with the
model already built, and the ratio time / goal (goal met when <= 1); then the median time of
one ``effective_receptive_field`` (the Look inside page's unit view, one image) and the time
of the first maps + Grad-CAM call, which also builds and compiles the sub-models.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_cnn  # noqa: E402
from keras_cnn import inside  # noqa: E402
from keras_cnn.train import build_model  # noqa: E402

#: name -> (build, goal in seconds)
MODELS = {
    "ResNet-50 224x224": (lambda: keras_cnn.build_resnet(50), 2.0),
    "ResNet-20 32x32": (lambda: build_model("resnet20"), 0.3),
    "Plain-20 32x32": (lambda: build_model("plain20"), 0.3),
    "LeNet-5 32x32": (lambda: build_model("lenet5"), 0.3),
    "Small VGG 32x32": (lambda: build_model("vgg_small"), 0.3),
}


def _median(fn, repeats: int) -> tuple[float, float]:
    start = time.perf_counter()
    fn()  # the first call builds and compiles the sub-models (kept for the next calls)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs, "
        f"median of {args.repeats} after a warm-up, model loaded"
    )
    print(f"{'model':<20} {'maps+Grad-CAM':>14} {'goal':>6} {'ratio':>6} {'ERF':>7} {'first':>7}")
    for name, (build, goal) in MODELS.items():
        keras.utils.set_random_seed(0)
        model = build()
        x = np.random.default_rng(0).random((1, *model.input_shape[1:]), dtype=np.float32)
        layer = inside.block_outputs(model)[len(inside.block_outputs(model)) // 2]

        def look(model=model, x=x):
            inside.feature_maps(model, x)
            inside.grad_cam(model, x)

        def unit(model=model, x=x, layer=layer):
            inside.effective_receptive_field(model, layer, x)

        first, seconds = _median(look, args.repeats)
        _, erf = _median(unit, args.repeats)
        print(
            f"{name:<20} {seconds:>13.3f}s {goal:>5.1f}s {seconds / goal:>6.2f} {erf:>6.3f}s "
            f"{first:>6.2f}s"
        )
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
