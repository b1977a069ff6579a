"""Background tasks (django-tasks, database backend). Each is a thin wrapper around one service.

django-tasks has no built-in retry: services re-enqueue themselves with `run_after` (backoff).
"""

from django.core.files.storage import default_storage
from django_tasks import task


@task()
def video_submit_task(*, video_id: str) -> None:
    from videos.services import video_submit

    video_submit(video_id=video_id)


@task()
def video_copy_task(*, video_id: str) -> None:
    from videos.services import video_copy_media

    video_copy_media(video_id=video_id)


@task()
def storage_files_delete(*, paths: list[str]) -> None:
    for path in paths:
        default_storage.delete(path)
