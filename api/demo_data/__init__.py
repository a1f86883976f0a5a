"""Demo data set of Registre: the Métrokawa 12 consultation (Agorasso).

``metrokawa12.json`` was produced once from the consultation's synthesis by
:mod:`api.demo_data.parse_seed` and is committed; nothing here reads the
original Markdown at run time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SEED_FILE = Path(__file__).parent / "metrokawa12.json"


def load_seed() -> dict[str, Any]:
    """Return the committed Métrokawa 12 fixture (workshops and proposals)."""
    return json.loads(SEED_FILE.read_text(encoding="utf-8"))
