"""Seeds and random streams: one independent stream per random source.

Common random numbers need every policy in a replication to see the same market, the same
ideas and the same noise.  That only holds if each source of randomness draws from its own
stream, so that a policy which plans more often (and so draws more perception noise, say)
cannot shift the draws of another source.  Children are derived from the seed's spawn key
without calling `SeedSequence.spawn`, which would mutate the parent and make a second
policy receive different streams.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from okrsim.core.errors import ParameterError

__all__ = ["SOURCES", "SeedLike", "as_seed_sequence", "child", "key_generators", "replication_seed", "source_generators"]

#: The model's random sources, in a fixed order (their index is part of the spawn key).
SOURCES: tuple[str, ...] = (
    "market",  # initial theme attractiveness, shift times, redrawn levels
    "perception",  # planners' weekly misperception of the market
    "backlog",  # the ideas waiting at week 0
    "arrivals",  # arrival times and attributes of new ideas
    "bias",  # the per-theme assumption bias of estimates
    "conflicts",  # which ideas conflict, and how visible each conflict is
    "synergies",  # which ideas have synergies, and how visible each synergy is
    "drift",  # how a theme's assumption bias changes when the market moves the theme
    "observation",  # the noise of the value observed after delivery, one draw per idea
    "leading",  # the noise of key results' leading measures, one draw per idea
    "dependencies",  # which ideas block which, and how visible each dependency is
    "locality",  # which interactions pair ideas of the same theme, and which partner
    "effort",  # how far each idea's actual effort departs from its estimate, one draw per idea
    "mandatory",  # which ideas are mandatory, and each one's deadline, two draws per idea
    "duplicates",  # which ideas duplicate each other's work, and how visible each duplicate is
    "team_locality",  # which interactions pair ideas that share a team, which team and which partner
    "waits",  # how long each team's part of each idea waits for others once started, one draw per part
)

SeedLike = int | np.random.SeedSequence


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Validate `seed` and return it as a `SeedSequence`."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(f"seed = {seed!r} must be a non-negative integer")
    return np.random.SeedSequence(int(seed))


def child(seq: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The `index`-th child of `seq`, derived without mutating `seq`."""
    return np.random.SeedSequence(entropy=seq.entropy, spawn_key=(*seq.spawn_key, index), pool_size=seq.pool_size)


def replication_seed(seed: SeedLike, replication: int) -> np.random.SeedSequence:
    """Seed of replication `replication` of an experiment seeded with `seed`.

    Every policy of a comparison, and every design point of a sweep, uses this same
    sequence for replication `replication`: that is what makes their random numbers common.
    """
    return child(as_seed_sequence(seed), replication)


def source_generators(seed: SeedLike) -> dict[str, np.random.Generator]:
    """One fresh `numpy.random.Generator` per source in `SOURCES`."""
    seq = as_seed_sequence(seed)
    return key_generators(seq.entropy, seq.spawn_key, seq.pool_size)


def key_generators(entropy: int | Sequence[int], spawn_key: tuple[int, ...], pool_size: int) -> dict[str, np.random.Generator]:
    """`source_generators` of the seed sequence with this entropy, spawn key and pool size.

    Taking the seed's parts saves building the parent sequence, and building each child's
    generator directly saves `numpy.random.default_rng`'s dispatch: seeding is a fixed cost
    of every world.  The children are those of `child`, so the streams are the same.
    """
    return {
        name: np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(entropy=entropy, spawn_key=(*spawn_key, i), pool_size=pool_size)))
        for i, name in enumerate(SOURCES)
    }
