"""Gradients of a scalar function by each backend's own autodiff, for Grad-CAM, saliency
and effective receptive fields (:mod:`keras_cnn.analysis.inside`).

Keras 3 has no backend-neutral gradient, so each supported backend compiles one here:
TensorFlow a ``tf.function`` over a ``GradientTape``, JAX ``jax.grad``, PyTorch
``torch.autograd.grad``. Under another backend (``numpy``, ``openvino``) the maps raise a
``NotImplementedError`` that says which to use.
"""

from __future__ import annotations

from collections.abc import Callable

import keras


def _tensorflow_gradient(fn: Callable) -> Callable:
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def gradient(target, *args):
        with tf.GradientTape() as tape:
            tape.watch(target)
            value = fn(target, *args)
        return tape.gradient(value, target)

    return gradient


def _jax_gradient(fn: Callable) -> Callable:
    import jax

    # Not jax.jit: a jitted function keeps the weights it was traced with as constants, so a
    # model trained further afterwards would get stale maps. tf.function reads the variables.
    return jax.grad(fn)


def _torch_gradient(fn: Callable) -> Callable:
    import torch

    def gradient(target, *args):
        target = target.detach().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(fn(target, *args), target)
        return grad

    return gradient


#: Backend name -> ``compile(fn)``: a function ``(target, *args) -> d fn(target, *args) /
#: d target`` for a scalar ``fn``, made once per model (TensorFlow: a ``tf.function``).
GRADIENT_BACKENDS: dict[str, Callable] = {
    "tensorflow": _tensorflow_gradient,
    "jax": _jax_gradient,
    "torch": _torch_gradient,
}


def gradient_backend() -> str:
    """The running Keras backend, when :data:`GRADIENT_BACKENDS` can take its gradients.

    Raises:
        NotImplementedError: Under another backend, naming the ones that work.
    """
    backend = keras.backend.backend()
    if backend not in GRADIENT_BACKENDS:
        raise NotImplementedError(
            f"Gradients (Grad-CAM, saliency, effective receptive fields) need one of the "
            f"backends {sorted(GRADIENT_BACKENDS)}; this Keras runs on {backend!r}. Set "
            "KERAS_BACKEND=tensorflow (or jax, torch) before importing keras. Feature maps and "
            "receptive-field boxes work on every backend."
        )
    return backend
