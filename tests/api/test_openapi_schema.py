import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_schema_validates_and_lists_the_contract():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = set(schema["paths"])
    for path in ("/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout",
                 "/api/user/profile", "/api/user/password", "/api/user/statistics", "/api/user/preferences",
                 "/api/user/account"):
        assert path in paths
    login = schema["paths"]["/api/auth/login"]["post"]
    assert {"200", "400", "401", "429"} <= set(login["responses"])
    success = login["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(success["properties"]) == {"success", "data", "message"}


def test_schema_endpoint_serves(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
