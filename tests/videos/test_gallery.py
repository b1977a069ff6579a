import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import auth_tokens_issue
from tests.factories import UserFactory
from tests.rewards.conftest import audit_clean
from videos.models import Video, VideoLike
from videos.services import video_gallery_moderate, video_like

pytestmark = pytest.mark.django_db


def ready_video(user, **extra) -> Video:
    fields = {"status": "ready", **extra}
    return Video.objects.create(
        user=user,
        prompt="my secret soap prompt",
        enhanced_prompt="ASMR video: soap.",
        triggers=["soap"],
        duration=5,
        quality="720p",
        credit_cost=10,
        video_file=f"videos/{user.pk}/v.mp4",
        thumbnail_file=f"thumbnails/{user.pk}/v.jpg",
        **fields,
    )


def gallery(client=None) -> list[dict]:
    answer = (client or APIClient()).get("/api/gallery")
    assert answer.status_code == 200
    assert "public" in answer["Cache-Control"]
    return answer.json()["data"]["videos"]


def test_a_published_video_is_listed_to_a_stranger_without_private_data_and_leaves_when_hidden(auth_client):
    video = ready_video(auth_client.user)
    assert gallery() == []
    answer = auth_client.post(f"/api/videos/{video.pk}/publish", {"showPrompt": False}, format="json")
    assert answer.status_code == 200
    assert answer.json()["data"]["video"]["is_public"] is True
    [card] = gallery()
    assert card["id"] == str(video.pk)
    assert card["prompt"] is None and card["triggers"] == []
    text = str(card)
    assert auth_client.user.email not in text and "user_id" not in card and "secret" not in text
    video_gallery_moderate(video_ids=[video.pk], hidden=True)
    assert gallery() == []


def test_featured_first_then_newest_and_unpublish_and_delete_leave_at_once(make_auth_client):
    owner = make_auth_client()
    first, second, third = (ready_video(owner.user) for _ in range(3))
    for video in (first, second, third):
        owner.post(f"/api/videos/{video.pk}/publish", {}, format="json")
    video_gallery_moderate(video_ids=[first.pk], featured=True)
    assert [c["id"] for c in gallery()] == [str(first.pk), str(third.pk), str(second.pk)]
    owner.delete(f"/api/videos/{third.pk}/publish")
    owner.delete(f"/api/videos/{first.pk}")
    assert [c["id"] for c in gallery()] == [str(second.pk)]


def test_only_a_completed_video_can_be_published(auth_client):
    video = ready_video(auth_client.user, status="processing")
    answer = auth_client.post(f"/api/videos/{video.pk}/publish", {}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "VIDEO_NOT_PUBLISHABLE"


def test_another_users_video_cannot_be_published(auth_client):
    video = ready_video(UserFactory())
    assert auth_client.post(f"/api/videos/{video.pk}/publish", {}, format="json").status_code == 404


def test_likes_once_per_user_and_unlike(make_auth_client):
    owner, fan = make_auth_client(), make_auth_client()
    video = ready_video(owner.user)
    assert fan.post(f"/api/videos/{video.pk}/like").status_code == 404  # not published: not likeable
    owner.post(f"/api/videos/{video.pk}/publish", {}, format="json")
    assert fan.post(f"/api/videos/{video.pk}/like").json()["data"]["likes_count"] == 1
    assert fan.post(f"/api/videos/{video.pk}/like").json()["data"]["likes_count"] == 1
    assert fan.delete(f"/api/videos/{video.pk}/like").json()["data"]["likes_count"] == 0
    assert fan.delete(f"/api/videos/{video.pk}/like").json()["data"]["likes_count"] == 0


def test_views_are_counted_for_gallery_videos_only(auth_client, api_client):
    video = ready_video(auth_client.user)
    assert api_client.post(f"/api/gallery/{video.pk}/view").json()["data"]["counted"] is False
    auth_client.post(f"/api/videos/{video.pk}/publish", {}, format="json")
    api_client.post(f"/api/gallery/{video.pk}/view")
    api_client.post(f"/api/gallery/{video.pk}/view")
    assert Video.objects.get(pk=video.pk).views_count == 2
    assert auth_client.get(f"/api/videos/{video.pk}").json()["data"]["video"]["views_count"] == 2


def test_a_deleted_account_takes_its_likes_out_of_the_counts(make_auth_client):
    owner, fan = make_auth_client(), make_auth_client()
    video = ready_video(owner.user, is_public=True)
    video_like(user=fan.user, video_id=video.pk)
    fan.delete("/api/user/account", {"confirmDeletion": True}, format="json")
    assert Video.objects.get(pk=video.pk).likes_count == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_likes_from_fifty_users_count_fifty():
    owner = UserFactory()
    video = ready_video(owner, is_public=True)
    fans = [UserFactory() for _ in range(50)]
    tokens = [auth_tokens_issue(user=fan)["token"] for fan in fans]
    barrier = threading.Barrier(50)
    codes: list = []

    def like(token):
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait()
            codes.append(client.post(f"/api/videos/{video.pk}/like").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=like, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert codes == [200] * 50
    assert Video.objects.get(pk=video.pk).likes_count == 50
    assert VideoLike.objects.filter(video=video).count() == 50
    audit_clean()
