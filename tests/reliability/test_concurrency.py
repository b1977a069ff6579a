"""Races on PostgreSQL with real threads: spends, duplicate callbacks, duplicate payment webhooks,
refund clicks, cancel against submit. After each: the credits audit is clean and every job has
exactly one final move (one final event, at most one refund per debit)."""

import json
import time
import uuid
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from accounts.models import Profile
from accounts.services import auth_tokens_issue
from billing.catalog import catalog_ensure
from billing.models import Order, OrderStatus, PaymentEvent, Plan, Subscription
from billing.providers import get_provider
from billing.services import purchase_create
from credits.models import CreditTransaction
from credits.services import credits_adjust
from tests.admin.builders import staff_make
from tests.billing.payments import event, sign
from tests.factories import UserFactory
from tests.reliability.conftest import (
    assert_ledger_whole,
    assert_settled_once,
    audit,
    final_moves,
    race,
    unexpected,
)
from tests.videos.conftest import GOOD_BODY, run_tasks
from videos.models import Video
from videos.services import video_cancel, video_refund, video_submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _funded_user(credits: int):
    user = UserFactory()
    extra = credits - Profile.objects.get(user=user).credits
    if extra:
        credits_adjust(user=user, amount=extra, reason="fund the race", staff_user=None)
    return user


def _client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=user)['token']}")
    return client


def _submitted_videos(user, count: int) -> list[Video]:
    client = _client_for(user)
    ids = [client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"] for _ in range(count)]
    run_tasks()
    videos = list(Video.objects.filter(pk__in=ids))
    assert [v.status for v in videos] == ["submitted"] * count
    return videos


def _callback_path(video: Video) -> str:
    return "/api/kie-callback?" + urlencode({"secret": settings.KIE_CALLBACK_SECRET, "videoId": str(video.pk)})


def _success_body(video: Video, fake_kie) -> dict:
    base = fake_kie.url
    task = video.provider_task_id
    return {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {
            "task_id": task,
            "video_id": uuid.uuid4().hex,
            "video_url": f"{base}/files/{task}.mp4",
            "image_url": f"{base}/files/{task}.jpg",
        },
    }


def _failure_body(video: Video) -> dict:
    data = {"task_id": video.provider_task_id, "video_id": "", "video_url": "", "image_url": ""}
    return {"code": 400, "msg": "Content policy violation.", "data": data}


# --- spends --------------------------------------------------------------------------------------


def test_racing_generate_requests_never_spend_the_same_credits(fake_kie):
    user = _funded_user(60)  # three 20-credit generations
    token = auth_tokens_issue(user=user)["token"]

    def generate(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = client.post("/api/generate", GOOD_BODY, format="json")
        return response.status_code, response.json().get("error", {}).get("code")

    results = race(12, generate)

    assert not unexpected(results)
    assert sorted(results, key=str).count((200, None)) == 3
    assert [r for r in results if r[0] != 200] == [(400, "INSUFFICIENT_CREDITS")] * 9
    assert Profile.objects.get(user=user).credits == 0
    assert Video.objects.filter(user=user).count() == 3
    assert CreditTransaction.objects.filter(user=user, type="usage").count() == 3
    assert DBTaskResult.objects.filter(task_path="videos.tasks.video_submit_task").count() == 3
    assert_ledger_whole()


def test_spends_grants_and_refunds_interleaved_keep_the_ledger(fake_kie):
    """Generations, failures (refunds) and staff adjustments on one balance, all at once."""
    user = _funded_user(100)
    videos = _submitted_videos(user, 3)  # 40 credits left
    token = auth_tokens_issue(user=user)["token"]
    fail_client_bodies = [_failure_body(v) for v in videos]

    def work(i):
        if i < 6:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            return client.post("/api/generate", GOOD_BODY, format="json").status_code
        if i < 9:
            video = videos[i - 6]
            return Client().post(
                _callback_path(video), json.dumps(fail_client_bodies[i - 6]), content_type="application/json"
            ).status_code
        credits_adjust(user=user, amount=5, reason="goodwill", staff_user=None)
        return "adjusted"

    results = race(12, work)

    assert not unexpected(results)
    started = results[:6].count(200)
    assert started + results[:6].count(400) == 6
    assert 2 <= started <= 5  # 40 + up to 60 refunded + 15 adjusted, 20 each
    assert results[6:9] == [200, 200, 200]
    profile = Profile.objects.get(user=user)
    assert profile.credits == 40 + 60 + 15 - 20 * started
    for video in videos:
        assert_settled_once(video.pk)
    assert_ledger_whole()


# --- callbacks -----------------------------------------------------------------------------------


def test_success_and_failure_callbacks_racing_settle_each_job_once(fake_kie):
    user = _funded_user(200)
    videos = _submitted_videos(user, 6)
    outcomes = set()

    for video in videos:
        success, failure = _success_body(video, fake_kie), _failure_body(video)

        def deliver(i, video=video, success=success, failure=failure):
            body = success if i % 2 else failure
            response = Client().post(_callback_path(video), json.dumps(body), content_type="application/json")
            return response.status_code

        results = race(8, deliver)

        assert results == [200] * 8
        video.refresh_from_db()
        assert video.status in ("storing", "failed")
        outcomes.add(video.status)
        copies = DBTaskResult.objects.filter(
            task_path="videos.tasks.video_copy_task", args_kwargs__kwargs__video_id=str(video.pk)
        ).count()
        refunds = CreditTransaction.objects.filter(video=video, type="refund").count()
        assert (copies, refunds) == ((1, 0) if video.status == "storing" else (0, 1))

    run_tasks()  # the copies of the jobs that succeeded
    for video in videos:
        assert_settled_once(video.pk)
    ready = Video.objects.filter(user=user, status="ready").count()
    failed = Video.objects.filter(user=user, status="failed").count()
    assert ready + failed == 6
    assert Profile.objects.get(user=user).credits == 200 - 20 * ready
    assert_ledger_whole()
    assert outcomes  # which side wins is up to the scheduler; both are correct


def test_callbacks_racing_the_sweep_and_the_status_poll(fake_kie, settings):
    """A failure callback, the sweep (past the deadline) and the status refresh, all on one job."""
    settings.GENERATION_CALLBACK_GRACE_SECONDS = 0
    settings.GENERATION_STATUS_REFRESH_SECONDS = 0
    settings.GENERATION_DEADLINE_SECONDS = 0
    user = _funded_user(100)
    videos = _submitted_videos(user, 4)
    Video.objects.filter(pk__in=[v.pk for v in videos]).update(
        submitted_at=videos[0].created_at.replace(year=2020)
    )
    token = auth_tokens_issue(user=user)["token"]

    from videos.services import generations_sweep

    def work(i):
        video = videos[i % 4]
        kind = i // 4
        if kind == 0:
            return Client().post(
                _callback_path(video), json.dumps(_failure_body(video)), content_type="application/json"
            ).status_code
        if kind == 1:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            return client.get(f"/api/generate/status/{video.pk}").status_code
        generations_sweep()
        return "swept"

    results = race(12, work)

    assert not unexpected(results), unexpected(results)
    run_tasks()
    for video in videos:
        assert_settled_once(video.pk)
    assert_ledger_whole()


# --- payments ------------------------------------------------------------------------------------


def _post_sandbox(payload: dict) -> int:
    body = json.dumps(payload)
    return (
        Client()
        .post(
            "/api/billing/webhooks/sandbox/",
            data=body,
            content_type="application/json",
            HTTP_SANDBOX_SIGNATURE=sign(body, settings.SANDBOX_WEBHOOK_SECRET),
        )
        .status_code
    )


def test_one_payment_event_from_many_threads_and_two_events_for_one_order_grant_once():
    catalog_ensure()
    user = UserFactory()
    provider = get_provider("sandbox")
    orders = [purchase_create(user=user, package_slug="basic", amount=100)[0] for _ in range(3)]

    # The same event, eight times at once; then two different events for one order, at once.
    same = event("payment_intent.succeeded", provider.payment_intent_object(order=orders[0]), event_id="evt_same")
    assert race(8, lambda i: _post_sandbox(same)) == [200] * 8
    for order in orders[1:]:
        obj = provider.payment_intent_object(order=order)
        assert race(6, lambda i, obj=obj: _post_sandbox(event("payment_intent.succeeded", obj))) == [200] * 6

    assert Profile.objects.get(user=user).credits == 20 + 300
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert CreditTransaction.objects.filter(order=order, type="purchase").count() == 1
    assert PaymentEvent.objects.filter(event_id="evt_same").count() == 1
    assert PaymentEvent.objects.filter(status="processed").count() == 3
    assert_ledger_whole()


def test_payment_success_racing_its_refund_leaves_no_credits_behind():
    """Success and refund of one payment at once: whichever lands first, the order ends refunded and
    the user keeps none of its credits."""
    catalog_ensure()
    provider = get_provider("sandbox")
    for _ in range(5):
        user = UserFactory()
        order, _ = purchase_create(user=user, package_slug="standard", amount=250)
        paid = event("payment_intent.succeeded", provider.payment_intent_object(order=order))
        refunded = event("charge.refunded", provider.charge_refunded_object(order=order))

        results = race(6, lambda i, paid=paid, refunded=refunded: _post_sandbox(refunded if i % 2 else paid))

        assert results == [200] * 6
        order.refresh_from_db()
        assert order.status == OrderStatus.REFUNDED
        assert Profile.objects.get(user=user).credits == 20
        assert CreditTransaction.objects.filter(order=order, type="purchase").count() <= 1
    assert_ledger_whole()


def test_an_invoice_and_the_payment_that_paid_it_arriving_together_are_always_linked(monkeypatch):
    """invoice.paid creates the order; invoice_payment.paid names its PaymentIntent (newer Stripe API
    versions). Delivered at the same moment, neither may miss the other, or the refund finds no order.

    The worst interleaving is forced: invoice.paid's transaction is slow to commit, and the payment event
    arrives while it is open (stored after invoice.paid began, looking for an order not committed yet)."""
    from billing.services import webhooks

    grant = webhooks.subscription_period_grant

    def slow_grant(**kwargs):
        time.sleep(0.3)
        return grant(**kwargs)

    monkeypatch.setattr(webhooks, "subscription_period_grant", slow_grant)
    catalog_ensure()
    now = int(timezone.now().timestamp())
    for round_ in range(3):
        subscription = Subscription.objects.create(
            user=UserFactory(), plan=Plan.objects.get(slug="pro"), provider="sandbox",
            provider_subscription_id=f"sub_{uuid.uuid4().hex[:10]}",
        )
        invoice_id, intent_id = f"in_{uuid.uuid4().hex[:10]}", f"pi_race_{round_}"
        paid = event("invoice.paid", {
            "id": invoice_id, "object": "invoice", "amount_paid": 4990, "currency": "usd",
            "parent": {"subscription_details": {"subscription": subscription.provider_subscription_id}},
            "lines": {"data": [{"period": {"start": now, "end": now + 30 * 86400}}]},
        })
        linked = event("invoice_payment.paid", {
            "id": f"inpay_{round_}", "object": "invoice_payment", "invoice": invoice_id, "status": "paid",
            "payment": {"type": "payment_intent", "payment_intent": intent_id},
        })

        def deliver(i, paid=paid, linked=linked):
            if i:
                time.sleep(0.1)  # inside invoice.paid's open transaction
            return _post_sandbox(linked if i else paid)

        assert race(2, deliver) == [200, 200]

        assert Order.objects.get(subscription=subscription).invoice_payment_intent_id == intent_id
    assert_ledger_whole()


# --- refunds and cancels -------------------------------------------------------------------------


def _ready_video(user, fake_kie) -> Video:
    [video] = _submitted_videos(user, 1)
    Client().post(_callback_path(video), json.dumps(_success_body(video, fake_kie)), content_type="application/json")
    run_tasks()
    video.refresh_from_db()
    assert video.status == "ready"
    return video


def test_staff_refund_clicked_from_many_threads_refunds_once(fake_kie):
    user = _funded_user(100)
    staff = staff_make(perms=("credits.refund_credits", "videos.view_video", "videos.change_video"))
    video = _ready_video(user, fake_kie)
    before = Profile.objects.get(user=user).credits

    results = race(8, lambda i: video_refund(video=video, staff_user=staff))

    assert not unexpected(results)
    assert sum(1 for r in results if r is not None) == 1
    assert Profile.objects.get(user=user).credits == before + 20
    assert CreditTransaction.objects.filter(video=video, type="refund").count() == 1
    assert_settled_once(video.pk)
    assert_ledger_whole()


def test_refund_button_in_the_admin_pressed_concurrently_refunds_once(fake_kie):
    user = _funded_user(100)
    staff = staff_make(perms=("credits.refund_credits", "videos.view_video", "videos.change_video"))
    video = _ready_video(user, fake_kie)
    before = Profile.objects.get(user=user).credits
    url = f"/{settings.ADMIN_URL}videos/video/{video.pk}/refund/"

    def click(i):
        client = Client()
        client.force_login(staff)
        return client.post(url).status_code

    results = race(6, click)

    assert results == [302] * 6
    assert Profile.objects.get(user=user).credits == before + 20
    assert CreditTransaction.objects.filter(video=video, type="refund").count() == 1
    assert_ledger_whole()


def test_user_cancel_racing_the_submission_either_cancels_unsent_or_refuses(fake_kie):
    """The worker's submit and the user's cancel at once: a cancelled job was never sent to KIE; a sent job
    is not cancelled; refunded exactly when cancelled."""
    user = _funded_user(200)
    client = _client_for(user)
    for _ in range(6):
        video_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
        DBTaskResult.objects.all().delete()  # the race below plays the worker's part
        calls_before = fake_kie.state()["generateCalls"]
        video = Video.objects.get(pk=video_id)

        def work(i, video=video):
            if i == 0:
                return video_submit(video_id=video.pk)
            try:
                return video_cancel(video=video).status
            except Exception as exc:  # noqa: BLE001
                return getattr(exc, "code", repr(exc))

        results = race(3, work)

        video.refresh_from_db()
        sent = fake_kie.state()["generateCalls"] - calls_before
        refunds = CreditTransaction.objects.filter(video=video, type="refund").count()
        if video.status == "cancelled":
            assert (sent, refunds) == (0, 1) and final_moves(video.pk) == 1
            assert set(results[1:]) == {"cancelled"}
        else:
            assert video.status == "submitted" and (sent, refunds) == (1, 0)
            assert set(results[1:]) == {"CANCELLATION_NOT_SUPPORTED"}
    assert_ledger_whole()
    audit()


def test_deleting_a_job_while_its_failure_settles_never_errors(fake_kie):
    # The failure callback refunds the charge naming the video; the user deletes the video at that moment.
    # Whichever wins, nothing fails and the ledger stays whole (a refund written before the delete keeps
    # its row, its video link set to null; after it, there is no video left to settle).
    user = _funded_user(200)
    videos = _submitted_videos(user, 8)

    for video in videos:
        failure = _failure_body(video)

        def work(i, video=video, failure=failure):
            if i % 2:
                return Client().post(_callback_path(video), json.dumps(failure), content_type="application/json").status_code
            return _client_for(user).delete(f"/api/videos/{video.pk}").status_code

        results = race(4, work)
        assert not unexpected(results), results
        assert set(results[1::2]) == {200}  # the callbacks
        assert set(results[0::2]) <= {200, 404}  # one delete deletes; the others find nothing
        assert not Video.objects.filter(pk=video.pk).exists()
    assert_ledger_whole()
    audit()
