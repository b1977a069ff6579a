"""The model catalogue: public list with prices, generation validated and priced by it, staff edits in the
admin applying to later generations only; prompt templates; the OpenAPI schema documents it all."""

import pytest
from django.conf import settings
from django.test import Client

from credits.models import CreditTransaction
from credits.services import credits_grant
from tests.admin.builders import staff_make
from tests.videos.conftest import GOOD_BODY, balance, deliver, run_tasks
from videos.models import GenerationModel, ModelPrice, PromptTemplate, Video

ADMIN = f"/{settings.ADMIN_URL}"


def _superuser_client():
    staff = staff_make(email="catalogue-boss@example.com")
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_models_are_listed_publicly_with_the_seeded_prices(api_client):
    response = api_client.get("/api/models")

    assert response.status_code == 200
    models = {model["id"]: model for model in response.json()["data"]["models"]}
    assert list(models) == ["runway", "veo3_fast", "veo3"]
    prices = {(p["duration"], p["quality"]): p["credits"] for p in models["runway"]["prices"]}
    assert prices == {(5, "720p"): 20, (5, "1080p"): 25, (8, "720p"): 30}
    assert {p["credits"] for p in models["veo3_fast"]["prices"]} == {60}
    assert {p["credits"] for p in models["veo3"]["prices"]} == {300}
    assert models["runway"]["isDefault"] and not models["veo3"]["isDefault"]
    assert models["veo3"]["maxImages"] == 2 and models["runway"]["maxImages"] == 1
    assert models["veo3_fast"]["provider"] == "veo" and models["veo3_fast"]["aspectRatios"] == [
        "16:9",
        "9:16",
    ]


@pytest.mark.django_db
def test_a_switched_off_model_is_not_listed_and_cannot_be_generated(api_client, auth_client):
    GenerationModel.objects.filter(code="veo3").update(is_active=False)
    ids = [model["id"] for model in api_client.get("/api/models").json()["data"]["models"]]
    assert "veo3" not in ids

    for model in ("veo3", "sora-9000"):
        response = auth_client.post("/api/generate", {**GOOD_BODY, "model": model}, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "MODEL_NOT_AVAILABLE"
    assert not Video.objects.exists()


@pytest.mark.django_db
def test_default_model_is_runway_as_the_express_app_sent_it(fake_kie, auth_client):
    response = auth_client.post("/api/generate", GOOD_BODY, format="json")
    data = response.json()["data"]
    assert response.status_code == 200
    assert data["parameters"]["model"] == "runway" and data["creditsDeducted"] == 20
    assert data["parameters"]["duration"] == 5 and data["parameters"]["quality"] == "720p"
    run_tasks()
    video = Video.objects.get()
    assert video.kie_api == "runway" and fake_kie.state()["jobs"][video.provider_task_id]["api"] == "runway"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field",
    [
        ({"model": "veo3_fast", "duration": 5}, "duration"),
        ({"model": "veo3_fast", "aspectRatio": "1:1"}, "aspectRatio"),
        (
            {
                "model": "runway",
                "imageUrls": ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"],
            },
            "imageUrls",
        ),
        ({"model": "veo3_fast", "imageUrls": ["https://a.example.com/1.jpg"] * 3}, "imageUrls"),
        ({"model": "veo3_fast", "imageUrls": ["https://127.0.0.1/a.jpg"]}, "imageUrls"),
    ],
)
def test_each_field_is_validated_against_the_chosen_model(fake_kie, auth_client, body, field):
    credits_grant(user=auth_client.user, amount=500, type="bonus", description="test")
    start = balance(auth_client.user)
    response = auth_client.post("/api/generate", {**GOOD_BODY, **body}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert any(field in str(detail) for detail in error["details"]), error
    assert balance(auth_client.user) == start and not Video.objects.exists()


@pytest.mark.django_db
def test_a_model_may_need_a_plan(fake_kie, auth_client):
    GenerationModel.objects.filter(code="veo3").update(required_plan="pro")
    credits_grant(user=auth_client.user, amount=500, type="bonus", description="test")
    response = auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "PLAN_UPGRADE_REQUIRED"
    assert response.json()["error"]["details"] == {"required": "pro", "model": "veo3"}


@pytest.mark.django_db
def test_not_enough_credits_for_veo3(fake_kie, auth_client):
    response = auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["details"]["required"] == 300


@pytest.mark.django_db
def test_a_staff_price_change_affects_only_later_generations(fake_kie, auth_client):
    credits_grant(user=auth_client.user, amount=500, type="bonus", description="test")
    fake_kie.configure(job_fail_rate=1, fail_code=500)
    first = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]
    assert first["creditsDeducted"] == 20
    run_tasks()  # submitted at the old price; it will fail later

    price = ModelPrice.objects.get(model__code="runway", duration=5, quality="720p")
    staff = _superuser_client()
    page = staff.get(f"{ADMIN}videos/modelprice/{price.pk}/change/")
    assert page.status_code == 200
    response = staff.post(
        f"{ADMIN}videos/modelprice/{price.pk}/change/",
        {"model": price.model_id, "duration": 5, "quality": "720p", "credits": 35},
    )
    assert response.status_code == 302, response.content[:500]
    assert ModelPrice.objects.get(pk=price.pk).credits == 35

    second = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]
    assert second["creditsDeducted"] == 35
    listed = {model["id"]: model for model in auth_client.get("/api/models").json()["data"]["models"]}
    assert {"duration": 5, "quality": "720p", "credits": 35} in listed["runway"]["prices"]

    # The first job fails: its refund is the 20 it was charged, not today's price.
    [callback] = fake_kie.wait_callbacks(1)
    deliver(auth_client, callback)
    first_video = Video.objects.get(pk=first["taskId"])
    assert first_video.status == "failed" and first_video.credit_cost == 20
    assert CreditTransaction.objects.get(video=first_video, type="refund").amount == 20
    assert Video.objects.get(pk=second["taskId"]).credit_cost == 35


@pytest.mark.django_db
def test_staff_edit_the_catalogue_and_templates_in_the_admin():
    staff = _superuser_client()
    for path in (
        "videos/generationmodel/",
        f"videos/generationmodel/{GenerationModel.objects.get(code='veo3').pk}/change/",
        "videos/modelprice/",
        "videos/prompttemplate/",
        "videos/prompttemplate/add/",
        "videos/upload/",
    ):
        assert staff.get(f"{ADMIN}{path}").status_code == 200, path

    veo = GenerationModel.objects.get(code="veo3")
    form = {
        "code": "veo3",
        "name": "Veo 3.1 Quality",
        "description": "",
        "kie_api": "veo",
        "provider_model": "",
        "durations": "[8]",
        "qualities": '["720p"]',
        "aspect_ratios": '["16:9"]',
        "max_images": 1,
        "required_plan": "gold",
        "is_active": "on",
        "sort_order": 30,
        "prices-TOTAL_FORMS": 0,
        "prices-INITIAL_FORMS": 0,
        "prices-MIN_NUM_FORMS": 0,
        "prices-MAX_NUM_FORMS": 1000,
    }
    response = staff.post(f"{ADMIN}videos/generationmodel/{veo.pk}/change/", form)
    assert response.status_code == 200  # the form comes back with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"provider_model", "required_plan"}

    form.update(provider_model="veo3", required_plan="basic")
    response = staff.post(f"{ADMIN}videos/generationmodel/{veo.pk}/change/", form)
    assert response.status_code == 302
    veo.refresh_from_db()
    assert veo.required_plan == "basic" and veo.max_images == 1 and veo.aspect_ratios == ["16:9"]


@pytest.mark.django_db
def test_prompt_templates_are_listed_publicly(api_client):
    response = api_client.get("/api/prompt-templates")
    assert response.status_code == 200
    templates = response.json()["data"]["templates"]
    assert len(templates) >= 8
    first = templates[0]
    assert set(first) == {"id", "title", "prompt", "triggers", "suggestedModel", "coverUrl"}
    assert {template["suggestedModel"] for template in templates} <= {"runway", "veo3_fast", "veo3"}
    assert all(10 <= len(template["prompt"]) <= 1800 for template in templates)

    PromptTemplate.objects.filter(slug=first["id"]).update(is_active=False)
    ids = [template["id"] for template in api_client.get("/api/prompt-templates").json()["data"]["templates"]]
    assert first["id"] not in ids


@pytest.mark.django_db
def test_openapi_schema_documents_models_uploads_and_the_new_generate_fields(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/models"] and "get" in paths["/api/prompt-templates"]
    upload = paths["/api/uploads/images"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"201", "400", "413", "429"} <= set(upload["responses"])
    generate = schema["components"]["schemas"]["GenerateRequest"]["properties"]
    assert {"model", "imageUrls", "imageUrl"} <= set(generate)
    assert generate["imageUrls"]["maxItems"] == 2
    assert "GenerationModel" in schema["components"]["schemas"]
    assert "prices" in schema["components"]["schemas"]["GenerationModel"]["properties"]
