"""Input pipelines: an embedded dataset that needs no network, and TensorFlow Datasets.

Every dataset goes through one pipeline shape: ``(image float32 (H, W, C), label int32)``
pairs, where the image is scaled to [0, 1], adapted to the model's input (bilinear resize,
grey <-> RGB) and has the per-pixel mean of the training split subtracted (He et al. 2015,
§4.2). ``load`` batches, caches, shuffles and prefetches it; ``augment=True`` adds the
papers' augmentation: 4-pixel zero padding, a random crop back to the input size and, for
natural images, a random horizontal flip.

* ``"digits"`` (the default everywhere) is scikit-learn's bundled handwritten digits (the UCI
  "Optical Recognition of Handwritten Digits" test set, CC BY 4.0): 1,797 real 8x8 images
  with 16 grey levels, upsampled to 32x32, split 1,437 / 360 with a fixed, stratified seed
  (scikit-learn's ``train_test_split(random_state=0)``). The images, labels and split ship
  in this package (``digits.npz``, 49 kB), so they need no network, no scikit-learn and no
  TensorFlow.
* ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"`` come from TensorFlow
  Datasets. A dataset that is not prepared on disk and cannot be downloaded raises
  :class:`DatasetUnavailableError` within seconds, saying how to prepare it.

Two pipelines give the same batches: :func:`load` (``tf.data``, needs TensorFlow; every
TFDS dataset) and :class:`ArrayBatches` (a ``keras.utils.PyDataset`` over in-memory numpy
arrays, for every Keras backend with TensorFlow not installed): the same mean subtraction,
a fresh shuffle every epoch, the same 4-pixel pad, random crop and flip. Resizing is the
same bilinear interpolation (TensorFlow's half-pixel ``resize``, reproduced in numpy by
:func:`resize_bilinear`). The transforms themselves, each with its numpy twin, live in
:mod:`keras_cnn.training.transforms` (importable from here as before).
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

# re-exported: keras_cnn.data.resize_bilinear, ... as before
from keras_cnn.training.transforms import (  # noqa: F401
    GREY_WEIGHTS,
    PAD,
    adapt_arrays,
    adapt_images,
    augment_arrays,
    augment_image,
    resize_bilinear,
)

#: Seconds the connectivity check may take before a TFDS download is declared impossible.
CONNECT_TIMEOUT = 3.0
#: Shuffle buffer for TFDS splits (the embedded data is shuffled whole).
SHUFFLE_BUFFER = 10_000


class DatasetUnavailableError(RuntimeError):
    """A TensorFlow Datasets dataset is neither prepared on disk nor downloadable now."""


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: where it comes from, its native image shape and classes."""

    name: str
    #: "embedded" (inside an installed package) or "tfds".
    source: str
    shape: tuple[int, int, int]
    classes: int
    #: Whether a horizontal flip is a valid augmentation (natural images, not digits).
    flip: bool
    #: Host the TFDS download comes from (for the quick connectivity check).
    host: str | None
    description: str


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "digits",
            "embedded",
            (32, 32, 1),
            10,
            False,
            None,
            "scikit-learn's 1,797 handwritten digits (8x8, 16 grey levels) upsampled to 32x32; "
            "1,437 train / 360 test; no download",
        ),
        DatasetSpec(
            "mnist",
            "tfds",
            (28, 28, 1),
            10,
            False,
            "storage.googleapis.com",
            "MNIST handwritten digits, 60,000 / 10,000 (TensorFlow Datasets)",
        ),
        DatasetSpec(
            "fashion_mnist",
            "tfds",
            (28, 28, 1),
            10,
            True,
            "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
            "Fashion-MNIST clothing images, 60,000 / 10,000 (TensorFlow Datasets)",
        ),
        DatasetSpec(
            "cifar10",
            "tfds",
            (32, 32, 3),
            10,
            True,
            "www.cs.toronto.edu",
            "CIFAR-10 natural images, 50,000 / 10,000 (TensorFlow Datasets)",
        ),
        DatasetSpec(
            "cifar100",
            "tfds",
            (32, 32, 3),
            100,
            True,
            "www.cs.toronto.edu",
            "CIFAR-100 natural images, 50,000 / 10,000 (TensorFlow Datasets)",
        ),
    )
}
SPLITS = ("train", "test")
#: Size of the embedded dataset's test split and the seed of its stratified split.
DIGITS_TEST_SIZE = 360
DIGITS_SEED = 0
#: The embedded digits: uint8 images (0..16), labels, and the indices of each split.
DIGITS_FILE = Path(__file__).with_name("digits.npz")


def spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` of a dataset name.

    Args:
        name: str. One of :data:`DATASETS`.

    Returns:
        The spec.

    Raises:
        ValueError: for an unknown name.
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset. Expected one of {sorted(DATASETS)}. Received: {name=}")
    return DATASETS[name]


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {list(SPLITS)}. Received: {split=}")


@functools.cache
def _digits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The embedded digits at 32x32, in [0, 1], split once (cached per process)."""
    with np.load(DIGITS_FILE) as stored:
        images = stored["images"].astype("float32")[..., None] / 16.0
        labels = stored["labels"].astype("int32")
        splits = {split: stored[split].astype("int64") for split in SPLITS}
    images = np.clip(resize_bilinear(images, (32, 32)), 0.0, 1.0)
    return {split: (images[index], labels[index]) for split, index in splits.items()}


def _target_shape(native: tuple[int, int, int], input_shape) -> tuple[int, int, int]:
    """The image shape the pipeline produces: the model's, or the dataset's own."""
    if input_shape is None:
        return tuple(native)
    shape = tuple(input_shape)[-3:]
    if len(shape) != 3 or any(v is None for v in shape) or shape[-1] not in (1, 3):
        raise ValueError(
            "`input_shape` must be (height, width, channels) with 1 or 3 channels. "
            f"Received: input_shape={input_shape!r}"
        )
    return tuple(int(v) for v in shape)


def _can_reach(host: str, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Whether ``https://host/`` answers an HTTP request within about ``timeout`` seconds.

    A TCP connection alone is not enough (a sandbox's proxy may accept every connection and
    never deliver), so this completes a TLS handshake and reads a response status. Name
    resolution has no timeout of its own, so the check runs in a daemon thread.
    """
    import http.client

    result: list[bool] = []

    def probe() -> None:
        connection = http.client.HTTPSConnection(host, timeout=timeout)
        try:
            connection.request("HEAD", "/")
            result.append(connection.getresponse().status > 0)
        except (OSError, http.client.HTTPException):
            result.append(False)
        finally:
            connection.close()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(2 * timeout + 0.5)
    return bool(result and result[0])


def _unavailable(name: str, data_dir, reason: str) -> DatasetUnavailableError:
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
    return DatasetUnavailableError(
        f"The TensorFlow Datasets dataset {name!r} is not prepared in {where} and {reason}. "
        f'Prepare it once on a machine with network access (python -c "import '
        f"tensorflow_datasets as tfds; tfds.builder('{name}').download_and_prepare()\", or "
        f"`tfds build {name}`), then copy the directory and pass data_dir=... or set "
        f"TFDS_DATA_DIR to it. Or train on the embedded dataset, which needs no network: "
        f"data='digits'."
    )


def _tfds_builder(name: str, data_dir, download: bool):
    """A prepared TFDS builder, downloading only when that is possible right now."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
    if builder.is_prepared():
        return builder
    if not download:
        raise _unavailable(name, data_dir, "download=False")
    host = DATASETS[name].host
    if not _can_reach(host):
        raise _unavailable(
            name, data_dir, f"cannot be downloaded: {host} is unreachable (no network?)"
        )
    try:
        builder.download_and_prepare()
    except (OSError, ConnectionError, ImportError) as error:
        raise _unavailable(name, data_dir, f"its download failed ({error!r})") from error
    return builder


def _source(name: str, split: str, data_dir, download: bool):
    """The raw split as ``(image, label)`` pairs (uint8 for TFDS, float for the embedded data)."""
    import tensorflow as tf

    if DATASETS[name].source == "embedded":
        x, y = _digits()[split]
        return tf.data.Dataset.from_tensor_slices((x, y))
    builder = _tfds_builder(name, data_dir, download)
    return builder.as_dataset(split=split, as_supervised=True)


def _to_float(image, label, shape):
    import tensorflow as tf

    if image.dtype == tf.uint8:
        image = tf.cast(image, tf.float32) / 255.0
    return adapt_images(image, shape), tf.cast(label, tf.int32)


@functools.cache
def _pixel_mean_cached(name: str, data_dir: str | None, shape: tuple[int, int, int]) -> np.ndarray:
    if DATASETS[name].source == "embedded":
        x, _ = _digits()["train"]
        return adapt_arrays(x, shape).mean(axis=0)
    import tensorflow as tf

    ds = _source(name, "train", data_dir, download=True)
    ds = ds.map(lambda x, y: _to_float(x, y, shape)[0], num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(1024)
    total = np.zeros(shape, "float64")
    count = 0
    for batch in ds.as_numpy_iterator():
        total += batch.sum(axis=0)
        count += len(batch)
    return (total / max(count, 1)).astype("float32")


def pixel_mean(name: str, input_shape=None, *, data_dir=None) -> np.ndarray:
    """The per-pixel mean image of a dataset's training split, in [0, 1] units.

    Args:
        name: str. A dataset name (see :data:`DATASETS`).
        input_shape: optional ``(height, width, channels)`` the images are adapted to.
        data_dir: optional TFDS data directory.

    Returns:
        A float32 array of the target shape.
    """
    shape = _target_shape(spec(name).shape, input_shape)
    return _pixel_mean_cached(name, None if data_dir is None else os.fspath(data_dir), shape)


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays for ``model.fit`` on any Keras backend (no TensorFlow).

    The same as :func:`load` gives from a ``tf.data`` pipeline: a fresh shuffle each
    epoch (seeded), and with ``augment`` the papers' pad, random crop and flip, drawn per
    image on the host with numpy. Images are used as given (subtract the mean first, as
    :func:`arrays` does).

    Args:
        images: float array ``(N, H, W, C)``.
        labels: int array ``(N,)``.
        batch_size: int. The last batch may be smaller.
        shuffle: bool. Reshuffle every epoch. Defaults to True.
        augment: bool. Pad, crop (and flip). Defaults to False.
        flip: bool. With ``augment``, also flip left-right (natural images).
        seed: optional int for the order and the augmentation.
        shard: optional ``(index, count)``: this process's part of every batch when
            ``count`` processes train together (``keras.distribution`` across processes):
            each takes every ``count``-th image of the same (equally seeded) global batch,
            and a last batch smaller than ``batch_size`` is dropped. Defaults to one process.

    Example:
        >>> x, y = arrays("digits", "train")
        >>> batches = ArrayBatches(x, y, 128, augment=True, seed=0)
        >>> len(batches), batches[0][0].shape
        (12, (128, 32, 32, 1))
    """

    def __init__(
        self,
        images,
        labels,
        batch_size: int,
        *,
        shuffle: bool = True,
        augment: bool = False,
        flip: bool = False,
        seed: int | None = None,
        shard: tuple[int, int] = (0, 1),
    ):
        super().__init__(workers=1, use_multiprocessing=False)
        self.images = np.asarray(images, "float32")
        self.labels = np.asarray(labels, "int32")
        if len(self.images) != len(self.labels) or not len(self.images):
            raise ValueError(
                "`images` and `labels` must be as many and not empty. Received: "
                f"{len(self.images)} images, {len(self.labels)} labels"
            )
        self.batch_size, self.shuffle, self.augment, self.flip = batch_size, shuffle, augment, flip
        self.shard_index, self.shards = shard
        if not 0 <= self.shard_index < self.shards or batch_size % self.shards:
            raise ValueError(
                f"`shard` must be (index, count) with 0 <= index < count and count dividing "
                f"the batch size {batch_size}. Received: shard={shard!r}"
            )
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(self.images)) if shuffle else None

    def __len__(self) -> int:
        if self.shards > 1:  # every process must get a batch of the same size
            return len(self.images) // self.batch_size
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, index: int):
        window = np.arange(index * self.batch_size, (index + 1) * self.batch_size)
        window = window[window < len(self.images)][self.shard_index :: self.shards]
        chosen = self.order[window] if self.order is not None else window
        images, labels = self.images[chosen], self.labels[chosen]
        if self.augment:
            images = augment_arrays(images, self.rng, flip=self.flip)
        return images, labels

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = self.rng.permutation(len(self.images))


def load(
    name: str = "digits",
    split: str = "train",
    *,
    batch_size: int = 128,
    augment: bool = False,
    data_dir: str | os.PathLike | None = None,
    input_shape=None,
    shuffle: bool | None = None,
    seed: int | None = None,
    limit: int | None = None,
    download: bool = True,
):
    """A batched ``tf.data.Dataset`` of ``(image, label)`` for training or evaluation.

    Args:
        name: str. ``"digits"`` (embedded, the default), ``"mnist"``, ``"fashion_mnist"``,
            ``"cifar10"`` or ``"cifar100"``.
        split: str. ``"train"`` or ``"test"``.
        batch_size: int. Defaults to 128.
        augment: bool. Pad 4 pixels, crop randomly back, and flip natural images
            (He et al. 2015, §4.2). Defaults to False.
        data_dir: TFDS data directory; defaults to ``TFDS_DATA_DIR`` or
            ``~/tensorflow_datasets``. Ignored for the embedded dataset.
        input_shape: optional ``(height, width, channels)`` of the model: images are resized
            (bilinear) and converted grey <-> RGB to it. Defaults to the dataset's own shape.
        shuffle: bool. Defaults to True for ``"train"``, False otherwise.
        seed: optional int for the shuffle order.
        limit: optional int. Keep only the first ``limit`` examples of the split.
        download: bool. Allow TFDS to download a dataset that is not on disk.

    Returns:
        A ``tf.data.Dataset`` of ``(float32 (batch, H, W, C), int32 (batch,))``.

    Raises:
        ValueError: for an unknown name or split, or a bad ``input_shape``.
        DatasetUnavailableError: when a TFDS dataset is not on disk and cannot be downloaded.

    Example:
        >>> ds = load("digits", "test", batch_size=32, input_shape=(32, 32, 3))
        >>> [tuple(t.shape) for t in next(iter(ds))]
        [(32, 32, 32, 3), (32,)]
    """
    import tensorflow as tf

    info = spec(name)
    _check_split(split)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: {batch_size=}")
    shape = _target_shape(info.shape, input_shape)
    ds = _source(name, split, data_dir, download)
    mean = pixel_mean(name, shape, data_dir=data_dir)
    if limit is not None:
        ds = ds.take(int(limit))
    ds = ds.cache()
    if split == "train" if shuffle is None else shuffle:
        buffer = len(_digits()[split][0]) if info.source == "embedded" else SHUFFLE_BUFFER
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)

    def prepare(image, label):
        image, label = _to_float(image, label, shape)
        return image - mean, label

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    if augment:
        ds = ds.map(
            lambda x, y: (augment_image(x, flip=info.flip), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def arrays(
    name: str = "digits",
    split: str = "train",
    *,
    input_shape=None,
    limit: int | None = None,
    normalize: bool = True,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A whole (small) split as in-memory numpy arrays, for tests, benchmarks and notebooks.

    Args:
        name: str. A dataset name (see :func:`load`).
        split: str. ``"train"`` or ``"test"``.
        input_shape: optional ``(height, width, channels)`` to adapt the images to.
        limit: optional int. Keep only the first ``limit`` examples.
        normalize: bool. Subtract the training split's per-pixel mean (as :func:`load`);
            False leaves the images in [0, 1]. Defaults to True.
        data_dir: TFDS data directory.
        download: bool. Allow TFDS to download.

    Returns:
        ``(images float32 (N, H, W, C), labels int32 (N,))``.

    Example:
        >>> x, y = arrays("digits", "test")
        >>> x.shape, y.shape
        ((360, 32, 32, 1), (360,))
    """
    info = spec(name)
    _check_split(split)
    shape = _target_shape(info.shape, input_shape)
    if info.source == "embedded":  # numpy only: no TensorFlow needed
        x, y = _digits()[split]
        x, y = adapt_arrays(x[:limit], shape), y[:limit]
    else:
        ds = _source(name, split, data_dir, download)
        if limit is not None:
            ds = ds.take(int(limit))
        ds = ds.map(lambda x, y: _to_float(x, y, shape)).batch(4096)
        parts = list(ds.as_numpy_iterator())
        x = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, *shape), "float32")
        y = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0,), "int32")
    if normalize:
        x = x - pixel_mean(name, shape, data_dir=data_dir)
    return x.astype("float32"), y.astype("int32")


def num_examples(name: str, split: str = "train", *, data_dir=None) -> int | None:
    """How many examples a split has (None if TFDS does not know without preparing it).

    Args:
        name: str. A dataset name.
        split: str. ``"train"`` or ``"test"``.
        data_dir: TFDS data directory.

    Returns:
        The count, or None.
    """
    info = spec(name)
    _check_split(split)
    if info.source == "embedded":
        return len(_digits()[split][1])
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
        return int(builder.info.splits[split].num_examples) or None
    except Exception:  # metadata is optional here
        return None


def is_available(name: str, *, data_dir=None) -> bool:
    """Whether a dataset can be loaded without a download (always True for embedded data).

    Args:
        name: str. A dataset name.
        data_dir: TFDS data directory.

    Returns:
        bool.
    """
    if spec(name).source == "embedded":
        return True
    import tensorflow_datasets as tfds

    data_dir = None if data_dir is None else os.fspath(Path(data_dir))
    return tfds.builder(name, data_dir=data_dir).is_prepared()
