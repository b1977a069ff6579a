from django.urls import reverse

NEW_OPERATIONS = {
    "/api/free-credits/check-in": {"get", "post"},
    "/api/free-credits/referral": {"get"},
    "/api/gallery": {"get"},
    "/api/gallery/{video_id}/view": {"post"},
    "/api/videos/{video_id}/like": {"post", "delete"},
    "/api/videos/{video_id}/publish": {"post", "delete"},
    "/api/billing/orders": {"get"},
}


def test_the_schema_documents_every_new_endpoint(api_client):
    import yaml

    schema = yaml.safe_load(api_client.get(reverse("schema")).content)
    for path, methods in NEW_OPERATIONS.items():
        documented = schema["paths"][path]
        for method in methods:
            assert documented[method]["responses"]["200"], f"{method} {path}"
    register = schema["components"]["schemas"]["RegisterRequest"]["properties"]
    assert "referralCode" in register
