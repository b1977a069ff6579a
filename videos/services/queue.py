"""The task-queue glue: enqueue with the data, back off between retries, rerun what a dead worker left.

The tasks are defined in `videos.tasks`, which imports the services they run. Services name a task by
its task path (what django-tasks stores in a task row and resolves when a worker runs it), so the
import graph stays one-way: tasks -> services, never back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("aiasmr.videos")

VIDEO_SUBMIT_TASK = "videos.tasks.video_submit_task"
VIDEO_COPY_TASK = "videos.tasks.video_copy_task"
STORAGE_FILES_DELETE_TASK = "videos.tasks.storage_files_delete"
WORKER_LOST_PATH = "videos.tasks.WorkerLost"


def task_by_path(*, task_path: str) -> Task:
    task = import_string(task_path)
    if not isinstance(task, Task):
        raise TypeError(f"{task_path} is not a task")
    return task


def task_enqueue(*, task_path: str, run_after: datetime | None = None, **kwargs: Any) -> None:
    """Enqueues the task with `kwargs`: inside the current transaction when the backend stores tasks in this
    database (the task commits or rolls back with the data), otherwise once the transaction commits."""
    task = task_by_path(task_path=task_path)
    if run_after is not None:
        task = task.using(run_after=run_after)
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(**kwargs)
    else:  # an immediate or in-memory backend would run or keep it whatever the transaction does
        transaction.on_commit(lambda: task.enqueue(**kwargs))


def retry_backoff(*, attempt: int) -> timedelta:
    """How long to wait before retry number `attempt`: doubling from the base, capped."""
    seconds = settings.GENERATION_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return timedelta(seconds=min(seconds, settings.GENERATION_RETRY_MAX_SECONDS))


def abandoned_tasks_rerun(*, now: datetime, limit: int) -> int:
    """The task library never reclaims a task whose worker died (killed, OOM, machine lost): its row stays
    RUNNING. Past WORKER_STALE_SECONDS such a row is closed as failed (WorkerLost) and the task enqueued
    again. Every task here is safe to run twice: claims, leases and conditional moves see to it."""
    abandoned_before = now - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    abandoned = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=abandoned_before)
    rerun = 0
    for row in list(abandoned.order_by("started_at")[:limit]):
        try:
            task = row.task
        except (ImportError, SuspiciousOperation):  # the code no longer has this task: close it only
            task = None
        with transaction.atomic():
            closed = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=WORKER_LOST_PATH,
                traceback=f"The worker stopped before finishing this task ({now.isoformat()}).",
            )
            if closed and task is not None:
                arguments = row.args_kwargs
                task.enqueue(*arguments["args"], **arguments["kwargs"])
                rerun += 1
                logger.warning(
                    "task abandoned by a stopped worker, run again",
                    extra={"event": "task_rerun", "task": str(row.pk), "path": row.task_path},
                )
    return rerun
