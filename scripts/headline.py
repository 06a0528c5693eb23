"""Write (or check) the kit's headline figure in the trainer guide.

The headline figure (`okrsim.experiments.headline`) is the mean paired relative advantage of
quarterly OKR cycles in total value, with its 95% CI and win rate, against both annual
baselines, in the headline comparison that ``okrsim demo``, its report and notebook 00 run.
The block between ``<!-- begin generated: headline -->`` and ``<!-- end generated: headline -->``
of docs/trainer-guide.md is replaced by what this script computes; ``tests/test_headline.py``
fails when it differs, so the guide cannot state another number than the demo:

    python scripts/headline.py            # rewrite the block
    python scripts/headline.py --check    # exit 1 if the block differs, write nothing
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from okrsim.core.fileio import write_text_atomic
from okrsim.experiments.headline import HEADLINE_REPLICATIONS, HEADLINE_SEED, Headline, headline_comparison

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "trainer-guide.md"
BASELINES = (("the typical annual process", "annual"), ("the annual process with stage gates", "annual_gates"))
_BLOCK = re.compile(r"(<!-- begin generated: headline -->\n)(?:.*?\n)?(<!-- end generated: headline -->)", re.S)


def block(comparison=None) -> str:
    """The generated lines: one per baseline, as the demo states them."""
    c = comparison if comparison is not None else headline_comparison()
    lines = [f"*The headline comparison: `dynamic` world, {HEADLINE_REPLICATIONS} paired replications, "
             f"seed {HEADLINE_SEED} (`okrsim demo`, its report and notebook 00 run the same).*", ""]
    for words, base in BASELINES:
        h = Headline.from_comparison(c, "quarterly_okr", base)
        lines.append(f"- Against {words}: {h.sentence()}; absolute advantage {h.absolute()}.")
    return "\n".join(lines)


def render(text: str, comparison=None) -> str:
    """`text` with the headline block replaced by what the model gives now."""
    if not _BLOCK.search(text):
        raise SystemExit(f"{GUIDE}: no block named 'headline'")
    body = block(comparison)
    return _BLOCK.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the guide differs; write nothing")
    args = parser.parse_args()
    old = GUIDE.read_text()
    new = render(old)
    if args.check:
        print(f"{GUIDE}: headline {'matches' if new == old else 'differs; run python scripts/headline.py'}")
        return 0 if new == old else 1
    if new != old:
        write_text_atomic(GUIDE, new)
    print(f"wrote {GUIDE}" if new != old else f"{GUIDE} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
