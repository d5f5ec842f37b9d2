"""A class's roster: who may sign in, and as what (a CSV of e-mail, name, role).

The instructor writes ``class.csv``::

    email,name,role
    ada@school.example,Ada Lovelace,learner
    grace@school.example,Grace Hopper,instructor

and imports it with ``python -m quiz roster import class.csv`` into the class database, where
every replica reads it. A sign-in (``st.user.email``) is admitted only if its e-mail is on the
roster (:func:`admit`); the learner's progress is kept under that e-mail. Imports no framework.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from quiz.names import MAX_LEARNER_NAME, validate_learner
from quiz.store import ProgressStore

LEARNER, INSTRUCTOR = "learner", "instructor"
ROLES = (LEARNER, INSTRUCTOR)
COLUMNS = ("email", "name", "role")
MAX_ROSTER_BYTES = 1 << 20
"""A roster file larger than this (about 10,000 people) is refused before it is read."""

_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")


class RosterError(ValueError):
    """A roster file with problems: one line per problem, ``file:line: field: problem``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Member:
    """One person on the roster.

    Attributes:
        email: Lower-case e-mail, the key of their progress.
        name: The name shown to them and to instructors.
        role: ``"learner"`` or ``"instructor"``.
    """

    email: str
    name: str
    role: str

    @property
    def is_instructor(self) -> bool:
        return self.role == INSTRUCTOR


def normalise_email(email: str) -> str:
    """An e-mail as the roster and the store key it: stripped, lower case."""
    return email.strip().lower()


def check_email(email: str) -> str:
    """A valid e-mail, normalised.

    Raises:
        ValueError: If it does not look like an e-mail or is longer than a learner name may be.
    """
    value = normalise_email(email)
    if not _EMAIL.match(value):
        raise ValueError(f"not an e-mail address. Received: {email!r}")
    if len(value) > MAX_LEARNER_NAME:
        raise ValueError(f"longer than {MAX_LEARNER_NAME} characters. Received: {email!r}")
    return value


def parse_roster(text: str, source: str = "roster") -> list[Member]:
    """Read a roster CSV (header ``email,name,role``; blank lines skipped).

    Args:
        text: The file's contents.
        source: The file name, for messages.

    Returns:
        The members, in file order.

    Raises:
        RosterError: Listing every problem (``class.csv:4: role: 'teacher' is not one of
            ['learner', 'instructor']``), before anything is imported.
    """
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(rows, None)
    if header is None or [h.strip().lower() for h in header] != list(COLUMNS):
        raise RosterError(
            [f"{source}:1: the header must be {','.join(COLUMNS)}. Received: {header!r}"]
        )
    members: list[Member] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(f"{source}:{line}: expected {len(COLUMNS)} fields, found {len(row)}")
            continue
        email, name, role = (cell.strip() for cell in row)
        found = []
        try:
            email = check_email(email)
        except ValueError as exc:
            found.append(f"email: {exc}")
        try:
            name = validate_learner(name)
        except ValueError as exc:
            found.append(f"name: {exc}")
        role = role.lower()
        if role not in ROLES:
            found.append(f"role: {role!r} is not one of {list(ROLES)}")
        if not found and email in seen:
            found.append(f"email: {email} is already on line {seen[email]}")
        if found:
            problems += [f"{source}:{line}: {problem}" for problem in found]
            continue
        seen[email] = line
        members.append(Member(email, name, role))
    if problems:
        raise RosterError(problems)
    if not members:
        raise RosterError([f"{source}: no one on the roster (only a header)"])
    return members


def admit(roster: Iterable[Member], email: str | None) -> Member | None:
    """The member a signed-in e-mail is, or ``None`` when it is not on the roster.

    Args:
        roster: The class's members.
        email: ``st.user.email`` (``None`` when the identity provider sent none).
    """
    if not email:
        return None
    wanted = normalise_email(email)
    return next((m for m in roster if m.email == wanted), None)


def load(store: ProgressStore) -> list[Member]:
    """The class's roster from the store (empty: no roster imported)."""
    return [Member(*row) for row in store.roster_rows()]


def save(
    store: ProgressStore, members: Iterable[Member], *, replace: bool = False
) -> tuple[int, int, int]:
    """Import members into the store's roster.

    Args:
        store: The class database.
        members: From :func:`parse_roster`.
        replace: Take off the roster everyone not in ``members`` (their progress is kept).

    Returns:
        ``(added, updated, removed)``.
    """
    return store.set_roster([(m.email, m.name, m.role) for m in members], replace=replace)
