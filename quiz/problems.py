"""Content problems: one :class:`Problem` per mistake, and the TOML reader that collects them.

Validation never stops at the first mistake: a :class:`Reader` reads a TOML table's fields by
type and records a :class:`Problem` naming the file, the lesson/question/term id and the field
for each one that is wrong, so an instructor sees them all; :class:`ContentError` raises them
together. Imports no framework.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quiz.prose import markdown_traps

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
"""What an id in a content file may be: lowercase letters, digits, and - or _ between them."""

__all__ = ["ID_PATTERN", "MAX_CONTENT_BYTES", "ContentError", "Problem", "Reader", "read_toml"]


@dataclass(frozen=True)
class Problem:
    """One validation problem.

    Attributes:
        file: Content file, relative to the content directory.
        item: Id of the lesson, question, section, fact or term concerned (``-`` if none).
        field: The field that is wrong.
        message: What is wrong.
    """

    file: str
    item: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: {self.field}: {self.message}"


class ContentError(ValueError):
    """The content has problems; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} content problem(s):\n{lines}{more}")


class Reader:
    """Typed access to a TOML table that records problems instead of raising."""

    def __init__(self, problems: list[Problem], file: str, item: str) -> None:
        self.problems = problems
        self.file = file
        self.item = item

    def problem(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.item, field, message))

    def unknown(self, table: dict[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(table) - allowed):
            self.problem(key, f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def text(self, table: dict[str, Any], key: str, *, required: bool = True) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(key, "missing")
            return ""
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {type(value).__name__}")
            return ""
        if required and not value.strip():
            self.problem(key, "must not be empty")
        return value.strip() if key != "body" else value.strip("\n")

    def prose(self, field: str, *texts: str) -> None:
        """Record every Markdown trap (see :mod:`quiz.prose`) in texts the app renders."""
        for text in texts:
            for message in markdown_traps(text):
                self.problem(field, message)

    def identifier(self, table: dict[str, Any], key: str = "id") -> str:
        """A required lowercase id (letters, digits, - and _)."""
        value = self.text(table, key)
        if value and not ID_PATTERN.match(value):
            self.problem(key, f"{value!r} is not a lowercase id (letters, digits, - and _)")
        return value

    def choice(self, table: dict[str, Any], key: str, allowed, what: str) -> str:
        """A required text that must be one of ``allowed``."""
        value = self.text(table, key)
        if value and value not in allowed:
            self.problem(key, f"unknown {what} {value!r} (expected one of {allowed})")
        return value

    def integer(self, table: dict[str, Any], key: str, *, required: bool = True) -> int:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(key, "missing")
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"must be an integer, got {value!r}")
            return 0
        return value

    def number(self, table: dict[str, Any], key: str, *, required: bool = True) -> float | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(key, "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(key, f"must be a number, got {value!r}")
            return None
        if not math.isfinite(value):
            self.problem(key, f"must be finite, got {value!r}")
            return None
        return value

    def texts(self, table: dict[str, Any], key: str, *, required: bool = False) -> list[str]:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(key, "missing")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "must be a list of strings")
            return []
        return [v.strip() for v in value]

    def tables(self, table: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(key, f"must be an array of tables ([[{key}]])")
            return []
        return value


MAX_CONTENT_BYTES = 4 * 1024 * 1024
"""Largest content file read (4 MiB; the largest lesson is some tens of kilobytes)."""


def read_toml(path: Path, rel: str, problems: list[Problem]) -> dict[str, Any] | None:
    """A TOML file's table; None, and a problem naming the file, when it cannot be read."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CONTENT_BYTES + 1)
        if len(data) > MAX_CONTENT_BYTES:
            problems.append(
                Problem(rel, "-", "file", f"larger than {MAX_CONTENT_BYTES // 2**20} MiB")
            )
            return None
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        where = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(rel, "-", "file", f"not UTF-8 text: byte {exc.start} (line {where})")
        )
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(rel, "-", "toml", f"invalid TOML: {exc}"))
    except RecursionError:
        problems.append(Problem(rel, "-", "toml", "invalid TOML: nested too deeply"))
    except FileNotFoundError:
        problems.append(Problem(rel, "-", "file", "missing"))
    except OSError as exc:
        problems.append(Problem(rel, "-", "file", f"cannot read: {exc.strerror or exc}"))
    return None
