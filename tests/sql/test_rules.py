"""Static rules for every SQL file (STYLE.md section 5), checked without a database, sqlc-vet style.

The checker is a tripwire for tenant isolation: every statement outside sql/system/ filters on
`user_id = $1`. The proof that isolation holds is the API test suite; this catches the easy mistakes early.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Mapping

import pytest

from service.list_sql import FILTERS, SORTS, render
from service.statements import SQL_ROOT, Statement, load

REPO = SQL_ROOT.parent
GATEWAY = REPO / "service" / "gateway.py"
MIGRATIONS = REPO / "migrations"
SYSTEM = "system/"
# System statements that read tenant tables on purpose, each one reviewed. The purge finds the users
# holding old tombstones (user ids only); it then purges each user with a tenant statement (sync/purge).
CROSS_TENANT = frozenset({"system/purge_candidates"})

STATEMENTS: Mapping[str, Statement] = load()

# Single-quoted strings ('' escapes a quote), double-quoted identifiers, -- and /* */ comments.
_NOT_CODE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_PLACEHOLDER = re.compile(r"\$(\d+)")
_DOLLAR_ONE = re.compile(r"\$1(?!\d)")
_FILTER = re.compile(r"(?<![\w.])(?:\w+\.)?user_id\s*=\s*\$1(?!\d)", re.I)
# An INSERT whose column list starts with user_id and whose first value (VALUES or SELECT list) is $1.
_INSERT = re.compile(
    r"\bINSERT\s+INTO\s+[\w.]+(?:\s+AS\s+\w+)?\s*\(\s*user_id\s*(?:,[^()]*)?\)\s*(?:VALUES\s*\(\s*|SELECT\s+)(\$1)(?!\d)",
    re.I,
)
_FIELD = re.compile(r"\{(\w+)\}")
_PARAM_NAME = re.compile(r"[a-z][a-z0-9_]*")
_STRAY_PARAM = re.compile(r"^\s*--\s*\$\d+", re.M)
_CREATE_TABLE = re.compile(r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.]+)\s*\((.*?)\n\)", re.I | re.S)


def code_only(sql: str) -> str:
    """The SQL with strings, quoted identifiers and comments blanked out (same length, so offsets hold)."""
    return _NOT_CODE.sub(lambda match: " " * len(match.group(0)), sql)


def tenant_tables() -> frozenset[str]:
    """Tables with a user_id column, read from the migrations: the tables only tenant statements may name."""
    tables: set[str] = set()
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name.endswith(".rollback.sql"):
            continue
        for name, body in _CREATE_TABLE.findall(code_only(path.read_text(encoding="utf-8"))):
            if re.search(r"^\s*user_id\s", body, re.M | re.I):
                tables.add(name.split(".")[-1].lower())
    return frozenset(tables)


TENANT_TABLES = tenant_tables()


def renderings(statement: Statement) -> dict[str, str]:
    """The SQL as it runs. A template's {fields} are filled, as the gateway does, from the reviewed fragments
    of service.list_sql (every sort and page; no filter, each filter alone, all filters). A plain statement has
    one rendering, keyed ''."""
    if not _FIELD.findall(code_only(statement.text)):
        return {"": statement.text}
    return every_rendering(statement.text)


def every_rendering(template: str) -> dict[str, str]:
    """Each shape the template can take, labelled (all sorts and pages; no filter, each filter, all filters)."""
    filter_sets = {"no filter": frozenset(), "all filters": frozenset(FILTERS)}
    filter_sets.update({name: frozenset({name}) for name in FILTERS})
    if "{order}" not in template:
        return {label: render(template, given) for label, given in filter_sets.items()}
    return {
        f"{name} {'first' if first else 'next'} [{label}]": render(template, given, sort, first_page=first)
        for name, sort in SORTS.items()
        for first in (True, False)
        for label, given in filter_sets.items()
    }


def violations(statement: Statement) -> list[str]:
    """Every rule the statement breaks, one message each, prefixed with the rule number of STYLE.md 5."""
    code = code_only(statement.text)
    return [*_header(statement), *_placeholders(statement, code), *_tenancy(statement, code)]


def _header(statement: Statement) -> list[str]:
    """1. one sentence, snake_case parameter names declared once, user_id first outside system/."""
    found: list[str] = []
    if not statement.summary or not statement.summary.endswith(".") or "\n" in statement.summary:
        found.append("rule 1: the first line must be one sentence ending with '.'")
    found += [
        f"rule 1: parameter name {p!r} is not snake_case" for p in statement.params if not _PARAM_NAME.fullmatch(p)
    ]
    if len(set(statement.params)) != len(statement.params):
        found.append("rule 1: a parameter name is declared twice")
    if _STRAY_PARAM.search(statement.text):
        found.append("rule 1: a '-- $n name' line below the header is not part of the header")
    if not statement.name.startswith(SYSTEM) and statement.params[:1] != ("user_id",):
        found.append("rule 1: $1 must be declared as user_id")
    return found


def _placeholders(statement: Statement, code: str) -> list[str]:
    """2. declared $1..$N equal the placeholders used in the code; 3. one statement."""
    found: list[str] = []
    used = {int(number) for number in _PLACEHOLDER.findall(code)}
    declared = set(range(1, len(statement.params) + 1))
    if missing := sorted(declared - used):
        found.append(f"rule 2: declared but never used: {', '.join(f'${n}' for n in missing)}")
    if extra := sorted(used - declared):
        found.append(f"rule 2: used but not declared: {', '.join(f'${n}' for n in extra)}")
    if ";" in code.rstrip().rstrip(";"):
        found.append("rule 3: more than one statement (a ';' before the end)")
    return found


def _tenancy(statement: Statement, code: str) -> list[str]:
    """4. $1 filters user_id (or is an INSERT's first value, user_id its first column); 5. nowhere else;
    6. only system/ may lack $1, and it must not name a tenant table (but the reviewed CROSS_TENANT ones).
    In a system statement $1 is no user id, so rules 4 and 5 do not apply there."""
    found: list[str] = []
    allowed: list[tuple[int, int]] = [m.span() for m in _FILTER.finditer(code)]
    allowed += [m.span(1) for m in _INSERT.finditer(code)]
    if statement.name.startswith(SYSTEM):
        named = sorted(t for t in TENANT_TABLES if re.search(rf"\b{re.escape(t)}\b", code, re.I))
        if named and statement.name not in CROSS_TENANT:
            found.append(f"rule 6: a system statement names tenant table(s) {', '.join(named)}")
        return found
    if not _DOLLAR_ONE.search(code):
        found.append("rule 6: only sql/system/ statements may go without $1")
    if not allowed:
        found.append("rule 4: no 'user_id = $1' (nor an INSERT with user_id first and $1 as its first value)")
    stray = [m.start() for m in _DOLLAR_ONE.finditer(code) if not any(a <= m.start() < b for a, b in allowed)]
    if stray:
        found.append(f"rule 5: $1 appears {len(stray)} time(s) outside 'user_id = $1' or the INSERT's first value")
    return found


def gateway_bindings(source: str) -> tuple[dict[str, list[str]], int, set[str]]:
    """(statement name -> module-level constants bound to it, all STATEMENTS[...] uses, names read in the module)."""
    tree = ast.parse(source)
    bindings: dict[str, list[str]] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if (key := _statements_key(value)) is not None:
            bindings.setdefault(key, []).extend(t.id for t in targets if isinstance(t, ast.Name))
    uses = sum(1 for node in ast.walk(tree) if _statements_key(node) is not None)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return bindings, uses, read


def _statements_key(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "STATEMENTS"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


# -- the rules, per file ------------------------------------------------------------------------


def test_the_loader_finds_the_statements() -> None:
    assert {"tasks/get", "tasks/list", "tasks/create", "system/ping"} <= set(STATEMENTS)
    assert "tasks" in TENANT_TABLES


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_statement_follows_the_rules(name: str) -> None:
    statement = STATEMENTS[name]
    found = {key: violations(dataclasses.replace(statement, text=text)) for key, text in renderings(statement).items()}
    assert {key: messages for key, messages in found.items() if messages} == {}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_statement_is_bound_by_exactly_one_gateway_constant(name: str) -> None:
    bindings, _, read = gateway_bindings(GATEWAY.read_text(encoding="utf-8"))
    constants = bindings.get(name, [])
    assert len(constants) == 1, f"{name} is bound by {constants or 'no'} module-level constant(s) in gateway.py"
    assert constants[0] in read, f"{constants[0]} ({name}) is bound but never used in gateway.py"


def test_gateway_binds_no_statement_outside_module_constants() -> None:
    bindings, uses, _ = gateway_bindings(GATEWAY.read_text(encoding="utf-8"))
    assert uses == sum(len(constants) for constants in bindings.values())
    assert set(bindings) <= set(STATEMENTS)


# -- the tripwire trips -------------------------------------------------------------------------


def _statement(text: str, params: tuple[str, ...] = ("user_id", "task_id"), name: str = "tasks/bad") -> Statement:
    return Statement(name=name, summary="A hand-made statement.", params=params, text=text)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            _statement("SELECT t.id FROM tasks AS t WHERE t.user_id = $1 AND t.id = $2 AND t.title <> '$1; --'"),
            id="alias-qualified",
        ),
        pytest.param(
            _statement("INSERT INTO tasks (user_id, title) VALUES ($1, $2);", ("user_id", "title")), id="insert-values"
        ),
        pytest.param(
            _statement("INSERT INTO tasks AS t (user_id, title) SELECT $1, $2", ("user_id", "title")),
            id="insert-select",
        ),
        pytest.param(_statement("SELECT now() - $1::interval", ("retention",), "system/clock"), id="system-$1"),
    ],
)
def test_a_good_hand_made_statement_passes(statement: Statement) -> None:
    assert violations(statement) == []


def test_a_template_is_checked_in_every_rendering() -> None:
    template = _statement("SELECT id FROM tasks WHERE user_id = $1 AND {after} ORDER BY {order}", ("user_id",))
    rendered = renderings(template)
    assert len(rendered) > 1
    assert all("{" not in text for text in rendered.values())
    assert renderings(_statement("SELECT '{after}' FROM tasks WHERE user_id = $1")) == {
        "": "SELECT '{after}' FROM tasks WHERE user_id = $1"
    }


@pytest.mark.parametrize(
    ("rule", "statement"),
    [
        pytest.param("rule 4", _statement("SELECT id FROM tasks WHERE id = $2 AND owner = $1"), id="no-user-filter"),
        pytest.param(
            "rule 5", _statement("SELECT id FROM tasks WHERE user_id = $1 OR id = $2 OR id::text = $1"), id="stray-$1"
        ),
        pytest.param(
            "rule 4", _statement("SELECT id FROM tasks WHERE user_id <> $1 AND id = $2"), id="not-equal-filter"
        ),
        pytest.param(
            "rule 4",
            _statement("SELECT id FROM tasks WHERE id = $2 -- AND user_id = $1\n AND $1 IS NOT NULL"),
            id="filter-only-in-comment",
        ),
        pytest.param(
            "rule 2",
            _statement("SELECT id FROM tasks WHERE user_id = $1 AND title = '$2'"),
            id="placeholder-only-in-string",
        ),
        pytest.param(
            "rule 2",
            _statement("SELECT id FROM tasks WHERE user_id = $1 AND id = $3", ("user_id", "a", "b")),
            id="gap",
        ),
        pytest.param("rule 2", _statement("SELECT id FROM tasks WHERE user_id = $1 AND id = $3"), id="undeclared"),
        pytest.param("rule 3", _statement("DELETE FROM tasks WHERE user_id = $1; SELECT $2"), id="two-statements"),
        pytest.param(
            "rule 1",
            _statement("SELECT id FROM tasks WHERE user_id = $2 AND id = $1", ("task_id", "user_id")),
            id="user-id-not-first",
        ),
        pytest.param(
            "rule 4",
            _statement("INSERT INTO tasks (title, user_id) VALUES ($2, $1)", ("user_id", "title")),
            id="insert-user-id-not-first",
        ),
        pytest.param(
            "rule 4",
            _statement("INSERT INTO tasks (user_id, title) SELECT title, $1 FROM tasks", ("user_id",)),
            id="insert-select-$1-not-first",
        ),
        pytest.param("rule 6", _statement("SELECT count(*) FROM tasks", (), "system/stats"), id="system-tenant"),
        pytest.param("rule 6", _statement("SELECT now()", (), "tasks/clock"), id="tenant-without-$1"),
    ],
)
def test_the_checker_rejects_a_bad_statement(rule: str, statement: Statement) -> None:
    found = violations(statement)
    assert any(message.startswith(rule) for message in found), found


def test_the_gateway_check_finds_orphans_and_doubles() -> None:
    source = (
        'A = STATEMENTS["tasks/get"]\nB = STATEMENTS["tasks/get"]\n\n'
        "class Gateway:\n    def f(self) -> None:\n        A\n"
    )
    bindings, uses, read = gateway_bindings(source)
    assert bindings == {"tasks/get": ["A", "B"]}
    assert uses == 2
    assert "A" in read and "B" not in read
    assert "tasks/list" not in bindings


def test_render_refuses_a_slot_left_unfilled() -> None:
    with pytest.raises(ValueError, match="after"):
        render("SELECT id FROM tasks WHERE user_id = $1 AND {filters} AND {after}", frozenset())


def test_code_only_blanks_strings_and_comments() -> None:
    sql = "SELECT 'it''s $1; -- no' AS a, \"we;ird\" -- $2;\nFROM t /* $3; */ WHERE x = $4"
    code = code_only(sql)
    assert len(code) == len(sql)
    assert _PLACEHOLDER.findall(code) == ["4"]
    assert ";" not in code
