"""Credits endpoints: balance, history, usage. Thin: validate, call, serialize.

Buying credits (/api/credits/packages, /api/credits/purchase) is billing's: billing/views.py."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from aiasmr.api.pagination import page_parameters, page_params, paginate
from credits import selectors
from credits.serializers import (
    BalanceSerializer,
    HistorySerializer,
    UsageQuerySerializer,
    UsageSerializer,
    transaction_data,
)


class CreditsViewSet(viewsets.ViewSet):
    @extend_schema(responses={200: BalanceSerializer}, summary="The credit balance")
    def balance(self, request):
        return Response(BalanceSerializer(selectors.credits_balance_get(user=request.user)).data)

    @extend_schema(
        parameters=page_parameters(),
        responses={200: HistorySerializer},
        summary="Ledger entries as credit_transactions rows, newest first (20 a page by default)",
    )
    def history(self, request):
        page, limit = page_params(request)
        items, pagination = paginate(selectors.credits_history(user=request.user), page=page, limit=limit)
        # HistorySerializer's shape, its rows built by transaction_data (held to TransactionSerializer).
        return Response({"transactions": [transaction_data(row) for row in items], "pagination": pagination})

    @extend_schema(
        parameters=[UsageQuerySerializer],
        responses={200: UsageSerializer},
        summary="Express's usage totals, and credits spent per day and per quality (refunds net out)",
    )
    def usage(self, request):
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(UsageSerializer(selectors.credits_usage(user=request.user, **query.validated_data)).data)
