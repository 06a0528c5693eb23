"""The house style of every chart: one palette, one colour per policy, one altair theme.

A consultant pastes charts from different notebooks, reports and exports into one deck; a
reader must recognise ``annual`` and ``quarterly_okr`` by colour alone, whichever chart they
look at.  So colours are a fixed mapping from policy (and effect) names, never the order in
which a chart happens to meet them.  The palette is Okabe-Ito, which stays distinguishable
for the common forms of colour blindness.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt

__all__ = [
    "EFFECT_COLORS",
    "EXTRA_COLORS",
    "MAX_ROWS",
    "OKABE_ITO",
    "POLICY_COLORS",
    "THEME_NAME",
    "THEME_SCHEME",
    "axis_title",
    "color_name",
    "effect_color",
    "policy_colors",
    "policy_scale",
    "register_theme",
]

#: The Okabe-Ito palette (Okabe & Ito 2008), safe for deuteranopia, protanopia and tritanopia.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}

#: Fixed colour of each policy preset.  The ablation presets share the colour of their effect.
POLICY_COLORS: dict[str, str] = {
    "annual": OKABE_ITO["orange"],
    "quarterly_okr": OKABE_ITO["blue"],
    "only_agility": OKABE_ITO["sky_blue"],
    "only_alignment": OKABE_ITO["bluish_green"],
    "only_transparency": OKABE_ITO["reddish_purple"],
    "only_learning": OKABE_ITO["vermillion"],
}

#: Colour of each of the four effects (decomposition, sensitivity by effect).
EFFECT_COLORS: dict[str, str] = {
    "agility": OKABE_ITO["sky_blue"],
    "alignment": OKABE_ITO["bluish_green"],
    "transparency": OKABE_ITO["reddish_purple"],
    "learning": OKABE_ITO["vermillion"],
}

#: Colours handed out, in order, to policies that are not presets.
EXTRA_COLORS: tuple[str, ...] = (OKABE_ITO["black"], "#999999", OKABE_ITO["yellow"], "#6A3D9A", "#8C510A")

#: Sequential scheme for themes and scores (perceptually uniform and colour-blind safe).
THEME_SCHEME = "viridis"

#: Altair refuses to embed more rows than this; chart functions aggregate below it.
MAX_ROWS = 5000

#: Name of the registered altair theme.
THEME_NAME = "okrsim"


def _preset_of(name: str) -> str | None:
    """The preset a policy name derives from (``quarterly_okr_custom`` -> ``quarterly_okr``)."""
    hits = [p for p in POLICY_COLORS if name == p or name.startswith(p + "_") or name.startswith(p + "*")]
    return max(hits, key=len) if hits else None


def policy_colors(names: Iterable[str]) -> dict[str, str]:
    """Colour of each policy in `names`.

    Presets (and names derived from them, such as ``quarterly_okr_custom``) keep their fixed
    colour; other names get the unused extra colours in the order given, so a chart with a
    custom policy never reuses a preset's colour for it.
    """
    names = list(dict.fromkeys(names))
    out: dict[str, str] = {}
    taken: set[str] = set()
    for n in names:
        preset = _preset_of(n)
        if preset is not None and POLICY_COLORS[preset] not in taken:
            out[n] = POLICY_COLORS[preset]
            taken.add(out[n])
    spare = [c for c in (*EXTRA_COLORS, *POLICY_COLORS.values()) if c not in taken]
    for n in names:
        if n not in out:
            out[n] = spare.pop(0) if spare else "#999999"
    return out


def policy_scale(names: Sequence[str]) -> alt.Scale:
    """An altair colour scale that maps each policy to its house colour."""
    colors = policy_colors(names)
    return alt.Scale(domain=list(colors), range=list(colors.values()))


def color_name(hex_color: str) -> str:
    """Plain-word name of a palette colour, for subtitles ("blue: quarterly_okr ahead")."""
    for name, value in OKABE_ITO.items():
        if value.lower() == hex_color.lower():
            return name.replace("_", " ")
    return {"#999999": "grey"}.get(hex_color.lower(), hex_color)


def effect_color(effect: str) -> str:
    """Colour of one of the four effects (grey for anything else, e.g. a total)."""
    return EFFECT_COLORS.get(effect, "#555555")


def axis_title(label: str, unit: str | None) -> str:
    """``"Cumulative value (value units)"``: every axis says what it counts."""
    return f"{label} ({unit})" if unit else label


def _theme() -> dict[str, Any]:
    return {
        "config": {
            "font": "Liberation Sans, Helvetica, Arial, sans-serif",
            "title": {"fontSize": 15, "anchor": "start", "subtitleFontSize": 12, "subtitleColor": "#555555"},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12},
            "header": {"labelFontSize": 12, "titleFontSize": 12},
            "view": {"stroke": None},
        }
    }


def register_theme(enable: bool = False) -> str:
    """Register the house theme with altair (idempotent) and optionally enable it.

    Charts carry their colours, titles and axis units themselves, so they look right under
    any theme; the theme only sets fonts, sizes and grid colour.
    """
    if THEME_NAME not in alt.theme.names():
        alt.theme.register(THEME_NAME, enable=False)(_theme)
    if enable:
        alt.theme.enable(THEME_NAME)
    return THEME_NAME
