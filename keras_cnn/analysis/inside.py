"""Look inside a trained network: feature maps, receptive fields and class evidence.

Everything here works on any functional Keras model (the registry's, a learner's run from
:func:`keras_cnn.runs.load_model`, ``keras.applications``) and returns numpy arrays:

* :func:`feature_maps` -- the activations of chosen layers (default: each stage's last
  layer) in one forward pass.
* :func:`receptive_field_box` -- the input pixels one unit can see, from the layers'
  kernels, strides and padding; its size is :func:`keras_cnn.receptive_field`.
* :func:`effective_receptive_field` -- what the unit actually looks at:
  ``|d unit / d input|`` (Luo et al. 2016), always inside the box.
* :func:`grad_cam` (Selvaraju et al. 2017) and :func:`saliency` (Simonyan et al. 2014) --
  where the evidence for a class lies in the input.
* :func:`first_layer_filters`, :func:`tile`, :func:`to_image`, :func:`overlay` and
  :func:`draw_box` -- pictures of all of the above (:mod:`keras_cnn.analysis.pictures`):
  numpy arrays that display themselves in a notebook and ``.save("x.png")``, with an
  embedded colour map (no plotting library needed).

The gradients need the TensorFlow, JAX or PyTorch backend (:data:`GRADIENT_BACKENDS`);
feature maps and boxes work under every backend.

This module is the one place to look (``keras_cnn.inside``); the code lives by concept:
:mod:`keras_cnn.analysis.units` (forward: layers, boxes, feature maps, logits),
:mod:`keras_cnn.analysis.attribution` (backward: saliency, Grad-CAM, effective receptive
fields) and :mod:`keras_cnn.analysis.pictures`.

Example:
    >>> model = keras_cnn.build_vgg(16)
    >>> receptive_field_box(model, "block1_conv2")            # the centre unit: 5x5
    (110, 110, 115, 115)
    >>> heat = grad_cam(model, images)  # (N, 224, 224), max 1; needs weights  # doctest: +SKIP
    >>> picture = overlay(images[0], heat[0])                  # RGB uint8  # doctest: +SKIP
"""

from keras_cnn.analysis.attribution import (
    default_cam_layer,
    effective_receptive_field,
    grad_cam,
    saliency,
)
from keras_cnn.analysis.gradients import GRADIENT_BACKENDS
from keras_cnn.analysis.pictures import (
    COLORMAPS,
    Picture,
    draw_box,
    first_layer_filters,
    overlay,
    tile,
    to_image,
    top_channels,
)
from keras_cnn.analysis.units import (
    block_outputs,
    feature_maps,
    logits,
    receptive_field_box,
    spatial_layers,
    unit_centres,
)

__all__ = [
    "COLORMAPS",
    "GRADIENT_BACKENDS",
    "Picture",
    "block_outputs",
    "default_cam_layer",
    "draw_box",
    "effective_receptive_field",
    "feature_maps",
    "first_layer_filters",
    "grad_cam",
    "logits",
    "overlay",
    "receptive_field_box",
    "saliency",
    "spatial_layers",
    "tile",
    "to_image",
    "top_channels",
    "unit_centres",
]
