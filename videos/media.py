"""Fetching KIE's files (size cap, timeouts, content-type check) and putting them into storage."""

from __future__ import annotations

import tempfile
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from videos.kie.client import KieClient, KieDownloadError

VIDEO_TYPES = {"video/mp4", "application/octet-stream", "binary/octet-stream", "video/quicktime"}
IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/webp", "application/octet-stream"}
CHUNK = 256 * 1024


class MediaRejected(KieDownloadError):
    """The file is not acceptable (too large, wrong type): retrying will not help."""

    code = "MEDIA_REJECTED"


def host_allowed(url: str) -> bool:
    """True when `url` is on a configured KIE file host (https, or any scheme when a port is listed)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return False
    host = parts.hostname.lower()
    for entry in settings.KIE_FILE_HOSTS:
        entry = entry.lower()
        if ":" in entry:
            allowed_host, _, allowed_port = entry.rpartition(":")
            effective = port or (443 if parts.scheme == "https" else 80)
            if host == allowed_host and str(effective) == allowed_port:
                return True
        elif host == entry and parts.scheme == "https" and port in (None, 443):
            return True
    return False


def media_fetch(client: KieClient, url: str, *, kind: str, trusted: bool):
    """Streams `url` into a temporary file; returns (file, size). Falls back to KIE's download link.

    `trusted`: the URL came from KIE's API (redirects may be followed); otherwise it must be on a
    configured KIE file host and no redirect is followed.
    """
    if not trusted and not host_allowed(url):
        raise MediaRejected("The file URL is not on a KIE file host.")
    try:
        return _stream(client, url, kind=kind, allow_redirects=trusted)
    except MediaRejected:
        raise
    except KieDownloadError as exc:
        if exc.status not in (301, 302, 303, 307, 308, 401, 403, 404, 410):
            raise
        # An expired or moved link: ask KIE for a fresh temporary download link.
        fresh = client.download_url(url)
        return _stream(client, fresh, kind=kind, allow_redirects=True)


def _stream(client: KieClient, url: str, *, kind: str, allow_redirects: bool):
    cap = settings.KIE_MEDIA_MAX_BYTES
    deadline = time.monotonic() + settings.KIE_DOWNLOAD_TIMEOUT_SECONDS
    response = client.open_download(url, allow_redirects=allow_redirects)
    try:
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        allowed = VIDEO_TYPES if kind == "video" else IMAGE_TYPES
        if content_type not in allowed:
            raise MediaRejected(f"Unexpected content type {content_type or 'none'} for the {kind}.")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise MediaRejected(f"The {kind} is larger than {cap} bytes.")
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - handed to the caller
        size = 0
        try:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > cap:
                    raise MediaRejected(f"The {kind} is larger than {cap} bytes.")
                if time.monotonic() > deadline:
                    raise KieDownloadError(f"The {kind} download took too long.")
                spool.write(chunk)
        except KieDownloadError:
            spool.close()
            raise
        except Exception as exc:  # a broken stream is a failed download, retried later
            spool.close()
            raise KieDownloadError(f"The {kind} download broke: {exc.__class__.__name__}")
        if declared and declared.isdigit() and int(declared) != size:
            spool.close()
            raise KieDownloadError(f"The {kind} download was cut short.")
        if size == 0:
            spool.close()
            raise KieDownloadError(f"The {kind} is empty.")
        spool.seek(0)
        return spool, size
    finally:
        response.close()


def media_store(*, name: str, spool) -> str:
    """Saves under exactly `name` (replacing an earlier partial copy); returns the stored name."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, File(spool, name=name.rsplit("/", 1)[-1]))


def media_url(file_field) -> str | None:
    """The client URL of a stored copy: signed and expiring for a private bucket, or the public domain."""
    if not file_field or not file_field.name:
        return None
    return file_field.storage.url(file_field.name)
