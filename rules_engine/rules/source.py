"""YAML with positions: load a file into plain Python data plus a map from data paths to
file:line:column, so every later error can point at the exact place a user has to fix."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from ..errors import RuleError

__all__ = ["DataPath", "SourceMap", "Located", "load_yaml", "format_path"]

DataPath = tuple[str | int, ...]


def format_path(path: DataPath) -> str:
    """``('rules', 0, 'actions', 1)`` -> ``rules[0].actions[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Located:
    """A position in a file, 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a loaded YAML document sits in its file."""

    file: str
    values: dict[DataPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[DataPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: DataPath, *, key: bool = False) -> Located:
        """The position of ``path``; for a key that is absent, its closest existing parent.

        ``key=True`` points at the mapping key rather than its value (for "unknown key" errors).
        """
        probe = tuple(path)
        while True:
            table = self.keys if key and probe in self.keys else self.values
            if probe in table:
                line, column = table[probe]
                return Located(self.file, line, column)
            if not probe:
                return Located(self.file, 1, 1)
            probe = probe[:-1]

    def sub(self, prefix: DataPath) -> SourceMap:
        """A view re-rooted at ``prefix`` (paths below it, relative)."""
        size = len(prefix)
        return SourceMap(
            self.file,
            {path[size:]: pos for path, pos in self.values.items() if path[:size] == prefix},
            {path[size:]: pos for path, pos in self.keys.items() if path[:size] == prefix},
        )


def _plain(node: Any, path: DataPath, source: SourceMap) -> Any:
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key, value in node.items():
            name = key if isinstance(key, str) else str(key)
            child = path + (name,)
            try:
                key_line, key_col, value_line, value_col = node.lc.data[key]
                source.keys[child] = (key_line + 1, key_col + 1)
                source.values[child] = (value_line + 1, value_col + 1)
            except (KeyError, AttributeError, TypeError, ValueError):
                pass
            result[name] = _plain(value, child, source)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = path + (index,)
            try:
                line, col = node.lc.data[index]
                source.values[child] = (line + 1, col + 1)
            except (KeyError, AttributeError, TypeError, IndexError):
                pass
            items.append(_plain(value, child, source))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def load_yaml(path: str | Path, text: str | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML file into plain data and its :class:`SourceMap`.

    Raises :class:`RuleError` with ``file:line:column`` for syntax errors and duplicate keys.
    """
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RuleError(f"cannot read the file: {exc.strerror or exc}", name) from exc
        except UnicodeDecodeError as exc:
            raise RuleError(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})", name) from exc
    yaml = YAML(typ="rt", pure=True)
    try:
        document = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        # ruamel's text quotes both values: never repeat them (a duplicated password would be printed)
        key = re.match(r'found duplicate key "(.*?)" with value', exc.problem or "")
        raise RuleError(
            f"duplicate key {key.group(1)!r}: each key may appear once in a mapping" if key
            else "duplicate key: each key may appear once in a mapping",
            name, mark.line + 1, mark.column + 1,
        ) from None  # ruamel's exception holds both values
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        started = exc.context_mark
        if exc.problem and exc.context and started is not None and started.line + 1 != line:
            # where the construct the error is in began (an unclosed quote or bracket, far above)
            problem += f" ({exc.context.removeprefix('while ')} that starts at line {started.line + 1}, column {started.column + 1})"
        raise RuleError(f"YAML syntax error: {problem}", name, line, column) from exc
    source = SourceMap(name)
    source.values[()] = (1, 1)
    return _plain(document, (), source), source
