"""Page/limit pagination in the contract's shape: items plus {page, limit, total, totalPages, hasNext, hasPrev}."""

import math

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from aiasmr.api.exceptions import ValidationFailed

PAGE_MAX = 1_000_000
LIMIT_MAX = 100


def _bounded(request, name: str, default: int, maximum: int, problems: list) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        problems.append({"field": name, "message": "A valid integer is required."})
        return default
    if not 1 <= value <= maximum:
        problems.append({"field": name, "message": f"Must be between 1 and {maximum}."})
    return value


def page_params(request, *, default_limit: int = 20) -> tuple[int, int]:
    """page (1-1,000,000) and limit (1-100) from the query string; plain parsing, as every list runs it."""
    problems: list[dict] = []
    page = _bounded(request, "page", 1, PAGE_MAX, problems)
    limit = _bounded(request, "limit", default_limit, LIMIT_MAX, problems)
    if problems:
        raise ValidationFailed(details=problems)
    return page, limit


def page_parameters(*, default_limit: int = 20) -> list[OpenApiParameter]:
    """The page/limit query parameters for @extend_schema, with the bounds page_params enforces."""
    return [
        OpenApiParameter(
            "page", {"type": "integer", "minimum": 1, "maximum": PAGE_MAX}, description="1-based page, default 1"
        ),
        OpenApiParameter(
            "limit", {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX}, description=f"1-{LIMIT_MAX}, default {default_limit}"
        ),
    ]


def paginate(queryset, *, page: int, limit: int) -> tuple[list, dict]:
    """One COUNT and one slice: constant queries whatever the page size."""
    total = queryset.count()
    offset = (page - 1) * limit
    items = list(queryset[offset : offset + limit]) if offset < total else []
    total_pages = math.ceil(total / limit) if total else 0
    return items, {
        "page": page,
        "limit": limit,
        "total": total,
        "totalPages": total_pages,
        "hasNext": page < total_pages,
        "hasPrev": page > 1,
    }


class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    totalPages = serializers.IntegerField()  # noqa: N815 - contract field name
    hasNext = serializers.BooleanField()  # noqa: N815
    hasPrev = serializers.BooleanField()  # noqa: N815
