"""ImageNet inputs and outputs: the preprocessing each family's published weights expect,
and the 1,000 class names, offline.

``keras.applications`` ships one ``preprocess_input`` per family and each expects its own:

=================  ========  ===============================================================
family             mode      what it does to RGB pixels in [0, 255]
=================  ========  ===============================================================
VGG, ResNet v1     caffe     RGB -> BGR, minus the ImageNet mean per channel
                             (103.939, 116.779, 123.68); no scaling
ResNet v2          tf        scaled to [-1, 1]: ``x / 127.5 - 1``
(torchvision)      torch     ``x / 255``, minus the ImageNet mean (0.485, 0.456, 0.406), over
                             its standard deviation (0.229, 0.224, 0.225)
=================  ========  ===============================================================

Feeding a model the other family's preprocessing gives confident wrong answers, so
:func:`preprocess_input` takes the model's id (its registry entry knows the mode,
:attr:`keras_cnn.models.registry.ModelEntry.cfg`) or a ``mode=``. The numbers are those of
``keras.applications`` (tested for equality); unlike keras, a NumPy input is never changed in
place.

The class names are ``keras_cnn/imagenet_classes.json``, byte for byte the
``imagenet_class_index.json`` that ``keras.applications`` downloads (its MD5,
``c2c37ea517e94d9795004a39431a14cb``, is the ``file_hash`` keras checks; a test checks it
too), so :func:`decode_predictions` works without a network. It was rebuilt offline from two
public sources: the 1,000 WordNet ids in the order of the ILSVRC-2012 label file that
``tensorflow_datasets`` ships (``tensorflow_datasets/datasets/imagenet2012/labels.txt``,
sorted ids), each named by the first lemma of its synset in Princeton WordNet 3.0
(``data.noun``, e.g. Debian's ``wordnet-base``), which is how keras' file names them
(``n01484850`` -> ``great_white_shark``; two synsets share ``crane`` and two ``maillot``).

Example:
    >>> model = build_resnet(50, weights="imagenet")
    >>> x = preprocess_input(images, "resnet50")        # uint8 RGB, (n, 224, 224, 3)
    >>> decode_predictions(model.predict(x), top=3)[0]
    [('n02504458', 'African_elephant', 0.91...), ...]
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import keras
import numpy as np

from keras_cnn.models.preprocessing import PREPROCESSING_MODES
from keras_cnn.models.registry import MODELS, canonical

#: Model id -> preprocessing mode of its published weights: every registry model with
#: weights, from its registry entry (:attr:`keras_cnn.models.registry.ModelEntry.cfg`).
PREPROCESSING: dict[str, str] = {
    name: entry.preprocessing for name, entry in MODELS.items() if entry.preprocessing
}
_DATA_FORMATS = ("channels_last", "channels_first")
_CLASSES_FILE = "imagenet_classes.json"
N_CLASSES = 1000


def preprocess_input(x, model: str | None = None, data_format: str | None = None, *, mode=None):
    """Prepare RGB images in [0, 255] the way ``model``'s published ImageNet weights expect.

    ``"caffe"`` (VGG, ResNet v1, as ``keras.applications.vgg16`` / ``resnet``): RGB -> BGR,
    then the ImageNet mean of each channel is subtracted. ``"tf"`` (ResNet v2, as
    ``keras.applications.resnet_v2``): ``x / 127.5 - 1``, in [-1, 1]. ``"torch"``
    (torchvision's): ``x / 255``, minus the ImageNet mean, over its standard deviation.

    Args:
        x: A NumPy array or a tensor, one image ``(h, w, 3)`` or a batch ``(n, h, w, 3)``
            (channels first with ``data_format="channels_first"``). Integers (``uint8``) are
            converted to ``keras.config.floatx()``.
        model: str or None. A registry id with published weights, one of
            :data:`PREPROCESSING` (``"vgg16"``, ``"resnet50"``, ``"resnet50v2"`` …): its
            entry's mode. None with ``mode``.
        data_format: str or None. ``"channels_last"`` or ``"channels_first"``. Defaults to
            None (``keras.config.image_data_format()``).
        mode: str or None. ``"caffe"``, ``"tf"`` or ``"torch"``
            (``keras.applications.imagenet_utils``' modes), instead of a model's.

    Returns:
        The preprocessed images: a new NumPy array for a NumPy input (the input is left as it
        was), else a tensor.

    Raises:
        ValueError: For a model without published weights, an unknown mode, a model and a
            mode that disagree, an unknown data format, or images without 3 channels.

    Example:
        >>> preprocess_input(np.full((1, 2, 2, 3), 255, "uint8"), "resnet50v2")[0, 0, 0]
        array([1., 1., 1.], dtype=float32)
        >>> preprocess_input(np.full((1, 2, 2, 3), 255, "uint8"), mode="tf")[0, 0, 0]
        array([1., 1., 1.], dtype=float32)
    """
    mode = _mode(model, mode)
    if data_format is None:
        data_format = keras.config.image_data_format()
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"data_format must be one of {_DATA_FORMATS}. Received: data_format={data_format!r}"
        )
    ndim = len(x.shape)
    axis = -1 if data_format == "channels_last" else ndim - 3
    if ndim not in (3, 4) or x.shape[axis] != 3:
        raise ValueError(
            "preprocess_input expects RGB images, (h, w, 3) or (n, h, w, 3) with channels "
            f"last, (3, h, w) or (n, 3, h, w) with channels first. Received: shape "
            f"{tuple(x.shape)} with data_format={data_format!r}"
        )
    recipe = PREPROCESSING_MODES[mode]
    channel = [1] * ndim
    channel[axis] = 3
    if isinstance(x, np.ndarray):
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else keras.config.floatx()
        x = np.array(x, dtype=dtype)  # a copy: keras would change a float array in place
        x /= recipe.scale
        if recipe.bgr:
            x = np.flip(x, axis=axis)
        x = x - np.asarray(recipe.mean, dtype=x.dtype).reshape(channel)
        if recipe.std:
            x = x / np.asarray(recipe.std, dtype=x.dtype).reshape(channel)
        return x
    if "float" not in keras.backend.standardize_dtype(x.dtype):
        x = keras.ops.cast(x, keras.config.floatx())
    x = x / recipe.scale
    if recipe.bgr:
        x = keras.ops.flip(x, axis=axis)
    mean = keras.ops.convert_to_tensor(-np.array(recipe.mean), x.dtype)
    x = x + keras.ops.reshape(mean, channel)
    if recipe.std:
        x = x / keras.ops.reshape(keras.ops.convert_to_tensor(recipe.std, x.dtype), channel)
    return x


def _mode(model: str | None, mode: str | None) -> str:
    """The preprocessing mode for ``model`` and/or ``mode``, checked."""
    if mode is not None and mode not in PREPROCESSING_MODES:
        raise ValueError(
            f"`mode` must be one of {sorted(PREPROCESSING_MODES)}. Received: mode={mode!r}"
        )
    if model is None:
        if mode is None:
            raise ValueError(
                "preprocess_input needs a model id with published weights (one of "
                f"{sorted(PREPROCESSING)}) or a mode ({sorted(PREPROCESSING_MODES)}). "
                "Received: model=None, mode=None"
            )
        return mode
    model = canonical(model)
    if model not in PREPROCESSING:
        hint = f" (a mode: pass mode={model!r})" if model in PREPROCESSING_MODES else ""
        raise ValueError(
            f"No ImageNet preprocessing is known for {model!r}{hint}: it has no published "
            f"weights. Use one of {sorted(PREPROCESSING)}, or a mode "
            f"({sorted(PREPROCESSING_MODES)}). Received: model={model!r}"
        )
    if mode is not None and mode != PREPROCESSING[model]:
        raise ValueError(
            f"{model!r}'s weights expect mode={PREPROCESSING[model]!r}. Received: mode={mode!r}"
        )
    return PREPROCESSING[model]


@functools.cache
def class_names() -> tuple[tuple[str, str], ...]:
    """The 1,000 ImageNet classes in output order, as ``(wnid, name)``.

    Returns:
        ``(("n01440764", "tench"), ("n01443537", "goldfish"), ...)``, read from the file
        shipped in the package (see the module docstring for where it comes from).
    """
    text = resources.files("keras_cnn.models").joinpath(_CLASSES_FILE).read_text("utf-8")
    index = json.loads(text)
    return tuple((index[str(i)][0], index[str(i)][1]) for i in range(N_CLASSES))


def decode_predictions(preds, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` classes of each prediction, as ``keras.applications`` returns them.

    Args:
        preds: A NumPy array or tensor of shape ``(n, 1000)``: one row of class scores
            (probabilities or logits) per image.
        top: int. How many classes per image, best first. Defaults to 5.

    Returns:
        One list per image of ``(wnid, class_name, score)`` tuples, highest score first,
        e.g. ``[("n02504458", "African_elephant", 0.91), ...]``; the same tuples as
        ``keras.applications.imagenet_utils.decode_predictions``, without a download.

    Raises:
        ValueError: If ``preds`` is not ``(n, 1000)`` or ``top`` is not in 1..1000.
    """
    if len(preds.shape) != 2 or preds.shape[1] != N_CLASSES:
        raise ValueError(
            "decode_predictions expects a batch of ImageNet predictions, shape (n, 1000). "
            f"Received: shape {tuple(preds.shape)}"
        )
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or not 1 <= top <= 1000:
        raise ValueError(f"top must be an integer from 1 to 1000. Received: top={top!r}")
    names = class_names()
    results = []
    for pred in keras.ops.convert_to_numpy(preds):
        best = pred.argsort()[-top:][::-1]
        row = [(*names[i], pred[i]) for i in best]
        row.sort(key=lambda item: item[2], reverse=True)
        results.append(row)
    return results
