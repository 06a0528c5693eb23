"""Immutable, validated inputs: the world (`Scenario`) and the levers (`Policy`).

The split follows exploratory-modelling practice: a scenario is what the organisation
cannot choose (market, ideas, its own size), a policy is what it can (how often and how it
plans).  Both are frozen dataclasses checked against `okrsim.core.registry` on construction, so a
misspelt name or an out-of-range value fails before any simulation starts.

Each parameter is defined once, in `okrsim.core.registry.REGISTRY`.  The section classes
(`Market`, `Portfolio`, `Organisation`, `Horizon`) and the levers of `Policy` take their
fields, types, defaults, validation and the parameter list of their docstring from it
(`from_registry`), so adding a parameter is one line there; see docs/architecture.md,
"Adding a parameter".

There is one way in: `Scenario.coerce` and `Policy.coerce` turn a preset name, a YAML/JSON
file, a mapping or the object itself into a validated object, and every entry point (API,
command line, sweep files, views, exercise checks) uses them, so they accept the same inputs
and refuse bad ones with the same message.
"""

from __future__ import annotations

import difflib
import inspect
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from okrsim.core.errors import ParameterError
from okrsim.core.registry import (
    EFFECTS,
    POLICY_SECTION,
    REGISTRY,
    SCENARIO_SECTIONS,
    ParamSpec,
    check_registry,
    lookup,
    show,
    specs,
)

__all__ = [
    "POLICY_PRESETS",
    "SCENARIO_PRESETS",
    "Horizon",
    "Market",
    "Organisation",
    "Policy",
    "Portfolio",
    "Scenario",
    "effect_levers",
    "from_registry",
    "mix_effects",
]

#: Python type of each registry kind, as the annotation of the generated field.
_ANNOTATIONS: dict[str, str] = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "shocks": "tuple[tuple[int, int, float], ...]",
}

#: Suffixes that mark a string as a parameter file rather than a preset name.
FILE_SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json")

_C = TypeVar("_C", bound=type)


def _check_mapping(value: Any, what: str, example: str) -> Mapping[str, Any]:
    """`value` if it is a mapping with text keys; otherwise the kit's error naming `what`."""
    if not isinstance(value, Mapping):
        raise ParameterError(f"{what} must be a mapping of parameter names to values, e.g. {example}; "
                             f"got {show(value)} ({type(value).__name__})")
    for key in value:
        if not isinstance(key, str):
            raise ParameterError(f"{what}: parameter names must be text, e.g. {example}; got the key {show(key)} "
                                 f"({type(key).__name__})")
    return value


def _unknown(section: str, name: str) -> ParameterError:
    try:
        lookup(f"{section}.{name}")
    except ParameterError as exc:
        return exc
    return ParameterError(f"{section}.{name} cannot be set here")  # pragma: no cover


def _describe(spec: ParamSpec) -> str:
    default = "()" if spec.kind == "shocks" else repr(spec.default)
    role = f"{spec.effect} {spec.role}; " if spec.effect else ""
    return (f"{spec.name} : {_ANNOTATIONS[spec.kind]}, default {default}\n"
            f"    {spec.meaning[:1].upper()}{spec.meaning[1:]}; {role}{spec.describe_range()}.")


def from_registry(section: str, registry: Iterable[ParamSpec] | None = None) -> Callable[[_C], _C]:
    """Class decorator: make `cls` a frozen dataclass whose fields are the parameters of `section`.

    Fields, their order, types and defaults come from the registry (`registry`, default
    `okrsim.core.registry.REGISTRY`), as does the ``Parameters`` section appended to the class
    docstring; fields the class declares itself (``Policy.name``) come first.  Validation is
    `_Section.__post_init__`, against the same specs.  This is what makes a parameter a single
    edit: nothing here lists parameter names.

    Parameters
    ----------
    section : str
        ``market``, ``portfolio``, ``organisation``, ``horizon`` or ``policy``.
    registry : iterable of ParamSpec, optional
        Another table, e.g. an extended copy in a test.

    Raises
    ------
    TypeError
        When the class itself defines a registry parameter: two definitions could disagree.
    """

    def build(cls: _C) -> _C:
        chosen = tuple(p for p in (REGISTRY if registry is None else registry) if p.section == section)
        if registry is not None:
            check_registry(chosen)
        annotations = dict(inspect.get_annotations(cls))
        clash = [p.name for p in chosen if p.name in annotations or p.name in cls.__dict__]
        if clash:
            raise TypeError(f"{cls.__name__} defines {clash} itself; parameters come from the registry only")
        for p in chosen:
            annotations[p.name] = _ANNOTATIONS[p.kind]
            setattr(cls, p.name, p.default)
        cls.__annotations__ = annotations
        cls.section = section  # type: ignore[attr-defined]
        cls.specs = chosen  # type: ignore[attr-defined]
        listing = "\n".join(_describe(p) for p in chosen)
        cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n\n    Parameters\n    ----------\n" + "".join(
            f"    {line}\n" for line in listing.splitlines())
        return dataclass(frozen=True)(cls)

    return build


class _Section:
    """Shared behaviour of the frozen parameter sections: validation, mapping in and out.

    Subclasses are made by `from_registry`, which sets `section` and `specs`.
    """

    section: ClassVar[str]
    specs: ClassVar[tuple[ParamSpec, ...]]

    if TYPE_CHECKING:  # fields are generated from the registry; to a type checker they are Any
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...

    def __post_init__(self) -> None:
        # The class's own specs: one pass, no look-ups, so construction stays cheap in sweeps.
        for spec in self.specs:
            object.__setattr__(self, spec.name, spec.validate(getattr(self, spec.name)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Build from a mapping, refusing names the registry does not know."""
        _check_mapping(data, cls.section, f"{{{cls.specs[0].name!r}: {cls.specs[0].default!r}}}")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        for name in data:
            if name not in known:
                raise _unknown(cls.section, name)
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for YAML/JSON; shocks become lists so files stay readable."""
        out = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = [list(s) for s in value] if isinstance(value, tuple) else value
        return out


@from_registry("market")
class Market(_Section):
    """The market of strategic themes and how it shifts."""


@from_registry("portfolio")
class Portfolio(_Section):
    """Ideas: how many, how big, how valuable, how well estimated, how they interact."""


@from_registry("organisation")
class Organisation(_Section):
    """The delivery organisation: teams, work in progress, politics."""


@from_registry("horizon")
class Horizon(_Section):
    """Simulated time."""


_SECTION_CLASSES: dict[str, type[_Section]] = {
    "market": Market,
    "portfolio": Portfolio,
    "organisation": Organisation,
    "horizon": Horizon,
}
assert tuple(_SECTION_CLASSES) == SCENARIO_SECTIONS

#: Scenario presets as overrides of the registry defaults (the ``dynamic`` world).
SCENARIO_PRESETS: dict[str, dict[str, Any]] = {
    "stable": {"market.shift_rate": 0.25, "portfolio.idea_rate": 0.5},
    "dynamic": {},
    "turbulent": {"market.shift_rate": 4.0},
    # A mature, calm market with few new ideas: where quarterly re-deciding has least to react to.
    "mature": {"market.shift_rate": 0.25, "portfolio.idea_rate": 0.1},
    # A calm market hit by one disruption after a year: the initially leading theme
    # (themes are numbered by initial attractiveness) collapses and the weakest one booms.
    "disruption": {"market.shift_rate": 0.25, "market.shocks": ((52, 0, 0.2), (52, 5, 8.0))},
    # The counter-case to quarterly OKR cycles (docs/model.md, 7.9): a mature market whose
    # work is done by independent teams (one team per initiative, teams share the global
    # priorities) and whose sponsors carry no extra political weight, so that neither
    # re-deciding often nor alignment has much to fix.  annual_gates ties or beats quarterly_okr here.
    "mature_independent": {"market.shift_rate": 0.25, "portfolio.idea_rate": 0.1, "portfolio.multi_team_share": 0.0,
                           "organisation.sponsor_spread": 0.0, "organisation.sponsor_legacy": 0.0,
                           "organisation.local_priority_spread": 0.0},
}


def _split_overrides(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        spec = lookup(key)
        if spec.section == POLICY_SECTION:
            raise ParameterError(f"{key} is a policy lever, not a world parameter; set it on the Policy")
        nested.setdefault(spec.section, {})[spec.name] = value
    return nested


def _preset_name(name: Any, kind: str, valid: Iterable[str]) -> str:
    """`name` if it is one of `valid`; otherwise the error every entry point gives."""
    listing = ", ".join(valid)
    if not isinstance(name, str):
        raise ParameterError(f"{kind} preset = {show(name)} ({type(name).__name__}) must be a preset name: {listing}")
    if name not in valid:
        close = difflib.get_close_matches(name, list(valid), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ParameterError(f"unknown {kind} preset {name!r}; valid presets are {listing}, "
                             f"or give a {'/'.join(FILE_SUFFIXES)} file{hint}")
    return name


def _as_path(value: str | os.PathLike[str], relative_to: str | os.PathLike[str] | None) -> Path:
    path = Path(value)
    return Path(relative_to) / path if relative_to is not None and not path.is_absolute() else path


def _is_file_name(value: str | os.PathLike[str], relative_to: str | os.PathLike[str] | None) -> bool:
    """Whether a string names a parameter file: a file suffix, or an existing file."""
    if isinstance(value, os.PathLike):
        return True
    return Path(value).suffix.lower() in FILE_SUFFIXES or _as_path(value, relative_to).is_file()


class _FileIO:
    """Load and save as YAML or JSON, chosen by file extension."""

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Read a YAML or JSON file written by `save` or by hand."""
        from okrsim.core.fileio import read_mapping

        return cls.from_dict(read_mapping(path, f"{cls.__name__.lower()} parameters"))  # type: ignore[attr-defined]

    def save(self, path: str | Path) -> Path:
        """Write YAML (``.yaml``/``.yml``) or JSON (``.json``) atomically."""
        from okrsim.core.fileio import write_text_atomic
        from okrsim.core.values import dump_yaml

        path = Path(path)
        data = self.to_dict()  # type: ignore[attr-defined]
        if path.suffix.lower() == ".json":
            text = json.dumps(data, indent=2) + "\n"
        elif path.suffix.lower() in (".yaml", ".yml"):
            text = dump_yaml(data)
        else:
            raise ParameterError(f"file name {str(path)!r} must end in .yaml, .yml or .json")
        write_text_atomic(path, text)
        return path


@dataclass(frozen=True)
class Scenario(_FileIO):
    """The world a portfolio policy is tested in: market, portfolio, organisation, horizon.

    Build one with `Scenario.preset` (or `Scenario.coerce` from a name, file or mapping) and
    change it with `Scenario.replace`; instances are immutable so that a scenario can be
    shared between runs, processes and widgets safely.

    Examples
    --------
    >>> s = Scenario.preset("turbulent").replace({"market.shift_rate": 6})
    >>> s.market.shift_rate
    6.0
    """

    name: str = "dynamic"
    market: Market = field(default_factory=Market)
    portfolio: Portfolio = field(default_factory=Portfolio)
    organisation: Organisation = field(default_factory=Organisation)
    horizon: Horizon = field(default_factory=Horizon)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"scenario name = {show(self.name)} must be a non-empty string")
        for section, cls in _SECTION_CLASSES.items():
            value = getattr(self, section)
            if isinstance(value, Mapping):
                object.__setattr__(self, section, cls.from_dict(value))
            elif not isinstance(value, cls):
                raise ParameterError(f"scenario {section} must be a {cls.__name__} or a mapping; got {show(value)}")
        self._check_consistency()

    def _check_consistency(self) -> None:
        m, p, o, h = self.market, self.portfolio, self.organisation, self.horizon
        for week, theme, _factor in m.shocks:
            if week >= h.weeks:
                raise ParameterError(
                    f"market.shocks has a shock at week {week}, but horizon.weeks = {h.weeks}: "
                    f"valid weeks are 0 to {h.weeks - 1}"
                )
            if theme >= m.n_themes:
                raise ParameterError(
                    f"market.shocks names theme {theme}, but market.n_themes = {m.n_themes}: "
                    f"valid themes are 0 to {m.n_themes - 1}"
                )
        if p.multi_team_share > 0 and o.n_teams < 2:
            raise ParameterError(
                f"portfolio.multi_team_share = {p.multi_team_share} needs at least 2 teams, but "
                f"organisation.n_teams = {o.n_teams}: set multi_team_share to 0 or n_teams >= 2"
            )
        if m.detection_lag_weeks >= h.weeks:
            raise ParameterError(
                f"market.detection_lag_weeks = {m.detection_lag_weeks} must be shorter than "
                f"horizon.weeks = {h.weeks}"
            )

    # construction -------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str) -> Scenario:
        """One of `SCENARIO_PRESETS`: ``stable``, ``dynamic`` (default), ``turbulent``, ``mature``, ``disruption``,
        ``mature_independent``."""
        name = _preset_name(name, "scenario", SCENARIO_PRESETS)
        return cls().replace(SCENARIO_PRESETS[name], name=name)

    @classmethod
    def coerce(cls, value: Scenario | str | os.PathLike[str] | Mapping[str, Any], *,
               relative_to: str | os.PathLike[str] | None = None) -> Scenario:
        """The scenario `value` stands for: the one way every entry point reads a scenario.

        Parameters
        ----------
        value : Scenario, str, path or mapping
            A `Scenario` (returned as it is); a preset name (`SCENARIO_PRESETS`); a YAML/JSON
            file, as a `Path` or a string ending in .yaml, .yml or .json (or naming an existing
            file); or a mapping in the form of a scenario file (`from_dict`).
        relative_to : path, optional
            Directory that relative file names are read from (a sweep file's directory).

        Raises
        ------
        ParameterError
            For anything else, an unknown preset, a missing or unreadable file, or invalid
            parameters, with the same message whichever entry point was used.
        """
        if isinstance(value, Scenario):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, (str, os.PathLike)):
            if isinstance(value, str) and (value in SCENARIO_PRESETS or not _is_file_name(value, relative_to)):
                return cls.preset(value)
            return cls.load(_as_path(value, relative_to))
        raise ParameterError(f"scenario = {show(value)} ({type(value).__name__}) must be a preset name "
                             f"({', '.join(SCENARIO_PRESETS)}), a {'/'.join(FILE_SUFFIXES)} file, a mapping "
                             "or an okrsim.Scenario")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from ``{"preset": ..., "name": ..., "market": {...}, ...}``.

        Omitted sections and parameters keep the preset's (default: ``dynamic``) values, so a
        scenario file only needs to list what differs.
        """
        data = dict(_check_mapping(data, "scenario", "{'preset': 'turbulent', 'market': {'shift_rate': 3}}"))
        base = cls.preset(data.pop("preset", "dynamic"))
        name = data.pop("name", None)
        overrides: dict[str, Any] = {}
        for section, values in data.items():
            if section not in _SECTION_CLASSES:
                if section == POLICY_SECTION:
                    raise ParameterError("a scenario file cannot set policy levers; put them in a policy file")
                raise _unknown_section(section)
            example = f"{{{_SECTION_CLASSES[section].specs[0].name!r}: {_SECTION_CLASSES[section].specs[0].default!r}}}"
            for k, v in _check_mapping(values, f"scenario section {section!r}", example).items():
                overrides[f"{section}.{k}"] = v
        return base.replace(overrides, name=name if name is not None else base.name)

    def replace(self, overrides: Mapping[str, Any] | None = None, *, name: str | None = None) -> Scenario:
        """Copy with dotted-key overrides (``{"market.shift_rate": 3}``), validated as a whole."""
        overrides = {} if overrides is None else _check_mapping(overrides, "Scenario.replace",
                                                                "{'market.shift_rate': 3}")
        nested = _split_overrides(overrides)
        kwargs: dict[str, Any] = {}
        for section, changes in nested.items():
            current = getattr(self, section).to_dict()
            current.update(changes)
            kwargs[section] = _SECTION_CLASSES[section].from_dict(current)
        return Scenario(
            name=self.name if name is None else name,
            **{s: kwargs.get(s, getattr(self, s)) for s in _SECTION_CLASSES},
        )

    # access --------------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        """Value of a world parameter by dotted key."""
        spec = lookup(key)
        if spec.section == POLICY_SECTION:
            raise ParameterError(f"{key} is a policy lever, not a world parameter")
        return getattr(getattr(self, spec.section), spec.name)

    def to_dict(self) -> dict[str, Any]:
        """Full plain-data form: every parameter, so a saved file reproduces a run exactly."""
        return {"name": self.name, **{s: getattr(self, s).to_dict() for s in _SECTION_CLASSES}}

    def flat(self) -> dict[str, Any]:
        """All parameters as ``{"market.shift_rate": 1.5, ...}``: the form sweeps record."""
        return {f"{s}.{k}": v for s in _SECTION_CLASSES for k, v in getattr(self, s).to_dict().items()}


def _unknown_section(section: str) -> ParameterError:
    close = difflib.get_close_matches(section, list(SCENARIO_SECTIONS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ParameterError(f"unknown scenario section {section!r}; valid sections are {', '.join(SCENARIO_SECTIONS)}{hint}")


#: Policy presets as overrides of the registry defaults (the ``annual`` policy).
_QUARTERLY: dict[str, Any] = {
    "cadence_weeks": 13,
    "can_stop_running_work": True,
    "planning_cost": 0.4,
    "political_weight": 0.1,
    "budget_inertia": 0.3,
    "horizontal_alignment": 0.8,
    "transparency": 0.6,
    "retrospectives": True,
    # OKR check-ins every two weeks read the key results' leading measures (Wodtke: weekly or
    # every two weeks); the next plan weighs that evidence (docs/model.md 7.6).
    "checkin_weeks": 2,
    # Quarterly cycles need no change board: a new idea waits at most a quarter for the next
    # plan, about as long as a change request takes to reach a board (docs/model.md, 7.9).
    "change_board_weeks": 0,
}

#: The good-practice annual process (``annual_gates``): the typical annual process plus
#: stage-gate reviews every quarter that re-rank the plan's work on current information and
#: stop work that no longer pays, a mid-year reforecast, and post-implementation reviews at
#: each gate (learning from delivered work).  Politics, budget inertia, alignment and
#: transparency stay those of the typical process: gates change the process, not the culture.
_ANNUAL_GATES: dict[str, Any] = {
    "review_weeks": 13,
    "reforecast": True,
    "can_stop_running_work": True,
    "retrospectives": True,
}


def _bare(key: str) -> str:
    return key[len("policy."):] if key.startswith("policy.") else key


@from_registry(POLICY_SECTION)
class Policy(_FileIO, _Section):
    """The organisation's levers: how often and how it decides its portfolio.

    Presets: ``annual`` (the typical annual portfolio process: a yearly plan and budget round
    with an in-year change board), ``annual_gates`` (good practice: the annual process plus
    quarterly stage-gate reviews, a mid-year reforecast and post-implementation reviews),
    ``quarterly_okr`` (quarterly OKR-driven re-decisions) and one ablation per effect,
    ``only_agility``, ``only_alignment``, ``only_transparency``, ``only_learning``: the annual
    policy with only that effect's levers at their quarterly OKR setting.  ``name`` labels
    the policy in tables, files and ``--set NAME.lever=value``; the levers follow, in
    registry order.
    """

    name: str = "annual"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or any(c in self.name for c in " .=,"):
            raise ParameterError(
                f"policy name = {show(self.name)} must be a non-empty word without spaces, dots, commas or '='"
            )
        super().__post_init__()

    @classmethod
    def preset(cls, name: str) -> Policy:
        """One of ``annual``, ``annual_gates``, ``quarterly_okr``, ``only_agility``,
        ``only_alignment``, ``only_transparency``, ``only_learning``."""
        name = _preset_name(name, "policy", POLICY_PRESETS)
        if name == "annual":
            return cls()
        if name == "quarterly_okr":
            return cls(name=name, **_QUARTERLY)
        if name == "annual_gates":
            return cls(name=name, **_ANNUAL_GATES)
        return mix_effects([name[len("only_"):]], name=name)

    @classmethod
    def coerce(cls, value: Policy | str | os.PathLike[str] | Mapping[str, Any], *,
               relative_to: str | os.PathLike[str] | None = None) -> Policy:
        """The policy `value` stands for: the one way every entry point reads a policy.

        Parameters
        ----------
        value : Policy, str, path or mapping
            A `Policy` (returned as it is); a preset name (`POLICY_PRESETS`); a YAML/JSON
            file, as a `Path` or a string ending in .yaml, .yml or .json (or naming an existing
            file); or a mapping in the form of a policy file (`from_dict`).
        relative_to : path, optional
            Directory that relative file names are read from (a sweep file's directory).

        Raises
        ------
        ParameterError
            For anything else, an unknown preset, a missing or unreadable file, or invalid
            levers, with the same message whichever entry point was used.
        """
        if isinstance(value, Policy):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, (str, os.PathLike)):
            if isinstance(value, str) and not value.strip():
                raise ParameterError(f"policy = {value!r} is empty: give a preset name ({', '.join(POLICY_PRESETS)}) "
                                     f"or a {'/'.join(FILE_SUFFIXES)} file")
            if isinstance(value, str) and (value in POLICY_PRESETS or not _is_file_name(value, relative_to)):
                return cls.preset(value)
            return cls.load(_as_path(value, relative_to))
        raise ParameterError(f"policy = {show(value)} ({type(value).__name__}) must be a preset name "
                             f"({', '.join(POLICY_PRESETS)}), a {'/'.join(FILE_SUFFIXES)} file, a mapping "
                             "or an okrsim.Policy")

    @classmethod
    def coerce_many(cls, values: Any, *, relative_to: str | os.PathLike[str] | None = None,
                    what: str = "policies") -> tuple[Policy, ...]:
        """The policies to compare, baseline first: `coerce` applied to each, names checked unique.

        A single policy (a `Policy`, a preset name or a file) stands for a list of one.  A
        mapping is refused rather than guessed at: its keys would be taken as policies and its
        values dropped, or it would be read as one policy's levers.

        Raises
        ------
        ParameterError
            For None, a mapping, a set (no order, so no baseline), an empty list, duplicate
            names, or any entry `coerce` refuses.
        """
        kinds = f"preset names ({', '.join(POLICY_PRESETS)}), {'/'.join(FILE_SUFFIXES)} files, mappings or okrsim.Policy"
        if isinstance(values, (Policy, str, os.PathLike)):
            values = [values]
        if isinstance(values, Mapping):
            keys = [show(k) for k in list(values)[:4]]
            raise ParameterError(f"{what} must be a list of {kinds}, baseline first; got a {type(values).__name__} "
                                 f"with keys {', '.join(keys)}: pass a list, e.g. list(d.values()) if the values are the "
                                 "policies")
        if values is None or isinstance(values, (bytes, set, frozenset)) or not isinstance(values, Iterable):
            raise ParameterError(f"{what} = {show(values)} ({type(values).__name__}) must be a list of {kinds}, "
                                 "baseline first")
        out = []
        for v in values:
            if not isinstance(v, (Policy, str, os.PathLike, Mapping)):
                raise ParameterError(f"{what} must be a list of {kinds}; got the entry {show(v)} ({type(v).__name__})")
            out.append(cls.coerce(v, relative_to=relative_to))
        if not out:
            raise ParameterError(f"{what} must name at least one policy")
        names = [p.name for p in out]
        if len(set(names)) != len(names):
            raise ParameterError(f"policy names must be unique to be compared; got {names} "
                                 "(give a policy another name with Policy.replace(name=...) or 'name:' in its file)")
        return tuple(out)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Build from ``{"preset": "annual", "name": ..., <lever>: value, ...}``.

        A policy file lists only the levers that differ from its preset.
        """
        data = dict(_check_mapping(data, "policy", "{'preset': 'annual', 'cadence_weeks': 26}"))
        base = cls.preset(data.pop("preset", "annual"))
        name = data.pop("name", None)
        levers = _check_mapping(data.pop("levers", {}), "policy levers", "{'cadence_weeks': 26}")
        data.update(levers)
        return base.replace(data, name=name if name is not None else base.name)

    def replace(self, changes: Mapping[str, Any] | None = None, *, name: str | None = None) -> Policy:
        """Copy with some levers changed (bare names or ``policy.<name>``), validated."""
        changes = {} if changes is None else _check_mapping(changes, "Policy.replace", "{'planning_cost': 0.8}")
        current = self.to_dict()
        for key, value in changes.items():
            bare = _bare(key)
            if bare not in current or bare == "name":
                raise _unknown(POLICY_SECTION, bare)
            current[bare] = value
        if name is not None:
            current["name"] = name
        return Policy(**current)

    def get(self, key: str) -> Any:
        """Value of a lever by bare or dotted name."""
        if not isinstance(key, str):
            lookup(key)  # raises the kit's error for a non-text name
        bare = _bare(key)
        lookup(f"policy.{bare}")
        return getattr(self, bare)

    def to_dict(self) -> dict[str, Any]:
        """Every lever, so a saved policy reproduces a run exactly."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def flat(self) -> dict[str, Any]:
        """Levers as ``{"policy.cadence_weeks": 13, ...}``."""
        return {f"policy.{k}": v for k, v in self.to_dict().items() if k != "name"}


def effect_levers(effect: str) -> tuple[ParamSpec, ...]:
    """Levers that make up `effect`: those of the effect on which the presets differ.

    Derived from the presets rather than listed by hand so that the decomposition always
    switches exactly what distinguishes ``annual`` from ``quarterly_okr``.
    """
    if effect not in EFFECTS:
        raise ParameterError(f"unknown effect {effect!r}; valid effects are {', '.join(EFFECTS)}")
    annual = Policy()
    quarterly = Policy(name="quarterly_okr", **_QUARTERLY)
    return tuple(
        p for p in specs(POLICY_SECTION)
        if p.effect == effect and getattr(annual, p.name) != getattr(quarterly, p.name)
    )


def mix_effects(
    effects: Iterable[str],
    *,
    base: Policy | None = None,
    target: Policy | None = None,
    name: str | None = None,
) -> Policy:
    """`base` (default ``annual``) with the levers of `effects` taken from `target`.

    This is the building block of the ablation presets and of the Shapley decomposition over
    the 16 on/off combinations of the four effects.
    """
    base = base if base is not None else Policy()
    target = target if target is not None else Policy(name="quarterly_okr", **_QUARTERLY)
    effects = tuple(effects)
    changes = {p.name: getattr(target, p.name) for e in effects for p in effect_levers(e)}
    label = name or (base.name + "".join(f"+{e}" for e in effects)).replace("+", "_plus_")
    return base.replace(changes, name=label)


POLICY_PRESETS: tuple[str, ...] = ("annual", "annual_gates", "quarterly_okr", *tuple(f"only_{e}" for e in EFFECTS))
