"""Read a pool and its quotas from CSV files, in the two formats sortition tools use.

The format is decided by the quotas file's header:
- sortition-algorithms (Sortition Foundation): `feature,value,min,max[,min_flex,max_flex]`;
  the people file has an id column (`nationbuilder_id` unless told otherwise) and may have
  other columns (names, addresses…), which are ignored;
- Flanigan et al. 2021 replication data: `categories.csv` with `category,feature,min,max`
  (their category is our feature, their feature our value); `respondents.csv` has no ids:
  a person's id is their row number counted from 0 (unless an id column is named).

Errors raise SortitionFileError naming the file and the line.
"""

from __future__ import annotations

import csv
from pathlib import Path

from domain.rules.sortition import Person, Quota, person

DEFAULT_ID_COLUMN = "nationbuilder_id"
FORMATS = ("sortition-algorithms", "flanigan")


class SortitionFileError(ValueError):
    """A file that cannot be read as a pool or as quotas (`rule` = sortition.bad_file)."""

    rule = "sortition.bad_file"


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) of a CSV file, blank lines skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SortitionFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SortitionFileError(f"{path}: not UTF-8 text") from None
    reader = csv.reader(text.splitlines())
    rows = [(reader.line_num, [c.strip() for c in row]) for row in reader if any(row)]
    if not rows:
        raise SortitionFileError(f"{path}: empty file")
    return rows[0][1], rows[1:]


def load_quotas(path: Path) -> tuple[str, list[Quota]]:
    """The format (one of FORMATS) and the quotas of a features / categories file."""
    header, rows = _rows(path)
    lowered = [h.lower() for h in header]
    if lowered[:4] == ["feature", "value", "min", "max"]:
        fmt = "sortition-algorithms"
    elif lowered[:4] == ["category", "feature", "min", "max"]:
        fmt = "flanigan"
    else:
        raise SortitionFileError(
            f"{path}:1: header {','.join(header)!r} is neither feature,value,min,max"
            f"[,min_flex,max_flex] nor category,feature,min,max")
    quotas: list[Quota] = []
    seen: set[tuple[str, str]] = set()
    for line, cells in rows:
        if len(cells) < 4:
            raise SortitionFileError(f"{path}:{line}: 4 columns expected, {len(cells)} found")
        feature, value = cells[0], cells[1]
        try:
            low, high = int(cells[2]), int(cells[3])
        except ValueError:
            raise SortitionFileError(
                f"{path}:{line}: min and max must be integers ({cells[2]!r}, {cells[3]!r})"
            ) from None
        if not feature or not value:
            raise SortitionFileError(f"{path}:{line}: empty feature or value")
        if (feature, value) in seen:
            raise SortitionFileError(f"{path}:{line}: {feature}={value} given twice")
        if low < 0 or low > high:
            raise SortitionFileError(f"{path}:{line}: bounds {low}..{high} are not 0 ≤ min ≤ max")
        seen.add((feature, value))
        quotas.append(Quota(feature, value, low, high))
    if not quotas:
        raise SortitionFileError(f"{path}: no quota")
    return fmt, quotas


def load_people(path: Path, quotas: list[Quota], fmt: str,
                id_column: str | None = None) -> list[Person]:
    """The pool: each person's values for the quotas' features; other columns ignored."""
    header, rows = _rows(path)
    features = sorted({q.feature for q in quotas})
    missing = [f for f in features if f not in header]
    if missing:
        raise SortitionFileError(f"{path}:1: no column for feature(s) {', '.join(missing)}")
    column = id_column or (DEFAULT_ID_COLUMN if fmt == "sortition-algorithms" else None)
    if column is not None and column not in header:
        raise SortitionFileError(f"{path}:1: no id column {column!r} (choose one with "
                                 f"--id-column)")
    index = {h: i for i, h in enumerate(header)}
    known = {(q.feature, q.value) for q in quotas}
    people: list[Person] = []
    seen: set[str] = set()
    for number, (line, cells) in enumerate(rows):
        if len(cells) < len(header):
            raise SortitionFileError(f"{path}:{line}: {len(header)} columns expected, "
                                     f"{len(cells)} found")
        pid = cells[index[column]] if column else str(number)
        if not pid:
            raise SortitionFileError(f"{path}:{line}: empty id")
        if pid in seen:
            raise SortitionFileError(f"{path}:{line}: id {pid!r} appears twice")
        seen.add(pid)
        values = {f: cells[index[f]] for f in features}
        for f, v in values.items():
            if (f, v) not in known:
                raise SortitionFileError(f"{path}:{line}: {f}={v!r} has no quota in the "
                                         f"features file")
        people.append(person(pid, values))
    if not people:
        raise SortitionFileError(f"{path}: nobody in the pool")
    return people


def load(people_path: Path, quotas_path: Path,
         id_column: str | None = None) -> tuple[list[Person], list[Quota]]:
    """The pool and the quotas, in the format the quotas file's header names."""
    fmt, quotas = load_quotas(quotas_path)
    return load_people(people_path, quotas, fmt, id_column), quotas
