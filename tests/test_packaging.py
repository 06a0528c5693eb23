"""Packaging: bounded dependencies split into core and extras, a lock that satisfies them,
environment.yml in step, installs that need no more than they declare, and the public API.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

import okrsim

ROOT = Path(__file__).parents[1]
LOCK = ROOT / "requirements" / "constraints.txt"
#: pip name -> conda-forge names
CONDA_NAMES = {"salib": ["salib"], "dask": ["dask", "distributed"], "pyyaml": ["pyyaml"]}
CORE = {"simpy", "numpy", "pandas", "scipy", "pyyaml"}
#: Import names of the views extra: a dask worker or a batch job must never need them.
VIEWS_IMPORTS = ("altair", "ipywidgets", "anywidget", "vl_convert", "jupyterlab", "voila")
#: Import names of the research extra.
RESEARCH_IMPORTS = ("SALib", "pyarrow", "dask", "distributed", "tqdm", "loky")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements(*groups: str) -> list[Requirement]:
    """Requirements of ``core`` (the dependencies) and the named extras, self-references left out."""
    project = _project()
    out = []
    for group in groups:
        items = project["dependencies"] if group == "core" else project["optional-dependencies"][group]
        out += [r for r in map(Requirement, items) if canonicalize_name(r.name) != "okrsim"]
    return out


def _split(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    assert m, requirement
    return m.group(1).lower(), m.group(3).replace(" ", "")


def _lock() -> dict[str, list[tuple[Version, Marker | None]]]:
    """The lock's pins: name -> [(version, marker)] (a universal lock may pin per Python version)."""
    pins: dict[str, list[tuple[Version, Marker | None]]] = {}
    for line in LOCK.read_text().splitlines():
        if not line or line[0] in "# ":
            continue
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"the lock must pin exactly: {line!r}"
        pins.setdefault(canonicalize_name(requirement.name), []).append((Version(specs[0].version), requirement.marker))
    return pins


def test_environment_yml_matches_pyproject():
    """Binder and conda get the run-time dependencies (core, views, research) with the same bounds."""
    project = _project()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str) and d not in ("pip",))
    assert conda.pop("python").startswith("=")
    expected: dict[str, str] = {}
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["views"],
                        *project["optional-dependencies"]["research"]]:
        name, bound = _split(requirement)
        for conda_name in CONDA_NAMES.get(name, [name]):
            assert expected.setdefault(conda_name, bound) == bound, f"{name} has two different bounds"
    assert conda == expected
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-e ."]


def test_core_is_the_model_and_extras_hold_the_rest():
    extras = _project()["optional-dependencies"]
    assert {canonicalize_name(r.name) for r in _requirements("core")} == CORE
    assert {"altair", "vl-convert-python", "anywidget", "ipywidgets", "jupyterlab", "voila"} <= \
        {canonicalize_name(r.name) for r in _requirements("views")}
    assert {"salib", "pyarrow", "dask", "tqdm"} <= {canonicalize_name(r.name) for r in _requirements("research")}
    assert [Requirement(r) for r in extras["all"]] == [Requirement("okrsim[views,research]")]
    dev = {canonicalize_name(r.name) for r in _requirements("dev")}
    assert {"pytest", "pytest-timeout", "nbval", "hypothesis", "ruff", "playwright", "import-linter", "uv"} <= dev


def test_every_dependency_has_a_lower_and_an_upper_bound():
    for requirement in _requirements("core", "views", "research", "dev"):
        operators = {spec.operator for spec in requirement.specifier}
        assert operators == {">=", "<"}, f"{requirement}: give a lower (>=) and an upper (<) bound"
        lower = next(Version(s.version) for s in requirement.specifier if s.operator == ">=")
        upper = next(Version(s.version) for s in requirement.specifier if s.operator == "<")
        assert lower < upper, str(requirement)


def test_the_lock_pins_every_dependency_within_its_bounds():
    """After a change of pyproject.toml, `make lock` must follow: a missing or out-of-bounds pin fails here."""
    pins = _lock()
    for requirement in _requirements("core", "views", "research", "dev"):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run `make lock`"
        for version, _marker in pins[name]:
            assert version in requirement.specifier, f"{name}=={version} in the lock is outside {requirement.specifier}"
    for extra in ("distributed",):  # dask[distributed]
        assert extra in pins
    # pins for this interpreter: one version per package (the universal lock may fork by Python version)
    for name, entries in pins.items():
        here = [v for v, m in entries if m is None or m.evaluate()]
        assert len(here) <= 1, f"{name} is pinned twice for this Python: {here}"


def test_the_lock_helper_sees_pins_outside_the_bounds():
    assert Version("6.4.0") not in SpecifierSet(">=5.4,<6.4")
    assert Version("6.3.0") in SpecifierSet(">=5.4,<6.4")


def test_make_installs_from_the_lock_and_regenerates_it_with_one_command():
    makefile = (ROOT / "Makefile").read_text()
    stamp = re.search(r"^\$\(STAMP\):(.*)$", makefile, flags=re.M)
    assert stamp and "pyproject.toml" in stamp.group(1) and "$(LOCK)" in stamp.group(1), "reinstall when either changes"
    assert f"LOCK := {LOCK.relative_to(ROOT).as_posix()}" in makefile
    assert re.search(r"pip install .*-c \$\(LOCK\) -e \"\.\[all,dev\]\"", makefile)
    assert re.search(r"^lock:", makefile, flags=re.M) and "uv pip compile pyproject.toml --extra all --extra dev" in makefile
    assert LOCK.read_text().startswith("# This file was autogenerated by uv via the following command:\n#    make lock\n")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("codes", "failed"), [
    ({}, None),
    ({"PYTEST": 1}, "pytest (exit 1)"),
    ({"RUFF": 1, "PYTEST": 1, "NBVAL": 2}, "ruff (exit 1) pytest (exit 1) nbval (exit 2)"),
])
def test_make_test_runs_every_step_and_names_the_failed_ones(tmp_path, codes, failed):
    """nbval runs even when pytest failed, and the summary names every failed step (with stand-in tools)."""
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    (tmp_path / "pyproject.toml").touch()
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "constraints.txt").touch()
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "ruff").write_text('#!/bin/sh\necho ran ruff; exit "${RUFF:-0}"\n')
    (bin_dir / "python").write_text('#!/bin/sh\ncase "$*" in *--nbval*) echo ran nbval; exit "${NBVAL:-0}";; '
                                     '*) echo ran pytest; exit "${PYTEST:-0}";; esac\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    stamp = tmp_path / "venv" / ".okrsim-installed"
    stamp.touch()
    os.utime(stamp, (stamp.stat().st_atime + 10, stamp.stat().st_mtime + 10))  # newer than its inputs: no install
    env = {**os.environ, **{k: str(v) for k, v in codes.items()}}
    result = subprocess.run(["make", "--no-print-directory", "test", "VENV=venv"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert [line for line in result.stdout.splitlines() if line.startswith("ran ")] == ["ran ruff", "ran pytest",
                                                                                          "ran nbval"]
    last = result.stdout.strip().splitlines()[-1]
    if failed is None:
        assert result.returncode == 0 and last == "make test: ruff, pytest and nbval passed", result.stdout
    else:
        assert result.returncode != 0 and last == f"make test: FAILED: {failed}", result.stdout + result.stderr


def test_console_script_and_dev_extra():
    project = _project()
    assert project["scripts"]["okrsim"] == "okrsim.cli:main"
    dev = {_split(d)[0] for d in project["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "hypothesis", "ruff", "playwright"} <= dev


#: Installed as sitecustomize.py on PYTHONPATH, so every process of the check has it: the
#: script, the local process pool's workers and dask's worker processes.
BLOCKER = """
import os, sys

BLOCKED = frozenset(os.environ["OKRSIM_BLOCK_IMPORTS"].split(","))


class BlockImports:
    \"\"\"Behave as if the packages were not installed.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed (blocked by the packaging test)")
        return None


sys.meta_path.insert(0, BlockImports())
"""


def _run_without(blocked: tuple[str, ...], script: str, tmp_path: Path, timeout: float = 600) -> str:
    """Run `script` in a fresh interpreter (and its child processes) in which `blocked` cannot be imported."""
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    (tmp_path / "check.py").write_text(textwrap.dedent(script))
    env = dict(os.environ, OKRSIM_BLOCK_IMPORTS=",".join(blocked),
               PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH", "")])))
    result = subprocess.run([sys.executable, str(tmp_path / "check.py")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result.stdout


CHECK_BLOCKED = """
import importlib, os

def blocked_here(names=tuple(os.environ["OKRSIM_BLOCK_IMPORTS"].split(","))):
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing
"""


@pytest.mark.slow
def test_a_dask_worker_needs_only_core_and_research(tmp_path):
    """Without any package of the views extra, every module of core, model and experiments
    imports, and sweeps run in-process, on the local process pool and on dask worker processes
    with identical results."""
    out = _run_without(VIEWS_IMPORTS, CHECK_BLOCKED + """
import importlib, pkgutil, sys

import okrsim
from okrsim.experiments.executors import open_evaluator


def main():
    assert set(blocked_here()) == BLOCKED_NAMES, "the blocker must work in this process"
    for package in ("okrsim.core", "okrsim.model", "okrsim.experiments"):
        for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            importlib.import_module(module.name)
    design = okrsim.full_grid({"market.shift_rate": [1.0, 3.0]})
    kwargs = dict(scenario="dynamic", policies=("annual", "quarterly_okr"), replications=2, seed=3)
    serial = okrsim.sweep(design, executor="serial", progress=True, **kwargs).frame()
    pool = okrsim.sweep(design, executor="processes", workers=2, progress=False, **kwargs).frame()
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      local_directory=os.path.dirname(os.path.abspath(__file__))) as cluster, Client(cluster) as client:
        assert list(client.run(blocked_here).values()) == [blocked_here()], "the blocker must reach dask workers"
        dask = okrsim.sweep(design, executor=client, progress=False, **kwargs).frame()
    keys = ["point", "policy", "replication"]
    columns = [k.name for k in okrsim.KPIS]
    frames = [f.sort_values(keys).reset_index(drop=True)[keys + columns] for f in (serial, pool, dask)]
    assert frames[0].equals(frames[1]) and frames[0].equals(frames[2]), "identical results on every executor"
    print("ok", len(serial), "rows")


BLOCKED_NAMES = set(os.environ["OKRSIM_BLOCK_IMPORTS"].split(","))

if __name__ == "__main__":
    main()
""", tmp_path)
    assert out.strip().startswith("ok"), out


def test_core_alone_simulates_and_compares(tmp_path):
    """With neither views nor research installed, the model and paired comparisons work."""
    out = _run_without(VIEWS_IMPORTS + RESEARCH_IMPORTS, CHECK_BLOCKED + """
import okrsim

assert len(blocked_here()) == len(os.environ["OKRSIM_BLOCK_IMPORTS"].split(",")), blocked_here()
run = okrsim.simulate(okrsim.Scenario.preset("stable"), okrsim.Policy.preset("annual"), seed=1)
assert run.kpis["total_value"] > 0
c = okrsim.compare("dynamic", ["annual", "quarterly_okr"], replications=3, seed=0)
assert len(c.summary) > 0
print("ok")
""", tmp_path)
    assert out.strip() == "ok", out


def test_the_import_blocker_can_fail(tmp_path):
    """The check above proves something: code that needs a blocked package fails under it."""
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ, OKRSIM_BLOCK_IMPORTS="altair", PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", "import okrsim.views.charts"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "blocked by the packaging test" in result.stderr


def test_public_api_is_reexported():
    for name in okrsim.__all__:
        assert hasattr(okrsim, name), name
    for name in ("simulate", "compare", "Scenario", "Policy", "Run", "ParameterError", "REGISTRY", "KPIS"):
        assert name in okrsim.__all__


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first = text[: text.index("make test") + 20]
    assert "make demo" in first and len(first) < 1500
