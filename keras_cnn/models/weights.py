"""The ImageNet weight files ``keras.applications`` publishes: where they live, their hashes,
whether one is in Keras' cache, and fetching one (the only part that imports Keras).

Importing this module needs no deep-learning framework, so the registry's table and the app can
say which models have weights without loading TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


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


def _cache() -> Path:
    """Keras' cache of downloaded files: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(wf: WeightFile) -> str:
    """The path of a published weight file, from the Keras cache or downloaded into it.

    Raises:
        WeightsUnavailableError: Naming the file, the cache folder and ``weights=path``,
            instead of keras' bare ``Exception: URL fetch failure`` and its long traceback;
            for a damaged file in the cache (its MD5 is not the published one), that it is
            corrupt.
    """
    import keras

    cached = _cache() / wf.file_name
    # keras downloads a damaged file again, and deletes it when that fails: look first.
    damaged = _md5(cached) if cached.is_file() else None
    damaged = None if damaged == wf.file_hash else damaged
    try:
        return keras.utils.get_file(
            wf.file_name, wf.url, cache_subdir="models", file_hash=wf.file_hash
        )
    except Exception as error:  # keras raises a bare Exception for a failed download
        reason = " ".join(str(error).split())
        cache = _cache()
        if damaged:
            raise WeightsUnavailableError(
                f"The ImageNet weights {cached} in the Keras cache were corrupt (MD5 "
                f"{damaged}, published {wf.file_hash}: an interrupted or damaged download) "
                f"and could not be downloaded again from {wf.url} ({reason}). Copy a good "
                f"{wf.file_name} into {cache}, or load one from anywhere with "
                f'weights="path/to/{wf.file_name}".'
            ) from None
        raise WeightsUnavailableError(
            f"The ImageNet weights {wf.file_name} are not in the Keras cache ({cache}) and "
            f"could not be downloaded from {wf.url} ({reason}). On a machine with network "
            f"access, download that file and copy it into {cache}, or load it from anywhere "
            f'with weights="path/to/{wf.file_name}"; weights=None builds the model with '
            "random weights."
        ) from None


def on_disk(name: str) -> bool:
    """Whether the published ImageNet weights (with the classifier) of a model are in Keras'
    cache (``$KERAS_HOME/models`` or ``~/.keras/models``), so building with
    ``weights="imagenet"`` needs no network.

    Args:
        name: str. A model with published weights (``"vgg16"``, ``"resnet50"`` …).

    Returns:
        True if the file is there.

    Raises:
        ValueError: for a model without published ImageNet weights.
    """
    if name not in IMAGENET_WEIGHTS:
        raise ValueError(
            f"Published ImageNet weights exist for {sorted(IMAGENET_WEIGHTS)}. Received: {name=}"
        )
    return (_cache() / IMAGENET_WEIGHTS[name][0].file_name).is_file()
