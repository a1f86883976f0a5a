"""Where `registre demo` looks: the addresses the running stack recorded (api/demo.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api import demo
from api.cli import cli
from api.settings import Settings


def test_demo_settings_name_the_stacks_ui_port_when_run_recorded_it(tmp_path: Path) -> None:
    demo.record_stack(Settings(var_dir=tmp_path, api_port=8123,
                               temporal_ui_url="http://127.0.0.1:9345"))

    seen = demo.running_stack(Settings(var_dir=tmp_path))

    assert (seen.temporal_ui_url, seen.api_url) == ("http://127.0.0.1:9345",
                                                    "http://127.0.0.1:8123")


def test_demo_settings_keep_the_defaults_when_no_stack_is_recorded(tmp_path: Path) -> None:
    demo.record_stack(Settings(var_dir=tmp_path, temporal_ui_url="http://127.0.0.1:9345"))
    demo.forget_stack(Settings(var_dir=tmp_path))

    assert demo.running_stack(Settings(var_dir=tmp_path)).temporal_ui_url == \
        Settings().temporal_ui_url


def test_demo_command_prints_from_the_recorded_stack_when_run_used_another_ui_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    demo.record_stack(Settings(var_dir=tmp_path, temporal_ui_url="http://127.0.0.1:9345"))
    monkeypatch.setenv("REGISTRE_VAR_DIR", str(tmp_path))
    given: list[Any] = []
    monkeypatch.setattr(demo, "run_veto_demo",
                        lambda url, settings, slug: given.append((url, settings)) or 0)

    result = CliRunner().invoke(cli, ["demo", "--scenario", "veto"])

    assert result.exit_code == 0, result.output
    assert given[0][1].temporal_ui_url == "http://127.0.0.1:9345"
