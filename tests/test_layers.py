"""The layers of ``routing/`` (see ``routing/__init__``): each folder imports only
from the layers below it, and one module holds route timing.

Imports are read from the source (``ast``), so that a lazy import inside a
function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROUTING = Path(__file__).resolve().parents[1] / "routing"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((ROUTING / folder).rglob("*.py"))


FORBIDDEN = {
    "domain": (
        "routing.solver",
        "routing.formats",
        "routing.check",
        "routing.day",
        "routing.cli",
        "routing.geo",
        "api",
        "ortools",
        "pydantic",
        "fastapi",
    ),
    "formats": ("routing.solver", "routing.day", "routing.cli", "api", "ortools"),
    "geo": ("routing.solver", "routing.formats", "routing.day", "routing.check"),
    "solver": ("routing.formats", "routing.check", "routing.day", "routing.cli", "api"),
    "day": ("routing.cli", "api"),
}
"""Per layer, the modules it must not import (higher layers and foreign ones)."""


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_from_above(layer: str) -> None:
    """No module of the layer imports a higher layer (or OR-Tools, for the
    domain and the formats)."""
    wrong = [
        f"{path.relative_to(ROUTING.parent)} imports {name}"
        for path in _modules(layer)
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer])
        # the domain may name geo types for type checking only
        and not (layer == "domain" and name == "routing.geo.matrix")
    ]
    assert not wrong, "\n".join(wrong)


def test_checker_is_independent_of_the_solver() -> None:
    """``routing/check.py`` imports neither the solver, the timing nor the geo
    layer: it re-derives every time itself."""
    names = _imports(ROUTING / "check.py")
    assert not {
        n
        for n in names
        if n.startswith(("routing.solver", "routing.geo", "routing.domain.timing"))
        or n.startswith("ortools")
    }


def test_one_module_holds_route_timing() -> None:
    """Only ``routing/domain/timing.py`` turns sequences into timed routes: no
    other module defines a service-start or route-building function, and the
    window rule is asked of ``Problem.policy`` (no module but the model
    defaults a missing slot to the horizon)."""
    defined: dict[str, list[str]] = {}
    for path in ROUTING.rglob("*.py"):
        if path.name == "check.py":
            continue  # the independent checker re-derives times on purpose
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in {
                "build_route",
                "build_routes",
                "plan_from_routes",
                "simulate",
            }:
                defined.setdefault(node.name, []).append(path.name)
        text = path.read_text()
        if path.name != "model.py":
            assert "or (problem.horizon,)" not in text, path
            assert "or (horizon,)" not in text, path
    assert all(files == ["timing.py"] for files in defined.values()), defined


def test_importing_the_checker_loads_no_ortools() -> None:
    """``import routing.check`` (and the flat API's domain names) load neither
    OR-Tools nor the solver: the public API imports them on first use."""
    code = (
        "import sys, routing, routing.check\n"
        "from routing import Plan, Problem\n"
        "assert 'ortools' not in sys.modules, 'ortools'\n"
        "assert 'routing.solver' not in sys.modules, 'solver'\n"
        "assert callable(routing.solve)\n"
        "assert 'routing.solver' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_processes_load_neither_geopy_nor_networkx() -> None:
    """The solver's engine processes (`routing.solver.portfolio` run as a
    child) need only the matrices: ``routing.geo`` imports its providers and
    road graphs on first use, so a child starts its search sooner."""
    code = (
        "import sys, routing.solver.portfolio, routing.solver.engines.pyvrp_engine\n"
        "import routing.solver.engines.vroom_engine\n"
        "assert 'geopy' not in sys.modules, 'geopy'\n"
        "assert 'networkx' not in sys.modules, 'networkx'\n"
        "import routing.geo\n"
        "assert routing.geo.Haversine.__name__ == 'Haversine'\n"
        "assert 'geopy' in sys.modules\n"
        "from routing.geo import RoadGraphProvider\n"
        "assert 'networkx' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
