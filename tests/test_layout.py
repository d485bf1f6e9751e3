"""Dependencies point one way (STYLE.md §4, issue 10): ``kongchuo`` (core) ← ``accounts`` ←
``students`` ← ``ledger`` ← ``attendance``, ``returns``, ``comparisons`` ← ``reports`` ←
``demo``. A lower app never imports a higher one, and no two apps import each other.

Read from the source text, so that an import inside a function counts too. The URL
configuration, settings and WSGI/Celery wiring name every app by design and are left out.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [
    {"kongchuo"},
    {"accounts"},
    {"students"},
    {"ledger"},
    {"attendance", "returns", "comparisons"},
    {"reports"},
    {"demo"},
]
LEVEL = {app: level for level, apps in enumerate(LAYERS) for app in apps}
WIRING = {"kongchuo/urls.py", "kongchuo/wsgi.py", "kongchuo/celery.py", "kongchuo/__init__.py"}


def apps() -> list[str]:
    return sorted(
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").exists() and path.name not in {"tests", "benchmarks"}
    )


def imported_apps(path: Path, known: set[str]) -> set[str]:
    """The apps that the module at ``path`` imports, absolute imports only (a relative import
    stays inside its app)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & known
    return found


def edges() -> dict[tuple[str, str], str]:
    """(importer, imported) → one module that shows it."""
    known = set(apps())
    result = {}
    for app in known:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or relative in WIRING:
                continue
            if relative.startswith("kongchuo/settings/"):
                continue
            for other in imported_apps(path, known) - {app}:
                result.setdefault((app, other), relative)
    return result


def test_every_app_has_a_layer():
    assert set(apps()) <= set(LEVEL), f"place new apps in LAYERS: {set(apps()) - set(LEVEL)}"


def test_dependencies_point_one_way():
    upward = {
        f"{importer} → {imported} ({where})"
        for (importer, imported), where in edges().items()
        if LEVEL[imported] >= LEVEL[importer]
    }
    assert not upward, "a lower (or sibling) app imports a higher one: " + "; ".join(sorted(upward))


def test_the_check_sees_an_upward_import(tmp_path):
    """The walker itself: an import inside a function is found, a relative one is not."""
    module = tmp_path / "module.py"
    module.write_text(
        "from . import sibling\n\ndef late():\n    from ledger import services\n    import demo.x\n"
    )
    assert imported_apps(module, {"ledger", "demo", "students"}) == {"ledger", "demo"}
