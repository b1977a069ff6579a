"""Staff editing a plan: the profiles on it record what it now grants, and their answers show it."""

import importlib

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from accounts.models import Profile
from accounts.services import auth_tokens_issue
from billing.catalog import catalog_ensure
from billing.models import Plan
from tests.admin.conftest import admin_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _on_plan(slug: str):
    user = UserFactory()
    Profile.objects.filter(user=user).update(**Plan.objects.get(slug=slug).profile_fields())
    return user


def _entitlements(user) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=user)['token']}")
    return client.get("/api/user/profile").json()["data"]["user"]["entitlements"]


def test_editing_a_plan_rewrites_what_its_profiles_record(su_client):
    catalog_ensure()
    basic_user, pro_user = _on_plan("basic"), _on_plan("pro")
    assert _entitlements(basic_user) == {"plan": "basic", "maxQuality": "720p", "commercialUse": True}

    basic = Plan.objects.get(slug="basic")
    form = {
        "slug": "basic", "name": basic.name, "price": str(basic.price), "currency": basic.currency,
        "credits_per_period": basic.credits_per_period, "interval": basic.interval, "max_quality": "1080p",
        "stripe_price_id": "", "active": "on", "sort_order": basic.sort_order,
    }  # commercial_use unticked
    response = su_client.post(admin_url(f"billing/plan/{basic.pk}/change/"), form)

    assert response.status_code == 302, response.content
    assert _entitlements(basic_user) == {"plan": "basic", "maxQuality": "1080p", "commercialUse": False}
    assert _entitlements(pro_user) == {"plan": "pro", "maxQuality": "1080p", "commercialUse": True}


def test_the_migration_copies_each_plan_onto_the_profiles_on_it():
    catalog_ensure()
    pro_user, free_user = UserFactory(), UserFactory()
    Profile.objects.filter(user=pro_user).update(plan_type="pro")  # as billing wrote it before the fields existed

    importlib.import_module("billing.migrations.0006_profile_plan_entitlements_backfill").backfill(apps, None)

    assert _entitlements(pro_user) == {"plan": "pro", "maxQuality": "1080p", "commercialUse": True}
    assert _entitlements(free_user) == {"plan": "free", "maxQuality": "720p", "commercialUse": False}
