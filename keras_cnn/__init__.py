"""keras-cnn: faithful Keras 3 builders of the classic convolutional networks.

LeNet-5, AlexNet, VGG, GoogLeNet (Inception v1), ResNet (ImageNet and CIFAR-10,
original and pre-activation), ResNeXt and Wide ResNet, each reproducing its paper and, where
``keras.applications`` has the same model, the same layers, weights and outputs.

The package is grouped as the field's model codebases are:

* :mod:`keras_cnn.models` -- blocks, the families as tables, the registry and its factory,
  ImageNet weights and preprocessing;
* :mod:`keras_cnn.analysis` -- the layer table, multiply-adds, receptive fields, diagrams and
  :mod:`keras_cnn.inside` (feature maps, Grad-CAM, saliency, effective receptive fields);
* :mod:`keras_cnn.training` -- data, the trainer (:func:`keras_cnn.train.train`), checkpoints,
  stored runs (:mod:`keras_cnn.runs`) and the course's experiments.

Every public name is importable from the top (``keras_cnn.build_resnet``), but lazily (PEP
562): ``import keras_cnn`` and the framework-free parts (``keras_cnn.paths``, the registry's
table, :func:`list_models`) load no deep-learning framework; the first builder, analysis or
training name does.

Example:
    >>> import keras_cnn
    >>> model = keras_cnn.build_resnet(50)
    >>> int(keras_cnn.summarize(model).params.sum())
    25636712
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    # models
    "basic_block": "keras_cnn.models.blocks",
    "bottleneck_block": "keras_cnn.models.blocks",
    "inception_block": "keras_cnn.models.blocks",
    "local_response_normalization": "keras_cnn.models.blocks",
    "vgg_block": "keras_cnn.models.blocks",
    "build_alexnet": "keras_cnn.models.classic",
    "build_googlenet": "keras_cnn.models.classic",
    "build_lenet5": "keras_cnn.models.classic",
    "build_vgg": "keras_cnn.models.vgg",
    "build_small_vgg": "keras_cnn.models.vgg",
    "build_cifar_resnet": "keras_cnn.models.cifar",
    "build_resnet": "keras_cnn.models.resnet",
    "build_resnext": "keras_cnn.models.resnet",
    "build_wide_resnet": "keras_cnn.models.cifar",
    "MODELS": "keras_cnn.models.registry",
    "get_model": "keras_cnn.models.registry",
    "list_models": "keras_cnn.models.registry",
    "WeightsUnavailableError": "keras_cnn.models.weights",
    "feature_extractor": "keras_cnn.models.features",
    "decode_predictions": "keras_cnn.models.imagenet",
    "preprocess_input": "keras_cnn.models.imagenet",
    # analysis
    "compare": "keras_cnn.analysis.compare",
    "count_macs": "keras_cnn.analysis.summary",
    "inspect_structure": "keras_cnn.analysis.summary",
    "receptive_field": "keras_cnn.analysis.summary",
    "summarize": "keras_cnn.analysis.summary",
    "totals": "keras_cnn.analysis.summary",
    "weight_layers": "keras_cnn.analysis.summary",
    "Diagram": "keras_cnn.analysis.diagram",
    "show": "keras_cnn.analysis.diagram",
    "to_dot": "keras_cnn.analysis.diagram",
    "Picture": "keras_cnn.analysis.pictures",
    "ImageError": "keras_cnn.analysis.images",
    "read_image": "keras_cnn.analysis.images",
    # training
    "DatasetUnavailableError": "keras_cnn.training.data",
    "degradation": "keras_cnn.training.experiments",
    "gradient_norms": "keras_cnn.training.experiments",
    "CheckpointError": "keras_cnn.training.trainer",
    "StorageError": "keras_cnn.training.trainer",
    "TrainConfig": "keras_cnn.training.trainer",
    "TrainingObserver": "keras_cnn.training.trainer",
    "build_model": "keras_cnn.training.trainer",
    "model_notebook": "keras_cnn.training.notebook",
    "run_notebook": "keras_cnn.training.notebook",
}

#: Submodules reachable as attributes (``keras_cnn.inside.grad_cam``) without an import.
_SUBMODULES = ("analysis", "data", "inside", "models", "paths", "runs", "train", "training")

__all__ = sorted([*_HOMES, "inside"])


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES, *_SUBMODULES})
