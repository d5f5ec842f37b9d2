"""Devices and distribution for :func:`keras_cnn.train.train`.

``strategy=`` takes any ``tf.distribute`` strategy (TensorFlow backend: ``MirroredStrategy``
on one machine, ``MultiWorkerMirroredStrategy`` across processes and machines) or a
``keras.distribution`` distribution (JAX backend). Under a multi-worker strategy only the
chief writes checkpoints and the stored run. Two workarounds for Keras 3 under
``MultiWorkerMirroredStrategy`` live here, each naming its Keras issue.
"""

from __future__ import annotations

import os
from typing import Any

import keras


def device_info() -> dict[str, Any]:
    """The backend and the accelerators training would use.

    Returns:
        ``{"backend", "device" ("GPU" or "CPU"), "gpus" (count), "names", "cpus"}``.
    """
    backend = keras.backend.backend()
    names: list[str] = []
    if backend == "tensorflow":
        import tensorflow as tf

        names = [d.name for d in tf.config.list_physical_devices("GPU")]
    elif backend == "jax":
        import jax

        names = [str(d) for d in jax.devices() if d.platform == "gpu"]
    elif backend == "torch":
        import torch

        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "backend": backend,
        "device": "GPU" if names else "CPU",
        "gpus": len(names),
        "names": names,
        "cpus": os.cpu_count(),
    }


def check_strategy(strategy) -> None:
    if strategy is None:
        return
    if keras.backend.backend() != "tensorflow" and type(strategy).__module__.startswith(
        "tensorflow"
    ):
        raise ValueError(
            "A tf.distribute strategy needs the TensorFlow backend; under "
            f"{keras.backend.backend()!r} pass a keras.distribution distribution (e.g. "
            f"keras.distribution.DataParallel()). Received: strategy={strategy!r}"
        )
    if not hasattr(strategy, "scope"):
        raise ValueError(
            "`strategy` must be a tf.distribute.Strategy or a keras.distribution "
            f"Distribution. Received: strategy={strategy!r}"
        )


def is_multi_worker(strategy) -> bool:
    """Whether ``strategy`` is a ``tf.distribute`` strategy over several worker processes."""
    extended = getattr(strategy, "extended", None)
    return bool(getattr(extended, "_in_multi_worker_mode", lambda: False)())


def build_from_a_local_batch(model: keras.Model, dataset) -> None:
    """Work around Keras 3's ``fit`` under ``MultiWorkerMirroredStrategy``.

    Before its first step Keras builds the metrics from one batch, which it first averages
    across the workers with ``strategy.reduce`` -- and that fails on a distributed batch
    ("Attempt to convert a value (PerReplica ...) to a Tensor", keras-team/keras#20585,
    open in Keras 3.15). Only the batch's shapes and dtypes matter for that build, so this
    gives it one batch of this worker's own (undistributed) dataset instead.
    """
    original = getattr(model, "_maybe_symbolic_build", None)
    if original is None:  # another Keras: nothing to work around
        return
    batch = next(iter(dataset))

    def build(iterator=None, data_batch=None):
        return original(data_batch=batch)

    object.__setattr__(model, "_maybe_symbolic_build", build)


def reduce_scalars_across_workers() -> None:
    """Work around Keras 3's reporting under ``MultiWorkerMirroredStrategy``.

    After each step Keras averages the step's logs (loss, metrics: scalars) across workers
    with ``strategy.reduce("MEAN", value, axis=0)``, which fails on a scalar ("Invalid
    reduction dimension 0 for input with 0 dimensions"). This replaces that one reduction
    with ``axis=None`` (the mean over all replicas of every worker) in multi-worker mode,
    and leaves every other case to Keras. Training itself (the all-reduced gradients) is
    Keras' own.
    """
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original = tf_trainer.reduce_per_replica
    if getattr(original, "keras_cnn_patched", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(
            strategy
        ):
            return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.keras_cnn_patched = True
    tf_trainer.reduce_per_replica = reduce_per_replica


def process_shard(strategy, seed) -> tuple[int, int]:
    """``(process index, process count)`` under a ``keras.distribution`` across processes.

    Each process then feeds its own part of every global batch (in-memory data), so Keras'
    own sharding, which needs ``tf.data``, is turned off.
    """
    if strategy is None or keras.backend.backend() != "jax":
        return (0, 1)
    import jax

    if jax.process_count() == 1:
        return (0, 1)
    if seed is None:
        raise ValueError(
            "Training across processes needs `seed=` so that every process shuffles its data "
            "alike and feeds its part of the same global batches. Received: seed=None"
        )
    strategy.auto_shard_dataset = False
    return (jax.process_index(), jax.process_count())


def is_chief(strategy) -> bool:
    """Whether this process writes checkpoints and runs (always, without a strategy)."""
    extended = getattr(strategy, "extended", None)
    if extended is not None and hasattr(extended, "should_checkpoint"):
        return bool(extended.should_checkpoint)  # tf.distribute: the chief worker
    if strategy is not None and keras.backend.backend() == "jax":
        import jax

        return jax.process_index() == 0
    return True
