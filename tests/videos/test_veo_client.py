"""The Veo client against the fake KIE over HTTP, and its reading of KIE's documented record shapes."""

import pytest

from videos.kie.client import KieOutcomeUnknown, KieRejected, kie_client
from videos.kie.veo import parse_veo_record, veo_1080p, veo_generate, veo_record


@pytest.mark.parametrize(
    "flag,state", [(0, "generating"), (1, "success"), (2, "fail"), (3, "fail"), (None, ""), ("x", "")]
)
def test_success_flags_map_to_states(flag, state):
    record = parse_veo_record(
        {"taskId": "t", "successFlag": flag, "response": {"resultUrls": ["https://f.example/v.mp4"]}}
    )
    assert record.state == state
    assert record.video_url == ("https://f.example/v.mp4" if state == "success" else "")


def test_a_failed_record_carries_its_error_and_origin_urls_are_a_fallback():
    failed = parse_veo_record(
        {"taskId": "t", "successFlag": 2, "errorCode": 400, "errorMessage": "unsafe image"}
    )
    assert (failed.fail_code, failed.fail_msg) == ("400", "unsafe image")
    done = parse_veo_record(
        {"successFlag": 1, "response": {"resultUrls": [], "originUrls": ["https://o/v.mp4"]}}, task_id="t2"
    )
    assert done.video_url == "https://o/v.mp4" and done.task_id == "t2"
    with pytest.raises(KieOutcomeUnknown):
        parse_veo_record(None)


@pytest.mark.django_db
def test_generate_record_and_1080p_against_the_fake(fake_kie):
    client = kie_client()
    result = veo_generate(
        client, prompt="rain on a window", model="veo3_fast", aspect_ratio="16:9", callback_url="http://x/cb"
    )
    record = veo_record(client, result.task_id)
    assert record.state == "success" and record.video_url.endswith(f"{result.task_id}.mp4")
    assert veo_1080p(client, result.task_id).url.endswith(f"{result.task_id}-1080p.mp4")

    fake_kie.configure(hd_seconds=60)
    pending = veo_1080p(client, result.task_id)
    assert pending.url == "" and not pending.final
    fake_kie.configure(hd_code=422)
    assert veo_1080p(client, result.task_id).final


@pytest.mark.django_db
def test_generate_errors_map_like_runway(fake_kie):
    fake_kie.configure(generate_code=422)
    with pytest.raises(KieRejected) as caught:
        veo_generate(kie_client(), prompt="x", model="veo3", aspect_ratio="16:9", callback_url="http://x/cb")
    assert caught.value.code == "PROMPT_REJECTED"


@pytest.mark.django_db
def test_the_fake_refuses_what_veo_refuses(fake_kie):
    with pytest.raises(KieRejected):
        veo_generate(kie_client(), prompt="x", model="veo9", aspect_ratio="16:9", callback_url="http://x/cb")
    with pytest.raises(KieRejected):
        veo_generate(kie_client(), prompt="x", model="veo3", aspect_ratio="4:3", callback_url="http://x/cb")
