"""JSON's names for types, in every validation message a client reads: `expected string, got integer`.

msgspec names types the Python way (`str`, `int`, `float`, `bool`) and the cleaners see Python values; a
client sent JSON and knows JSON's names (string, integer, number, boolean, null, array, object).
"""

from __future__ import annotations

import re

_PYTHON_TO_JSON = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
_PYTHON_NAME = re.compile(r"\b(" + "|".join(_PYTHON_TO_JSON) + r")\b")


def of(value: object) -> str:
    """The JSON type of a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def rename(type_expression: str) -> str:
    """A msgspec type expression (`str | null`) in JSON's names (`string | null`)."""
    return _PYTHON_NAME.sub(lambda match: _PYTHON_TO_JSON[match.group(1)], type_expression)
