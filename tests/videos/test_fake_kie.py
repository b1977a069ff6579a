"""The fake KIE server itself: what tests rely on it for."""

import time

import pytest

from videos.kie.client import kie_client


@pytest.mark.django_db
def test_a_reset_forgets_callbacks_still_due(fake_kie):
    """A job left over from one test must not call back into the next one after the fixture's reset."""
    fake_kie.configure(callback="send", job_seconds=0.3)
    kie_client().generate(
        prompt="soap", duration=5, quality="720p", aspect_ratio="16:9", callback_url="http://127.0.0.1:9/gone"
    )
    fake_kie.reset(job_seconds=0, callback="send")

    time.sleep(0.6)
    assert fake_kie.callbacks() == []
