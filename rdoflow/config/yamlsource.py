"""YAML input files for validation: data with the line of every key, duplicate keys refused, errors in plain words."""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from rdoflow.errors import ConfigError

Loc = tuple[Any, ...]

_PLAIN_MAPPING = "tag:yaml.org,2002:map"
_PLAIN_SEQUENCE = "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class Problem:
    """One fault in an input file: where it is (field path and line) and what was expected."""

    loc: Loc
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        """``{source}: {field.path}: {message} (line {n})``; the parts not known are left out."""
        where = f"{source}: {dotted(self.loc)}: " if self.loc else f"{source}: "
        return where + self.message + (f" (line {self.line})" if self.line else "")


@dataclass
class YamlDocument:
    """One YAML file's data, the line of every key and list item in it, and faults found while reading it."""

    source: str
    data: Any = None
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, loc: Loc) -> int | None:
        """Line of the key or item at ``loc``, else of the nearest enclosing one (a missing field's mapping)."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(loc, message, self.line_of(loc))

    def value_at(self, loc: Loc) -> Any:
        """The raw value at ``loc``, or None when the path is not in the file."""
        value = self.data
        for part in loc:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value


def raise_problems(source: str, problems: list[Problem]) -> typing.NoReturn:
    """Raise one ConfigError that lists every problem, in the order of the file (file-wide ones first)."""
    ordered = sorted(problems, key=lambda problem: problem.line or 0)
    raise ConfigError(source, [problem.render(source) for problem in ordered])


def dotted(loc: Loc) -> str:
    """``policy.known_failures[1].reason`` from ``("policy", "known_failures", 1, "reason")``."""
    text = ""
    for part in loc:
        if type(part) is int:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def shown(value: Any) -> str:
    """A value as a message quotes it: strings quoted, YAML's own words for the rest."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a bound of gt=1 is 1.0 to pydantic, 1 to whoever wrote the file
    return str(value)


def read_yaml(path: str | Path) -> YamlDocument:
    """Read a YAML file as ``yaml.safe_load`` would, noting lines and duplicate keys.

    The file is named in every message as the user gave it (``path`` as a string).
    Raises ConfigError when the file cannot be read or is not YAML.
    """
    source = str(path)
    return parse_yaml(_read_text(Path(path), source), source)


def parse_yaml(text: str, source: str) -> YamlDocument:
    """``read_yaml`` for text already in hand (a downloaded file); ``source`` names it in messages."""
    document = YamlDocument(source)
    loader = None
    try:
        loader = _BoundedLoader(text)  # checks the characters at once
        node = loader.get_single_node()
        if node is not None:
            document.data = _Builder(loader, document).value(node, ())
    except _TooManyAliases as exc:
        message = f"too many aliases: with this one they would repeat more than {exc.budget} values"
        raise ConfigError(source, [Problem((), message, exc.line).render(source)]) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(source, [_syntax_problem(source, exc)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ConfigError(
            source, [f"{source}:{line}:{column}: not valid YAML: character #x{exc.character:04x} is not allowed"]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return document


def _read_text(path: Path, source: str) -> str:
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(source, [f"{source}: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(source, [f"{source}: is a directory, expected a YAML file"]) from None
    except OSError as exc:
        raise ConfigError(source, [f"{source}: cannot read the file: {(exc.strerror or str(exc)).lower()}"]) from None
    try:
        # Editors on Windows may start the file with a byte order mark; it is not content.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1  # exc.object: the bytes after any byte order mark
        byte = exc.object[exc.start]
        message = f"{source}: not UTF-8 text: byte 0x{byte:02x} cannot be decoded; save the file as UTF-8"
        raise ConfigError(source, [f"{message} (line {line})"]) from None


def _syntax_problem(source: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    problem = exc.problem or exc.context or "unknown error"
    if exc.problem and exc.context and exc.context.startswith("while") and exc.context_mark:
        problem += f" ({exc.context}, which starts at line {exc.context_mark.line + 1})"
    elif exc.problem and exc.context:
        problem = f"{exc.context}, {exc.problem}"  # PyYAML splits one sentence in two here
    return f"{where}: not valid YAML: {problem}"


# What all the aliases of a document may repeat, counted in values (YAML nodes): one per character
# of the text, and 1,000 in a shorter one. Written out in full, a file holds no more values than it
# has characters, so aliases at most double what a file of its size costs anyway, while a block
# shared a few times (an ssh block, a list of skips) uses a few dozen. A "billion laughs" (nine
# levels of nine aliases: 9**9 values from a few hundred bytes) is refused at its fourth level,
# before anything is built. A budget in proportion keeps a large inventory that merges a shared
# block into each node (<<: *bmc) readable, where a fixed count small enough to matter would not.
ALIAS_BUDGET_FLOOR = 1_000


class _TooManyAliases(yaml.YAMLError):
    def __init__(self, budget: int, line: int):
        super().__init__(f"aliases repeat more than {budget} values (line {line})")
        self.budget, self.line = budget, line


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader whose composer counts the values each alias repeats, and stops past the budget.

    The composer shares an anchored node among its aliases; whoever builds data from the tree
    repeats it at each one. The count is taken as the tree is composed, before anything is built.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.budget = self._left = max(len(text), ALIAS_BUDGET_FLOOR)
        self._sizes: dict[int, int] = {}  # id of each node composed: its values, aliases counted in full

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if not self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in _children(node))
            return node
        mark = self.peek_event().start_mark
        node = super().compose_node(parent, index)
        if id(node) not in self._sizes:  # the anchored node is still open: the alias is inside it
            raise yaml.composer.ComposerError(None, None, "found a recursive alias", mark)
        self._left -= self._sizes[id(node)]
        if self._left < 0:
            raise _TooManyAliases(self.budget, mark.line + 1)
        return node


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _Builder:
    """Builds Python data from a composed YAML node tree, recording where each key and item was.

    A node reached again through an alias is built again (the budget bounds that) but adds no lines
    and no problems: the table holds what the file writes, and a fault inside an alias is placed at
    the alias, the nearest line recorded.
    """

    def __init__(self, loader: yaml.SafeLoader, document: YamlDocument):
        self.loader, self.document = loader, document
        self._visited: set[int] = set()

    def value(self, node: Node, loc: Loc) -> Any:
        first = id(node) not in self._visited
        self._visited.add(id(node))
        if isinstance(node, MappingNode) and node.tag == _PLAIN_MAPPING:
            return self._mapping(node, loc, first)
        if isinstance(node, SequenceNode) and node.tag == _PLAIN_SEQUENCE:
            return self._sequence(node, loc, first)
        return self.loader.construct_object(node, deep=True)

    def _notes(self, first: bool) -> tuple[dict[Loc, int], list[Problem]]:
        """Where a node's lines and problems go: the document's on its first visit, nowhere after."""
        return (self.document.lines, self.document.problems) if first else ({}, [])

    def _sequence(self, node: SequenceNode, loc: Loc, first: bool) -> list:
        lines, _ = self._notes(first)
        items = []
        for index, item in enumerate(node.value):
            lines[loc + (index,)] = item.start_mark.line + 1
            items.append(self.value(item, loc + (index,)))
        return items

    def _mapping(self, node: MappingNode, loc: Loc, first: bool) -> dict:
        # Keys brought in by a merge (<<: *anchor) may be overridden: only keys
        # written twice in the mapping itself are duplicates.
        explicit = {id(key) for key, _ in node.value}
        self.loader.flatten_mapping(node)
        lines, problems = self._notes(first)
        data: dict = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                hash(key)
            except TypeError:
                problems.append(Problem(loc, "a mapping key must be a plain value", line))
                continue
            if id(key_node) in explicit:
                if key in first_seen:
                    problems.append(
                        Problem(loc + (key,), f"duplicate key; it is already set at line {first_seen[key]}", line)
                    )
                first_seen.setdefault(key, line)
            lines[loc + (key,)] = line
            data[key] = self.value(value_node, loc + (key,))
        return data


def validation_problems(error: ValidationError, document: YamlDocument, model: type[BaseModel]) -> list[Problem]:
    """Each of pydantic's errors for ``model`` as a Problem in plain words, with the line it points at."""
    problems = []
    for details in error.errors(include_url=False):
        loc = tuple(part for part in details["loc"] if part != "[key]")
        problems.append(document.problem(loc, _plain_message(details, model)))
    return problems


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "path_type": "a path",
}
_BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
           "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}


def _plain_message(details: dict, model: type[BaseModel]) -> str:
    kind, value, context = details["type"], details.get("input"), details.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(details["loc"], model)
    if kind == "string_type":
        # YAML reads 2024, 1.10, yes and 2024-05-01 as numbers, booleans and
        # dates; coercing them back to text would not give what was written.
        quote = " (quote it to keep it as text)" if isinstance(value, (int, float, date)) else ""
        return f"expected a string, got {shown(value)}{quote}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {shown(value)}"
    if kind in _BOUNDS:
        name, sign = _BOUNDS[kind]
        return f"expected a value {sign} {shown(context[name])}, got {shown(value)}"
    if kind == "literal_error":
        choices = ", ".join(str(context["expected"]).rsplit(" or ", 1))
        return f"expected one of {choices}, got {shown(value)}"
    if kind == "string_too_short" and context.get("min_length") == 1:
        return "expected a non-empty string"
    if kind in ("string_too_short", "too_short"):
        return f"expected at least {context['min_length']} {'characters' if kind.startswith('string') else 'items'}"
    if kind in ("string_too_long", "too_long"):
        return f"expected at most {context['max_length']} {'characters' if kind.startswith('string') else 'items'}"
    message = details["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message[:1].lower() + message[1:]


def _unknown_field(loc: Loc, model: type[BaseModel]) -> str:
    names = _field_names_at(model, tuple(loc[:-1]))
    if not names:
        return "unknown field"
    message = f"unknown field; expected one of: {', '.join(names)}"
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    return message + (f" (did you mean '{close[0]}'?)" if close else "")


def _field_names_at(model: type[BaseModel], loc: Loc) -> list[str]:
    kind: Any = model
    for part in loc:
        kind = _inner_type(_unwrapped(kind), part)
    kind = _unwrapped(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return list(kind.model_fields)
    return []


def _inner_type(kind: Any, part: Any) -> Any:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        info = kind.model_fields.get(part)
        return info.annotation if info else None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is list and type(part) is int:
        return args[0]
    if origin is dict:
        return args[1]
    return None


def _unwrapped(kind: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            kind = typing.get_args(kind)[0]
        elif origin in (typing.Union, types.UnionType):
            others = [arg for arg in typing.get_args(kind) if arg is not type(None)]
            if len(others) != 1:
                return kind
            kind = others[0]
        else:
            return kind
