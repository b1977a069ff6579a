"""A JSON parser that refuses bodies nested deeper than MAX_JSON_DEPTH (no recursion blow-ups) and
strings with lone surrogates (`"\\ud800"`: not Unicode; they cannot be stored, logged or echoed back)."""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


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
            data = json.loads(text) if text else {}
        except (ValueError, RecursionError, UnicodeDecodeError):
            raise ParseError("The request body is not valid JSON.")
        if _depth(data, settings.MAX_JSON_DEPTH) > settings.MAX_JSON_DEPTH:
            raise ParseError("The request body is nested too deeply.")
        if "\\u" in text and _has_lone_surrogate(data):
            raise ParseError("The request body holds an invalid Unicode escape (a lone surrogate).")
        return data
