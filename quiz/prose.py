"""Markdown traps: characters in prose that Streamlit's Markdown would not show as written.

Lesson texts, captions, prompts, choices, explanations, glossary and FAQ entries are rendered as
Markdown (CommonMark with GitHub's extensions, plus ``$...$`` LaTeX in Streamlit). Some
characters an author means literally are read as markup: ``3*3*64*128`` loses its stars and
italicises the digits between them, ``~0.5 to ~2`` is struck through, ``$5 and $10`` becomes a
formula. :func:`markdown_traps` finds them in the text outside code spans and fenced blocks, so
the validator (``python -m quiz check``) can name the field.

The rules are a table: a pattern, what it turns into, and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Trap:
    """One rule.

    Attributes:
        pattern: Matches the trap in prose with code removed (``re.M``).
        effect: What Markdown does with it.
        fix: What to write instead.
    """

    pattern: re.Pattern[str]
    effect: str
    fix: str


TRAPS: tuple[Trap, ...] = (
    Trap(
        re.compile(r"(?<=[\w)\]])(?<!\\)\*(?=[\w(\[])"),
        "a '*' between two characters starts or ends emphasis (3*3*64 shows as 3, italic 3, 64)",
        "write products with × (3 × 3 × 64) or put them in `code`",
    ),
    Trap(
        re.compile(r"(?<![\w\\])_(?=\w)(?:(?!\n\s*\n).)*?(?<=[^\s\\])_(?!\w)", re.S),
        "an '_' before a word and a later '_' after one enclose emphasis",
        "put identifiers such as `_add` in `code` (an '_' inside a word, as in C_in, is safe)",
    ),
    Trap(
        re.compile(r"(?<!\\)\$"),
        "Streamlit reads '$...$' as a LaTeX formula",
        "write 'dollars', or escape it as \\$",
    ),
    Trap(
        re.compile(r"(?<![~\\])~(?!~)"),
        "a single '~' pair strikes the text between them through (GitHub Markdown)",
        "write 'about' or 'approximately' (or ≈)",
    ),
    Trap(
        re.compile(r"^ {0,3}#{1,6}(?=\s|$)", re.M),
        "a '#' at the start of a line makes a heading",
        "reword the line, or use the section title for headings",
    ),
    Trap(
        re.compile(r"<(?=[A-Za-z/!?])"),
        "HTML is not rendered by Streamlit: the tag shows as text or disappears",
        "use Markdown instead of HTML",
    ),
    Trap(
        re.compile(r"^ {0,3}[+>](?=\s)", re.M),
        "a line starting with '+' or '>' becomes a list item or a quotation",
        "rewrap the paragraph so the line does not start with it",
    ),
)
"""The traps checked by :func:`markdown_traps`."""

_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")
_AUTOLINK = re.compile(r"<(?:https?|mailto):[^>\s]*>")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])\s")
_ORDERED_ONE = re.compile(r"^ {0,3}1[.)]\s")
_BULLET = re.compile(r"^ {0,3}[-*]\s")


def strip_code(text: str) -> str:
    """The text with fenced blocks, code spans, link targets and autolinks blanked out.

    Args:
        text: Markdown text.

    Returns:
        The same text with those parts replaced by spaces (so line starts are kept).
    """

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    for pattern in (_FENCE, _CODE_SPAN, _AUTOLINK):
        text = pattern.sub(blank, text)
    return _LINK_TARGET.sub(lambda m: "]" + blank(m)[1:], text)


def _paragraph_breaks(text: str) -> list[str]:
    """Lines that silently start a list inside a paragraph (no blank line before them)."""
    found = []
    lines = text.split("\n")
    for before, line in zip(lines, lines[1:], strict=False):
        in_paragraph = before.strip() and not before.startswith((" ", "\t", "|"))
        if not in_paragraph or _LIST_ITEM.match(before):
            continue
        if _ORDERED_ONE.match(line) or _BULLET.match(line):
            found.append(
                f"line {line.strip()[:30]!r} starts a list inside a paragraph: "
                "put a blank line before a list, or rewrap so no line starts with '- ', '* ' or '1. '"
            )
    return found


def markdown_traps(text: str) -> list[str]:
    """Describe every Markdown trap in a prose text.

    Args:
        text: Text that the app renders as Markdown.

    Returns:
        One message per trap kind found (empty when the text renders as written), each naming the
        offending snippet, what Markdown does and what to write instead.
    """
    prose = strip_code(text)
    problems = []
    for trap in TRAPS:
        match = trap.pattern.search(prose)
        if match:
            start, end = max(0, match.start() - 12), min(len(prose), match.end() + 12)
            snippet = prose[start:end].replace("\n", " ").strip()
            problems.append(f"{snippet!r}: {trap.effect}; {trap.fix}")
    return problems + _paragraph_breaks(prose)
