"""The YAML dltool reads (config files and --set values): yaml.safe_load's rules, with fixes and bounds.

Fixes: '1e-3' is a float (YAML 1.1 wants '1.0e-3', which nobody writes); a key written twice in one
mapping is an error (PyYAML would silently keep the last); a value a constructor cannot build (a
'2001-13-45' date, '!!int abc') is a ConstructorError, never a Python exception.

Bounds (a config is a few dozen lines), each checked before any Python value is built:
- MAX_TEXT: a document (file or --set value) is at most 64 KiB.
- MAX_DEPTH: values nest at most 32 levels, counted while composing (PyYAML's composer recurses, so
  5,000 nested '[' would otherwise end in a RecursionError) and again with aliases expanded.
- MAX_NODES: at most 10,000 values with aliases expanded, counted on the composed node graph, so an
  alias bomb (each level nine aliases of the one before) is refused in milliseconds, and a self-referring
  alias (`a: &a [*a]`) too.
- MAX_INT_DIGITS: an integer has at most 18 digits, checked on its text (Python refuses to convert one
  of more than 4,300 digits, and the config's own bounds need far fewer: dltool.bounds).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, SequenceNode

from dltool.errors import UsageError, did_you_mean, excerpt
from dltool.shipped import shipped_names

MAX_TEXT = 64 * 1024
MAX_DEPTH = 32
MAX_NODES = 10_000
MAX_INT_DIGITS = 18


# what PyYAML's constructors raise on a value they cannot build ('!!int ', '!!timestamp x', '2001-13-45')
UNBUILDABLE = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError)


class YamlBoundError(yaml.MarkedYAMLError):
    """A document past one of the bounds above (problem_mark: where, when one place is to blame)."""


class YamlLoader(yaml.SafeLoader):
    """A SafeLoader subclass: no python tags, nothing executed, every bound above checked."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlBoundError(
                    None, None, f"values nested more than {MAX_DEPTH} levels deep; a config needs three or four", mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        check_expansion(node)
        try:
            return self.construct_document(node)
        except UNBUILDABLE as exc:  # raised by a collection's constructor (construct_object names scalars)
            raise ConstructorError(None, None, f"cannot read this document ({exc})", node.start_mark) from None

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except UNBUILDABLE as exc:
            what = repr(excerpt(node.value)) if isinstance(node.value, str) else "this value"
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConstructorError(None, None, f"cannot read {what} as {tag} ({exc})", node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):  # '!!set x': the base class says what is wrong
            return super().construct_mapping(node, deep=deep)
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)  # (`a_set in seen` alone would not tell: Python looks a set up as a frozenset)
            except TypeError:
                raise ConstructorError(
                    None, None, "a key is a list or a mapping; keys are names", key_node.start_mark
                ) from None
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key '{excerpt(str(key))}' (it appears twice in one mapping)",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        digits = re.sub(r"^[-+]?(0[box])?|[^0-9a-fA-F]", "", node.value)
        if len(digits) > MAX_INT_DIGITS:
            raise YamlBoundError(
                None,
                None,
                f"an integer of {len(digits)} digits; numbers in a config have at most {MAX_INT_DIGITS}",
                node.start_mark,
            )
        return super().construct_yaml_int(node)


YamlLoader.add_constructor("tag:yaml.org,2002:int", YamlLoader.construct_yaml_int)
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def check_expansion(root) -> None:
    """Count the values under `root` with aliases expanded, refusing past MAX_NODES or MAX_DEPTH: an
    explicit stack that stops at the bound, so the count costs at most MAX_NODES steps whatever the aliases."""
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            problem = f"more than {MAX_NODES:,} values once its aliases (*name) are expanded; a config has a few dozen"
            raise YamlBoundError(None, None, problem)
        if depth > MAX_DEPTH:
            problem = (
                f"values nested more than {MAX_DEPTH} levels deep (aliases expanded); a config needs three or four"
            )
            raise YamlBoundError(None, None, problem, node.start_mark)
        if isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)


def safe_load(text: str):
    """The value in a YAML text; yaml.YAMLError if none: YamlBoundError past a bound, ConstructorError for a
    tag, a duplicate key or a value that cannot be built."""
    if len(text) > MAX_TEXT:
        raise YamlBoundError(
            None, None, f"{len(text):,} characters; the limit is {MAX_TEXT // 1024} KiB (a config is a few dozen lines)"
        )
    return yaml.load(text, Loader=YamlLoader)


def describe(exc: yaml.YAMLError, text: str) -> tuple[str, str]:
    """(where, what) of a YAML error on one line: 'line L, column C' ('' when unknown) and the problem, cut short."""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML refuses (NUL, ...): it has a position only
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return f"line {line}, column {column}", f"unacceptable character #x{exc.character:04x}: {exc.reason}"
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return where, excerpt(" ".join(problem.split()), 200)


def yaml_message(source: str, exc: yaml.YAMLError, text: str) -> str:
    """One line that says what is wrong with a YAML text and where; `source` names the file or the --set."""
    where, problem = describe(exc, text)
    at = f"{where}: " if where else ""
    line = f" at line {exc.problem_mark.line + 1}" if getattr(exc, "problem_mark", None) else ""
    if isinstance(exc, YamlBoundError):
        return f"{source}: {at}{problem}"
    if isinstance(exc, ConstructorError):
        if "duplicate key" in problem:
            return f"{source}{line}: {problem}; keep one"
        if "constructor for the tag" in problem:
            return f"{source}{line}: YAML tag not allowed ({problem}); configs hold plain values only"
        return f"{source}{line}: {problem}"
    return f"{source}: {at}YAML syntax error: {problem}"


def read_text(path: Path) -> str:
    """The text of a config file, read no further than MAX_TEXT (a config is small; a huge file is a mistake)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_TEXT + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_TEXT:
        raise UsageError(f"{path}: bigger than {MAX_TEXT // 1024} KiB; a config is a short YAML file (see configs/)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a text file (it is not UTF-8); a config is a YAML text file") from None


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML file, or a UsageError that says what is wrong and where."""
    if not path.exists():
        hint = did_you_mean(path.stem, shipped_names()) if len(path.parts) == 1 else ""
        raise UsageError(
            f"config file '{path}' not found{hint}; give the path of a YAML file or the name of a shipped config "
            "(dltool configs lists them)"
        )
    if not path.is_file():
        raise UsageError(f"config '{path}' is not a file; give the path of a YAML file (see configs/)")
    text = read_text(path)
    try:
        raw = safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(yaml_message(str(path), exc, text)) from None
    if raw is None:
        raise UsageError(f"{path}: the file is empty; a config is a YAML mapping such as 'model: {{name: mlp}}'")
    if not isinstance(raw, dict):
        raise UsageError(
            f"{path}: expected a YAML mapping of sections (model:, data:, ...), got a {type(raw).__name__}"
        )
    return raw
