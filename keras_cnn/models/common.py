"""Shared plumbing for the model builders: argument checks, input, head, weights.

Every builder follows the same build order as ``keras.applications``: validate the
arguments, resolve the input, build the stem and the stages, add the head, create the
``keras.Model`` and load weights. The helpers here reproduce what keras' private
``imagenet_utils`` helpers do, without importing ``keras.src``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple

import keras
from keras import layers

from keras_cnn.models.weights import IMAGENET_WEIGHTS, download

#: Epsilon of every batch normalization layer, as in ``keras.applications``' ResNets.
BN_EPSILON = 1.001e-5
#: Momentum of the batch-norm moving averages. Keras' default 0.99 keeps the builders
#: that reproduce ``keras.applications`` (VGG, ResNet v1/v2) identical to it, config
#: included. 0.9 (PyTorch's and Caffe's ``momentum=0.1``, the He et al. and Zagoruyko &
#: Komodakis training setups, and what ``keras_cnn.train`` uses) lets the averages catch
#: up within an epoch or two of a small data set: with 0.99 a few hundred steps leave
#: them far from the batch statistics and a model that trains well evaluates near
#: chance. The builders with no ``keras.applications`` twin default to it.
BN_MOMENTUM_KERAS = 0.99
BN_MOMENTUM_TORCH = 0.9

POOLINGS = (None, "avg", "max")
MIN_RECURSION_LIMIT = 30_000


class ArgumentError(TypeError, ValueError):
    """An argument a builder does not take: a ``TypeError`` as Python's own, and a
    ``ValueError`` as every other refused argument of the package."""


def check_keywords(fn: Callable, kwargs: dict, *, caller: str | None = None) -> dict:
    """``kwargs`` for ``fn``, with its renamed keywords under their new names.

    A keyword that ``fn`` does not take raises, suggesting the closest one and listing the
    valid ones (``build_vgg(clases=10)`` -> "Did you mean 'classes'?"); an old keyword that
    ``fn.renamed`` maps to a new one is accepted with a ``DeprecationWarning``.

    Raises:
        ArgumentError: for an unknown keyword.
    """
    valid = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    renamed = getattr(fn, "renamed", {})
    name = getattr(fn, "__name__", "the builder")
    accepted = {}
    for key, value in kwargs.items():
        if key in renamed and key not in valid:
            new = renamed[key]
            if new in kwargs:
                raise ArgumentError(
                    f"{name} got both {key!r} and its new name {new!r}. Received: "
                    f"{key}={value!r}, {new}={kwargs[new]!r}"
                )
            warnings.warn(
                f"{name}: `{key}` is now `{new}` (as timm names it); `{key}` still works.",
                DeprecationWarning,
                stacklevel=3,
            )
            key = new
        elif key not in valid:
            close = difflib.get_close_matches(key, [*valid, *renamed], n=1, cutoff=0.6)
            hint = f" Did you mean {renamed.get(close[0], close[0])!r}?" if close else ""
            raise ArgumentError(
                f"{caller or name} got an unknown argument {key!r}.{hint} "
                f"{name} takes: {', '.join(valid)}. Received: {key}={value!r}"
            )
        accepted[key] = value
    return accepted


#: The arguments every builder shares with ``keras.applications``, in its order: name,
#: annotation, default, and the docstring line of the four every builder says alike
#: (``include_top``, ``weights`` and ``input_shape`` say what they mean for the model).
APPLICATION_ARGS = (
    ("include_top", "bool", True, None),
    ("weights", "str | None", None, None),
    ("input_tensor", None, None, "optional Keras tensor to use as the input."),
    ("input_shape", None, None, None),
    ("pooling", "str | None", None, 'None, ``"avg"`` or ``"max"`` when ``include_top=False``.'),
    ("classes", "int", 1000, "int. Defaults to {classes}."),
    ("classifier_activation", "str | None", "softmax", 'str or None. Defaults to ``"softmax"``.'),
)
#: Where a builder's docstring lists the shared arguments of :data:`APPLICATION_ARGS`.
APPLICATION_DOC = "{application_args}"


def _public_signature(fn: Callable, defaults: dict) -> inspect.Signature:
    """``fn``'s signature with its ``app`` parameter replaced by the arguments of
    :data:`APPLICATION_ARGS` (keyword-only, keras.applications' defaults unless ``defaults``
    says otherwise): the signature ``help()``, ``inspect`` and the keyword check see."""
    params = []
    for p in inspect.signature(fn).parameters.values():
        if p.name != "app":
            params.append(p)
            continue
        params += [
            inspect.Parameter(
                arg,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(arg, default),
                **({"annotation": note} if note else {}),
            )
            for arg, note, default, _ in APPLICATION_ARGS
        ]
    return inspect.signature(fn).replace(parameters=params)


def _application_doc(doc: str | None, signature: inspect.Signature) -> str | None:
    """The docstring with :data:`APPLICATION_DOC` replaced by the shared arguments' lines."""
    if not doc or APPLICATION_DOC not in doc:
        return doc
    line = next(line for line in doc.splitlines() if line.strip() == APPLICATION_DOC)
    indent = line[: len(line) - len(line.lstrip())]
    values = {arg: signature.parameters[arg].default for arg, *_ in APPLICATION_ARGS}
    said = [f"{arg}: {text.format(**values)}" for arg, _, _, text in APPLICATION_ARGS if text]
    return doc.replace(line, "\n".join(indent + entry for entry in said))


def builder(renamed: dict[str, str] | None = None, **defaults) -> Callable[[Callable], Callable]:
    """Decorate a ``build_*`` function: :func:`check_keywords` on every call and, for a
    function with an ``app`` parameter, the arguments shared with ``keras.applications``.

    A builder written ``def build_x(depth=..., *, own=..., app: Application, name=...)``
    is called (and shown by ``help()`` and ``inspect.signature``) as ``build_x(depth, *,
    own, include_top, weights, input_tensor, input_shape, pooling, classes,
    classifier_activation, name)``; it receives those seven as one :class:`Application`.
    Its docstring's :data:`APPLICATION_DOC` line becomes their shared descriptions.

    Args:
        renamed: dict or None. Old keyword -> its new name (accepted, with a warning).
        **defaults: the builder's defaults that differ from ``keras.applications``'
            (``classes=10``).
    """

    def wrap(fn: Callable) -> Callable:
        fn.renamed = dict(renamed or {})
        shared = "app" in inspect.signature(fn).parameters

        @functools.wraps(fn)
        def build(*args, **kwargs):
            kwargs = check_keywords(build, kwargs)
            if shared:
                given = {
                    arg: kwargs.pop(arg, build.__signature__.parameters[arg].default)
                    for arg, *_ in APPLICATION_ARGS
                }
                kwargs["app"] = Application(**given)
            return fn(*args, **kwargs)

        if shared:
            build.__signature__ = _public_signature(fn, defaults)
            build.__doc__ = _application_doc(fn.__doc__, build.__signature__)
            # tools that unwrap (griffe, the API pages) would read the inner signature and
            # the unfilled docstring: the public ones are these
            del build.__wrapped__
        elif defaults:
            raise TypeError(f"{fn.__name__} has no `app` parameter for the defaults {defaults}")
        return build

    return wrap


def check_choice(value, allowed, what: str, *, label: str | None = None) -> None:
    """Refuse a value not in ``allowed``; for integer choices (depths, versions) also a float
    or a bool equal to one (``50.0 in {50: ...}`` is true in Python, and made "resnet50.0").

    Raises:
        ValueError: ``"{label} must be one of [...]. Received: {what}=..."``.
    """
    integers = all(isinstance(a, int) for a in allowed)
    ok = (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if integers
        else isinstance(value, Hashable)
    ) and value in allowed
    if not ok:
        raise ValueError(
            f"{label or f'`{what}`'} must be one of {sorted(allowed)}. Received: {what}={value!r}"
        )


def check_rate(value, what: str) -> None:
    """Check that a rate (``dropout``, ``bn_momentum``) is a number in [0, 1).

    Raises:
        ValueError: naming the argument and the value received.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"`{what}` must be a number in [0, 1). Received: {what}={value!r}")


class Application(NamedTuple):
    """The arguments every builder shares with ``keras.applications``, in its order, and the
    build order they share: :meth:`assemble`."""

    include_top: bool
    weights: str | os.PathLike | None
    input_tensor: Any
    input_shape: Sequence[int | None] | None
    pooling: str | None
    classes: int
    classifier_activation: str | None

    def check(self, weights_name: str | None, model: str) -> None:
        """Validate the arguments before any layer is built.

        Raises:
            ValueError: naming the bad value and what is allowed.
        """
        if not isinstance(self.include_top, bool):
            raise ValueError(
                f"`include_top` must be True or False. Received: include_top={self.include_top!r}"
            )
        if self.weights == "imagenet":
            _check_imagenet(self, weights_name, model)
        elif self.weights is not None and not (
            isinstance(self.weights, str | os.PathLike) and os.path.exists(self.weights)
        ):
            raise ValueError(
                "The `weights` argument should be either `None` (random initialization), "
                "'imagenet' (pre-training on ImageNet), or the path to an existing weights "
                f"file. Received: weights={self.weights!r}"
            )
        if self.pooling not in POOLINGS:
            raise ValueError(
                f"`pooling` must be one of {list(POOLINGS)}. Received: pooling={self.pooling!r}"
            )
        if isinstance(self.classes, bool) or not isinstance(self.classes, int) or self.classes < 1:
            raise ValueError(
                f"`classes` must be a positive integer. Received: classes={self.classes!r}"
            )

    def assemble(
        self,
        body: Callable,
        top: Callable,
        *,
        name: str,
        default_size: int,
        min_size: int,
        channels: int = 3,
        weights_name: str | None = None,
        flattens: bool = False,
    ) -> keras.Model:
        """Check the arguments, resolve the input, run ``body``, add the head, finish.

        Args:
            body: the stem and the stages: a function of the input tensor.
            top: with ``include_top``, what comes between the body and the classifier
                (``"predictions"``, added here): a function of the body's output.
            name: str. The model's name.
            default_size: int. The paper's input size; min_size: int. The smallest.
            channels: int. The default input's channels.
            weights_name: str or None. The id whose published weights load with
                ``weights="imagenet"``; None when there are none.
            flattens: bool. Whether ``top`` flattens the feature map (fully connected
                layers), which needs a known input size.

        Returns:
            The ``keras.Model``, with its weights loaded.
        """
        self.check(weights_name, name)
        shape = resolve_input_shape(
            self.input_shape,
            default_size=default_size,
            min_size=min_size,
            channels=channels,
            weights=self.weights,
            fixed_top=self.include_top and flattens and self.weights == "imagenet",
        )
        if self.include_top and flattens and None in shape[:2]:
            raise ValueError(
                f"{name}'s fully connected top needs a known input size: give both height and "
                f"width, or use include_top=False for any size. Received: input_shape="
                f"{self.input_shape}"
            )
        inputs, x = make_input(self.input_tensor, shape)
        x = body(x)
        if self.include_top:
            x = top(x)
            x = layers.Dense(
                self.classes, activation=self.classifier_activation, name="predictions"
            )(x)
        elif self.pooling == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        elif self.pooling == "max":
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        return _finish(self, inputs, x, name=name, weights_name=weights_name)


def _check_imagenet(app: Application, weights_name: str | None, model: str) -> None:
    if weights_name not in IMAGENET_WEIGHTS:
        raise ValueError(
            f"No published ImageNet weights exist for {model!r}; they exist for the registry "
            f"models {', '.join(sorted(IMAGENET_WEIGHTS))} (list_models(pretrained=True)). "
            "Use `weights=None` (random initialization) or the path to a weights file. "
            f"Received: weights={app.weights!r}"
        )
    if app.include_top and app.classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should "
            f"be 1000. Received: classes={app.classes}"
        )
    if app.include_top and app.classifier_activation not in {None, "softmax"}:
        raise ValueError(
            "Only `None` and `'softmax'` are allowed for `classifier_activation` when "
            f"loading ImageNet weights. Received: "
            f"classifier_activation={app.classifier_activation!r}"
        )


def avg_pool_top(x):
    """The ResNets' top before the classifier: global average pooling."""
    return layers.GlobalAveragePooling2D(name="avg_pool")(x)


def dense_top(x, units: Sequence[tuple[str, int]], *, activation="relu", dropout: float = 0.0):
    """The fully connected top before the classifier (VGG's fc1, fc2; AlexNet's fc6, fc7;
    LeNet's f6): flatten, then a dense layer per ``(name, units)``, each followed by
    ``{name}_dropout`` when ``dropout`` is not 0."""
    x = layers.Flatten(name="flatten")(x)
    for name, n in units:
        x = layers.Dense(n, activation=activation, name=name)(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def resolve_input_shape(
    input_shape: Sequence[int | None] | None,
    *,
    default_size: int,
    min_size: int,
    channels: int = 3,
    weights: str | None = None,
    fixed_top: bool = False,
) -> tuple[int | None, int | None, int]:
    """The input shape a builder uses, checked like ``keras.applications`` does.

    Args:
        input_shape: tuple or None. ``(height, width, channels)``; None for the default.
        default_size: int. The paper's input size (224 for ImageNet networks).
        min_size: int. The smallest height and width the network accepts.
        channels: int. The default number of channels.
        weights: str or None. With ``"imagenet"`` the input must have 3 channels.
        fixed_top: bool. True when ImageNet weights and a flattening top are loaded,
            which fixes the input to the default shape.

    Returns:
        The input shape as a tuple of three entries (height and width may be None).

    Raises:
        ValueError: for a shape of the wrong rank, too small, or with the wrong channels.
    """
    default = (default_size, default_size, 3 if weights == "imagenet" else channels)
    if input_shape is None:
        return default
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            "`input_shape` must be a tuple of three integers (height, width, channels). "
            f"Received: input_shape={input_shape}"
        )
    if weights == "imagenet" and shape[-1] != 3:
        raise ValueError(
            f"ImageNet weights need an input with 3 channels. Received: input_shape={input_shape}"
        )
    if fixed_top and shape != default:
        raise ValueError(
            "When setting `include_top=True` and loading `imagenet` weights, "
            f"`input_shape` should be {default}. Received: input_shape={input_shape}"
        )
    if any(s is not None and s < min_size for s in shape[:2]):
        raise ValueError(
            f"Input size must be at least {min_size}x{min_size} for this network. "
            f"Received: input_shape={input_shape}"
        )
    return shape  # type: ignore[return-value]


def make_input(input_tensor, input_shape):
    """Return ``(model_input, tensor)`` for ``input_tensor`` / ``input_shape``."""
    if input_tensor is None:
        x = layers.Input(shape=input_shape, name="input")
        return x, x
    if not keras.backend.is_keras_tensor(input_tensor):
        x = layers.Input(tensor=input_tensor, shape=input_shape, name="input")
        return x, x
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def _finish(app: Application, inputs, outputs, *, name: str, weights_name) -> keras.Model:
    """Create the model and load its weights (``"imagenet"`` or a local file)."""
    # Keras walks the layer graph recursively (building, saving, loading): ResNet-1202
    # has about 5,000 layers, more than Python's default recursion limit allows.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), MIN_RECURSION_LIMIT))
    model = keras.Model(inputs, outputs, name=name)
    if app.weights == "imagenet":
        top, notop = IMAGENET_WEIGHTS[weights_name]
        model.load_weights(download(top if app.include_top else notop))
    elif app.weights is not None:
        model.load_weights(os.fspath(app.weights))
    return model
