import json
import logging

import pytest
from django.test import override_settings

from aiasmr.api.error_handler import api_error_body
from aiasmr.api.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "details" in body["error"]
    return body["error"]


def test_unknown_api_route_is_enveloped_404(api_client):
    assert_error(api_client.get("/api/no-such-thing"), 404, "NOT_FOUND")


def test_unknown_non_api_route_is_enveloped_404(api_client):
    assert_error(api_client.get("/nowhere"), 404, "NOT_FOUND")


def test_wrong_method_on_api_view_is_enveloped_405(auth_client):
    error = assert_error(auth_client.delete("/api/user/profile"), 405, "METHOD_NOT_ALLOWED")
    assert error["details"] == {}


def test_wrong_method_on_health_is_enveloped_405(api_client):
    response = api_client.post("/api/health/live")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET"


def test_malformed_json_is_400(api_client):
    response = api_client.generic("POST", "/api/auth/login", "{not json", content_type="application/json")
    assert_error(response, 400, "INVALID_JSON")


def test_deeply_nested_json_is_400(api_client):
    body = "[" * 5000 + "]" * 5000
    response = api_client.generic("POST", "/api/auth/login", body, content_type="application/json")
    assert_error(response, 400, "INVALID_JSON")


def test_form_encoded_body_is_415(api_client):
    response = api_client.post("/api/auth/login", "email=a&password=b", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_is_413(api_client):
    body = json.dumps({"email": "a@example.com", "password": "x" * 5000})
    response = api_client.generic("POST", "/api/auth/login", body, content_type="application/json")
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"]["maxBytes"] == 1000


@override_settings(ROOT_URLCONF="tests.api.urls_with_failure")
def test_unhandled_error_is_500_with_request_id_and_no_trace(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="aiasmr.errors"):
        response = api_client.get("/api/test-crash", HTTP_X_REQUEST_ID="req-abc-123")
    error = assert_error(response, 500, "INTERNAL_SERVER_ERROR")
    assert error["details"] == {"requestId": "req-abc-123"}
    assert "SELECT" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert response["X-Request-ID"] == "req-abc-123"
    logged = [r for r in caplog.records if r.name == "aiasmr.errors"]
    assert logged and logged[0].request_id == "req-abc-123"


def test_every_response_has_request_id(api_client):
    generated = api_client.get("/api/health")
    assert len(generated["X-Request-ID"]) == 32
    echoed = api_client.get("/api/credits/packages", HTTP_X_REQUEST_ID="client-id-1")
    assert echoed["X-Request-ID"] == "client-id-1"
    invalid = api_client.get("/api/health", HTTP_X_REQUEST_ID="bad id with spaces")
    assert invalid["X-Request-ID"] != "bad id with spaces"


def test_missing_token_is_no_token(api_client):
    assert_error(api_client.get("/api/user/profile"), 401, "NO_TOKEN")


def test_wrong_scheme_and_garbage_tokens(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert_error(api_client.get("/api/user/profile"), 401, "INVALID_TOKEN")


def test_success_envelope_shape(auth_client):
    body = auth_client.get("/api/user/profile").json()
    assert body["success"] is True
    assert set(body) <= {"success", "data", "message"}


def test_ping_is_enveloped(api_client):
    assert api_client.get("/api/ping").json() == {"success": True, "data": {"pong": True}}


def test_validation_details_are_always_a_list_of_field_and_message():
    # middleware/validation.js: details is an array of {field, message}, whoever raised the error
    body = api_error_body(ValidationFailed(details={"package": "Unknown package."}))
    assert body["error"]["details"] == [{"field": "package", "message": "Unknown package."}]
    assert api_error_body(ValidationFailed())["error"]["details"] == []
