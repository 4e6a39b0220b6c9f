"""SQL files: one statement each under sql/, loaded once into named, immutable Statements.

A file starts with a one-sentence comment, then one `-- $n name` line per bind parameter in order,
then the statement. The key is the path without suffix (`tasks/get`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
_PARAM = re.compile(r"^--\s*\$(\d+)\s+(\w+)(.*)$")


@dataclass(frozen=True, slots=True)
class Statement:
    name: str
    summary: str
    params: tuple[str, ...]
    text: str


def parse(name: str, source: str) -> Statement:
    lines = source.splitlines()
    if not lines or not lines[0].startswith("-- "):
        raise ValueError(f"{name}: the first line must be a '-- ' comment saying what the statement does")
    params: list[str] = []
    index = 1
    while index < len(lines) and (match := _PARAM.match(lines[index])):
        if int(match.group(1)) != len(params) + 1:
            raise ValueError(f"{name}: parameters must be declared in order $1, $2, ...")
        params.append(match.group(2))
        index += 1
    text = "\n".join(lines[index:]).strip()
    if not text:
        raise ValueError(f"{name}: no statement after the header")
    return Statement(name=name, summary=lines[0][3:].strip(), params=tuple(params), text=text)


def load(root: Path = SQL_ROOT) -> Mapping[str, Statement]:
    statements = {}
    for path in sorted(root.rglob("*.sql")):
        name = path.relative_to(root).with_suffix("").as_posix()
        statements[name] = parse(name, path.read_text(encoding="utf-8"))
    return MappingProxyType(statements)


STATEMENTS = load()
