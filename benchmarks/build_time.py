"""How fast do the builders build, against keras.applications, in one process?

    python benchmarks/build_time.py [--repeats 5]

Prints, for ResNet-50 and VGG-16, the median build time of ``keras_cnn`` and of
``keras.applications`` (weights=None) and their ratio (goal: <= 1.0); ResNeXt-50 (32x4d)
against ResNet-50, both ``keras_cnn`` (what the grouped 3x3 and its wider 1x1s cost to
build; about the same weights, so the goal is a ratio near 1.0); then the time of
``summarize(build_resnet(152))`` (goal: < 1 s) and of its collapsed diagram,
``to_dot(model, collapse_blocks=True)``, against the full one (goal: ratio <= 1.0). Builds alternate between the two of a
pair so that warm-up and memory effects fall on both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import keras_cnn  # noqa: E402

#: name -> (label, build, reference label, reference build)
PAIRS = {
    "ResNet50": (
        "keras_cnn",
        lambda: keras_cnn.build_resnet(50),
        "keras.applications",
        lambda: keras.applications.ResNet50(weights=None),
    ),
    "VGG16": (
        "keras_cnn",
        lambda: keras_cnn.build_vgg(16),
        "keras.applications",
        lambda: keras.applications.VGG16(weights=None),
    ),
    "ResNeXt50": (
        "resnext50_32x4d",
        lambda: keras_cnn.build_resnext(50),
        "resnet50",
        lambda: keras_cnn.build_resnet(50),
    ),
}


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed(fn) -> float:
    elapsed = _seconds(fn)
    keras.backend.clear_session()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, repeats {args.repeats}")
    for name, (label, ours, ref_label, ref) in PAIRS.items():
        _timed(ours), _timed(ref)  # warm-up
        ours_t, ref_t = [], []
        for _ in range(args.repeats):
            ours_t.append(_timed(ours))
            ref_t.append(_timed(ref))
        o, r = statistics.median(ours_t), statistics.median(ref_t)
        print(f"{name:9s} {label} {o:6.3f} s  {ref_label} {r:6.3f} s  ratio {o / r:5.2f}")
    model = keras_cnn.build_resnet(152)
    keras_cnn.summarize(model)  # warm-up
    times = [_seconds(lambda: keras_cnn.summarize(model)) for _ in range(args.repeats)]
    print(f"summarize(build_resnet(152)) {statistics.median(times):6.3f} s (median)")
    keras_cnn.to_dot(model, collapse_blocks=True), keras_cnn.to_dot(model)  # warm-up
    collapsed, full = [], []
    for _ in range(args.repeats):
        collapsed.append(_seconds(lambda: keras_cnn.to_dot(model, collapse_blocks=True)))
        full.append(_seconds(lambda: keras_cnn.to_dot(model)))
    c, f = statistics.median(collapsed), statistics.median(full)
    print(f"to_dot(resnet152) collapsed {c:6.3f} s  full {f:6.3f} s  ratio {c / f:5.2f}")


if __name__ == "__main__":
    main()
