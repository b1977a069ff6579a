"""routes/videos.js: the user's videos as rows of the Supabase `videos` table (select *)."""

import uuid

import pytest

from tests.compat.conftest import SLASHES, make_failed_video, make_ready_video, start_generation
from tests.compat.shapes import PAGINATION, VALIDATION_DETAIL, VIDEO_ROW, assert_error, assert_ok
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# routes/videos.js GET /
VIDEO_LIST = {"success": bool, "data": {"videos": [VIDEO_ROW], "pagination": PAGINATION}}
# routes/videos.js GET /:id: the row under data.video
VIDEO = {"success": bool, "data": {"video": VIDEO_ROW}}
# routes/videos.js PUT /:id/favorite: the updated row under data.video, and a message
FAVORITE = {"success": bool, "data": {"video": VIDEO_ROW}, "message": str}
# routes/videos.js DELETE /:id
DELETED = {"success": bool, "message": str}
# routes/videos.js GET /stats (unreachable in Express behind /:id, reachable here)
STATS = {
    "success": bool,
    "data": {"statistics": {"total": int, "completed": int, "processing": int, "failed": int, "successRate": int}},
}


@pytest.fixture
def three_videos(rich_client, fake_kie):
    """One ready, one failed and one still running: their taskIds in that order."""
    return make_ready_video(rich_client, fake_kie), make_failed_video(rich_client, fake_kie), start_generation(rich_client)


def _row(client, task_id):
    return client.get(f"/api/videos/{task_id}").json()["data"]["video"]


# --- GET /videos --------------------------------------------------------------------------------------


@SLASHES
def test_list_answers_rows_newest_first(rich_client, three_videos, slash):
    # routes/videos.js GET /: rows ordered by created_at desc, status in the table's processing/ready/failed
    body = assert_ok(rich_client.get(f"/api/videos{slash}"), VIDEO_LIST)
    rows = body["data"]["videos"]
    assert [row["status"] for row in rows] == ["processing", "failed", "ready"]
    assert [row["id"] for row in rows] == list(reversed(three_videos))
    assert body["data"]["pagination"] == {
        "page": 1, "limit": 20, "total": 3, "totalPages": 1, "hasNext": False, "hasPrev": False,
    }


def test_list_pages(rich_client, three_videos):
    # routes/videos.js GET /: range(offset, offset + limit - 1) and the pagination block
    body = assert_ok(rich_client.get("/api/videos?page=2&limit=2"), VIDEO_LIST)
    assert len(body["data"]["videos"]) == 1
    assert (body["data"]["pagination"]["totalPages"], body["data"]["pagination"]["hasPrev"]) == (2, True)


@pytest.mark.parametrize("query", ["limit=101", "page=0"])
def test_list_with_bad_paging_is_a_validation_error(auth_client, query):
    # validation.js paginationSchema
    assert_error(auth_client.get(f"/api/videos?{query}"), 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])


# --- GET /videos/stats --------------------------------------------------------------------------------


@SLASHES
def test_stats_are_reachable(rich_client, three_videos, slash):
    # routes/videos.js GET /stats was declared after /:id, so Express answered VALIDATION_ERROR (a defect)
    body = assert_ok(rich_client.get(f"/api/videos/stats{slash}"), STATS)
    assert body["data"]["statistics"] == {"total": 3, "completed": 1, "processing": 1, "failed": 1, "successRate": 33}


# --- GET /videos/:id ----------------------------------------------------------------------------------


@SLASHES
def test_a_ready_video_is_its_row(rich_client, fake_kie, slash):
    # routes/videos.js GET /:id: data.video is the row; video-processor.js stored duration as text
    task_id = make_ready_video(rich_client, fake_kie)
    body = assert_ok(rich_client.get(f"/api/videos/{task_id}{slash}"), VIDEO)
    video = body["data"]["video"]
    assert (video["id"], video["status"], video["duration"], video["credit_cost"]) == (task_id, "ready", "5", 20)
    assert video["download_url"] and video["thumbnail_url"] and video["task_id"]
    assert (video["quality"], video["aspect_ratio"], video["is_favorite"]) == ("720p", "16:9", False)
    assert video["triggers"] == ["soap"]


def test_a_failed_video_is_its_row_with_the_error_message(rich_client, fake_kie):
    # video-processor.js updateVideoStatus(taskId, 'failed', error) sets error_message
    task_id = make_failed_video(rich_client, fake_kie)
    video = assert_ok(rich_client.get(f"/api/videos/{task_id}"), VIDEO)["data"]["video"]
    assert video["status"] == "failed" and video["error_message"]
    assert video["download_url"] is None


def test_a_video_being_generated_is_processing(auth_client, fake_kie):
    # video-processor.js createPendingVideo: status 'processing' until the callback
    task_id = start_generation(auth_client)
    assert assert_ok(auth_client.get(f"/api/videos/{task_id}"), VIDEO)["data"]["video"]["status"] == "processing"


def test_a_video_id_that_is_not_a_uuid_is_a_validation_error(auth_client):
    # validation.js validateUUID('id') on the params: 400 VALIDATION_ERROR with field "id"
    error = assert_error(auth_client.get("/api/videos/not-a-uuid"), 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])
    assert [detail["field"] for detail in error["details"]] == ["id"]


def test_an_unknown_or_foreign_video_is_video_not_found(auth_client, fake_kie, make_auth_client):
    # routes/videos.js GET /:id: PGRST116 -> 404 VIDEO_NOT_FOUND; the filter on user_id hides others' rows
    assert_error(auth_client.get(f"/api/videos/{uuid.uuid4()}"), 404, "VIDEO_NOT_FOUND")
    task_id = start_generation(auth_client)
    assert_error(make_auth_client(UserFactory()).get(f"/api/videos/{task_id}"), 404, "VIDEO_NOT_FOUND")


# --- PUT /videos/:id/favorite -------------------------------------------------------------------------


@SLASHES
def test_favorite_answers_the_updated_row(rich_client, fake_kie, slash):
    # routes/videos.js PUT /:id/favorite: update is_favorite = Boolean(favorite), answer data.video
    task_id = make_ready_video(rich_client, fake_kie)
    body = assert_ok(rich_client.put(f"/api/videos/{task_id}/favorite{slash}", {"favorite": True}, format="json"),
                     FAVORITE)
    assert body["data"]["video"]["is_favorite"] is True
    assert _row(rich_client, task_id)["is_favorite"] is True


def test_favorite_without_a_value_unmarks(rich_client, fake_kie):
    # routes/videos.js PUT /:id/favorite: Boolean(undefined) is false, no validation error
    task_id = make_ready_video(rich_client, fake_kie)
    rich_client.put(f"/api/videos/{task_id}/favorite", {"favorite": True}, format="json")
    body = assert_ok(rich_client.put(f"/api/videos/{task_id}/favorite", {}, format="json"), FAVORITE)
    assert body["data"]["video"]["is_favorite"] is False


def test_favorite_of_an_unknown_video_is_video_not_found(auth_client):
    # routes/videos.js PUT /:id/favorite: PGRST116 -> 404 VIDEO_NOT_FOUND
    response = auth_client.put(f"/api/videos/{uuid.uuid4()}/favorite", {"favorite": True}, format="json")
    assert_error(response, 404, "VIDEO_NOT_FOUND")


# --- DELETE /videos/:id -------------------------------------------------------------------------------


@SLASHES
def test_delete_answers_success_and_message(rich_client, fake_kie, slash):
    # routes/videos.js DELETE /:id: 200 {success, message}
    task_id = make_ready_video(rich_client, fake_kie)
    assert_ok(rich_client.delete(f"/api/videos/{task_id}{slash}"), DELETED)
    assert_error(rich_client.get(f"/api/videos/{task_id}"), 404, "VIDEO_NOT_FOUND")


def test_delete_of_an_unknown_video_is_video_not_found(auth_client):
    # routes/videos.js DELETE /:id: PGRST116 -> 404 VIDEO_NOT_FOUND
    assert_error(auth_client.delete(f"/api/videos/{uuid.uuid4()}"), 404, "VIDEO_NOT_FOUND")


def test_delete_of_a_malformed_id_is_a_validation_error(auth_client):
    # validation.js validateUUID('id')
    assert_error(auth_client.delete("/api/videos/123"), 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])
