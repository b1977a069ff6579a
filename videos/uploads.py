"""Image uploads for image-to-video: checked by their bytes, re-encoded without metadata, stored under the
user's prefix, and referenced by generations by id (or by the URL answered for them).

Pillow reads only the header before the checks: a decompression bomb (a small file that claims a huge
canvas) is refused from its declared size, never decoded.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import User
from aiasmr.api.exceptions import ApiError, PayloadTooLarge, ValidationFailed
from aiasmr.api.logging import business_log
from videos.input_checks import public_https_url_error
from videos.models import Upload

# Pillow's format -> (content type, file extension, save options). Nothing else is accepted.
FORMATS = {
    "PNG": ("image/png", "png", {"optimize": False}),
    "JPEG": ("image/jpeg", "jpg", {"quality": 90}),
    "WEBP": ("image/webp", "webp", {"quality": 90}),
}
UPLOAD_REF_PREFIX = "upload:"
UPLOAD_PATH_RE = re.compile(
    r"/uploads/[^/]+/(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\."
)


class UnsupportedImageType(ApiError):
    code = "UNSUPPORTED_IMAGE_TYPE"


class InvalidImage(ApiError):
    code = "INVALID_IMAGE"


class ImageDimensionsTooLarge(ApiError):
    code = "IMAGE_DIMENSIONS_TOO_LARGE"


class UploadQuotaExceeded(ApiError):
    code = "UPLOAD_QUOTA_EXCEEDED"


def _open_checked(raw: bytes) -> Image.Image:
    """Opens the image header and checks type and pixel size before anything is decoded."""
    max_side = settings.UPLOAD_IMAGE_MAX_SIDE
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(raw), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageDimensionsTooLarge(details={"maxSide": max_side})
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise UnsupportedImageType(details={"accepted": [kind for kind, _, _ in FORMATS.values()]})
    width, height = image.size
    if width > max_side or height > max_side:
        raise ImageDimensionsTooLarge(
            f"The image is {width}x{height} pixels; at most {max_side} a side.",
            details={"maxSide": max_side, "width": width, "height": height},
        )
    if width < 1 or height < 1:
        raise InvalidImage()
    return image


def _reencode(image: Image.Image) -> tuple[bytes, str, str]:
    """Decodes (within the checked size) and writes a fresh file: no EXIF, GPS, XMP, ICC or text chunks.

    The EXIF orientation is applied first so the picture stays upright once its EXIF is gone.
    """
    content_type, extension, options = FORMATS[image.format]
    try:
        image.seek(0)  # animated PNG / WebP: the first frame only
        image.load()
        clean = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InvalidImage("The image is truncated or corrupt.")
    if image.format == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    elif clean.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        clean = clean.convert("RGBA")
    fresh = Image.new(clean.mode, clean.size)
    if clean.mode == "P":
        fresh.putpalette(clean.getpalette())
    fresh.paste(clean)
    output = io.BytesIO()
    fresh.save(output, format=image.format, **options)
    return output.getvalue(), content_type, extension


def image_upload_create(*, user: User, file) -> Upload:
    """Checks, re-encodes and stores one image for `user`; the row is written once the file is stored."""
    max_bytes = settings.UPLOAD_IMAGE_MAX_BYTES
    if file.size > max_bytes:
        raise PayloadTooLarge(f"The image is larger than {max_bytes} bytes.", details={"maxBytes": max_bytes})
    since = timezone.now() - timedelta(days=1)
    if Upload.objects.filter(user=user, created_at__gte=since).count() >= settings.UPLOAD_DAILY_QUOTA:
        raise UploadQuotaExceeded(details={"quota": settings.UPLOAD_DAILY_QUOTA, "period": "24h"})
    raw = file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The image is larger than {max_bytes} bytes.", details={"maxBytes": max_bytes})
    image = _open_checked(raw)
    data, content_type, extension = _reencode(image)
    upload = Upload(
        user=user, content_type=content_type, width=image.width, height=image.height, size=len(data)
    )
    # Storage first, outside any transaction; the row only exists once its file does.
    upload.file.save(f"{upload.id}.{extension}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            upload.save(force_insert=True)
    except Exception:
        default_storage.delete(upload.file.name)
        raise
    business_log.info(
        "image uploaded", extra={"event": "image_uploaded", "upload": str(upload.pk), "size": len(data)}
    )
    return upload


def upload_url(*, upload: Upload) -> str:
    """A URL anyone (KIE) can fetch: signed for UPLOAD_URL_EXPIRY_SECONDS on a private bucket."""
    storage = upload.file.storage
    try:
        return storage.url(upload.file.name, expire=settings.UPLOAD_URL_EXPIRY_SECONDS)
    except TypeError:  # storages without expiring URLs (local files, a public domain)
        return storage.url(upload.file.name)


def _upload_id_in(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    match = UPLOAD_PATH_RE.search(value.split("?", 1)[0])
    return uuid.UUID(match["id"]) if match else None


def looks_like_upload(value: str) -> bool:
    """An upload id, or the URL answered for an upload (checked against the owner when generating)."""
    return _upload_id_in(value.strip()) is not None


def image_refs_resolve(*, user: User, values: list[str]) -> list[str]:
    """The images of a generation request as stored refs: "upload:<id>" for the user's own uploads, public
    https URLs as they are. Another user's upload (or none at all) is refused like an unknown id."""
    refs = []
    for index, value in enumerate(values):
        value = value.strip()
        upload_id = _upload_id_in(value)
        if upload_id is not None:
            if not Upload.objects.filter(pk=upload_id, user=user).exists():
                raise ValidationFailed(
                    "The image is not one of your uploads.",
                    details=[{"field": f"imageUrls[{index}]", "message": "Unknown upload."}],
                )
            refs.append(f"{UPLOAD_REF_PREFIX}{upload_id}")
            continue
        problem = public_https_url_error(value)
        if problem:
            raise ValidationFailed(
                "The image URL is refused.", details=[{"field": f"imageUrls[{index}]", "message": problem}]
            )
        refs.append(value)
    return refs


def uploads_mark_used(*, refs: list[str]) -> None:
    """Called in the generation's transaction: a used upload is never pruned."""
    ids = [ref[len(UPLOAD_REF_PREFIX) :] for ref in refs if ref.startswith(UPLOAD_REF_PREFIX)]
    if ids:
        Upload.objects.filter(pk__in=ids, used_at__isnull=True).update(used_at=timezone.now())


def image_refs_urls(*, refs: list[str]) -> list[str]:
    """Fetchable URLs for stored refs, made fresh (at submission) so they outlive the generation."""
    ids = [ref[len(UPLOAD_REF_PREFIX) :] for ref in refs if ref.startswith(UPLOAD_REF_PREFIX)]
    uploads = {str(upload.pk): upload for upload in Upload.objects.filter(pk__in=ids)}
    urls = []
    for ref in refs:
        if ref.startswith(UPLOAD_REF_PREFIX):
            upload = uploads.get(ref[len(UPLOAD_REF_PREFIX) :])
            if upload is not None:
                urls.append(upload_url(upload=upload))
        else:
            urls.append(ref)
    return urls


def uploads_prune(*, older_than: timedelta, limit: int = 1000) -> int:
    """Removes uploads no generation used that are older than `older_than`: rows, then their files."""
    cutoff = timezone.now() - older_than
    stale = list(
        Upload.objects.filter(used_at__isnull=True, created_at__lt=cutoff).values_list("pk", "file")[:limit]
    )
    removed = 0
    for upload_id, name in stale:
        # Conditional: an upload picked by a generation meanwhile is kept.
        if Upload.objects.filter(pk=upload_id, used_at__isnull=True).delete()[0]:
            removed += 1
            try:
                default_storage.delete(name)
            except Exception:  # the file goes later by hand; the row (the reference) is gone already
                business_log.warning(
                    "upload file not deleted", extra={"event": "upload_file_delete_failed", "file": name}
                )
    return removed
