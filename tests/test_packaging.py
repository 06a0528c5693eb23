"""Packaging: environment.yml stays in step with pyproject.toml; the public API is complete."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import okrsim

ROOT = Path(__file__).parents[1]
#: pip name -> conda-forge names
CONDA_NAMES = {"salib": ["salib"], "dask": ["dask", "distributed"], "pyyaml": ["pyyaml"]}


def _split(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    assert m, requirement
    return m.group(1).lower(), m.group(3).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str) and d not in ("pip",))
    assert conda.pop("python").startswith("=")
    expected = {}
    for requirement in project["dependencies"]:
        name, bound = _split(requirement)
        for conda_name in CONDA_NAMES.get(name, [name]):
            expected[conda_name] = bound
    assert conda == expected
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-e ."]


def test_console_script_and_dev_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["okrsim"] == "okrsim.cli:main"
    dev = {_split(d)[0] for d in project["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "hypothesis", "ruff", "playwright"} <= dev


def test_public_api_is_reexported():
    for name in okrsim.__all__:
        assert hasattr(okrsim, name), name
    for name in ("simulate", "compare", "Scenario", "Policy", "Run", "ParameterError", "REGISTRY", "KPIS"):
        assert name in okrsim.__all__


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first = text[: text.index("make test") + 20]
    assert "make demo" in first and len(first) < 1500
