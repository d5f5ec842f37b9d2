"""How a worker's end reads to the learner, for each way its exit status can arrive: the
worker signalled (-N), passed on by the namespace's init as the shell does (128 + N), or
masked into a byte (256 - N: what CI saw for the endless loop, 247, read as 'ended its own
process' instead of 'used more than 5 s of CPU time')."""

from __future__ import annotations

import signal

import pytest

from quiz.sandbox import Limits, _exit_message

LIMITS = Limits(cpu_s=5, file_mb=16)


@pytest.mark.parametrize("encode", [lambda n: -n, lambda n: 128 + n, lambda n: 256 - n])
@pytest.mark.parametrize(
    "number, words",
    [
        (signal.SIGKILL, "more than 5 s of CPU time or ended its own process"),
        (signal.SIGXCPU, "more than 5 s of CPU time"),
        (signal.SIGXFSZ, "a file larger than 16 MB"),
        (signal.SIGSEGV, "segmentation fault"),
    ],
)
def test_a_signal_reads_as_its_cause_however_the_status_is_encoded(encode, number, words):
    assert words in _exit_message(encode(int(number)), LIMITS)


def test_a_plain_exit_status_says_the_code_ended_the_process():
    text = _exit_message(3, LIMITS)
    assert text.startswith("your code ended the sandbox's process (exit status 3)")
    assert _exit_message(None, LIMITS) == "the sandbox stopped without reporting"
