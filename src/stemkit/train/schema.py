"""Strict dataclass <- dict conversion: unknown keys and wrong types raise ConfigError naming the key.

Supports the annotations the training config uses: ``int``, ``float`` (ints and numeric strings such
as PyYAML's ``1e-4`` accepted), ``str``, ``bool``, ``dict``, ``list[X]``, ``X | None``, ``A | B``,
``Literal[...]`` and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, Union

from ..errors import ConfigError


def from_dict(cls, data: Any, where: str = ""):
    """Build dataclass ``cls`` from ``data`` (a mapping), recursively and strictly."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            known = ", ".join(fields)
            raise ConfigError(f"{_join(where, str(key))}: unknown key (known here: {known})")
    values = {}
    for name, f in fields.items():
        key = _join(where, name)
        if name in data:
            values[name] = convert(hints[name], data[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{key}: required key missing")
    obj = cls(**values)
    check = getattr(obj, "validate", None)
    if check is not None:
        check(where)
    return obj


def convert(tp, value: Any, key: str):
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert(option, value, key)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[-1] if len(errors) == 1 else ConfigError(
            f"{key}: expected {_name(tp)}, got {_kind(value)} {value!r}"
        )
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"{key}: must be one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {_kind(value)} {value!r}")
        (item,) = typing.get_args(tp) or (Any,)
        return [convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {_kind(value)} {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key)
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true/false, got {_kind(value)} {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {_kind(value)} {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected a number, got {_kind(value)} {value!r}")
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {_kind(value)} {value!r}")
        return value
    raise TypeError(f"unsupported annotation {tp!r} for {key}")  # a bug in the schema, not user input


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _name(tp) -> str:
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))
