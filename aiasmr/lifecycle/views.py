"""Endpoints of the account lifecycle (register, statistics, account deletion): validate, call, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.serializers import (
    AuthResultSerializer,
    RegisterSerializer,
    StatisticsSerializer,
    auth_result_data,
)
from accounts.services import auth_tokens_issue
from aiasmr.api.ratelimit import rate_limit
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from aiasmr.lifecycle import selectors, services


class RegistrationViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: AuthResultSerializer, 409: error_response("EMAIL_ALREADY_REGISTERED")},
        summary="Create an account (grants the signup bonus)",
    )
    @rate_limit("auth", key="ip")
    def register(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.user_register(email=data["email"], password=data["password"])
        body = auth_result_data(user=user, tokens=auth_tokens_issue(user=user))
        return Response(envelope(body, "Account created."), status=status.HTTP_201_CREATED)


class AccountViewSet(viewsets.ViewSet):
    @extend_schema(responses={200: StatisticsSerializer}, summary="Videos and credits statistics")
    def statistics(self, request):
        return Response(StatisticsSerializer(selectors.user_statistics(user=request.user)).data)

    @extend_schema(responses={200: None}, summary="Delete the account and its stored files")
    @rate_limit("sensitive", key="user")
    def delete_account(self, request):
        services.account_delete(user=request.user)
        return Response(envelope(None, "Account deleted."))
