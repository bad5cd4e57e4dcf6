"""YAML that remembers where things were written, so every diagnostic names a line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml


class LineDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    line: int = 0
    item_lines: tuple[int, ...] = ()

    def line_of_item(self, index: int) -> int:
        """The line item `index` starts on (the list's own line if unknown)."""
        return self.item_lines[index] if index < len(self.item_lines) else self.line


@dataclass
class Parsed:
    data: Any
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # (key, line)


# libyaml's parser when PyYAML was built with it: the same nodes and marks, many times
# faster on the large content files (lexicons, checks).
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    duplicates: list[tuple[str, int]]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping:
            loader.duplicates.append((str(key), line))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    seq = LineList(loader.construct_object(child, deep=True) for child in node.value)
    seq.line = node.start_mark.line + 1
    seq.item_lines = tuple(child.start_mark.line + 1 for child in node.value)
    return seq


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(text: str) -> Parsed:
    """Parse one document. Raises yaml.YAMLError (with a mark) on a syntax error."""
    loader = _Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    return Parsed(data, loader.duplicates)


def line_of(value: Any, default: int) -> int:
    return int(getattr(value, "line", default) or default)
