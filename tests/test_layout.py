"""The shape of the code: one owner for the outbox, one dialect-insert helper, modules and
functions that fit on a screen or a few, no dead code, no module name used twice."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = sorted([*ROOT.glob("service/**/*.py"), *ROOT.glob("jobs/**/*.py")])
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
OUTBOX = ROOT / "service" / "outbox"  # the package: its modules are the one owner


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def _name(node: ast.expr) -> str:
    """The dotted name an expression spells (``outbox.claim``), or "" when it is no name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}".lstrip(".")
    return ""


def _touches_outbox_rows(call: ast.Call) -> bool:
    """A call that creates outgoing-message rows or writes to them."""
    callee = _name(call.func)
    if callee in ("OutboundMessage", "models.OutboundMessage"):
        return True  # a row built by hand
    target = _name(call.args[0]) if call.args else ""
    if callee.split(".")[-1] == "insert" and len(call.args) > 1:
        target = _name(call.args[1])  # db.insert(session, Model)
    return callee.split(".")[-1] in ("insert", "update") and target == "OutboundMessage"


def test_outgoing_messages_are_created_and_changed_only_in_the_outbox() -> None:
    owners = {
        _relative(path)
        for path in CODE
        if OUTBOX not in path.parents and any(_touches_outbox_rows(c) for c in _calls(path))
    }
    assert owners == set()
    outbox_calls = [c for path in OUTBOX.glob("*.py") for c in _calls(path)]
    assert any(_name(c.func) == "update" for c in outbox_calls)  # the check sees updates


def test_one_helper_picks_the_dialect_of_an_insert() -> None:
    spelled = {
        _relative(path)
        for path in CODE
        # Named at all, not only called: ``build = postgresql.insert`` is the same pick.
        if any(
            isinstance(node, ast.Attribute)
            and _name(node) in ("postgresql.insert", "sqlite.insert")
            for node in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert spelled == {"service/db.py"}


def test_no_module_is_over_400_lines() -> None:
    long = {_relative(p): n for p in CODE if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long = {
        f"{_relative(path)}:{node.name}": length
        for path in CODE
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    }
    assert long == {}


def test_no_two_modules_share_a_name() -> None:
    names = Counter(p.name for p in CODE if p.name != "__init__.py")
    assert [name for name, count in names.items() if count > 1] == []


def test_vulture_finds_no_dead_code() -> None:
    found = subprocess.run(
        [sys.executable, "-m", "vulture", "service", "jobs", "--min-confidence", "80"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # vulture comes with the test extra: pip install -e '.[test]'
    assert (found.returncode, found.stdout, found.stderr) == (0, "", "")
