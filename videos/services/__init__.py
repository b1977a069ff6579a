"""Generation: start (reserve credits), submit to KIE, settle from callbacks and records, copy media, sweep.

Rules kept everywhere here: no network call inside a transaction; every move into a final state is a
conditional update whose row count decides the side effect (a refund); tasks are enqueued inside the
transaction that makes them necessary (the database backend commits them with the data), through
`videos.services.queue`.
"""

from videos.catalog import PlanUpgradeRequired
from videos.services.callbacks import (
    CALLBACK_ERRORS,
    kie_callback_handle,
    parse_callback,
    video_apply_record,
    video_refresh_if_stale,
    video_sync_from_kie,
)
from videos.services.common import PRE_STORING, video_charge_refund, video_event_record
from videos.services.gallery import (
    user_likes_withdraw,
    video_gallery_moderate,
    video_like,
    video_publish,
    video_unlike,
    video_unpublish,
    video_view_count,
)
from videos.services.media_copy import stored_files_delete, video_copy_media
from videos.services.settlement import video_fail, video_mark_generated
from videos.services.start import video_generation_start
from videos.services.submission import callback_url_for, video_submit
from videos.services.sweep import generations_sweep
from videos.services.user_actions import (
    user_videos_delete,
    video_cancel,
    video_delete,
    video_favorite_set,
    video_refund,
)

__all__ = [
    "CALLBACK_ERRORS",
    "user_likes_withdraw",
    "video_gallery_moderate",
    "video_like",
    "video_publish",
    "video_unlike",
    "video_unpublish",
    "video_view_count",
    "PRE_STORING",
    "PlanUpgradeRequired",
    "callback_url_for",
    "generations_sweep",
    "kie_callback_handle",
    "parse_callback",
    "stored_files_delete",
    "user_videos_delete",
    "video_apply_record",
    "video_cancel",
    "video_charge_refund",
    "video_copy_media",
    "video_delete",
    "video_event_record",
    "video_fail",
    "video_favorite_set",
    "video_generation_start",
    "video_mark_generated",
    "video_refresh_if_stale",
    "video_refund",
    "video_submit",
    "video_sync_from_kie",
]
