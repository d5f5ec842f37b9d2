"""The progress store's tables and their history, one schema for SQLite and PostgreSQL.

:data:`TABLES` is the current schema as SQLAlchemy Core tables (what the store queries).
:data:`MIGRATIONS` is how a database reaches it: ``MIGRATIONS[i]`` brings a schema from version
``i`` to ``i + 1`` and is written once and never edited (the ``_v1`` tables are version 1 as it
was shipped). A fresh database runs them all, so the path an old store takes forward is the
path every new store takes. Each step is a SQLAlchemy DDL element or a portable SQL string,
compiled for the database it runs on (``INTEGER PRIMARY KEY`` on SQLite, ``SERIAL`` on
PostgreSQL). Imports no framework.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import CreateIndex, CreateTable, DDLElement
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import Float

APPLICATION_ID = 0x4B434E51  # "KCNQ": SQLite's PRAGMA application_id, PostgreSQL's marker row
MARKER_TABLE = "keras_cnn_schema"
"""PostgreSQL has no ``PRAGMA user_version``: one row (application id, version) in this table."""

# -- version 1 as shipped (frozen) -----------------------------------------------------------------

_v1 = MetaData()
_learners_v1 = Table(
    "learners",
    _v1,
    Column("name", Text, primary_key=True),
    Column("created", Text, nullable=False),
)
_checks_v1 = Table(
    "checks",
    _v1,
    Column("id", Integer, primary_key=True),
    Column("uid", Text, nullable=False),
    Column("learner", Text, ForeignKey("learners.name"), nullable=False),
    Column("lesson_id", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("n_questions", Integer, nullable=False),
    Column("created", Text, nullable=False),
    UniqueConstraint("learner", "uid"),
)
_attempts_v1 = Table(
    "attempts",
    _v1,
    Column("id", Integer, primary_key=True),
    Column("uid", Text, nullable=False),
    Column("learner", Text, ForeignKey("learners.name"), nullable=False),
    Column("lesson_id", Text, nullable=False),
    Column("question_id", Text, nullable=False),
    Column("response", Text, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("check_id", Integer, ForeignKey("checks.id")),
    Column("created", Text, nullable=False),
    UniqueConstraint("learner", "uid"),
)

# -- the current schema ----------------------------------------------------------------------------

metadata = MetaData()
learners = Table(
    "learners",
    metadata,
    Column("name", Text, primary_key=True),
    Column("created", Text, nullable=False),
)
checks = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", Text, nullable=False),
    Column("learner", Text, ForeignKey("learners.name"), nullable=False),
    Column("lesson_id", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("n_questions", Integer, nullable=False),
    Column("created", Text, nullable=False),
    UniqueConstraint("learner", "uid"),
)
ATTEMPT_KINDS = ("question", "exercise")
"""What an attempt answers (``attempts.kind``): a System Check or practice question, or a
coding exercise."""

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", Text, nullable=False),
    Column("learner", Text, ForeignKey("learners.name"), nullable=False),
    Column("lesson_id", Text, nullable=False),
    Column("question_id", Text, nullable=False),
    Column("response", Text, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("check_id", Integer, ForeignKey("checks.id")),
    Column("created", Text, nullable=False),
    Column("params", Text, nullable=False, server_default="[]"),
    Column("kind", Text, nullable=False, server_default="question"),
    UniqueConstraint("learner", "uid"),
)
last_visited = Table(
    "last_visited",
    metadata,
    Column("learner", Text, ForeignKey("learners.name"), primary_key=True),
    Column("lesson_id", Text, nullable=False),
    Column("section_id", Text, nullable=False, server_default=""),
    Column("updated", Text, nullable=False),
)
roster = Table(
    "roster",
    metadata,
    Column("email", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("added", Text, nullable=False),
)

exercise_work = Table(
    "exercise_work",
    metadata,
    Column("learner", Text, primary_key=True),  # quiz.names.learner_key of the learner
    Column("exercise", Text, primary_key=True),
    Column("code", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("passed_at", Text),
    Column("feedback", Text, nullable=False, server_default=""),
    Column("updated", Text, nullable=False),
)

gallery = Table(  # the class gallery (quiz.gallery): one shared run per row
    "gallery",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("learner", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("model", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("card", Text, nullable=False),  # JSON: options, parameters, multiply-adds, curves
    Column("params", Integer),
    Column("epochs", Integer, nullable=False),
    Column("test_accuracy", Float),
    Column("file", Text, nullable=False),  # the .keras file's name in the shared folder
    Column("sha256", Text, nullable=False),
    Column("shared", Text, nullable=False),
    Column("hidden", Integer, nullable=False, server_default="0"),
    UniqueConstraint("learner", "run_id"),
)

TABLES = {
    t.name: t for t in (learners, checks, attempts, last_visited, roster, exercise_work, gallery)
}
"""The current tables by name."""

Step = DDLElement | TextClause | str
"""One migration step: a DDL element or SQL that means the same on both databases."""

MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    # version 1: learners, submitted checks, attempts
    (
        CreateTable(_learners_v1),
        CreateTable(_checks_v1),
        CreateTable(_attempts_v1),
        CreateIndex(Index("attempts_by_learner", _attempts_v1.c.learner, _attempts_v1.c.lesson_id)),
    ),
    # version 2: drawn parameters of generated questions, "continue where you left off"
    (
        "ALTER TABLE attempts ADD COLUMN params TEXT NOT NULL DEFAULT '[]'",
        CreateTable(last_visited),
        CreateIndex(Index("checks_by_learner", checks.c.learner, checks.c.lesson_id)),
    ),
    # version 3: a class -- the roster (who may sign in, as learner or instructor), the kind
    # of an attempt (a System Check question or an exercise), the instructor's per-lesson reads
    (
        "ALTER TABLE attempts ADD COLUMN kind TEXT NOT NULL DEFAULT 'question'",
        CreateTable(roster),
        CreateIndex(Index("attempts_by_lesson", attempts.c.lesson_id, attempts.c.question_id)),
    ),
    # version 4: code exercises -- the code in progress, tries and the pass, per learner (in
    # the class database like the rest, so every replica and the instructor see them)
    (CreateTable(exercise_work),),
    # version 5: the class gallery -- shared runs' model cards (the files live in the shared
    # folder, KERAS_CNN_SHARED_DIR; the database keeps their SHA-256)
    (
        CreateTable(gallery),
        CreateIndex(Index("gallery_by_data", gallery.c.data)),
    ),
)
"""Forward migrations: ``MIGRATIONS[i]`` brings the schema from version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""Current schema version."""

EXPECTED_TABLES: dict[int, frozenset[str]] = {
    1: frozenset({"learners", "checks", "attempts"}),
    2: frozenset({"learners", "checks", "attempts", "last_visited"}),
    3: frozenset({"learners", "checks", "attempts", "last_visited", "roster"}),
    4: frozenset({"learners", "checks", "attempts", "last_visited", "roster", "exercise_work"}),
    5: frozenset(
        {"learners", "checks", "attempts", "last_visited", "roster", "exercise_work", "gallery"}
    ),
}
"""The tables a store of each version must have (a store missing one is damaged)."""


def migrate(conn: Connection, start: int, stop: int = SCHEMA_VERSION) -> None:
    """Run the migrations from version ``start`` to ``stop`` on a connection in a transaction.

    Args:
        conn: A SQLAlchemy connection (SQLite or PostgreSQL).
        start: The database's version now (0: empty).
        stop: The version to reach.
    """
    for steps in MIGRATIONS[start:stop]:
        for step in steps:
            conn.execute(text(step) if isinstance(step, str) else step)
