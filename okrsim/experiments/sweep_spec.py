"""The plan of a sweep: design x policies x replications, validated, and the batch worker.

A sweep is split into *units*: one design point in one replication, run under every policy.
A unit is the smallest piece of work that keeps common random numbers intact (every policy
of the unit uses ``replication_seed(seed, r)``, and so does every other design point in
replication r), and it is also what the result store records as done, so a resumed sweep
never holds half a comparison.  Units are numbered ``point * replications + replication``;
batches are runs of consecutive units, sized only for speed: batching never changes a result.

`run_batch` is a top-level function of picklable, immutable inputs, so the same code runs
in-process, in a process pool started from a notebook, and on dask workers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.core.params import Policy, Scenario
from okrsim.core.registry import POLICY_SECTION
from okrsim.experiments.comparison import run_replications
from okrsim.experiments.designs import Design, factor, resolve_key, seed_value, single_point, whole_number
from okrsim.model.kpis import KPIS
from okrsim.model.simulation import check_compatible

__all__ = ["KEY_COLUMNS", "Batch", "SweepSpec", "apply_point", "canonical_order", "run_batch"]

#: Identity of a result row; with the factor columns and ``seed`` they precede the KPIs.
KEY_COLUMNS: tuple[str, ...] = ("point", "policy", "replication")


def canonical_order(frame: pd.DataFrame, policy_names: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by point, policy (in sweep order) and replication, with a fresh index.

    Completion order depends on the executor; sorting makes the results of every executor
    identical, frame for frame.
    """
    if not set(KEY_COLUMNS) <= set(frame.columns):
        return frame.reset_index(drop=True)
    order = {n: i for i, n in enumerate(policy_names)}
    pol = frame["policy"].map(order).to_numpy()
    idx = np.lexsort((frame["replication"].to_numpy(), pol, frame["point"].to_numpy()))
    out = frame.iloc[idx].reset_index(drop=True)
    out["policy"] = out["policy"].astype("str")
    return out


@dataclass(frozen=True)
class Target:
    """Where a factor's value goes: the world, every policy, or one named policy."""

    column: str
    name: str
    section: str
    scope: str | None = None


@dataclass(frozen=True)
class Batch:
    """Everything a worker needs for some consecutive units, and nothing else."""

    scenario: Scenario
    policies: tuple[Policy, ...]
    targets: tuple[Target, ...]
    points: tuple[int, ...]
    values: tuple[tuple[Any, ...], ...]
    replications: tuple[tuple[int, ...], ...]
    seed: int
    kpis: tuple[str, ...]

    @property
    def n_runs(self) -> int:
        return sum(len(r) for r in self.replications) * len(self.policies)


def apply_point(scenario: Scenario, policies: Sequence[Policy], targets: Sequence[Target],
                values: Sequence[Any]) -> tuple[Scenario, tuple[Policy, ...]]:
    """The scenario and policies of one design point."""
    world: dict[str, Any] = {}
    common: dict[str, Any] = {}
    scoped: dict[str, dict[str, Any]] = {}
    for t, v in zip(targets, values, strict=True):
        if t.section != POLICY_SECTION:
            world[f"{t.section}.{t.name}"] = v
        elif t.scope is None:
            common[t.name] = v
        else:
            scoped.setdefault(t.scope, {})[t.name] = v
    scen = scenario.replace(world) if world else scenario
    pols = []
    for p in policies:
        changes = {**common, **scoped.get(p.name, {})}
        pols.append(p.replace(changes) if changes else p)
    return scen, tuple(pols)


def run_batch(batch: Batch) -> pd.DataFrame:
    """KPIs of every run of `batch`: ``point``, ``replication``, ``policy`` and the KPIs.

    Runs go through `okrsim.experiments.comparison.run_replications`, the same loop as `okrsim.compare`,
    so a sweep and a comparison of the same inputs and seed give the same numbers.
    """
    frames = []
    for point, values, reps in zip(batch.points, batch.values, batch.replications, strict=True):
        scen, pols = apply_point(batch.scenario, batch.policies, batch.targets, values)
        f = run_replications(scen, pols, reps, batch.seed)
        f.insert(0, "point", point)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    return out[["point", "replication", "policy", *batch.kpis]]


@dataclass(frozen=True, eq=False)
class SweepSpec:
    """A validated sweep: build it with `SweepSpec.build`, which checks everything first.

    Attributes
    ----------
    design : Design
    scenario : Scenario
        The base world; world factors of the design override it point by point.
    policies : tuple of Policy
        Compared at every point; the first is the baseline of paired analyses.
    replications : int
    seed : int
        Master seed; replication r of every point and policy uses ``replication_seed(seed, r)``.
    kpis : tuple of str
    """

    design: Design
    scenario: Scenario
    policies: tuple[Policy, ...]
    replications: int
    seed: int
    kpis: tuple[str, ...]

    @classmethod
    def build(cls, design: Design | None, scenario: Any, policies: Any, replications: int, seed: int) -> SweepSpec:
        """Validate every input, and every design point against the model, before any run.

        `scenario` is anything `Scenario.coerce` takes, `policies` anything `Policy.coerce_many`
        takes, so a sweep reads names, files and mappings exactly as `okrsim.compare` does.

        Raises
        ------
        ParameterError
            Naming the parameter, the value and what would be valid.
        """
        design = single_point() if design is None else design
        if not isinstance(design, Design):
            raise ParameterError(f"design must be an okrsim Design (full_grid, latin_hypercube, sobol_design, ...); "
                                 f"got {type(design).__name__}")
        scenario = Scenario.coerce(scenario)
        pols = Policy.coerce_many(policies)
        spec = cls(design, scenario, pols, whole_number("replications", replications, 1), seed_value("seed", seed),
                   tuple(k.name for k in KPIS))
        spec._check_factors()
        spec._check_points()
        return spec

    def __repr__(self) -> str:
        return (f"SweepSpec({self.n_points} points x {len(self.policies)} policies {list(self.policy_names)} x "
                f"{self.replications} replications = {self.n_runs} runs, scenario {self.scenario.name!r}, "
                f"seed {self.seed}, {self.design!r})")

    # validation -------------------------------------------------------------------------
    def _check_factors(self) -> None:
        names = set(self.policy_names)
        seen: dict[tuple[str, str], str] = {}
        for f in self.design.factors:
            try:
                spec, scope = resolve_key(f.key)
            except ParameterError as exc:
                raise ParameterError(f"sweep factor {f.key!r} is not a model parameter: {exc}") from None
            if factor(f.key, f) != f:
                raise ParameterError(f"sweep factor {f.key} does not match the registry ({spec.kind}, "
                                     f"{spec.describe_range()}); build it with okrsim.experiments.designs.factor")
            if scope is not None and scope not in names:
                raise ParameterError(f"sweep factor {f.key} names policy {scope!r}, which is not swept; "
                                     f"policies are {', '.join(self.policy_names)}")
            if spec.section != POLICY_SECTION:
                slots = [(spec.key, "")]
            else:
                slots = [(spec.key, n) for n in (names if scope is None else [scope])]
            for slot in slots:
                if slot in seen:
                    raise ParameterError(f"sweep factors {seen[slot]} and {f.key} both set {spec.key}"
                                         + (f" for policy {slot[1]}" if slot[1] else ""))
                seen[slot] = f.key

    def _check_points(self) -> None:
        targets = self.targets
        cols = [self.design.columns[t.column] for t in targets]
        for i in range(len(self.design)):
            values = [c[i].item() for c in cols]
            try:
                scen, pols = apply_point(self.scenario, self.policies, targets, values)
                for p in pols:
                    check_compatible(scen, p)
            except ParameterError as exc:
                where = ", ".join(f"{t.column}={v!r}" for t, v in zip(targets, values, strict=True))
                raise ParameterError(f"design point {i} ({where}) is invalid: {exc}") from None

    # shape --------------------------------------------------------------------------------
    @property
    def policy_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.policies)

    @cached_property
    def targets(self) -> tuple[Target, ...]:
        """Where each factor's value goes, in design column order."""
        out = []
        for f in self.design.factors:
            spec, scope = resolve_key(f.key)
            out.append(Target(f.key, spec.name, spec.section, scope))
        return tuple(out)

    @property
    def n_points(self) -> int:
        return len(self.design)

    @property
    def n_units(self) -> int:
        return self.n_points * self.replications

    @property
    def n_runs(self) -> int:
        return self.n_units * len(self.policies)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column order of the result frame."""
        return ("point", *self.design.keys, "policy", "replication", "seed", *self.kpis)

    # work -----------------------------------------------------------------------------------
    def batch(self, units: np.ndarray) -> Batch:
        """The batch of consecutive (sorted) unit ids `units`."""
        points = units // self.replications
        reps = units % self.replications
        starts = np.flatnonzero(np.r_[True, points[1:] != points[:-1]])
        ends = np.r_[starts[1:], len(units)]
        cols = [self.design.columns[k] for k in self.design.keys]
        pts = tuple(int(points[s]) for s in starts)
        return Batch(
            scenario=self.scenario,
            policies=self.policies,
            targets=self.targets,
            points=pts,
            values=tuple(tuple(c[p].item() for c in cols) for p in pts),
            replications=tuple(tuple(int(r) for r in reps[s:e]) for s, e in zip(starts, ends, strict=True)),
            seed=self.seed,
            kpis=self.kpis,
        )

    def rows(self, runs: pd.DataFrame) -> pd.DataFrame:
        """Tidy result rows from a batch's output: add the factor values and the seed."""
        point = runs["point"].to_numpy(dtype=np.int64)
        data: dict[str, Any] = {"point": point}
        for k, col in self.design.columns.items():
            data[k] = col[point]
        data["policy"] = runs["policy"].astype("str").to_numpy()
        data["replication"] = runs["replication"].to_numpy(dtype=np.int64)
        data["seed"] = np.full(len(runs), self.seed, dtype=np.int64)
        for k in self.kpis:
            data[k] = runs[k].to_numpy(dtype=np.float64)
        return pd.DataFrame(data)

    def empty_frame(self) -> pd.DataFrame:
        """A result frame with no rows and the right columns and types."""
        return self.rows(pd.DataFrame({"point": np.zeros(0, np.int64), "replication": np.zeros(0, np.int64),
                                       "policy": pd.Series([], dtype="str"),
                                       **{k: np.zeros(0) for k in self.kpis}}))

    def canonical(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`canonical_order` with this sweep's policy order."""
        return canonical_order(frame, self.policy_names)

    # identity ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the spec, except the design's sample (stored apart)."""
        return {
            "scenario": self.scenario.to_dict(),
            "policies": [p.to_dict() for p in self.policies],
            "replications": self.replications,
            "seed": self.seed,
            "kpis": list(self.kpis),
            "design": self.design.describe(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], design: Design) -> SweepSpec:
        """Rebuild a stored spec (validation included)."""
        scenario = Scenario.from_dict(data["scenario"])
        policies = [Policy.from_dict(p) for p in data["policies"]]
        spec = cls.build(design, scenario, policies, data["replications"], data["seed"])
        if list(spec.kpis) != list(data["kpis"]):
            raise ParameterError(f"stored sweep has KPIs {data['kpis']}, this okrsim computes {list(spec.kpis)}")
        return spec

    def fingerprint(self) -> str:
        """Hash of every input that affects results; a store only resumes the same sweep."""
        data = self.to_dict()
        data["design"] = self.design.fingerprint()
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
