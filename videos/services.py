"""Generation services (see issue: video generation). Placeholder for the account-deletion hook."""

from django.db import transaction

from videos.models import Video


def user_videos_delete(*, user) -> None:
    """Deletes the user's videos; their stored files are removed after the commit."""
    paths = []
    for video in Video.objects.filter(user=user).only("id", "video_file", "thumbnail_file"):
        paths.extend(name for name in (video.video_file.name, video.thumbnail_file.name) if name)
    Video.objects.filter(user=user).delete()
    if paths:
        from videos.tasks import storage_files_delete

        transaction.on_commit(lambda: storage_files_delete.enqueue(paths=paths))
