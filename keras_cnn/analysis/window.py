"""One window along one axis: the receptive-field rule, without a deep-learning framework.

:mod:`keras_cnn.analysis.geometry` follows a model's layers with it, and the course's
calculator (``app/logic.conv_stack``) follows a stack typed in by hand, so both give the same
numbers: a window of ``k`` pixels (dilation already applied) and stride ``s`` whose padding
adds ``p`` pixels before the input turns ``Axis(start, size, jump)`` into
``Axis(start - p * jump, size + (k - 1) * jump, jump * s)`` (``r_l = r_{l-1} + (k_l - 1)
j_{l-1}``, ``j_l = j_{l-1} s_l``), and an input of ``n`` pixels padded by ``p`` on each side
into ``floor((n + 2p - k) / s) + 1`` outputs.

Example:
    >>> axis = INPUT
    >>> for kernel, stride in [(5, 1), (2, 2), (5, 1), (2, 2)]:  # LeNet-5
    ...     axis = through_window(axis, kernel, stride)
    >>> int(axis.size), int(axis.jump)
    (16, 4)
    >>> output_size(224, kernel=7, stride=2, padding=3)  # ResNet's stem
    112
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Axis:
    """Along one spatial axis: unit ``i`` sees input pixels ``[start + i*jump, … + size)``.

    ``start`` is None where the units' boxes step unevenly (after a strided transposed
    convolution) or depend on an unknown input size; ``jump`` is a fraction there.
    """

    start: Fraction | None
    size: int
    jump: Fraction


#: The input itself: each pixel sees itself.
INPUT = Axis(Fraction(0), 1, Fraction(1))


def through_window(axis: Axis, kernel: int, stride: int, before: int | None = 0) -> Axis:
    """What a unit sees after a window of ``kernel`` pixels and ``stride`` along ``axis``.

    Args:
        axis: Axis. What the window's input units see.
        kernel: int. The window's extent in input units, dilation included
            (``d * (k - 1) + 1``).
        stride: int. The window's stride.
        before: int or None. Pixels of padding before the input; None where unknown (the
            start is then unknown). Defaults to 0.

    Returns:
        Axis: start moved back by the padding, size grown by ``(kernel - 1) * jump``, jump
        times the stride.
    """
    start = None if axis.start is None or before is None else axis.start - before * axis.jump
    return Axis(start, axis.size + (kernel - 1) * axis.jump, axis.jump * stride)


def output_size(length: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Outputs of a window over ``length`` pixels padded by ``padding`` on each side:
    ``floor((length + 2 * padding - kernel) / stride) + 1`` (below 1: it does not fit)."""
    return (length + 2 * padding - kernel) // stride + 1
