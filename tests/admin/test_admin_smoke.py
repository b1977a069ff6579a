"""Every registered changelist, search, change and add page of the back office answers 200."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from tests.admin.builders import billing_make, video_make
from tests.factories import UserFactory

OWN_MODELS = {
    "accounts.user",
    "credits.credittransaction",
    "videos.video",
    "billing.creditpackage",
    "billing.plan",
    "billing.order",
    "billing.subscription",
    "billing.paymentevent",
}


@pytest.fixture
def every_record(db):
    customer = UserFactory(email="customer@example.com")
    video_make(user=customer)
    billing_make(user=customer)
    return customer


@pytest.mark.django_db
def test_every_admin_page_answers_200(su_client, every_record):
    registered = {
        f"{model._meta.app_label}.{model._meta.model_name}": (model, model_admin)
        for model, model_admin in admin.site._registry.items()
    }
    assert set(registered) >= OWN_MODELS
    assert su_client.get(reverse("admin:index")).status_code == 200
    request = RequestFactory().get("/")
    request.user = su_client.user
    for label, (model, model_admin) in registered.items():
        info = model._meta.app_label, model._meta.model_name
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        assert su_client.get(changelist).status_code == 200, label
        if model_admin.search_fields:
            assert su_client.get(changelist, {"q": "customer"}).status_code == 200, label
        obj = model.objects.first()
        if label in OWN_MODELS:
            assert obj is not None, label
        if obj is not None:
            change = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            assert su_client.get(change).status_code == 200, label
        if model_admin.has_add_permission(request):
            assert su_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, label


@pytest.mark.django_db
def test_changelist_filters_and_searches_answer_200(su_client, every_record):
    videos = reverse("admin:videos_video_changelist")
    for params in (
        {"status__exact": "failed"},
        {"quality__exact": "720p"},
        {"provider__exact": "kie"},
        {"created_at__gte": "2020-01-01"},
        {"stuck": "yes"},
        {"q": "soap"},
        {"q": "customer@example.com"},
        {"q": "task-123"},
        {"q": "00000000-0000-0000-0000-000000000000"},
    ):
        assert su_client.get(videos, params).status_code == 200, params
    users = reverse("admin:accounts_user_changelist")
    for params in ({"profile__plan_type__exact": "free"}, {"o": "2"}, {"o": "4"}, {"q": "customer"}):
        assert su_client.get(users, params).status_code == 200, params
    ledger = reverse("admin:credits_credittransaction_changelist")
    assert su_client.get(ledger, {"type__exact": "usage"}).status_code == 200
