"""Hostile numbers (NaN, Infinity, 1e400, integers past 64 bits) in any JSON body: a 400 in the envelope,
never a 500, never a change (the probe's `{"code": 1e400}` KIE callback was a 500: int(inf))."""

import base64
import json

import pytest

from aiasmr.api.parsers import MAX_JSON_NUMBER
from billing.stores.google import GooglePlayError, push_decode
from tests.billing.payments import STRIPE_SETTINGS, post_stripe
from videos.models import Video
from videos.services import parse_callback

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["1e400", "-1e400", "1" + "0" * 30, str(MAX_JSON_NUMBER + 1), "1e19", "9" * 5000]
NOT_JSON = ["NaN", "Infinity", "-Infinity"]
CALLBACK_SECRET = "test-callback-secret"


def _assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    return body["error"]


def _post(client, path: str, text: str):
    return client.generic("POST", path, text, content_type="application/json")


@pytest.mark.parametrize("number", OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("path", "template", "authenticated"),
    [
        ("/api/generate", '{"prompt": "soap", "duration": NUM, "quality": "720p"}', True),
        ("/api/credits/purchase", '{"package": "basic", "amount": NUM}', True),
        ("/api/auth/login", '{"email": "a@example.com", "password": NUM}', False),
        ("/api/auth/register", '{"email": "a@example.com", "password": "Str0ng-pass!", "x": [[NUM]]}', False),
    ],
)
def test_out_of_range_numbers_are_400(auth_client, api_client, path, template, authenticated, number):
    client = auth_client if authenticated else api_client
    _assert_error(_post(client, path, template.replace("NUM", number)), 400, "NUMBER_OUT_OF_RANGE")
    assert not Video.objects.exists()


@pytest.mark.parametrize("constant", NOT_JSON)
def test_non_standard_constants_are_invalid_json(auth_client, constant):
    _assert_error(_post(auth_client, "/api/generate", '{"prompt": "soap", "duration": NUM}'.replace("NUM", constant)),
                  400, "INVALID_JSON")


def test_numbers_in_range_still_parse(auth_client):
    # The bound refuses nothing a client sends: a 64-bit value and an ordinary float reach validation.
    response = _post(auth_client, "/api/credits/purchase", f'{{"package": "basic", "amount": {MAX_JSON_NUMBER}}}')
    assert response.status_code != 500 and response.json()["error"]["code"] != "NUMBER_OUT_OF_RANGE"
    response = _post(auth_client, "/api/credits/purchase", '{"package": "basic", "amount": 9.99e2}')
    assert response.json().get("error", {}).get("code") != "NUMBER_OUT_OF_RANGE"


@pytest.mark.parametrize("code", ["1e400", "-1e400", "NaN", "Infinity", "1" + "0" * 40])
def test_the_probe_kie_callback_with_a_hostile_code_is_400(api_client, settings, code):
    settings.KIE_CALLBACK_SECRET = CALLBACK_SECRET
    body = '{"code": NUM, "msg": "x", "data": {"task_id": "t-1", "video_url": ""}}'.replace("NUM", code)
    response = _post(api_client, f"/api/kie-callback?secret={CALLBACK_SECRET}", body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["success"] is False


@pytest.mark.parametrize("code", [float("inf"), float("-inf"), float("nan"), 10**30])
def test_parse_callback_refuses_a_code_no_integer_can_hold(code):
    # The parser is the first line; parse_callback holds on its own for bodies from any other source.
    with pytest.raises(Exception) as raised:
        parse_callback(body={"code": code, "data": {"task_id": "t-1"}})
    assert getattr(raised.value, "code", None) == "INVALID_CALLBACK"


def test_a_signed_stripe_event_with_1e400_is_400_not_500(api_client, settings):
    for name, value in STRIPE_SETTINGS.items():
        setattr(settings, name, value)
    body = ('{"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "created": 1e400,'
            ' "data": {"object": {"id": "pi_1", "amount": 1e400, "amount_received": 1e400, "currency": "usd",'
            ' "metadata": {"order_id": "00000000-0000-0000-0000-000000000000"}}}}')
    _assert_error(post_stripe(api_client, {}, body=body), 400, "INVALID_SIGNATURE")


@pytest.mark.parametrize("number", ["1e400", "NaN", "1" + "0" * 40])
def test_a_google_push_with_a_hostile_number_is_malformed(number):
    data = base64.b64encode('{"version": "1.0", "eventTimeMillis": NUM}'.replace("NUM", number).encode()).decode()
    with pytest.raises(GooglePlayError):
        push_decode(body={"message": {"messageId": "m-1", "data": data}, "subscription": "s"})


def test_the_limit_is_documented_as_a_common_error(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "NUMBER_OUT_OF_RANGE" in schema and json.loads(schema)


def test_too_many_query_fields_are_400_not_500(auth_client, api_client):
    # Django raises TooManyFieldsSent while DRF reads query_params: the probe's 300-field query was a 500.
    query = "&".join(f"f{index}=1" for index in range(300))
    _assert_error(auth_client.get(f"/api/videos?{query}"), 400, "TOO_MANY_FIELDS")
    _assert_error(api_client.get(f"/api/kie-callback/health?{query}"), 400, "TOO_MANY_FIELDS")


def test_a_foreign_host_header_is_400_in_the_envelope(api_client, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    _assert_error(api_client.get("/api/videos", HTTP_HOST="evil.example"), 400, "BAD_REQUEST")


def test_too_many_form_fields_outside_the_api_are_400_in_the_envelope(client):
    # Django raises TooManyFieldsSent in the CSRF middleware (before any view): its handler400 answers.
    body = "&".join(f"f{index}=1" for index in range(300))
    response = client.post("/admin/login/", body, content_type="application/x-www-form-urlencoded")
    _assert_error(response, 400, "TOO_MANY_FIELDS")
