"""The test suite itself: the people tests act as are defined once, in tests/conftest.py.

Test modules use the personas (alice, bob, charlie, mallory, admin) and the helpers (`make_user`, `as_user`,
`ban`, `api_token`, `bearer`) from there instead of their own copies, so a persona means the same everywhere."""

from __future__ import annotations

import ast
from pathlib import Path

from paperboard.accounts.models import profile_of
from tests.conftest import PASSWORD

TESTS = Path(__file__).resolve().parent
SHARED = {"conftest.py"}
PERSONAS = {"alice", "bob", "charlie", "mallory", "admin", "alice_client"}
HELPERS = {"make_user", "as_user"}
USER_FACTORIES = {"create_user", "create_superuser"}


def modules():
    for path in sorted(TESTS.rglob("*.py")):
        if path.name not in SHARED:
            yield path.relative_to(TESTS), ast.parse(path.read_text(encoding="utf-8"))


def fixture_name(function: ast.FunctionDef) -> str | None:
    """The name `function` is a pytest fixture under, or None when it is no fixture."""
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if ast.unparse(target) in ("pytest.fixture", "fixture"):
            named = [k.value.value for k in (call.keywords if call else []) if k.arg == "name"]
            return named[0] if named else function.name
    return None


def test_no_test_module_defines_its_own_personas_or_user_helpers():
    found = []
    for name, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if fixture_name(node) in PERSONAS:
                    found.append(f"{name}:{node.lineno} fixture {fixture_name(node)}")
                if node.name in HELPERS:
                    found.append(f"{name}:{node.lineno} def {node.name}")
    assert found == [], "use the personas and helpers of tests/conftest.py:\n" + "\n".join(found)


def test_test_modules_make_users_with_make_user():
    found = []
    for name, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in USER_FACTORIES:
                found.append(f"{name}:{node.lineno} {ast.unparse(node.func)}(...)")
    assert found == [], "make users with tests.conftest.make_user:\n" + "\n".join(found)


def test_the_personas_have_the_roles_the_tests_rely_on(alice, bob, charlie, mallory, admin):
    def role(user):
        profile = profile_of(user)
        return (user.email, profile.confirmed, profile.banned, user.is_staff, user.is_superuser,
                user.check_password(PASSWORD))

    assert role(alice) == ("alice@example.org", True, False, False, False, True)
    assert role(bob) == ("bob@example.org", True, False, False, False, True)
    assert role(charlie) == ("charlie@example.org", False, False, False, False, True)
    assert role(mallory) == ("mallory@example.org", True, True, False, False, True)
    assert role(admin) == ("admin@example.org", True, False, True, True, True)
