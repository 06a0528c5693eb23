"""Immutable, validated inputs: the world (`Scenario`) and the levers (`Policy`).

The split follows exploratory-modelling practice: a scenario is what the organisation
cannot choose (market, ideas, its own size), a policy is what it can (how often and how it
plans).  Both are frozen dataclasses checked against `okrsim.core.registry` on construction, so a
misspelt name or an out-of-range value fails before any simulation starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from okrsim.core.errors import ParameterError
from okrsim.core.registry import EFFECTS, POLICY_SECTION, SCENARIO_SECTIONS, ParamSpec, lookup, specs

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
    "mix_effects",
]


def _d(key: str) -> Any:
    return lookup(key).default


def _validate_fields(obj: Any, section: str) -> None:
    for f in fields(obj):
        if f.name == "name":
            continue
        spec = lookup(f"{section}.{f.name}")
        object.__setattr__(obj, f.name, spec.validate(getattr(obj, f.name)))


def _unknown(section: str, name: str) -> ParameterError:
    try:
        lookup(f"{section}.{name}")
    except ParameterError as exc:
        return exc
    return ParameterError(f"{section}.{name} cannot be set here")  # pragma: no cover


class _Section:
    """Shared behaviour of the frozen parameter sections."""

    section: ClassVar[str]

    def __post_init__(self) -> None:
        _validate_fields(self, self.section)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Build from a mapping, refusing names the registry does not know."""
        if not isinstance(data, Mapping):
            raise ParameterError(f"{cls.section} must be a mapping of parameter names to values; got {data!r}")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        for name in data:
            if name not in known:
                raise _unknown(cls.section, str(name))
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for YAML/JSON; shocks become lists so files stay readable."""
        out = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = [list(s) for s in value] if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class Market(_Section):
    """The market of strategic themes and how it shifts."""

    section: ClassVar[str] = "market"
    n_themes: int = _d("market.n_themes")
    shift_rate: float = _d("market.shift_rate")
    shift_share: float = _d("market.shift_share")
    shift_persistence: float = _d("market.shift_persistence")
    spread: float = _d("market.spread")
    shocks: tuple[tuple[int, int, float], ...] = _d("market.shocks")
    perception_noise: float = _d("market.perception_noise")
    detection_lag_weeks: int = _d("market.detection_lag_weeks")


@dataclass(frozen=True)
class Portfolio(_Section):
    """Ideas: how many, how big, how valuable, how well estimated, how they interact."""

    section: ClassVar[str] = "portfolio"
    initial_backlog: int = _d("portfolio.initial_backlog")
    idea_rate: float = _d("portfolio.idea_rate")
    effort_median: float = _d("portfolio.effort_median")
    effort_sigma: float = _d("portfolio.effort_sigma")
    idea_attraction: float = _d("portfolio.idea_attraction")
    multi_team_share: float = _d("portfolio.multi_team_share")
    value_median: float = _d("portfolio.value_median")
    value_sigma: float = _d("portfolio.value_sigma")
    secondary_theme_share: float = _d("portfolio.secondary_theme_share")
    staleness_half_life_weeks: float = _d("portfolio.staleness_half_life_weeks")
    estimation_noise: float = _d("portfolio.estimation_noise")
    assumption_bias: float = _d("portfolio.assumption_bias")
    conflict_rate: float = _d("portfolio.conflict_rate")
    conflict_severity: float = _d("portfolio.conflict_severity")
    synergy_rate: float = _d("portfolio.synergy_rate")
    synergy_bonus: float = _d("portfolio.synergy_bonus")
    waste_hurdle: float = _d("portfolio.waste_hurdle")


@dataclass(frozen=True)
class Organisation(_Section):
    """The delivery organisation: teams, work in progress, politics."""

    section: ClassVar[str] = "organisation"
    n_teams: int = _d("organisation.n_teams")
    wip_limit: int = _d("organisation.wip_limit")
    sponsor_spread: float = _d("organisation.sponsor_spread")
    sponsor_legacy: float = _d("organisation.sponsor_legacy")
    local_priority_spread: float = _d("organisation.local_priority_spread")


@dataclass(frozen=True)
class Horizon(_Section):
    """Simulated time."""

    section: ClassVar[str] = "horizon"
    weeks: int = _d("horizon.weeks")


_SECTION_CLASSES: dict[str, type[_Section]] = {
    "market": Market,
    "portfolio": Portfolio,
    "organisation": Organisation,
    "horizon": Horizon,
}

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
}


def _split_overrides(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        spec = lookup(key)
        if spec.section == POLICY_SECTION:
            raise ParameterError(f"{key} is a policy lever, not a world parameter; set it on the Policy")
        nested.setdefault(spec.section, {})[spec.name] = value
    return nested


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

        path = Path(path)
        data = self.to_dict()  # type: ignore[attr-defined]
        if path.suffix.lower() == ".json":
            text = json.dumps(data, indent=2) + "\n"
        elif path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(data, sort_keys=False)
        else:
            raise ParameterError(f"file name {str(path)!r} must end in .yaml, .yml or .json")
        write_text_atomic(path, text)
        return path


@dataclass(frozen=True)
class Scenario(_FileIO):
    """The world a portfolio policy is tested in: market, portfolio, organisation, horizon.

    Build one with `Scenario.preset` and change it with `Scenario.replace`; instances are
    immutable so that a scenario can be shared between runs, processes and widgets safely.

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
            raise ParameterError(f"scenario name = {self.name!r} must be a non-empty string")
        for section, cls in _SECTION_CLASSES.items():
            value = getattr(self, section)
            if isinstance(value, Mapping):
                object.__setattr__(self, section, cls.from_dict(value))
            elif not isinstance(value, cls):
                raise ParameterError(f"scenario {section} must be a {cls.__name__} or a mapping; got {value!r}")
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
        """One of `SCENARIO_PRESETS`: ``stable``, ``dynamic`` (default), ``turbulent``, ``disruption``."""
        if name not in SCENARIO_PRESETS:
            raise ParameterError(f"unknown scenario preset {name!r}; valid presets are {', '.join(SCENARIO_PRESETS)}")
        return cls().replace(SCENARIO_PRESETS[name], name=name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from ``{"preset": ..., "name": ..., "market": {...}, ...}``.

        Omitted sections and parameters keep the preset's (default: ``dynamic``) values, so a
        scenario file only needs to list what differs.
        """
        data = dict(data)
        base = cls.preset(str(data.pop("preset", "dynamic")))
        name = data.pop("name", None)
        overrides: dict[str, Any] = {}
        for section, values in data.items():
            if section not in _SECTION_CLASSES:
                if section == POLICY_SECTION:
                    raise ParameterError("a scenario file cannot set policy levers; put them in a policy file")
                raise _unknown_section(section)
            if not isinstance(values, Mapping):
                raise ParameterError(f"scenario section {section!r} must be a mapping; got {values!r}")
            for k, v in values.items():
                overrides[f"{section}.{k}"] = v
        return base.replace(overrides, name=name if name is not None else base.name)

    def replace(self, overrides: Mapping[str, Any] | None = None, *, name: str | None = None) -> Scenario:
        """Copy with dotted-key overrides (``{"market.shift_rate": 3}``), validated as a whole."""
        nested = _split_overrides(overrides or {})
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
    import difflib

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
}


@dataclass(frozen=True)
class Policy(_FileIO):
    """The organisation's levers: how often and how it decides its portfolio.

    Presets: ``annual`` (a plan fixed once a year, as in many budget processes),
    ``quarterly_okr`` (quarterly OKR-driven re-decisions) and one ablation per effect,
    ``only_agility``, ``only_alignment``, ``only_transparency``, ``only_learning``: the annual
    policy with only that effect's levers at their quarterly OKR setting.
    """

    name: str = "annual"
    # agility
    cadence_weeks: int = _d("policy.cadence_weeks")
    can_stop_running_work: bool = _d("policy.can_stop_running_work")
    planning_cost: float = _d("policy.planning_cost")
    switch_loss: float = _d("policy.switch_loss")
    ramp_up_weeks: float = _d("policy.ramp_up_weeks")
    # alignment
    political_weight: float = _d("policy.political_weight")
    budget_inertia: float = _d("policy.budget_inertia")
    horizontal_alignment: float = _d("policy.horizontal_alignment")
    alignment_cost: float = _d("policy.alignment_cost")
    n_objectives: int = _d("policy.n_objectives")
    okr_focus: float = _d("policy.okr_focus")
    # transparency
    transparency: float = _d("policy.transparency")
    workshop_cost: float = _d("policy.workshop_cost")
    # learning
    retrospectives: bool = _d("policy.retrospectives")
    learning_rate: float = _d("policy.learning_rate")
    retro_cost: float = _d("policy.retro_cost")

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or any(c in self.name for c in " .=,"):
            raise ParameterError(
                f"policy name = {self.name!r} must be a non-empty word without spaces, dots, commas or '='"
            )
        _validate_fields(self, POLICY_SECTION)

    @classmethod
    def preset(cls, name: str) -> Policy:
        """One of ``annual``, ``quarterly_okr``, ``only_agility``, ``only_alignment``,
        ``only_transparency``, ``only_learning``."""
        if name == "annual":
            return cls()
        if name == "quarterly_okr":
            return cls(name=name, **_QUARTERLY)
        if name.startswith("only_") and name[5:] in EFFECTS:
            return mix_effects([name[5:]], name=name)
        raise ParameterError(f"unknown policy preset {name!r}; valid presets are {', '.join(POLICY_PRESETS)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Build from ``{"preset": "annual", "name": ..., <lever>: value, ...}``.

        A policy file lists only the levers that differ from its preset.
        """
        data = dict(data)
        base = cls.preset(str(data.pop("preset", "annual")))
        name = data.pop("name", None)
        levers = data.pop("levers", {})
        if not isinstance(levers, Mapping):
            raise ParameterError(f"policy levers must be a mapping; got {levers!r}")
        data.update(levers)
        return base.replace(data, name=name if name is not None else base.name)

    def replace(self, changes: Mapping[str, Any] | None = None, *, name: str | None = None) -> Policy:
        """Copy with some levers changed (bare names or ``policy.<name>``), validated."""
        current = self.to_dict()
        for key, value in (changes or {}).items():
            bare = key[len("policy."):] if key.startswith("policy.") else key
            if bare not in current or bare == "name":
                raise _unknown(POLICY_SECTION, bare)
            current[bare] = value
        if name is not None:
            current["name"] = name
        return Policy(**current)

    def get(self, key: str) -> Any:
        """Value of a lever by bare or dotted name."""
        bare = key[len("policy."):] if key.startswith("policy.") else key
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


POLICY_PRESETS: tuple[str, ...] = ("annual", "quarterly_okr", *tuple(f"only_{e}" for e in EFFECTS))
