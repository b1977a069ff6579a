"""Page/limit pagination in the contract's shape: items plus {page, limit, total, totalPages, hasNext, hasPrev}."""

import math

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from aiasmr.api.exceptions import ValidationFailed


class PageParamsSerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


def page_params(request, *, default_limit: int = 20) -> tuple[int, int]:
    data = {key: request.query_params[key] for key in ("page", "limit") if key in request.query_params}
    data.setdefault("limit", default_limit)
    serializer = PageParamsSerializer(data=data)
    if not serializer.is_valid():
        raise ValidationFailed(
            details=[
                {"field": field, "message": str(errors[0])} for field, errors in serializer.errors.items()
            ]
        )
    return serializer.validated_data["page"], serializer.validated_data["limit"]


def page_parameters(*, default_limit: int = 20) -> list[OpenApiParameter]:
    """The page/limit query parameters for @extend_schema, with the bounds page_params enforces."""
    return [
        OpenApiParameter(
            "page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, description="1-based page, default 1"
        ),
        OpenApiParameter(
            "limit", {"type": "integer", "minimum": 1, "maximum": 100}, description=f"1-100, default {default_limit}"
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
