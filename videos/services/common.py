"""What every generation service shares: the job history, and the refund of a video's charge."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from accounts.models import User
from credits.models import CreditTransaction
from credits.services import credits_refund
from videos.models import Video, VideoEvent, VideoStatus

logger = logging.getLogger("aiasmr.videos")

# Open states before KIE has said "success": a callback or a record may still settle these.
PRE_STORING = (VideoStatus.QUEUED, VideoStatus.SUBMITTED, VideoStatus.PROCESSING)


def video_event_record(
    *, video_id: uuid.UUID | str, source: str, summary: str, payload: dict | None = None
) -> None:
    """Adds a line to the job's history (what KIE or the service said), for staff to inspect; nothing when
    the video is gone (the user may delete it while KIE is still calling back about it)."""
    with transaction.atomic():
        # Under the row lock a concurrent delete has either committed (nothing to record) or waits for us;
        # without it the insert's foreign key fails once the delete commits.
        if Video.objects.select_for_update(no_key=True).filter(pk=video_id).values_list("pk", flat=True).first():
            VideoEvent.objects.create(video_id=video_id, source=source, summary=summary[:255], payload=payload or {})


def video_charge_refund(
    *, video: Video, reason: str, staff_user: User | None = None
) -> CreditTransaction | None:
    """Gives back the video's charge (`video.debit`) at most once; None when never charged or already refunded."""
    if video.debit_id is None:
        return None
    return credits_refund(debit=video.debit, description=reason[:255], staff_user=staff_user)
