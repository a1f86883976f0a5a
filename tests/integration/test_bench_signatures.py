"""`registre bench signatures` end to end on a tiny size: wrk against the bench's own API
server, every signer acknowledged once and stored once (its figures are read by people,
never asserted). Needs wrk (`make tools`; `make test` installs it when run as root)."""

from __future__ import annotations

import shutil

import pytest

from api.bench import bench_signatures
from api.settings import Settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("wrk") is None,
                       reason="wrk is not installed: run `make tools` (apt-get install wrk)"),
]


@pytest.mark.parametrize("act", ["signature", "stand-in"])
def test_signatures_bench_acknowledges_and_stores_each_signer_once(
        settings: Settings, capsys: pytest.CaptureFixture[str], act: str) -> None:
    (summary,) = bench_signatures(300, [4], settings.postgres_url, act=act)
    out = capsys.readouterr().out
    assert summary["statuses"] == {201: 300} and summary["acknowledged"] == 300
    assert "concurrency 4: signatures" in out and "floor" in out and "ratio" in out
    assert "stored 300 · acknowledged (201) 300 · check: equal" in out
    assert "raw INSERT" in out
