"""A JSON parser that refuses bodies nested deeper than MAX_JSON_DEPTH (no recursion blow-ups)."""

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


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (ValueError, RecursionError, UnicodeDecodeError):
            raise ParseError("The request body is not valid JSON.")
        if _depth(data, settings.MAX_JSON_DEPTH) > settings.MAX_JSON_DEPTH:
            raise ParseError("The request body is nested too deeply.")
        return data
