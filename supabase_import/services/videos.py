"""Videos: status, prompt, media kept in the bucket or copied by the copy task."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from supabase_import import mapping
from supabase_import import source as src
from supabase_import.writer import existing, insert_rows
from videos.models import Video, VideoStatus
from videos.serializers import ASPECT_RATIOS
from videos.services.queue import VIDEO_COPY_TASK, task_enqueue


def bucket_from_settings(extra_prefixes: Iterable[str] = ()) -> mapping.Bucket:
    """Where an object already in the configured storage is served from (so its key can be recovered), and
    the hosts the copy task fetches from (KIE_FILE_HOSTS; a listed port is not checked here)."""
    prefixes = list(extra_prefixes)
    if settings.USE_R2:
        if settings.R2_PUBLIC_DOMAIN:
            prefixes.append(f"https://{settings.R2_PUBLIC_DOMAIN.strip('/')}/")
        endpoint = settings.R2_ENDPOINT.rstrip("/")
        prefixes.append(f"{endpoint}/{settings.R2_BUCKET_NAME}/")
        scheme, _, host = endpoint.partition("://")
        prefixes.append(f"{scheme}://{settings.R2_BUCKET_NAME}.{host}/")
    else:
        prefixes.append(f"{settings.BASE_URL.rstrip('/')}{settings.MEDIA_URL}")
    hosts = {entry.lower().rpartition(":")[0] if ":" in entry else entry.lower() for entry in settings.KIE_FILE_HOSTS}
    return mapping.Bucket(prefixes=prefixes, fetchable_hosts=hosts)



class VideosPhase:
    """Part of SupabaseImport (run.py): uses its source, report, batch size, _phase and _guarded."""

    def media_hosts_check(self) -> list[str]:
        """Hosts of ready videos' media that are neither in the bucket nor fetchable by the copy task.

        Copying from such a host would fail and, past the retries, fail and refund the video: so the run
        stops before writing anything unless told to import those videos without their files."""
        bucket_hosts = {(mapping.urlsplit(p).hostname or "").lower() for p in self.bucket.prefixes}
        hosts = [row["host"] for row in self.source.conn.execute(src.MEDIA_HOSTS_SQL).fetchall() if row["host"]]
        return sorted(h for h in hosts if h not in bucket_hosts and h not in self.bucket.fetchable_hosts)

    def videos(self) -> None:
        total = self.source.count("SELECT count(*) AS n FROM public.videos")
        self._phase("videos", self.source.stream(src.videos_sql(self.source)), total, self._videos_write)

    def _videos_write(self, batch: list[dict]) -> None:
        report, table = self.report, "videos"
        already = existing(Video, "id", [row["id"] for row in batch])
        report.add(table, "already imported", len(already))
        users = existing(User, "id", [row["user_id"] for row in batch])
        task_ids = {mapping.text(row["task_id"], 128) or None for row in batch}
        taken = existing(Video, "provider_task_id", task_ids)
        rows, copies = [], []
        for row in report.rows_of_imported_users(table=table, batch=batch, already=already, users=users):
            prompt = mapping.text(row["prompt"]) or mapping.text(row["title"])
            if not prompt:
                report.skip(table, row["id"], "no prompt")
                continue
            media = mapping.video_media(row, self.bucket)
            if media.note:
                report.note(table, row["id"], media.note)
            task_id = mapping.text(row["task_id"], 128).strip()
            if task_id in taken:
                report.note(table, row["id"], f"KIE task id {task_id} already belongs to another video: not kept")
                task_id = ""
            taken.add(task_id)
            if media.status == VideoStatus.PROCESSING and not task_id:
                media.status = VideoStatus.FAILED
            quality = mapping.text(row["quality"] or row["resolution"], 8) or "720p"
            aspect = mapping.text(row["aspect_ratio"])
            created = row["created_at"] or timezone.now()
            rows.append(
                {
                    "id": row["id"],
                    "user_id": row["user_id"],
                    "status": media.status,
                    "prompt": prompt,
                    "enhanced_prompt": prompt,
                    "triggers": [mapping.text(t, 100) for t in (row["triggers"] or []) if t is not None],
                    "duration": min(mapping.leading_int(row["duration"], 5), 32767),
                    "quality": quality,
                    "aspect_ratio": aspect if aspect in ASPECT_RATIOS else "16:9",
                    "credit_cost": max(row["credit_cost"] or 0, 0),
                    "provider": "kie",
                    "provider_task_id": task_id or None,
                    "provider_state": "success" if media.status in (VideoStatus.READY, VideoStatus.STORING) else "",
                    "provider_video_url": media.provider_video_url,
                    "provider_thumbnail_url": media.provider_thumbnail_url,
                    "video_file": media.video_file,
                    "thumbnail_file": media.thumbnail_file,
                    "file_size": row["file_size"] if (row["file_size"] or 0) > 0 else None,
                    "is_favorite": bool(row["is_favorite"]),
                    "error_code": "GENERATION_FAILED" if media.status == VideoStatus.FAILED else "",
                    "error_message": mapping.text(row["error_message"] or media.note, 500)
                    if media.status == VideoStatus.FAILED
                    else "",
                    "created_at": created,
                    # A copy starts fresh: the sweep re-queues a storing video only once it has been idle a while.
                    "updated_at": timezone.now() if media.needs_copy else (row["updated_at"] or created),
                    "submitted_at": row["generation_started_at"] or (created if task_id else None),
                    "completed_at": row["generation_completed_at"] if media.status == VideoStatus.READY else None,
                }
            )
            if media.needs_copy:
                copies.append(row["id"])
        inserted = insert_rows(Video, rows)
        for video_id in copies:
            if video_id in inserted:
                # The same lease/retry path as a finished generation: storing -> ready once copied.
                # In the batch's transaction on the database backend, after its commit on any other.
                task_enqueue(task_path=VIDEO_COPY_TASK, video_id=str(video_id))
        report.add(table, "imported", len(inserted))
        report.add(table, "copies queued", len([v for v in copies if v in inserted]))
