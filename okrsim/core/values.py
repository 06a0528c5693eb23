"""One reader for every value a person types: YAML 1.2 core-schema scalars.

Values reach the kit as text in five places: ``--set`` on the command line, scenario, policy
and sweep files, settings files, and the explorer's text boxes.  They all go through this
module, so ``1e0`` is a number everywhere and ``1:30`` is a number nowhere.

Why YAML 1.2 and not PyYAML's default YAML 1.1: 1.1 reads ``1:30`` as 90 (base 60), ``010``
as 8 (octal), ``yes``/``no``/``on``/``off`` as booleans and ``2024-01-01`` as a date, but
refuses ``1e0`` as a number.  Those are silent surprises in a parameter file.  The 1.2 core
schema is the well-known fix: integers are decimal unless written ``0o17`` or ``0x1f``,
floats include ``1e0`` and ``.5``, booleans are only ``true``/``false`` (any case pattern of
the spec), and everything else is a string, which the parameter's validation then refuses
with a message that says what is valid.  ``.inf`` and ``.nan`` are read as floats and refused
by validation, because a parameter must be finite.

The loader is a `yaml.SafeLoader` subclass with the 1.2 core resolvers (no extra dependency),
and it refuses a key given twice in one mapping instead of keeping the last silently.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from okrsim.core.registry import ParamSpec

__all__ = ["CoreDumper", "CoreLoader", "dump_yaml", "load_yaml", "parse_text", "parse_value"]

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"

#: The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution): tag, pattern
#: and the first characters a match can start with ("" is the empty scalar, ``key:``).
_Resolver = tuple[str, re.Pattern[str], tuple[str, ...]]
_CORE_RESOLVERS: tuple[_Resolver, ...] = (
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ("~", "n", "N", "")),
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), tuple("tTfF")),
    (_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), tuple("-+0123456789")),
    (_FLOAT, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                        r"|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN)$"), tuple("-+.0123456789")),
    (_MERGE, re.compile(r"^(?:<<)$"), ("<",)),
)


def _resolver_table(*groups: tuple[_Resolver, ...]) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """PyYAML's resolver layout: first character -> [(tag, pattern), ...], first match wins."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for group in groups:
        for tag, regexp, firsts in group:
            for ch in firsts:
                table.setdefault(ch, []).append((tag, regexp))
    return table


def _yaml11_resolvers() -> tuple[_Resolver, ...]:
    """PyYAML's own (YAML 1.1) resolvers, in the same form."""
    return tuple((tag, regexp, (first,)) for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
                 for tag, regexp in entries)


class CoreLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` with YAML 1.2 core-schema scalars and no duplicate keys."""

    yaml_implicit_resolvers = _resolver_table(_CORE_RESOLVERS)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:  # type: ignore[override]
        text = str(self.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)  # decimal, leading zeros included: 010 is ten

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; the base class reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


CoreLoader.add_constructor(_INT, CoreLoader.construct_yaml_int)


class CoreDumper(yaml.SafeDumper):
    """`yaml.SafeDumper` that quotes every string a YAML 1.1 *or* 1.2 reader would not read back as a string.

    Files the kit writes are read by the kit (1.2) and by people's other tools (often 1.1):
    quoting ``"yes"``, ``"1e0"`` and ``"010"`` keeps them strings for both.
    """

    yaml_implicit_resolvers = _resolver_table(_CORE_RESOLVERS, _yaml11_resolvers())


def load_yaml(text: str) -> Any:
    """Parse YAML text with the 1.2 core schema; raises `yaml.YAMLError` on bad syntax."""
    return yaml.load(text, Loader=CoreLoader)  # CoreLoader is a SafeLoader: no arbitrary objects


def dump_yaml(data: Any, **options: Any) -> str:
    """YAML text for `data` that `load_yaml` (and YAML 1.1 readers) read back unchanged."""
    options.setdefault("sort_keys", False)
    return yaml.dump(data, Dumper=CoreDumper, **options)


def parse_value(text: str) -> Any:
    """A value typed as text (``--set``, a text box, a comma-separated list) as YAML 1.2 reads it.

    ``3`` is an int, ``1e0`` and ``2.5`` are floats, ``true``/``false`` booleans, ``[[52, 0, 0.2]]``
    a list; text that is not valid YAML (``[1, 2``) is returned as it is, so that the parameter's
    validation names it and says what is valid.

    Examples
    --------
    >>> parse_value("1e0"), parse_value("010"), parse_value("1:30"), parse_value("yes")
    (1.0, 10, '1:30', 'yes')
    """
    try:
        return load_yaml(text)
    except yaml.YAMLError:
        return text


def parse_text(spec: ParamSpec, text: str) -> Any:
    """The value of parameter `spec` typed as `text` (a text box), read by `parse_value`.

    Returns the value as read, for `ParamSpec.validate` to check its range.  Text that is not
    a number (for numbers) or not readable (for shocks) raises the parameter's own error, so a
    text box, ``--set`` and a file refuse the same input with the same words.

    Raises
    ------
    ParameterError
        Naming the parameter, the text and what is valid.
    """
    text = text.strip()
    if spec.kind == "shocks":
        if not text:
            return []
        value = parse_value(text)
        if isinstance(value, str):
            raise spec.error(text, f"is not readable; type {spec.describe_range()}")
        return value
    value = parse_value(text)
    if spec.kind in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise spec.error(text, f"is not a number; valid is {spec.describe_range()}")
    return value
