"""Endpoints of the account lifecycle (register, statistics, account deletion): validate, call, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.serializers import (
    AccountDeleteSerializer,
    AuthResultSerializer,
    RegisterSerializer,
    StatisticsResultSerializer,
    auth_result_data,
)
from accounts.services import auth_tokens_issue
from aiasmr.api.exceptions import ApiError
from aiasmr.api.ratelimit import rate_limit
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from aiasmr.lifecycle import selectors, services


class RegistrationViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: AuthResultSerializer, 400: error_response("VALIDATION_ERROR, REGISTRATION_FAILED, INVALID_REFERRAL_CODE")},
        summary="Create an account (grants the signup bonus; `referralCode` rewards the referrer)",
    )
    @rate_limit("auth", key="ip")
    def register(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.user_register(
            email=data["email"], password=data["password"], referral_code=data.get("referralCode") or ""
        )
        body = auth_result_data(user=user, tokens=auth_tokens_issue(user=user))
        return Response(envelope(body, "Account created."), status=status.HTTP_201_CREATED)


class AccountViewSet(viewsets.ViewSet):
    @extend_schema(responses={200: StatisticsResultSerializer}, summary="Videos and credits statistics")
    def statistics(self, request):
        return Response(StatisticsResultSerializer(selectors.user_statistics(user=request.user)).data)

    @extend_schema(
        request=AccountDeleteSerializer,
        responses={200: None, 400: error_response("CONFIRMATION_REQUIRED")},
        summary="Delete the account and its stored files (needs {confirmDeletion: true})",
    )
    @rate_limit("sensitive", key="user")  # before the confirmation check: refusals count, as in Express
    def delete_account(self, request):
        data = AccountDeleteSerializer(data=request.data if isinstance(request.data, dict) else {})
        data.is_valid(raise_exception=True)
        if not data.validated_data.get("confirmDeletion"):
            raise ApiError("Account deletion confirmation required", code="CONFIRMATION_REQUIRED")
        services.account_delete(user=request.user)
        return Response(envelope(None, "Account deleted successfully"))
