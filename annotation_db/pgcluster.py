"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks (initdb + pg_ctl).

    with PostgresCluster.started() as cluster:
        url = cluster.create_database("scratch")   # postgresql+psycopg://postgres@127.0.0.1:PORT/scratch

The cluster lives in a temporary folder, trusts local connections, listens on a free port of
127.0.0.1 only (no Unix socket) and is deleted when stopped. PostgreSQL refuses to run as root,
so as root the server runs as the `postgres` account that Debian's package creates (or PG_USER).
The binaries are found in PG_BIN, on PATH, or under /usr/lib/postgresql/<version>/bin.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or no account that may run them."""


def find_pg_bin() -> Path:
    """The folder holding initdb, pg_ctl and postgres; PostgresUnavailable if there is none."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    candidates.extend(versions)
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install "
                              "Debian's postgresql package, or set PG_BIN to their folder")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """One initdb'd cluster in a temporary folder, started on a free port of 127.0.0.1."""

    def __init__(self, bin_dir: Path | None = None, fast: bool = True,
                 settings: dict[str, str] | None = None) -> None:
        self.bin_dir = bin_dir or find_pg_bin()
        self.fast = fast  # fsync off: a crash loses the cluster, which is thrown away anyway
        self.settings = dict(settings or {})  # more server settings, e.g. {"synchronous_commit": "off"}
        self.run_as = self._server_account()
        self.root: Path | None = None
        self.port: int | None = None

    @classmethod
    @contextmanager
    def started(cls, **kwargs) -> Iterator["PostgresCluster"]:
        """A started cluster, stopped and deleted on exit."""
        cluster = cls(**kwargs)
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()

    @staticmethod
    def _server_account() -> str | None:
        if os.geteuid() != 0:
            return None
        name = os.environ.get("PG_USER", "postgres")
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise PostgresUnavailable(f"PostgreSQL does not run as root and there is no {name!r} account "
                                      "(Debian's postgresql package creates it; or set PG_USER)") from None
        return name

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            log = self.root / "server.log" if self.root else None
            tail = log.read_text()[-2000:] if log and log.is_file() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): "
                               f"{done.stderr.strip() or done.stdout.strip()}\n{tail}")

    def start(self) -> None:
        """initdb a new cluster and start it; the folder belongs to the server account."""
        self.root = Path(tempfile.mkdtemp(prefix="pgcluster-"))
        if self.run_as:
            account = pwd.getpwnam(self.run_as)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", *(["--no-sync"] if self.fast else []))
        options = ["-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''", "-c max_connections=200"]
        if self.fast:
            options += ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        for _ in range(5):  # the free port may be taken between the probe and the start
            self.port = _free_port()
            try:
                self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                          "-o", " ".join([f"-p {self.port}", *options]), "start")
                return
            except RuntimeError as error:
                if "could not bind" not in str(error) and "already in use" not in str(error):
                    self.stop()
                    raise
        self.stop()
        raise RuntimeError("no free port for PostgreSQL")

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database of this cluster (psycopg 3 driver)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE `name` (a copy of `template` if given); returns its URL."""
        import psycopg

        for part in (name, template):
            if part is not None and not SAFE_NAME.match(part):
                raise ValueError(f"unsafe database name {part!r}")
        with psycopg.connect(self._dsn(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name`, ending its connections."""
        import psycopg

        if not SAFE_NAME.match(name):
            raise ValueError(f"unsafe database name {name!r}")
        with psycopg.connect(self._dsn(), autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if self.root is None:
            return
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(data), "-m", "immediate" if self.fast else "fast", "-w", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None
