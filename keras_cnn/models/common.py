"""Shared plumbing for the model builders: argument checks, input, head, weights.

Every builder follows the same build order as ``keras.applications``: validate the
arguments, resolve the input, build the stem and the stages, add the head, create the
``keras.Model`` and load weights. The helpers here reproduce what keras' private
``imagenet_utils`` helpers do, without importing ``keras.src``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import keras
from keras import layers

#: Epsilon of every batch normalization layer, as in ``keras.applications``' ResNets.
BN_EPSILON = 1.001e-5
#: Momentum of the batch-norm moving averages. Keras' default 0.99 keeps the builders
#: that reproduce ``keras.applications`` (VGG, ResNet v1/v2) identical to it, config
#: included. 0.9 (PyTorch's and Caffe's ``momentum=0.1``, the He et al. and Zagoruyko &
#: Komodakis training setups, and what ``keras_cnn.train`` uses) lets the averages catch
#: up within an epoch or two of a small data set: with 0.99 a few hundred steps leave
#: them far from the batch statistics and a model that trains well evaluates near
#: chance. The builders with no ``keras.applications`` twin default to it.
BN_MOMENTUM_KERAS = 0.99
BN_MOMENTUM_TORCH = 0.9

POOLINGS = (None, "avg", "max")
MIN_RECURSION_LIMIT = 30_000


@dataclass(frozen=True)
class WeightFile:
    """A published weight file: where it lives and its MD5 hash."""

    url: str
    file_hash: str

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"


def _resnet_files(name: str, top_hash: str, notop_hash: str) -> tuple[WeightFile, WeightFile]:
    base = f"{_KERAS_APPS}resnet/{name}_weights_tf_dim_ordering_tf_kernels"
    return WeightFile(f"{base}.h5", top_hash), WeightFile(f"{base}_notop.h5", notop_hash)


#: The ImageNet weight files that ``keras.applications`` publishes, as (top, notop).
#: Same URLs and hashes as keras, so the files ``keras.utils.get_file`` has cached
#: for ``keras.applications`` are reused.
IMAGENET_WEIGHTS: dict[str, tuple[WeightFile, WeightFile]] = {
    "vgg16": (
        WeightFile(
            f"{_KERAS_APPS}vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
            "64373286793e3c8b2b4e3219cbf3544b",
        ),
        WeightFile(
            f"{_KERAS_APPS}vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "6d6bbae143d832006294945121d1f1fc",
        ),
    ),
    "vgg19": (
        WeightFile(
            f"{_KERAS_APPS}vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5",
            "cbe5617147190e668d6c5d5026f83318",
        ),
        WeightFile(
            f"{_KERAS_APPS}vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "253f8cb515780f3b799900260a226db6",
        ),
    ),
    "resnet50": _resnet_files(
        "resnet50", "2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"
    ),
    "resnet101": _resnet_files(
        "resnet101", "f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"
    ),
    "resnet152": _resnet_files(
        "resnet152", "100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"
    ),
    "resnet50v2": _resnet_files(
        "resnet50v2", "3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"
    ),
    "resnet101v2": _resnet_files(
        "resnet101v2", "6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"
    ),
    "resnet152v2": _resnet_files(
        "resnet152v2", "a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"
    ),
}


class WeightsUnavailableError(RuntimeError):
    """Published weights are neither in the Keras cache nor downloadable now (offline)."""


def _download(wf: WeightFile) -> str:
    """The path of a published weight file, from the Keras cache or downloaded into it.

    Raises:
        WeightsUnavailableError: Naming the file, the cache folder and ``weights=path``,
            instead of keras' bare ``Exception: URL fetch failure`` and its long traceback.
    """
    try:
        return keras.utils.get_file(
            wf.file_name, wf.url, cache_subdir="models", file_hash=wf.file_hash
        )
    except Exception as error:  # keras raises a bare Exception for a failed download
        home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
        cache = os.path.join(home, "models")
        reason = " ".join(str(error).split())
        raise WeightsUnavailableError(
            f"The ImageNet weights {wf.file_name} are not in the Keras cache ({cache}) and "
            f"could not be downloaded from {wf.url} ({reason}). On a machine with network "
            f"access, download that file and copy it into {cache}, or load it from anywhere "
            f'with weights="path/to/{wf.file_name}"; weights=None builds the model with '
            "random weights."
        ) from None


def check_args(
    *,
    weights: str | None,
    weights_name: str | None,
    include_top: bool,
    classes: int,
    pooling: str | None,
    classifier_activation: str | None,
) -> None:
    """Validate the ``keras.applications`` arguments shared by every builder.

    Raises:
        ValueError: naming the bad value and what is allowed.
    """
    if weights == "imagenet":
        if weights_name not in IMAGENET_WEIGHTS:
            published = ", ".join(sorted(IMAGENET_WEIGHTS))
            raise ValueError(
                f"No published ImageNet weights exist for this model; they exist for: "
                f"{published}. Use `weights=None` (random initialization) or the path to "
                f"a weights file. Received: weights={weights!r}"
            )
        if include_top and classes != 1000:
            raise ValueError(
                "If using `weights='imagenet'` with `include_top=True`, `classes` should "
                f"be 1000. Received: classes={classes}"
            )
        if include_top and classifier_activation not in {None, "softmax"}:
            raise ValueError(
                "Only `None` and `'softmax'` are allowed for `classifier_activation` when "
                f"loading ImageNet weights. Received: "
                f"classifier_activation={classifier_activation!r}"
            )
    elif weights is not None and not (
        isinstance(weights, str | os.PathLike) and os.path.exists(weights)
    ):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            "'imagenet' (pre-training on ImageNet), or the path to an existing weights "
            f"file. Received: weights={weights!r}"
        )
    if pooling not in POOLINGS:
        raise ValueError(
            f"`pooling` must be one of {list(POOLINGS)}. Received: pooling={pooling!r}"
        )
    if not isinstance(classes, int) or classes < 1:
        raise ValueError(f"`classes` must be a positive integer. Received: classes={classes!r}")


def check_rate(value, what: str) -> None:
    """Check that a rate (``dropout``, ``bn_momentum``) is a number in [0, 1).

    Raises:
        ValueError: naming the argument and the value received.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"`{what}` must be a number in [0, 1). Received: {what}={value!r}")


def resolve_input_shape(
    input_shape: Sequence[int | None] | None,
    *,
    default_size: int,
    min_size: int,
    channels: int = 3,
    weights: str | None = None,
    fixed_top: bool = False,
) -> tuple[int | None, int | None, int]:
    """The input shape a builder uses, checked like ``keras.applications`` does.

    Args:
        input_shape: tuple or None. ``(height, width, channels)``; None for the default.
        default_size: int. The paper's input size (224 for ImageNet networks).
        min_size: int. The smallest height and width the network accepts.
        channels: int. The default number of channels.
        weights: str or None. With ``"imagenet"`` the input must have 3 channels.
        fixed_top: bool. True when ImageNet weights and a flattening top are loaded,
            which fixes the input to the default shape.

    Returns:
        The input shape as a tuple of three entries (height and width may be None).

    Raises:
        ValueError: for a shape of the wrong rank, too small, or with the wrong channels.
    """
    default = (default_size, default_size, 3 if weights == "imagenet" else channels)
    if input_shape is None:
        return default
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            "`input_shape` must be a tuple of three integers (height, width, channels). "
            f"Received: input_shape={input_shape}"
        )
    if weights == "imagenet" and shape[-1] != 3:
        raise ValueError(
            f"ImageNet weights need an input with 3 channels. Received: input_shape={input_shape}"
        )
    if fixed_top and shape != default:
        raise ValueError(
            "When setting `include_top=True` and loading `imagenet` weights, "
            f"`input_shape` should be {default}. Received: input_shape={input_shape}"
        )
    if any(s is not None and s < min_size for s in shape[:2]):
        raise ValueError(
            f"Input size must be at least {min_size}x{min_size} for this network. "
            f"Received: input_shape={input_shape}"
        )
    return shape  # type: ignore[return-value]


def make_input(input_tensor, input_shape):
    """Return ``(model_input, tensor)`` for ``input_tensor`` / ``input_shape``."""
    if input_tensor is None:
        x = layers.Input(shape=input_shape, name="input")
        return x, x
    if not keras.backend.is_keras_tensor(input_tensor):
        x = layers.Input(tensor=input_tensor, shape=input_shape, name="input")
        return x, x
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def pooled_head(x, *, include_top: bool, pooling: str | None, classes: int, classifier_activation):
    """The ResNet / GoogLeNet head: global average pool, then the classifier."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return global_pool(x, pooling)


def global_pool(x, pooling: str | None):
    """``pooling=None|"avg"|"max"`` for a network without its top."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def finish(
    inputs,
    outputs,
    *,
    name: str,
    weights: str | None,
    weights_name: str | None,
    include_top: bool,
) -> keras.Model:
    """Create the model and load its weights (``"imagenet"`` or a local file)."""
    # Keras walks the layer graph recursively (building, saving, loading): ResNet-1202
    # has about 5,000 layers, more than Python's default recursion limit allows.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), MIN_RECURSION_LIMIT))
    model = keras.Model(inputs, outputs, name=name)
    if weights == "imagenet":
        top, notop = IMAGENET_WEIGHTS[weights_name]
        wf = top if include_top else notop
        model.load_weights(_download(wf))
    elif weights is not None:
        model.load_weights(os.fspath(weights))
    return model
