"""A throwaway PostgreSQL server for the tests: its own folder, a free 127.0.0.1 port.

``initdb`` and ``postgres`` refuse to run as root, so under root they run as the ``postgres``
user Debian's package creates (in a folder outside pytest's root-only temporary tree).
``fsync`` is off: the tests kill clients and stop the server (``pg_ctl -m immediate``), which
loses nothing the kernel holds; only a power cut would, and no test cuts the power.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

PROGRAMS = ("initdb", "pg_ctl", "postgres")


def find_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (PATH first, then Debian's folders)."""
    found = shutil.which("pg_ctl")
    candidates = [str(Path(found).resolve().parent)] if found else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if all((Path(folder) / p).exists() for p in PROGRAMS):
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One server in a temporary folder: :meth:`start`, :meth:`database`, :meth:`stop`.

    Raises:
        RuntimeError: From :meth:`start`, saying why no server could start.
    """

    def __init__(self) -> None:
        self.bin = find_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="keras-cnn-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                self.user = None
            else:
                self.user = "postgres"
                shutil.chown(self.folder, "postgres")

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert self.bin is not None
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.user,
            cwd=self.folder,
        )

    def start(self) -> PostgresServer:
        if self.bin is None:
            raise RuntimeError(
                "no PostgreSQL server programs (initdb, pg_ctl, postgres) on PATH or under "
                "/usr/lib/postgresql/*/bin; install Debian's postgresql-15 (.ci/run does)"
            )
        if os.geteuid() == 0 and self.user is None:
            raise RuntimeError("running as root and there is no 'postgres' user to run the server")
        if not self.data.exists():
            done = self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
            if done.returncode:
                raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
        )
        done = self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
            "-l", str(self.folder / "server.log"), "-o", options,
        )  # fmt: skip
        if done.returncode:
            log = (self.folder / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {log}")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as a crash would, no checkpoint)."""
        if self.bin is not None and (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode)

    def remove(self) -> None:
        self.stop("immediate")  # its data is thrown away: no shutdown checkpoint
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self, name: str | None = None) -> str:
        """A new empty database's URL (about a second: see :meth:`schema`)."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        self.execute(self.url(), f'CREATE DATABASE "{name}"')
        return self.url(name)

    def schema(self, name: str | None = None) -> str:
        """The URL of a new empty schema in the ``postgres`` database (milliseconds): the
        store sees only the tables of ``current_schema()``, which the URL's ``search_path``
        option sets."""
        name = name or f"s_{uuid.uuid4().hex[:12]}"
        self.execute(self.url(), f'CREATE SCHEMA "{name}"')
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def execute(self, url: str, *statements: str) -> list[tuple]:
        """Run SQL on a database as the superuser (autocommit); the last statement's rows."""
        import psycopg

        rows: list[tuple] = []
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in statements:
                cur = conn.execute(statement)
                rows = cur.fetchall() if cur.description else []
        return rows


@contextlib.contextmanager
def running_server():
    """A started :class:`PostgresServer`, stopped and removed at the end."""
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.remove()


def wait_until(predicate, timeout: float = 30, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False
