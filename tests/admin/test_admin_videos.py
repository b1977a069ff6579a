"""Generations in the back office: refund exactly once through video_refund, re-sync through KIE over HTTP."""

import pytest
import responses
from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.test import override_settings
from django.urls import reverse

from accounts.models import Profile
from credits.models import CreditTransaction, TransactionType
from tests.admin.builders import video_make
from tests.factories import UserFactory
from videos.models import VideoStatus

KIE = "http://kie.test/api/v1"


@pytest.fixture
def refunder(staff_client):
    return staff_client("videos.view_video", "credits.view_credittransaction", "credits.refund_credits")


def _levels(response) -> list[int]:
    return [message.level for message in messages.get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_a_failed_generation_is_refunded_exactly_once(refunder):
    customer = UserFactory()
    video = video_make(user=customer, status=VideoStatus.FAILED, error_code="CONTENT_POLICY")
    assert Profile.objects.get(user=customer).credits == 0
    url = reverse("admin:videos_video_refund", args=[video.pk])

    first = refunder.post(url)
    assert first.status_code == 302
    assert first["Location"] == reverse("admin:videos_video_change", args=[video.pk])
    assert Profile.objects.get(user=customer).credits == 20
    refund = CreditTransaction.objects.get(video=video, type=TransactionType.REFUND)
    assert (refund.amount, refund.staff_user_id) == (20, refunder.user.pk)
    assert LogEntry.objects.filter(object_id=str(video.pk), user=refunder.user).count() == 1
    assert messages.SUCCESS in _levels(first)

    second = refunder.post(url)
    assert second.status_code == 302
    assert messages.WARNING in _levels(second)
    assert Profile.objects.get(user=customer).credits == 20
    assert CreditTransaction.objects.filter(video=video, type=TransactionType.REFUND).count() == 1
    assert LogEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_never_charged_generation_is_refused(refunder):
    customer = UserFactory()
    video = video_make(user=customer, status=VideoStatus.FAILED, charge=False)
    response = refunder.post(reverse("admin:videos_video_refund", args=[video.pk]))
    assert messages.WARNING in _levels(response)
    assert Profile.objects.get(user=customer).credits == 20
    assert not CreditTransaction.objects.filter(type=TransactionType.REFUND).exists()
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_an_open_generation_is_not_refunded(refunder):
    customer = UserFactory()
    video = video_make(user=customer, status=VideoStatus.PROCESSING, provider_task_id="task-open")
    response = refunder.post(reverse("admin:videos_video_refund", args=[video.pk]))
    assert messages.ERROR in _levels(response)
    assert Profile.objects.get(user=customer).credits == 0
    assert not CreditTransaction.objects.filter(type=TransactionType.REFUND).exists()


@pytest.mark.django_db
def test_refund_only_answers_post(refunder):
    video = video_make(user=UserFactory())
    assert refunder.get(reverse("admin:videos_video_refund", args=[video.pk])).status_code == 405
    assert refunder.post(reverse("admin:videos_video_refund", args=["not-a-uuid"])).status_code == 404


@pytest.mark.django_db
def test_the_changelist_action_refunds_the_charged_and_skips_the_rest(refunder):
    customer = UserFactory()
    UserFactory()
    charged = video_make(user=customer, status=VideoStatus.READY)
    free = video_make(user=customer, status=VideoStatus.FAILED, charge=False)
    response = refunder.post(
        reverse("admin:videos_video_changelist"),
        {"action": "refund_credits", "_selected_action": [charged.pk, free.pk]},
    )
    assert response.status_code == 302
    assert list(CreditTransaction.objects.filter(type=TransactionType.REFUND).values_list("video_id", flat=True)) == [
        charged.pk
    ]
    assert Profile.objects.get(user=customer).credits == 20
    assert list(LogEntry.objects.values_list("object_id", flat=True)) == [str(charged.pk)]


@pytest.mark.django_db
@responses.activate
@override_settings(KIE_API_KEY="test-key", KIE_BASE_URL=KIE)
def test_resync_settles_the_generation_from_kies_record(refunder):
    customer = UserFactory()
    video = video_make(user=customer, status=VideoStatus.PROCESSING, provider_task_id="task-sync")
    responses.get(
        f"{KIE}/runway/record-detail",
        json={
            "code": 200,
            "msg": "success",
            "data": {"taskId": "task-sync", "state": "fail", "failCode": 400, "failMsg": "content policy"},
        },
    )
    response = refunder.post(reverse("admin:videos_video_resync", args=[video.pk]))
    assert response.status_code == 302
    assert responses.calls[0].request.url.endswith("taskId=task-sync")
    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert Profile.objects.get(user=customer).credits == 20  # the failure refunded the charge
    assert LogEntry.objects.filter(object_id=str(video.pk)).count() == 1
    detail = refunder.get(reverse("admin:videos_video_change", args=[video.pk]))
    assert detail.status_code == 200
    assert b"content policy" in detail.content  # KIE's answer is in the history


@pytest.mark.django_db
@responses.activate
@override_settings(KIE_API_KEY="test-key", KIE_BASE_URL=KIE)
def test_resync_reports_kie_errors_without_changing_anything(refunder):
    customer = UserFactory()
    video = video_make(user=customer, status=VideoStatus.PROCESSING, provider_task_id="task-down")
    responses.get(f"{KIE}/runway/record-detail", json={"code": 455, "msg": "maintenance", "data": None})
    response = refunder.post(reverse("admin:videos_video_resync", args=[video.pk]))
    assert messages.ERROR in _levels(response)
    video.refresh_from_db()
    assert video.status == VideoStatus.PROCESSING
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_the_detail_page_shows_player_thumbnail_prompt_and_buttons(refunder):
    customer = UserFactory()
    video = video_make(
        user=customer,
        status=VideoStatus.READY,
        provider_video_url="https://files.kie.test/v.mp4",
        provider_thumbnail_url="https://files.kie.test/v.jpg",
        enhanced_prompt="ASMR video: honey dripping",
    )
    video.video_file.name = f"videos/{customer.pk}/{video.pk}.mp4"
    video.thumbnail_file.name = f"thumbnails/{customer.pk}/{video.pk}.jpg"
    video.save(update_fields=["video_file", "thumbnail_file"])
    response = refunder.get(reverse("admin:videos_video_change", args=[video.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<video controls preload="metadata" src="{video.video_file.url}"' in html
    assert f'<img src="{video.thumbnail_file.url}"' in html
    assert "ASMR video: honey dripping" in html
    assert 'id="bo-refund"' in html and 'id="bo-resync"' in html


@pytest.mark.django_db
def test_searches_find_by_task_id_email_prompt_and_id(su_client):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    a = video_make(user=alice, provider_task_id="task-alpha", prompt="ice cracking")
    b = video_make(user=bob, provider_task_id="task-beta", prompt="petals falling")
    changelist = reverse("admin:videos_video_changelist")

    def found(term):
        return {video.pk for video in su_client.get(changelist, {"q": term}).context["cl"].result_list}

    assert found("task-alpha") == {a.pk}
    assert found("bob@example") == {b.pk}
    assert found("petals") == {b.pk}
    assert found(str(a.pk)) == {a.pk}
    statuses = su_client.get(changelist, {"status__exact": "failed", "quality__exact": "720p"}).context["cl"]
    assert {video.pk for video in statuses.result_list} == {a.pk, b.pk}
