"""A griffe extension for the API reference: the project's docstrings say ``Example:`` (Google
style, as keras does); griffe reads only ``Examples:`` as a section of doctests, so without this
the doctest output lines would be read as Markdown."""

from __future__ import annotations

import re

import griffe

_EXAMPLE = re.compile(r"(?m)^(\s*)Example:\s*$")


class ExampleSections(griffe.Extension):
    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
