"""The preprocessing modes of ``keras.applications``' published weights, as data.

Framework-free, so the registry's entries (:attr:`keras_cnn.models.registry.ModelEntry.cfg`)
can state them without loading Keras; :func:`keras_cnn.preprocess_input` applies them.
"""

from __future__ import annotations

from typing import NamedTuple


class Preprocessing(NamedTuple):
    """How ``keras.applications`` prepares RGB pixels in [0, 255] for its weights:
    ``x = x / scale``, the channels reversed (RGB -> BGR) when ``bgr``, then ``x = x - mean``
    and, where ``std`` is given, ``x = x / std`` (per channel, in the order after reversing)."""

    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float] | None
    bgr: bool

    def rgb_mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The same as timm states it: ``(x / 255 - mean) / std`` on RGB pixels in [0, 1]."""
        mean = self.mean[::-1] if self.bgr else self.mean
        std = self.std or (1.0, 1.0, 1.0)
        factor = self.scale / 255
        return (
            tuple(round(m * factor, 6) for m in mean),
            tuple(round(s * factor, 6) for s in std),
        )


#: The preprocessing modes of ``keras.applications.imagenet_utils.preprocess_input``.
PREPROCESSING_MODES: dict[str, Preprocessing] = {
    #: VGG, ResNet v1 (Caffe models): BGR, minus the ImageNet mean, no scaling.
    "caffe": Preprocessing(1.0, (103.939, 116.779, 123.68), None, bgr=True),
    #: ResNet v2, Inception: scaled to [-1, 1].
    "tf": Preprocessing(127.5, (1.0, 1.0, 1.0), None, bgr=False),
    #: torchvision's: [0, 1], then the ImageNet mean and standard deviation.
    "torch": Preprocessing(255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), bgr=False),
}
