"""Strict JSON for every body the server reads: refuses bodies nested deeper than MAX_JSON_DEPTH (no
recursion blow-ups), strings with lone surrogates (`"\\ud800"`: not Unicode; they cannot be stored, logged
or echoed back), JSON's non-standard constants (NaN, Infinity) and numbers out of a 64-bit range (`1e400`
parses to infinity, `int(inf)` raises OverflowError; a 10,000-digit integer overflows every column)."""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from aiasmr.api.exceptions import MalformedRequest, NumberOutOfRange

# Numbers beyond a signed 64-bit integer fit no column and no KIE, Stripe or store field.
MAX_JSON_NUMBER = 2**63 - 1


class JsonNumberError(ValueError):
    """A number the server refuses: NaN/Infinity (not JSON) or out of MAX_JSON_NUMBER."""

    def __init__(self, message: str, *, code: str):
        self.code = code
        super().__init__(message)


def _refuse_constant(name: str):
    raise JsonNumberError(f"{name} is not a JSON number.", code="INVALID_JSON")


def _bounded_int(text: str) -> int:
    # Checked on the digits, before int() converts them (a huge literal is a cost of its own).
    if len(text.lstrip("-")) > 19 or abs(value := int(text)) > MAX_JSON_NUMBER:
        raise JsonNumberError("A number in the body is out of range.", code="NUMBER_OUT_OF_RANGE")
    return value


def _bounded_float(text: str) -> float:
    value = float(text)
    if not abs(value) <= MAX_JSON_NUMBER:  # also catches inf (1e400) and nan
        raise JsonNumberError("A number in the body is out of range.", code="NUMBER_OUT_OF_RANGE")
    return value


def json_loads_strict(text: str):
    """json.loads that raises JsonNumberError (a ValueError) for non-finite or out-of-range numbers."""
    return json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_bounded_float)


def _depth(value, limit: int) -> int:
    # Iterative, so a hostile body cannot exhaust the stack while being measured.
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _has_lone_surrogate(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
            data = json_loads_strict(text) if text else {}
        except JsonNumberError as error:
            raise (NumberOutOfRange if error.code == "NUMBER_OUT_OF_RANGE" else MalformedRequest)(str(error))
        except (ValueError, RecursionError, UnicodeDecodeError):
            raise ParseError("The request body is not valid JSON.")
        if _depth(data, settings.MAX_JSON_DEPTH) > settings.MAX_JSON_DEPTH:
            raise ParseError("The request body is nested too deeply.")
        if "\\u" in text and _has_lone_surrogate(data):
            raise ParseError("The request body holds an invalid Unicode escape (a lone surrogate).")
        return data
