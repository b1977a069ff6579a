"""The KIE client against the fake over HTTP: typed results, both record shapes, errors mapped."""

import pytest

from videos.kie.client import KieRejected, KieUnreachable, kie_client, parse_record


def test_account_credits_and_download_url(fake_kie):
    fake_kie.configure(credits=1234)
    client = kie_client()

    assert client.account_credits() == 1234
    assert client.download_url(f"{fake_kie.url}/files/x.mp4") == f"{fake_kie.url}/files/x.mp4?download=1"


def test_generate_and_both_record_shapes(fake_kie):
    client = kie_client()
    result = client.generate(
        prompt="ASMR video: test", duration=5, quality="720p", aspect_ratio="16:9", callback_url="http://cb/x"
    )

    record = client.record_detail(result.task_id)
    assert record.task_id == result.task_id and record.state == "success"
    assert record.video_url.endswith(f"/files/{result.task_id}.mp4") and record.image_url.endswith(".jpg")

    fake_kie.configure(record_shape="old")
    old = client.record_detail(result.task_id)
    assert old.task_id == result.task_id and old.state == "success" and old.fail_code == ""


def test_parse_record_is_lenient():
    failed = parse_record(
        {"id": "t1", "state": "fail", "failCode": 400, "failMsg": "policy", "expireFlag": "1"}
    )
    assert (failed.task_id, failed.state, failed.fail_code, failed.fail_msg, failed.expired) == (
        "t1",
        "fail",
        "400",
        "policy",
        True,
    )
    odd = parse_record({"taskId": "t2", "state": "SOMETHING", "failCode": "", "videoInfo": "nope"})
    assert odd.state == "" and odd.fail_code == "" and odd.video_url == ""


def test_wrong_key_maps_to_auth_failed(fake_kie, settings):
    settings.KIE_API_KEY = "wrong"

    with pytest.raises(KieRejected) as caught:
        kie_client().account_credits()

    assert caught.value.code == "PROVIDER_AUTH_FAILED" and caught.value.status_code == 502


def test_unreachable_is_retryable(fake_kie, settings):
    settings.KIE_BASE_URL = "http://127.0.0.1:9/api/v1"

    with pytest.raises(KieUnreachable) as caught:
        kie_client().account_credits()

    assert caught.value.retryable


def test_unknown_generate_parameters_are_rejected_by_the_fake_like_kie(fake_kie):
    with pytest.raises(KieRejected) as caught:
        kie_client().generate(
            prompt="p", duration=8, quality="1080p", aspect_ratio="16:9", callback_url="http://c"
        )

    assert caught.value.kie_code == 422 and caught.value.code == "PROMPT_REJECTED"
