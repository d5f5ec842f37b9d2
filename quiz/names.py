"""Learner names: what a valid one is, when two are the same learner, and the stored one.

A new name is checked strictly (:func:`validate_learner`); two names equal but for case,
surrounding space or Unicode normal form are one learner (:func:`learner_key`), whose first
spelling the store keeps (:func:`find_name`). Imports no framework.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import Connection, select

from quiz.schema import learners

MAX_LEARNER_NAME = 64
"""The longest learner name (in characters, after normalising)."""

__all__ = ["MAX_LEARNER_NAME", "find_name", "learner_key", "stored_name", "validate_learner"]


#: Unicode categories a learner name may not contain: controls (Cc); invisible format
#: characters (Cf), which hold the bidi controls (U+202A..U+202E, U+2066..U+2069, U+200E,
#: U+200F) and the zero-width ones (U+200B..U+200D, U+2060, U+FEFF); line and paragraph
#: separators (Zl, Zp). With them two names could look identical in the learner picker.
_REFUSED_CATEGORIES = {
    "Cc": "control characters",
    "Cf": "invisible formatting characters (bidi controls, zero-width characters)",
    "Zl": "line separators",
    "Zp": "paragraph separators",
}


def validate_learner(name: Any) -> str:
    """Check and normalise a learner name.

    The name is stripped and NFC-normalised, so an "é" typed as one character or as "e" plus
    a combining accent is the same learner. The store also treats names equal but for case as
    one learner (:func:`learner_key`): "ada" finds "Ada", whose spelling is kept.

    Args:
        name: The name as typed.

    Returns:
        The name without surrounding whitespace, in Unicode normal form C.

    Raises:
        ValueError: If it is not a string, is empty, too long, or contains control characters,
            bidi controls, zero-width or other invisible characters.
    """
    if not isinstance(name, str):
        raise ValueError(f"learner name must be a string, got {type(name).__name__}")
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise ValueError("learner name must not be empty")
    if len(name) > MAX_LEARNER_NAME:
        raise ValueError(f"learner name longer than {MAX_LEARNER_NAME} characters")
    for ch in name:
        problem = _REFUSED_CATEGORIES.get(unicodedata.category(ch))
        if problem:
            raise ValueError(
                f"learner name contains {problem}: U+{ord(ch):04X} "
                f"{unicodedata.name(ch, 'unnamed')}. Received: name={name!r}"
            )
    return name


def learner_key(name: str) -> str:
    """What makes two learner names the same learner: stripped, NFC-normalised, case-folded.

    ``"Ada"``, ``"ada"`` and ``" ADA "`` are one learner; so are an "é" typed as one character
    and as "e" plus a combining accent.

    Args:
        name: str. A learner name as typed or as stored.

    Returns:
        The comparison key (never shown: the store keeps the name as first typed).
    """
    return unicodedata.normalize("NFC", name.strip()).casefold()


def find_name(conn: Connection, learner: str) -> str | None:
    """The stored name of a learner: as given (stripped), else its NFC, else its NFD form,
    else the stored name with the same :func:`learner_key` (another case: "ada" for "Ada")."""
    given = learner.strip()
    nfc, nfd = (unicodedata.normalize(form, given) for form in ("NFC", "NFD"))
    name = learners.c.name
    found = conn.execute(
        select(name)
        .where(name.in_((given, nfc, nfd)))
        .order_by((name == given).desc(), (name == nfc).desc())
        .limit(1)
    ).scalar()
    if found is not None:
        return found
    key = learner_key(given)
    for stored in conn.execute(select(name).order_by(learners.c.created, name)).scalars():
        if learner_key(stored) == key:
            return stored
    return None


def stored_name(conn: Connection, learner: Any) -> str:
    """The name a learner is stored under, for reading their progress.

    New names are validated strictly (:func:`validate_learner`); a learner stored before
    names were NFC-normalised and checked for invisible characters is still found, so an
    older store's progress stays visible.
    """
    if not isinstance(learner, str):
        raise ValueError(f"learner name must be a string, got {type(learner).__name__}")
    return find_name(conn, learner) or unicodedata.normalize("NFC", learner.strip())
