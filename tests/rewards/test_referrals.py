import pytest

from accounts.models import Profile, User
from billing.models import Order
from billing.services import order_refund
from credits.models import CreditTransaction
from rewards.models import Referral, ReferralGrant, ReferralRewardRule
from tests.factories import UserFactory
from tests.rewards.conftest import audit_clean


def balance(user) -> int:
    return Profile.objects.get(user=user).credits


def register(api_client, email, code=None):
    body = {"email": email, "password": "Str0ng-pass!"}
    if code is not None:
        body["referralCode"] = code
    return api_client.post("/api/auth/register", body, format="json")


def referral_code(client) -> str:
    return client.get("/api/free-credits/referral").json()["data"]["code"]


def test_registration_then_sandbox_payment_reward_the_referrer_once_and_a_refund_claws_back(
    api_client, auth_client, make_auth_client
):
    referrer = auth_client.user
    start = balance(referrer)
    code = referral_code(auth_client)
    assert register(api_client, "friend@example.com", code).status_code == 201
    assert balance(referrer) == start + 5
    friend = make_auth_client(User.objects.get(email="friend@example.com"))

    def pay():
        order_id = friend.post("/api/credits/purchase", {"package": "basic", "amount": 100}, format="json").json()[
            "data"
        ]["order"]["id"]
        friend.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json")
        return Order.objects.get(pk=order_id)

    first = pay()
    assert balance(referrer) == start + 35
    pay()  # a second payment is not a first payment
    assert balance(referrer) == start + 35
    order_refund(order=first, staff_user=UserFactory(is_staff=True))
    assert balance(referrer) == start + 5
    assert ReferralGrant.objects.get(event="first_payment").clawed_back_at is not None

    overview = auth_client.get("/api/free-credits/referral").json()["data"]
    assert overview["totalReferrals"] == 1 and overview["creditsEarned"] == 5
    assert overview["link"].endswith(code)
    audit_clean()


def test_a_self_referral_or_a_loop_grants_nothing(user):
    from rewards.referrals import referral_attach, referral_code_get

    other = UserFactory()
    referral_attach(user=other, code=referral_code_get(user=user).code)  # user referred other
    before = balance(other)
    assert referral_attach(user=user, code=referral_code_get(user=other).code) is None  # loop
    assert referral_attach(user=user, code=referral_code_get(user=user).code) is None  # self
    assert balance(other) == before
    assert Referral.objects.count() == 1
    audit_clean()


def test_an_unknown_code_refuses_the_registration(api_client):
    answer = register(api_client, "x@example.com", "NOPE1234")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "INVALID_REFERRAL_CODE"
    assert not User.objects.filter(email="x@example.com").exists()


def test_the_monthly_cap_stops_rewards(api_client, auth_client, settings):
    settings.REFERRAL_MONTHLY_CAP_CREDITS = 10
    referrer = auth_client.user
    start = balance(referrer)
    code = referral_code(auth_client)
    for n in range(3):
        assert register(api_client, f"f{n}@example.com", code).status_code == 201
    assert balance(referrer) == start + 10
    assert CreditTransaction.objects.filter(user=referrer, idempotency_key__startswith="referral:").count() == 2


@pytest.mark.parametrize("event", ["registration"])
def test_reward_values_are_editable(api_client, auth_client, event):
    ReferralRewardRule.objects.filter(event=event).update(credits=7)
    start = balance(auth_client.user)
    register(api_client, "f@example.com", referral_code(auth_client).lower())
    assert balance(auth_client.user) == start + 7


def test_a_sandbox_subscription_gives_the_first_payment_and_subscription_rewards_once(
    api_client, auth_client, make_auth_client
):
    referrer = auth_client.user
    start = balance(referrer)
    register(api_client, "sub@example.com", referral_code(auth_client))
    friend = make_auth_client(User.objects.get(email="sub@example.com"))
    answer = friend.post("/api/billing/subscription", {"plan": "basic"}, format="json")
    assert answer.status_code in (200, 201), answer.json()
    order_id = Order.objects.get(user=friend.user).id
    friend.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json")
    assert balance(referrer) == start + 5 + 30 + 50
    assert sorted(ReferralGrant.objects.values_list("event", flat=True)) == [
        "first_payment",
        "registration",
        "subscription",
    ]
    audit_clean()
