"""Read YAML safely and remember where every key came from.

``yaml.safe_load`` builds plain Python data (dicts, lists, str, int, float, bool,
None); nothing in a YAML file is ever executed.  We also *compose* the same text
into PyYAML's node tree (still the safe loader) to map every key path to its line,
so that errors can say ``model.yaml:12 states.S1.cost``.  Duplicate keys, which
PyYAML would silently overwrite, are reported as errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ces.errors import CesError

KeyPath = tuple  # tuple[str | int, ...]


@dataclass
class Located:
    """A loaded YAML document with its source file and a path -> line map."""

    data: Any
    file: str
    lines: dict = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def error(self, path: KeyPath, message: str) -> CesError:
        return CesError(message, file=self.file, path=format_path(path), line=self.line(path))


def format_path(path: KeyPath) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _walk(node: yaml.Node, path: KeyPath, lines: dict, file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for k_node, v_node in node.value:
            key = k_node.value
            if key in seen:
                raise CesError(f"duplicate key `{key}` (first at line {seen[key]})",
                               file=file, path=format_path(path + (key,)),
                               line=k_node.start_mark.line + 1)
            seen[key] = k_node.start_mark.line + 1
            lines[path + (key,)] = k_node.start_mark.line + 1
            _walk(v_node, path + (key,), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines, file)


def load_yaml(path: str | Path) -> Located:
    """Load ``path`` with the safe loader; errors are one-line :class:`CesError`."""
    p = Path(path)
    if not p.exists():
        raise CesError("file not found", file=str(path))
    if p.is_dir():
        raise CesError("is a directory, expected a YAML file", file=str(path))
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CesError(f"cannot read file ({exc.__class__.__name__}: {exc})", file=str(path)) from None
    return load_yaml_text(text, str(path))


def load_yaml_text(text: str, file: str) -> Located:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "syntax error"
        raise CesError(f"invalid YAML: {what}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise CesError(f"invalid YAML: {exc}", file=file) from None
    lines: dict = {}
    if node is not None:
        _walk(node, (), lines, file)
    if not isinstance(data, dict):
        raise CesError("expected a YAML mapping at the top level (keys such as `ces: 1`)", file=file, line=1)
    return Located(data=data, file=file, lines=lines)
