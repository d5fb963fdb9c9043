"""A private PostgreSQL cluster on 127.0.0.1 for the lab's Heat (SQLite locks under Heat's threads).

The cluster lives in a directory of its own under the system's temporary
directory, because PostgreSQL refuses to run as root: as root it runs as the
``postgres`` account, which must be able to reach its data directory.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rdoflow.errors import RdoflowError


class PostgresUnavailable(RdoflowError):
    reference = "lab-postgres-unavailable"


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl, newest PostgreSQL first."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major, reverse=True)
    candidates += [p for p in ("/usr/bin/initdb", shutil.which("initdb")) if p]
    for initdb in candidates:
        if os.access(initdb, os.X_OK):
            return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed",
        hint="install them: 'apt-get install postgresql' (Debian) or 'dnf install postgresql-server' (Fedora); "
        "'./rdo setup' does this for you",
    )


def _major(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


@dataclass
class PostgresCluster:
    root: Path
    port: int
    bindir: Path
    database: str = "heat"

    @property
    def url(self) -> str:
        return self.url_for("postgresql+psycopg2")

    def url_for(self, driver: str) -> str:
        """The database's SQLAlchemy URL with ``driver`` (e.g. ``postgresql+asyncpg`` for Prefect)."""
        return f"{driver}://heat@127.0.0.1:{self.port}/{self.database}"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def create_database(self, name: str) -> str:
        """A further database of this cluster (owner ``heat``, the cluster's one role); its SQLAlchemy URL."""
        _as_owner(self.root, [self.bindir / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "heat", name])
        return f"postgresql+psycopg2://heat@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            _as_owner(self.root, [self.bindir / "pg_ctl", "-D", self.root / "data", "-m", "fast", "-w", "stop"],
                      check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(port: int, database: str = "heat") -> PostgresCluster:
    """initdb a fresh cluster (trust auth, loopback only, no fsync), start it and create ``database``
    (its owner is the role ``heat``)."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="rdoflow-lab-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PostgresCluster(root=root, port=port, bindir=bindir, database=database)
    try:
        _as_owner(root, [bindir / "initdb", "-D", root / "data", "-U", "heat", "--auth=trust", "-E", "UTF8",
                         "--no-sync"])
        options = (f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        _as_owner(root, [bindir / "pg_ctl", "-D", root / "data", "-l", cluster.log_file, "-w", "-o", options, "start"])
        _as_owner(root, [bindir / "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "heat", database])
    except PostgresUnavailable:
        cluster.stop()
        raise
    return cluster


def _as_owner(root: Path, argv: list, *, check: bool = True) -> None:
    argv = [str(a) for a in argv]
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=root)
    if check and done.returncode != 0:
        log = root / "postgres.log"
        tail = log.read_text(errors="replace").splitlines()[-10:] if log.exists() else []
        raise PostgresUnavailable(
            f"{Path(argv[argv.index('--') + 1] if '--' in argv else argv[0]).name} failed "
            f"with exit status {done.returncode}",
            evidence=(done.stdout + done.stderr).splitlines()[-10:] + tail,
        )
