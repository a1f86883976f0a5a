"""The PostgreSQL adapter of the domain's `LogPositions` port: the log position of one stored
event, by the events table's (originator_id, originator_version) primary key."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Identifier


class PostgresLogPositions:
    """Answers `position_of` with one indexed query on the event store's table."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self._query = SQL("SELECT notification_id FROM {} "
                          "WHERE originator_id = %s AND originator_version = %s").format(
            Identifier(recorder.events_table_name))

    def position_of(self, originator_id: UUID, version: int) -> int:
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(self._query, (originator_id, version))
            row = curs.fetchone()
        if row is None:
            raise LookupError(f"event {originator_id}@{version} is not in the log")
        return int(row["notification_id"])
