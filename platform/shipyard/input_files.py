"""The one reader for every file the CLI reads (the spec, stack outputs, logs): the input boundary.

Each problem a user can cause (missing, a directory, not UTF-8, too large, nested too deep, an
alias bomb, YAML tags, merge keys, non-text keys) becomes a one-line :class:`InputError` naming
the file and the fix, in bounded time and memory. Nothing here builds Python objects from tags.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import yaml

from shipyard.errors import DuplicateKey, InputError

MAX_BYTES = 1024 * 1024  # a spec or stack outputs file is a few KiB; 1 MiB is generous
MAX_DEPTH = 32  # nesting of mappings/lists (the spec needs 5)
MAX_ALIASES = 50  # `*name` references per document (the spec needs none)
MAX_NODES = 100_000  # values built from one document, aliases expanded (bounds alias bombs)
MERGE_TAG = "tag:yaml.org,2002:merge"
UNREADABLE_FIX = "make it readable (chmod u+r) or pass another file"


def read_text(
    path: str | os.PathLike[str],
    fix: str,
    max_bytes: int = MAX_BYTES,
    errors: str = "strict",
    kind: str = "file",
) -> str:
    """The text of a regular file (``-`` reads stdin), or an :class:`InputError` naming it.

    ``fix`` is the advice for a missing file; ``errors="replace"`` for logs (any bytes are shown).
    """
    name = str(path)
    if name == "-":
        data = sys.stdin.buffer.read(max_bytes + 1) if hasattr(sys.stdin, "buffer") else None
        if data is None:
            data = sys.stdin.read(max_bytes + 1).encode("utf-8", "surrogateescape")
        return _decode(data, "stdin", max_bytes, errors)
    file = Path(path)
    try:
        info = file.stat()
    except FileNotFoundError:
        raise InputError(name, f"no such {kind}", fix) from None
    except PermissionError:
        raise InputError(name, "permission denied", UNREADABLE_FIX) from None
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror or exc})", fix) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(name, "is a directory, not a file", "pass the path of the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(name, "is not a regular file (a device, pipe or socket)", "pass a regular file")
    if info.st_size > max_bytes:
        raise InputError(
            name, f"is too large ({info.st_size:,} bytes; the limit is {max_bytes:,})", "pass the right file"
        )
    try:
        with open(file, "rb") as f:
            data = f.read(max_bytes + 1)
    except PermissionError:
        raise InputError(name, "permission denied", UNREADABLE_FIX) from None
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror or exc})", fix) from None
    return _decode(data, name, max_bytes, errors)


def _decode(data: bytes, name: str, max_bytes: int, errors: str) -> str:
    if len(data) > max_bytes:
        raise InputError(name, f"is too large (over {max_bytes:,} bytes)", "pass the right file")
    if errors != "strict":
        return data.decode("utf-8", errors)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(name, "is UTF-16 text, not UTF-8", "save it as UTF-8 (iconv -f UTF-16 -t UTF-8)")
    if b"\x00" in data:
        raise InputError(name, "is a binary file, not text", "pass the text file Shipyard expects")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            name,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "save it as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
        ) from None


# --- JSON -------------------------------------------------------------------------------------


def load_json(path: str | os.PathLike[str], fix: str, max_bytes: int = MAX_BYTES) -> Any:
    return parse_json(read_text(path, fix, max_bytes), "stdin" if str(path) == "-" else str(path), fix)


def parse_json(text: str, name: str, fix: str) -> Any:
    if _json_depth(text) > MAX_DEPTH:
        raise InputError(name, f"is nested more than {MAX_DEPTH} levels deep", fix)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except DuplicateKey as exc:
        raise InputError(name, f"has the key {exc.key!r} more than once in one object", fix) from None
    except json.JSONDecodeError as exc:
        raise InputError(name, f"is not JSON ({exc.msg})", fix, line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise InputError(name, f"is not usable JSON ({exc})", fix) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique: with two, which one counts would be the parser's choice."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def _json_depth(text: str) -> int:
    """Bracket depth outside strings: checked before parsing, so deep input cannot recurse."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


# --- YAML -------------------------------------------------------------------------------------


def compose_yaml(text: str, name: str) -> yaml.Node | None:
    """Compose one YAML document into nodes after checking its events: no tags, bounded nesting and
    aliases. The event pass is iterative, so a 5,000-deep document is refused without recursion."""
    depth = aliases = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(
                        name, f"is nested more than {MAX_DEPTH} levels deep", "flatten it", _line(event)
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise InputError(
                        name,
                        f"uses more than {MAX_ALIASES} YAML aliases (*name)",
                        "write the values out instead of referring to anchors",
                        _line(event),
                    )
            tag = getattr(event, "tag", None)
            if tag is not None and tag != "!":
                raise InputError(
                    name,
                    f"uses the YAML tag {tag!r}, which Shipyard does not accept",
                    "remove the tag (write plain values; quote text)",
                    _line(event),
                )
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark else None
        raise InputError(name, f"invalid YAML: {reason}", "fix the YAML syntax at that line", line) from None
    except RecursionError:
        raise InputError(name, f"is nested more than {MAX_DEPTH} levels deep", "flatten it") from None
    return node


def _line(event: yaml.Event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark else None


class NodeBudget:
    """Counts values built from one document: an alias bomb (a few lines that expand to billions of
    values) runs out of budget in bounded time instead of hanging."""

    def __init__(self, name: str, limit: int = MAX_NODES) -> None:
        self.name, self.left = name, limit

    def spend(self, node: yaml.Node, depth: int) -> None:
        if depth > MAX_DEPTH:  # only a recursive alias (&a [*a]) gets here: events were checked
            raise InputError(
                self.name,
                f"is nested more than {MAX_DEPTH} levels deep (a YAML alias refers to itself?)",
                "write the values out instead of referring to anchors",
                node.start_mark.line + 1,
            )
        self.left -= 1
        if self.left < 0:
            raise InputError(
                self.name,
                f"expands to more than {MAX_NODES:,} values (YAML aliases referring to each other)",
                "write the values out instead of referring to anchors",
                node.start_mark.line + 1,
            )


def construct_scalar(node: yaml.Node, name: str) -> Any:
    """The Python value of a plain scalar (str, int, float, bool, None, date) or an InputError."""
    if not isinstance(node, yaml.ScalarNode):
        line = node.start_mark.line + 1
        raise InputError(name, "expected a single value here", "write a plain value", line)
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputError(
            name,
            f"the value {node.value!r} cannot be read ({reason})",
            "quote it to make it text, or correct it",
            node.start_mark.line + 1,
        ) from None


def mapping_key(key_node: yaml.Node, name: str) -> str:
    """A mapping key: text only (no merge keys ``<<``, no lists, numbers or booleans as keys)."""
    line = key_node.start_mark.line + 1
    if key_node.tag == MERGE_TAG:
        raise InputError(
            name, "uses a YAML merge key (<<), which Shipyard does not accept", "write the keys out", line
        )
    if not isinstance(key_node, yaml.ScalarNode):
        raise InputError(name, "a key is a list or mapping; keys must be text", "use a plain text key", line)
    key = construct_scalar(key_node, name)
    if not isinstance(key, str):
        raise InputError(
            name, f"the key {key_node.value!r} is not text (it reads as {type(key).__name__})",
            f"quote it: \"{key_node.value}\":", line,
        )  # fmt: skip
    return key


def load_yaml(path: str | os.PathLike[str], fix: str, max_bytes: int = MAX_BYTES) -> Any:
    """Plain data (dicts with text keys, lists, scalars) from a YAML file, within every limit."""
    name = str(path)
    return parse_yaml(read_text(path, fix, max_bytes), name)


def parse_yaml(text: str, name: str) -> Any:
    node = compose_yaml(text, name)
    if node is None:
        return None
    budget = NodeBudget(name)

    def build(n: yaml.Node, depth: int) -> Any:
        budget.spend(n, depth)
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for k, v in n.value:
                out[mapping_key(k, name)] = build(v, depth + 1)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, depth + 1) for item in n.value]
        return construct_scalar(n, name)

    return build(node, 0)
