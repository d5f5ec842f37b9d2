"""keras-cnn: faithful Keras 3 builders of the classic convolutional networks.

LeNet-5, AlexNet, VGG, GoogLeNet (Inception v1), ResNet (ImageNet and CIFAR-10,
original and pre-activation), ResNeXt and Wide ResNet, each reproducing its paper and, where
``keras.applications`` has the same model, the same layers, weights and outputs.

Example:
    >>> import keras_cnn
    >>> model = keras_cnn.build_resnet(50)
    >>> keras_cnn.summarize(model).params.sum()
    25636712
"""

from keras_cnn.analysis import inside
from keras_cnn.analysis.diagram import Diagram, show, to_dot
from keras_cnn.analysis.summary import (
    count_macs,
    inspect_structure,
    receptive_field,
    summarize,
    totals,
    weight_layers,
)
from keras_cnn.models.blocks import (
    basic_block,
    bottleneck_block,
    inception_block,
    local_response_normalization,
    vgg_block,
)
from keras_cnn.models.classic import build_alexnet, build_googlenet, build_lenet5
from keras_cnn.models.common import WeightsUnavailableError
from keras_cnn.models.imagenet import decode_predictions, preprocess_input
from keras_cnn.models.registry import MODELS, get_model, list_models
from keras_cnn.models.resnet import (
    build_cifar_resnet,
    build_resnet,
    build_resnext,
    build_wide_resnet,
)
from keras_cnn.models.vgg import build_vgg
from keras_cnn.training.data import DatasetUnavailableError
from keras_cnn.training.experiments import degradation, gradient_norms
from keras_cnn.training.trainer import CheckpointError, TrainingObserver, build_model

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "DatasetUnavailableError",
    "Diagram",
    "MODELS",
    "TrainingObserver",
    "WeightsUnavailableError",
    "basic_block",
    "bottleneck_block",
    "build_alexnet",
    "build_cifar_resnet",
    "build_googlenet",
    "build_lenet5",
    "build_model",
    "build_resnet",
    "build_resnext",
    "build_vgg",
    "build_wide_resnet",
    "count_macs",
    "decode_predictions",
    "degradation",
    "get_model",
    "gradient_norms",
    "inception_block",
    "inside",
    "inspect_structure",
    "list_models",
    "local_response_normalization",
    "preprocess_input",
    "receptive_field",
    "show",
    "summarize",
    "to_dot",
    "totals",
    "vgg_block",
    "weight_layers",
]
