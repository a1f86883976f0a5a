"""Every query the API makes on the views (public views, compliance) is served by an index (real PostgreSQL): each
query method is run once to capture its SQL, then EXPLAINed with sequential scans disabled."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from api.settings import Settings
from api.wiring import make_compliance_view, make_views

pytestmark = pytest.mark.integration

M, P, B = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

# The query methods the API calls (api/routes), with the arguments of a typical request, and
# the index each must be served by.
QUERIES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "proposals by metropolis and date": (lambda v: v.list_proposals(M, 50, 0),
                                         "proposal_view_by_metropolis_date"),
    "proposals by date": (lambda v: v.list_proposals(None, 50, 0), "proposal_view_by_date"),
    "one proposal": (lambda v: v.get_proposal(P), "proposal_view_pkey"),
    "timeline by proposal": (lambda v: v.timeline(P), "timeline_view_pkey"),
    "comments by proposal": (lambda v: v.comments(P, 50, 0), "comment_view_pkey"),
    "a commune's veto record": (lambda v: v.veto_record("51454", M),
                                "veto_record_view_by_commune"),
    "a commune's veto record in every metropolis": (lambda v: v.veto_record("51454"),
                                                    "veto_record_view_by_commune"),
    "a ballot's close": (lambda v: v.closed_at(B), "closed_ballot_view_pkey"),
    "compliance flags in log order": (lambda v: v.flags(), "compliance_flags_order"),
    "a proposal's compliance flags": (lambda v: v.flags(P), "compliance_flags_pkey"),
}


class _Recorder:
    """A cursor that keeps what it is asked to execute and returns no rows."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def execute(self, query: Any, params: Any = None, **_: Any) -> None:
        self.calls.append((str(query), params))

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []


def _captured(views: Any, query: Callable[[Any], Any]) -> list[tuple]:
    recorder = _Recorder()

    @contextmanager
    def transaction(*, commit: bool = False) -> Iterator[_Recorder]:
        yield recorder

    real = views.datastore.transaction
    views.datastore.transaction = transaction  # type: ignore[method-assign]
    try:
        query(views)
    finally:
        views.datastore.transaction = real  # type: ignore[method-assign]
    return recorder.calls


@pytest.mark.parametrize("name", list(QUERIES))
def test_query_uses_its_index_when_sequential_scans_are_disabled(
    settings: Settings, name: str
) -> None:
    query, index = QUERIES[name]
    views = (make_compliance_view if "compliance" in name else make_views)(settings)
    calls = _captured(views, query)
    assert calls, "the query method ran no SQL"
    with psycopg.connect(settings.postgres_url) as conn:
        conn.execute("SET enable_seqscan = off")
        for sql, params in calls:
            plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql, params))
            assert "Seq Scan" not in plan, plan
            # "Index Scan using IDX", "Index Only Scan using IDX", "Bitmap Index Scan on IDX"
            assert re.search(rf"Index (Only )?Scan (using|on) {index}\b", plan), plan
    views.datastore.close()


def test_views_declare_their_indexes_when_migrated(settings: Settings) -> None:
    with psycopg.connect(settings.postgres_url) as conn:
        names = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes")}
    assert {"proposal_view_by_metropolis_date", "proposal_view_by_date",
            "veto_record_view_by_commune"} <= names
