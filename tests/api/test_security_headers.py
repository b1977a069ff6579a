import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_api_responses_carry_security_headers(api_client):
    response = api_client.get("/api/credits/packages")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_admin_and_docs_pages_have_a_csp(client):
    for path in ("/admin/login/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 200
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_cors_allows_only_listed_origins(api_client):
    allowed = api_client.options(
        "/api/auth/login", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    denied = api_client.options(
        "/api/auth/login", HTTP_ORIGIN="https://evil.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in denied


def test_large_json_is_gzipped(auth_client):
    response = auth_client.get("/api/schema/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
