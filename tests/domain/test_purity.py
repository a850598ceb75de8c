"""bot.domain is pure: it imports only itself, the standard library and pydantic (STYLE.md, "The shape")."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import bot.domain

DOMAIN_DIR = Path(bot.domain.__file__).parent
DOMAIN_PACKAGE = "bot.domain"
ALLOWED_THIRD_PARTY = frozenset({"pydantic"})
DOMAIN_FILES = sorted(DOMAIN_DIR.rglob("*.py"))


def _package_of(path: Path) -> str:
    # A module's package is its directory, for __init__.py as for any other file.
    return ".".join((DOMAIN_PACKAGE, *path.relative_to(DOMAIN_DIR).parent.parts))


def _resolve_relative(package: str, level: int, module: str | None) -> str:
    base = package.split(".")
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join([*base, module] if module else base)


def imported_modules(source: str, package: str) -> list[str]:
    """Every module an import statement in `source` names, relative imports resolved against `package`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and node.module is None:  # `from .. import x` may import the module `x`
                base = _resolve_relative(package, node.level, None)
                found.extend(f"{base}.{alias.name}" for alias in node.names)
            elif node.level:
                found.append(_resolve_relative(package, node.level, node.module))
            elif node.module:
                found.append(node.module)
    return found


def is_allowed(module: str) -> bool:
    top = module.split(".")[0]
    return (
        module == DOMAIN_PACKAGE
        or module.startswith(DOMAIN_PACKAGE + ".")
        or top in sys.stdlib_module_names
        or top == "__future__"
        or top in ALLOWED_THIRD_PARTY
    )


def forbidden_imports(path: Path) -> list[str]:
    return [
        m for m in imported_modules(path.read_text(encoding="utf-8"), _package_of(path)) if not is_allowed(m)
    ]


class TestDomainPurity:
    def test_the_domain_files_are_found(self) -> None:
        """The walk sees the domain modules, so an empty glob cannot pass vacuously."""
        names = {p.name for p in DOMAIN_FILES}
        assert {"models.py", "state.py", "decision.py", "incident.py", "evidence.py"} <= names

    @pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(DOMAIN_DIR)))
    def test_module_imports_only_itself_stdlib_and_pydantic(self, path: Path) -> None:
        """No module under bot/domain imports anything but bot.domain, the standard library and pydantic."""
        assert forbidden_imports(path) == []

    @pytest.mark.parametrize(
        "source",
        [
            "import slack_sdk",
            "from slack_bolt import App",
            "import redis.asyncio as r",
            "from bot.store import keys",
            "from bot import services",
            "from .. import slack",
            "from ..services import open_incident",
            "import httpx",
            "import handlers.commands",
            "def f():\n    import apscheduler\n",
            "if TYPE_CHECKING:\n    from playbooks.schema import Playbook\n",
        ],
    )
    def test_the_check_catches_forbidden_imports(self, source: str) -> None:
        """The checker flags shell and third-party imports, relative escapes, and imports nested in code."""
        assert [m for m in imported_modules(source, DOMAIN_PACKAGE) if not is_allowed(m)]

    @pytest.mark.parametrize(
        "source",
        [
            "from __future__ import annotations",
            "from collections.abc import Mapping",
            "import re, unicodedata",
            "from pydantic import BaseModel",
            "from pydantic.functional_validators import field_validator",
            "from bot.domain.models import Side",
            "from .models import Side",
            "from . import state",
        ],
    )
    def test_the_check_allows_domain_stdlib_and_pydantic(self, source: str) -> None:
        """The checker accepts the domain itself (absolute or relative), the standard library and pydantic."""
        assert all(is_allowed(m) for m in imported_modules(source, DOMAIN_PACKAGE))
