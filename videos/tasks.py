"""Background tasks (django-tasks, database backend). Each is a thin wrapper around one service.

django-tasks has no built-in retry: services re-enqueue themselves with `run_after` (backoff), naming
these tasks by their path through `videos.services.queue` (this module imports the services, never the
other way round). The paths are stored in task rows: a rename here needs the old name kept.
"""

from django_tasks import task

from videos.services.media_copy import stored_files_delete, video_copy_media
from videos.services.submission import video_submit


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped before finishing it (generations_sync runs it again)."""


@task()
def video_submit_task(*, video_id: str) -> None:
    video_submit(video_id=video_id)


@task()
def video_copy_task(*, video_id: str) -> None:
    video_copy_media(video_id=video_id)


@task()
def storage_files_delete(*, paths: list[str], attempt: int = 1) -> None:
    """Removes stored files; failed deletes are retried with backoff, then fail with the error."""
    stored_files_delete(paths=paths, attempt=attempt)
