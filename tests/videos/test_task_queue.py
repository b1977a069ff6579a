"""The task-queue glue: services name tasks by path, and enqueue them with the data or after the commit."""

import pytest
from django.db import transaction
from django_tasks import default_task_backend
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from videos.services import queue


@pytest.mark.parametrize(
    "path", [queue.VIDEO_SUBMIT_TASK, queue.VIDEO_COPY_TASK, queue.STORAGE_FILES_DELETE_TASK]
)
def test_each_task_path_names_the_task_stored_under_it(path):
    task = queue.task_by_path(task_path=path)
    assert isinstance(task, Task) and task.module_path == path


def test_the_worker_lost_path_names_an_exception():
    from django.utils.module_loading import import_string

    assert issubclass(import_string(queue.WORKER_LOST_PATH), Exception)


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_enqueues_inside_the_transaction_and_rolls_back_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.task_enqueue(task_path=queue.STORAGE_FILES_DELETE_TASK, paths=["videos/x.mp4"])
        assert DBTaskResult.objects.filter(task_path=queue.STORAGE_FILES_DELETE_TASK).count() == 1
        raise RuntimeError("roll back")
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_another_backend_gets_the_task_only_once_the_transaction_commits(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue.task_enqueue(task_path=queue.STORAGE_FILES_DELETE_TASK, paths=["videos/x.mp4"])
        assert default_task_backend.results == []
    [result] = default_task_backend.results
    assert (result.task.module_path, result.kwargs) == (
        queue.STORAGE_FILES_DELETE_TASK,
        {"paths": ["videos/x.mp4"]},
    )
