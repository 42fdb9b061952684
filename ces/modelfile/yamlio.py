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
from ces.modelfile.limits import current, how_to_raise

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


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"


class _Loader(yaml.SafeLoader):
    """The safe loader with a bounded nesting depth (no RecursionError on ``[[[[...``)
    and every constructor error (``!!int abc``, ``!!float x``) located at its node."""

    max_depth = 100

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark
                raise CesError(f"YAML nested deeper than {self.max_depth} levels; {how_to_raise('max_yaml_depth')}",
                               line=mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError, IndexError) as exc:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            text = node.value if isinstance(node, yaml.ScalarNode) else ""
            raise CesError(f"invalid YAML: cannot read `{str(text)[:40]}` as {tag} ({exc.__class__.__name__}); "
                           "remove the tag or fix the value", line=node.start_mark.line + 1) from None


class _Walk:
    """Map key paths to lines; refuse duplicate and boolean keys; bound depth and alias expansion."""

    def __init__(self, file: str, max_nodes: int, max_depth: int):
        self.file, self.max_nodes, self.max_depth = file, max_nodes, max_depth
        self.lines: dict = {}
        self.count = 0

    def walk(self, node: yaml.Node, path: KeyPath) -> None:
        self.count += 1
        if self.count > self.max_nodes:
            raise CesError(f"YAML expands to more than {self.max_nodes:,} nodes (aliases `*name` repeat their "
                           f"anchor's content); {how_to_raise('max_yaml_nodes')}", file=self.file,
                           path=format_path(path) or None, line=node.start_mark.line + 1)
        if len(path) > self.max_depth:
            raise CesError(f"YAML nested deeper than {self.max_depth} levels (a recursive alias?); "
                           f"{how_to_raise('max_yaml_depth')}", file=self.file, path=format_path(path[:3]) + "...",
                           line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for k_node, v_node in node.value:
                key = k_node.value if isinstance(k_node, yaml.ScalarNode) else "<complex key>"
                kline = k_node.start_mark.line + 1
                if isinstance(k_node, yaml.ScalarNode) and k_node.tag == _BOOL_TAG and k_node.style is None:
                    raise CesError(f"the key `{key}` is read by YAML 1.1 as the boolean "
                                   f"{str(key).lower() in ('on', 'yes', 'true', 'y')}, not as a name; quote the "
                                   f"name: \"{key}\"", file=self.file, path=format_path(path + (key,)), line=kline)
                if key in seen:
                    raise CesError(f"duplicate key `{key}` (first at line {seen[key]})",
                                   file=self.file, path=format_path(path + (key,)), line=kline)
                seen[key] = kline
                self.lines[path + (key,)] = kline
                self.walk(v_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines[path + (i,)] = item.start_mark.line + 1
                self.walk(item, path + (i,))
        elif node.tag == _INT_TAG and len(node.value) > 300:
            try:
                float(int(node.value.replace("_", ""), 0))
            except ValueError:
                pass  # not base-0 syntax (e.g. YAML 1.1 octal); the constructor decides
            except OverflowError:
                raise CesError(f"the number {node.value[:20]}... is beyond the float range (±1.8e308)",
                               file=self.file, path=format_path(path) or None,
                               line=node.start_mark.line + 1) from None


def load_yaml(path: str | Path) -> Located:
    """Load ``path`` with the safe loader; errors are one-line :class:`CesError`.

    Only regular files up to ``max_file_mb`` are read (never a folder, a device or a FIFO).
    """
    text = read_text_bounded(path, "a YAML file")
    return load_yaml_text(text, str(path))


def read_text_bounded(path: str | Path, what: str) -> str:
    """Text of a regular file no larger than the ``max_file_mb`` limit (checked before reading)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CesError("file not found", file=str(path)) from None
    except OSError as exc:
        raise CesError(f"cannot read file ({exc.__class__.__name__}: {exc.strerror or exc})", file=str(path)) from None
    check_regular_file(p, st, what)
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CesError("cannot read file: not UTF-8 text", file=str(path)) from None
    except OSError as exc:
        raise CesError(f"cannot read file ({exc.__class__.__name__}: {exc.strerror or exc})", file=str(path)) from None


def check_regular_file(p: Path, st, what: str) -> None:
    """Refuse folders, devices, FIFOs and files above the ``max_file_mb`` limit."""
    import stat as stat_mod

    if stat_mod.S_ISDIR(st.st_mode):
        raise CesError(f"is a directory, expected {what}", file=str(p))
    if not stat_mod.S_ISREG(st.st_mode):
        raise CesError(f"is not a regular file (a device, pipe or socket), expected {what}", file=str(p))
    mb = st.st_size / 1e6
    lim = current().max_file_mb
    if mb > lim:
        raise CesError(f"size {mb:,.4g} MB is above the limit max_file_mb = {lim:g}; {how_to_raise('max_file_mb')}",
                       file=str(p))


def load_yaml_text(text: str, file: str) -> Located:
    lim = current()
    loader = _Loader(text)
    loader.max_depth = lim.max_yaml_depth
    try:
        node = loader.get_single_node()
        walker = _Walk(file, lim.max_yaml_nodes, lim.max_yaml_depth)
        if node is not None:
            walker.walk(node, ())
        data = loader.construct_document(node) if node is not None else None
    except CesError as exc:
        exc.file = exc.file or file
        raise CesError(exc.message, file=exc.file, path=exc.path, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "syntax error"
        raise CesError(f"invalid YAML: {what}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise CesError(f"invalid YAML: {' '.join(str(exc).split())}", file=file) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CesError("expected a YAML mapping at the top level (keys such as `ces: 1`)", file=file, line=1)
    return Located(data=data, file=file, lines=walker.lines)
