"""The one walk over a model's layer graph, shared by the table, the diagrams and the boxes.

:func:`graph` gives the functional graph of a model (a ``Sequential`` through its functional
view), :func:`graph_nodes` its layer calls in order, and :func:`flatten` the calls of the
flattened model: a model nested in another (a backbone called as one layer) is expanded in
place, its layers' names prefixed with its own (``"resnet50/conv1_conv"``), and the tensors
it is called on stand for its inputs. Nothing here computes a number: the analyses
(:mod:`keras_cnn.analysis.geometry`, :mod:`keras_cnn.analysis.summary`) run over the steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras


def graph(model) -> keras.Model:
    """The functional graph of a model: itself, or a functional view of a ``Sequential``.

    Raises:
        ValueError: For a model without a layer graph (subclassed, or a ``Sequential`` that
            does not know its input shape yet).
    """
    if isinstance(model, keras.Sequential):
        try:
            inputs, outputs = model.inputs, model.outputs
        except (AttributeError, ValueError):
            raise ValueError(
                f"Sequential model {model.name!r} has no input shape yet, so its layers have no "
                "output shapes to count: start it with keras.Input(shape=...) or call "
                "model.build(input_shape) first."
            ) from None
        return keras.Model(inputs, outputs, name=model.name)
    if not isinstance(model, keras.Model) or not hasattr(model, "operations"):
        raise ValueError(
            f"{getattr(model, 'name', model)!r} ({type(model).__name__}) has no layer graph to "
            "analyse (a subclassed model's call() is Python code): use a functional or "
            "Sequential model."
        )
    return model


def graph_nodes(model: keras.Model) -> list[tuple[object, object]]:
    """``(operation, node)`` for every call in ``model``'s graph, inputs before what they feed.

    A layer can have calls outside the graph (the layers of a nested model were called when
    it was built; a ``Sequential`` calls its layers again each time it grows), so the calls
    are the nodes reached backwards from the graph's outputs, as Keras finds them. They come
    in the order of ``model.operations``, each as soon as its inputs are computed.

    Args:
        model: keras.Model. A functional model (see :func:`graph`).

    Raises:
        ValueError: If an output cannot be reached from the inputs.
    """
    inputs = {id(t) for t in keras.tree.flatten(model.inputs)}
    needed: dict[int, object] = {}
    stack = list(keras.tree.flatten(model.outputs))
    for tensor in keras.tree.flatten(model.inputs):  # the InputLayers, for their table row
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            needed.setdefault(id(history.operation._inbound_nodes[history.node_index]), None)
    while stack:
        tensor = stack.pop()
        if id(tensor) in inputs:
            continue
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            raise ValueError(
                f"Model {model.name!r}: the tensor {tensor!r} comes from no layer, so keras_cnn "
                "cannot follow the graph."
            )
        node = history.operation._inbound_nodes[history.node_index]
        if id(node) not in needed:
            needed[id(node)] = None
            stack.extend(keras.tree.flatten(node.input_tensors))
    pending = [
        (op, node) for op in model.operations for node in op._inbound_nodes if id(node) in needed
    ]
    known, ordered = set(inputs), []
    while pending:
        waiting = []
        for op, node in pending:
            if all(id(t) in known for t in keras.tree.flatten(node.input_tensors)):
                ordered.append((op, node))
                known.update(id(t) for t in keras.tree.flatten(node.output_tensors))
            else:
                waiting.append((op, node))
        if len(waiting) == len(pending):
            raise ValueError(
                f"Model {model.name!r}: {waiting[0][0].name!r} cannot be reached from the "
                "inputs, so keras_cnn cannot follow the graph."
            )
        pending = waiting
    return ordered


@dataclass(frozen=True)
class Step:
    """One call of a layer (or ``keras.ops`` operation) in the flattened model.

    Attributes:
        op: The layer or operation (never a model: nested models are expanded).
        name: Qualified by the nested models it sits in (``"backbone/conv1_conv"``), with
            ``" (call n)"`` from a layer's second call on.
        path: The qualified name without the call number.
        call: 1 for a layer's first call in the flattened model, 2 for its second, ...
        inputs: Keys of the tensors it reads (see :attr:`Flat.key`).
        outputs: Keys of the tensors it writes.
        input_shapes: Their shapes without the batch axis.
        output_shapes: Likewise.
        dtypes: The outputs' dtypes (``"float32"``).
        top: The name of the top-level layer this call belongs to (the nested model's own
            name for the layers inside it).
    """

    op: object
    name: str
    path: str
    call: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    input_shapes: tuple[tuple, ...]
    output_shapes: tuple[tuple, ...]
    dtypes: tuple[str, ...]
    top: str


@dataclass
class Flat:
    """The flattened model: its steps, and where each tensor of the outer graph lands.

    Attributes:
        steps: In graph order, inputs before what they feed; the model's own InputLayers are
            steps without inputs, a nested model's InputLayers are not steps (the tensors it
            is called on stand for them).
        inputs: Keys of the model's input tensors.
        tensors: ``{key: tensor}``: the tensor each key stands for.
        aliases: ``{id(tensor): key}`` for every tensor of the model and of its nested models
            (a nested model called twice: its first call).
        top_outputs: ``{top-level layer name: key of its first call's first output}``.
    """

    steps: list[Step]
    inputs: list[int]
    tensors: dict[int, object]
    aliases: dict[int, int]
    top_outputs: dict[str, int]

    def key(self, tensor) -> int:
        """The key of a tensor of the model or of a model nested in it."""
        return self.aliases[id(tensor)]


def _shape(tensor) -> tuple:
    return tuple(tensor.shape[1:])


def flatten(model) -> Flat:
    """The calls of a model with its nested models expanded in place.

    Args:
        model: keras.Model. A functional or ``Sequential`` model, possibly with functional or
            ``Sequential`` models nested in it (also nested twice, or called twice).

    Returns:
        A :class:`Flat`.

    Raises:
        ValueError: If the model, or a model nested in it, has no graph to follow.
    """
    steps: list[Step] = []
    tensors: dict[int, object] = {}
    aliases: dict[int, int] = {}
    calls_of: dict[int, int] = {}
    top_outputs: dict[str, int] = {}

    def walk(functional: keras.Model, prefix: str, given: list[int] | None, top: str) -> list[int]:
        local: dict[int, int] = {}  # id(tensor) -> key, for this call of this graph

        def key(tensor) -> int:
            if id(tensor) not in local:
                local[id(tensor)] = len(tensors)
                tensors[local[id(tensor)]] = tensor
            aliases.setdefault(id(tensor), local[id(tensor)])
            return local[id(tensor)]

        inputs = keras.tree.flatten(functional.inputs)
        if given is not None:
            if len(given) != len(inputs):
                raise ValueError(
                    f"Nested model {functional.name!r} is called on {len(given)} tensors but has "
                    f"{len(inputs)} inputs: keras_cnn cannot follow it."
                )
            for tensor, k in zip(inputs, given, strict=True):
                local[id(tensor)] = k
                aliases.setdefault(id(tensor), k)
        for op, node in graph_nodes(functional):
            ins = keras.tree.flatten(node.input_tensors)
            outs = keras.tree.flatten(node.output_tensors)
            owner = top or op.name
            if isinstance(op, keras.Model):
                results = walk(graph(op), f"{prefix}{op.name}/", [key(t) for t in ins], owner)
                for tensor, k in zip(outs, results, strict=True):
                    local[id(tensor)] = k
                    aliases.setdefault(id(tensor), k)
                if not prefix:
                    top_outputs.setdefault(op.name, local[id(outs[0])])
                continue
            if not ins and given is not None and all(id(t) in local for t in outs):
                continue  # a nested model's InputLayer: the outer tensor stands for it
            in_keys = tuple(key(t) for t in ins)
            out_keys = tuple(key(t) for t in outs)
            n = calls_of[id(op)] = calls_of.get(id(op), 0) + 1
            steps.append(
                Step(
                    op=op,
                    name=prefix + op.name + (f" (call {n})" if n > 1 else ""),
                    path=prefix + op.name,
                    call=n,
                    inputs=in_keys,
                    outputs=out_keys,
                    input_shapes=tuple(_shape(t) for t in ins),
                    output_shapes=tuple(_shape(t) for t in outs),
                    dtypes=tuple(str(t.dtype) for t in outs),
                    top=owner,
                )
            )
            if not prefix and out_keys:
                top_outputs.setdefault(op.name, out_keys[0])
        outputs = keras.tree.flatten(functional.outputs)
        missing = [t for t in outputs if id(t) not in local]
        if missing:
            raise ValueError(
                f"Model {functional.name!r}: its output {missing[0].name!r} cannot be reached "
                "from its inputs, so keras_cnn cannot follow the graph."
            )
        return [local[id(t)] for t in outputs]

    functional = graph(model)
    walk(functional, "", None, "")
    inputs = [aliases[id(t)] for t in keras.tree.flatten(functional.inputs)]
    return Flat(steps, inputs, tensors, aliases, top_outputs)
