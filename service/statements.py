"""SQL files: one statement each under sql/, loaded once into named, immutable Statements.

A file starts with a one-sentence comment, then one `-- $n name` line per bind parameter in order,
then the statement. The key is the path without suffix (`tasks/get`).

sql/fragments/ holds no statements: each file there is a piece of SQL that several statements share
(the task's column list), written once and put in place of `{<file name>}` when the statements load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
FRAGMENTS = "fragments"
_PARAM = re.compile(r"^--\s*\$(\d+)\s+(\w+)(.*)$")


@dataclass(frozen=True, slots=True)
class Statement:
    name: str
    summary: str
    params: tuple[str, ...]
    text: str


def parse(name: str, source: str, fragments: Mapping[str, str] | None = None) -> Statement:
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
    for fragment, body in (fragments or {}).items():
        text = text.replace("{" + fragment + "}", body)
    if not text:
        raise ValueError(f"{name}: no statement after the header")
    return Statement(name=name, summary=lines[0][3:].strip(), params=tuple(params), text=text)


def load_fragments(root: Path = SQL_ROOT) -> Mapping[str, str]:
    """Each shared piece by file name; a fragment has the header of a statement without parameters."""
    paths = sorted((root / FRAGMENTS).glob("*.sql"))
    return MappingProxyType({path.stem: parse(path.stem, path.read_text(encoding="utf-8")).text for path in paths})


def load(root: Path = SQL_ROOT) -> Mapping[str, Statement]:
    fragments = load_fragments(root)
    statements = {}
    for path in sorted(root.rglob("*.sql")):
        name = path.relative_to(root).with_suffix("").as_posix()
        if not name.startswith(FRAGMENTS + "/"):
            statements[name] = parse(name, path.read_text(encoding="utf-8"), fragments)
    return MappingProxyType(statements)


STATEMENTS = load()
