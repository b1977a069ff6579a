"""Background tasks (django-tasks, database backend). Each is a thin wrapper around one service.

django-tasks has no built-in retry: services re-enqueue themselves with `run_after` (backoff).
"""

import logging

from django.core.files.storage import default_storage
from django_tasks import task

logger = logging.getLogger("aiasmr.videos")


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped before finishing it (generations_sync runs it again)."""


@task()
def video_submit_task(*, video_id: str) -> None:
    from videos.services import video_submit

    video_submit(video_id=video_id)


@task()
def video_copy_task(*, video_id: str) -> None:
    from videos.services import video_copy_media

    video_copy_media(video_id=video_id)


@task()
def storage_files_delete(*, paths: list[str], attempt: int = 1) -> None:
    """Removes stored files. Paths whose delete fails (storage unreachable) are retried with backoff; after
    GENERATION_COPY_MAX_ATTEMPTS the task fails with the error (kept in the task results) and logs them."""
    from django.conf import settings
    from django.utils import timezone

    from videos.services import _backoff, _enqueue

    failed, error = [], None
    for path in paths:
        try:
            default_storage.delete(path)
        except Exception as exc:  # any storage failure: keep the path for the retry
            failed.append(path)
            error = exc
    if not failed:
        return
    extra = {"event": "storage_delete_failed", "paths": failed, "attempt": attempt, "error": repr(error)[:500]}
    if attempt >= settings.GENERATION_COPY_MAX_ATTEMPTS:
        logger.error("stored files could not be deleted; giving up", extra=extra)
        raise error
    logger.warning("stored files could not be deleted; retrying", extra=extra)
    _enqueue(
        storage_files_delete,
        run_after=timezone.now() + _backoff(attempt),
        paths=failed,
        attempt=attempt + 1,
    )
