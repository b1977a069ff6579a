from django.core.files.storage import default_storage
from django_tasks import task


@task()
def storage_files_delete(*, paths: list[str]) -> None:
    for path in paths:
        default_storage.delete(path)
