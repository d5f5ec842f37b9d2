"""The experiments behind ResNet's claims, at a scale a laptop can run.

* :func:`degradation` -- He et al. (2015), Figure 6: plain networks of 20 and 56 layers and
  their residual twins, trained with the same seed and schedule. On CIFAR-10 with the
  paper's schedule the deeper plain net has the *higher* training error; the residual
  twins do not. What a few epochs on the embedded digits show is reported as measured.
* :func:`gradient_norms` -- the gradient of the loss with respect to each block's weights
  and output, from input to output, on one batch: how well the signal reaches the early
  blocks of a plain network versus a residual one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from keras_cnn.analysis.naming import group_of
from keras_cnn.training.trainer import build_model, train

#: The block a layer belongs to, from its name: its block (``conv3_block2``, VGG ``block3``),
#: ``"stem"``, ``"head"`` or its own name (see :mod:`keras_cnn.analysis.naming`).
block_of = group_of


def degradation(
    depths: Sequence[int] = (20, 56),
    data: str = "digits",
    *,
    epochs: int = 5,
    batch_size: int = 128,
    learning_rate: float = 0.1,
    schedule: str = "auto",
    seed: int = 0,
    limit: int | None = None,
    observers: Sequence[Any] = (),
    **train_kwargs,
) -> pd.DataFrame:
    """Train the plain and residual twins of each depth and return their error curves.

    Every model gets the same seed (so the same data order), optimizer and schedule.
    Training error is ``1 - accuracy`` as Keras measures it during the epoch (running
    mean, training mode, like the thin curves of He et al. Figure 6); test error is
    measured after the epoch.

    Args:
        depths: CIFAR depths 6n+2. Defaults to (20, 56), the paper's Figure 1.
        data: str. A dataset name. Defaults to the embedded digits.
        epochs: int. Epochs per model.
        batch_size: int.
        learning_rate: float.
        schedule: str. See :func:`keras_cnn.train.train`.
        seed: int. The shared seed.
        limit: optional int. Use only the first ``limit`` images of each split.
        observers: passed to :func:`keras_cnn.train.train`.
        **train_kwargs: more :func:`keras_cnn.train.train` arguments.

    Returns:
        A DataFrame with columns model, depth, residual, epoch, train_error, test_error,
        loss, test_loss, seconds: plain before residual, shallow before deep.

    Example:
        >>> curves = degradation((20, 56), epochs=5)  # trains four nets  # doctest: +SKIP
        >>> curves.groupby("model").train_error.last()  # doctest: +SKIP
    """
    frames = []
    for depth in depths:
        for residual in (False, True):
            name = f"{'resnet' if residual else 'plain'}{depth}"
            keras.utils.set_random_seed(seed)
            model = build_model(name, data)
            history = train(
                model,
                data,
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=learning_rate,
                schedule=schedule,
                seed=seed,
                limit=limit,
                observers=observers,
                tags={"experiment": "degradation"},
                **{"verbose": 0, **train_kwargs},
            )
            frames.append(
                pd.DataFrame(
                    {
                        "model": name,
                        "depth": depth,
                        "residual": residual,
                        "epoch": history.epoch,
                        "train_error": 1.0 - history.accuracy,
                        "test_error": 1.0 - history.test_accuracy,
                        "loss": history.loss,
                        "test_loss": history.test_loss,
                        "seconds": history.seconds,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def gradient_norms(model: keras.Model, batch, *, training: bool = True) -> pd.DataFrame:
    """The L2 norm of the loss gradient for each block's weights and output, input first.

    One forward and backward pass of the sparse categorical cross-entropy on ``batch``,
    with batch normalization in training mode (as during training; its moving statistics
    are restored afterwards). Layers are grouped into blocks by name (:func:`block_of`):
    the stem, each ``conv{stage}_block{i}``, the head.

    Args:
        model: a ``keras.Model`` with a softmax output (TensorFlow backend).
        batch: ``(images, labels)``, images already shaped for the model.
        training: bool. Run the forward pass in training mode. Defaults to True.

    Returns:
        A DataFrame with one row per block: block, position (0 = nearest the input),
        params, weight_grad_norm (over all the block's trainable weights) and
        activation_grad_norm (w.r.t. the block's output tensor, summed over the batch).

    Raises:
        ValueError: under a backend other than TensorFlow.
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "gradient_norms uses tf.GradientTape and needs the TensorFlow backend. "
            f"Received: backend={keras.backend.backend()!r}"
        )
    import tensorflow as tf

    images, labels = batch
    order: list[str] = []
    groups: dict[str, list] = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        block = block_of(layer.name)
        if block not in groups:
            order.append(block)
            groups[block] = []
        groups[block].append(layer)
    outputs = [groups[b][-1].output for b in order]
    head_is_output = outputs[-1] is model.outputs[0]
    probe = keras.Model(model.inputs, outputs if head_is_output else [*outputs, model.outputs[0]])
    kept = [v.numpy() for v in model.non_trainable_variables]
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    x = tf.convert_to_tensor(np.asarray(images, "float32"))
    y = tf.convert_to_tensor(np.asarray(labels, "int32"))
    with tf.GradientTape() as tape:
        acts = probe(x, training=training)
        loss = loss_fn(y, acts[-1])
        if not head_is_output:
            acts = acts[:-1]
    weights = [[w for layer in groups[b] for w in layer.trainable_weights] for b in order]
    flat = [w for ws in weights for w in ws]
    grads = tape.gradient(loss, [*flat, *acts])
    weight_grads, act_grads = grads[: len(flat)], grads[len(flat) :]
    for variable, value in zip(model.non_trainable_variables, kept, strict=True):
        variable.assign(value)

    rows, i = [], 0
    for position, (block, ws, act_grad) in enumerate(zip(order, weights, act_grads, strict=True)):
        block_grads = weight_grads[i : i + len(ws)]
        i += len(ws)
        squares = sum(float(tf.reduce_sum(tf.square(g))) for g in block_grads if g is not None)
        rows.append(
            {
                "block": block,
                "position": position,
                "params": int(sum(np.prod(w.shape) for w in ws)),
                "weight_grad_norm": np.sqrt(squares) if ws else np.nan,
                "activation_grad_norm": float(tf.norm(act_grad))
                if act_grad is not None
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def provenance(command: str) -> dict[str, Any]:
    """How a stored result was made: command, commit, hardware and versions.

    Args:
        command: str. The command that produced it.

    Returns:
        A JSON-serialisable dict.
    """
    import os
    import platform
    import subprocess
    from datetime import UTC, datetime

    from keras_cnn.training.trainer import device_info

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    info = device_info()
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "command": command,
        "commit": commit,
        "uncommitted_changes": dirty,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "hardware": f"{info['device']} ({', '.join(info['names']) or cpu or 'unknown'}), "
        f"{os.cpu_count()} CPU cores",
        "backend": info["backend"],
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def save_result(frame: pd.DataFrame, path, command: str) -> None:
    """Store an experiment's DataFrame as CSV with a ``.json`` sidecar of its provenance.

    Args:
        frame: the result.
        path: the ``.csv`` path (the sidecar is the same path with ``.json``).
        command: str. The command that produced it.
    """
    import json
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    path.with_suffix(".json").write_text(json.dumps(provenance(command), indent=1) + "\n")
