"""POST /api/uploads/images: type by bytes, size and pixel limits, bombs refused undecoded, metadata gone,
stored under the user's prefix; generate accepts only one's own uploads; unused uploads are pruned."""

import io
import os
import struct
import time
import zlib
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from PIL import Image, ImageFile

from tests.videos.conftest import GOOD_BODY, balance, png_bytes, upload_image
from videos.models import Upload, Video

GPS_TAG = 0x8825


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 20000) -> bytes:
    """A valid 1-bit greyscale PNG of side x side pixels: a few dozen KB that decode to 400 megapixels."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    compressed = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", compressed) + _chunk(b"IEND", b"")


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 20), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees to display upright
    exif[GPS_TAG] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif)
    return output.getvalue()


def _error(response):
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.django_db
def test_png_is_stored_reencoded_under_the_users_prefix(fake_kie, auth_client):
    response = upload_image(auth_client, png_bytes((64, 48)))

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    upload = Upload.objects.get(pk=data["id"])
    assert upload.user == auth_client.user
    assert upload.file.name == f"uploads/{auth_client.user.pk}/{upload.pk}.png"
    assert (data["width"], data["height"], data["contentType"]) == (64, 48, "image/png")
    assert data["url"].endswith(upload.file.name)
    with default_storage.open(upload.file.name, "rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        assert stored.format == "PNG" and stored.size == (64, 48)


@pytest.mark.django_db
def test_jpeg_metadata_is_removed_and_orientation_applied(fake_kie, auth_client):
    raw = jpeg_with_gps()
    assert GPS_TAG in Image.open(io.BytesIO(raw)).getexif()  # the fixture really carries GPS

    response = upload_image(auth_client, raw, name="holiday.jpg")

    assert response.status_code == 201, response.json()
    upload = Upload.objects.get(pk=response.json()["data"]["id"])
    with default_storage.open(upload.file.name, "rb") as handle:
        stored_raw = handle.read()
    stored = Image.open(io.BytesIO(stored_raw))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert b"Exif" not in stored_raw and b"PhoneMaker" not in stored_raw
    assert stored.size == (20, 40)  # turned upright before the orientation tag was dropped
    assert upload.file.name.endswith(".jpg")


@pytest.mark.django_db
def test_webp_is_accepted(fake_kie, auth_client):
    output = io.BytesIO()
    Image.new("RGBA", (30, 30), (1, 2, 3, 128)).save(output, format="WEBP")
    response = upload_image(auth_client, output.getvalue(), name="x.webp")
    assert response.status_code == 201 and response.json()["data"]["contentType"] == "image/webp"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw,name",
    [
        (b"just some text, not an image at all\n" * 20, "notes.png"),
        (b"GIF89a" + b"\x00" * 100, "anim.gif"),
        (b"%PDF-1.7\n" + b"0" * 100, "doc.jpg"),
    ],
)
def test_what_is_not_png_jpeg_or_webp_by_its_bytes_is_refused(fake_kie, auth_client, raw, name):
    assert _error(upload_image(auth_client, raw, name=name)) == (400, "UNSUPPORTED_IMAGE_TYPE")
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_real_gif_is_refused(fake_kie, auth_client):
    output = io.BytesIO()
    Image.new("RGB", (10, 10)).save(output, format="GIF")
    assert _error(upload_image(auth_client, output.getvalue(), name="a.png")) == (
        400,
        "UNSUPPORTED_IMAGE_TYPE",
    )


@pytest.mark.django_db
def test_truncated_png_is_refused(fake_kie, auth_client):
    raw = png_bytes((300, 300))
    assert _error(upload_image(auth_client, raw[: len(raw) // 2])) == (400, "INVALID_IMAGE")


@pytest.mark.django_db
def test_a_12_mb_image_is_refused_with_413(fake_kie, auth_client):
    noise = Image.frombytes("RGB", (2100, 2100), os.urandom(2100 * 2100 * 3))
    output = io.BytesIO()
    noise.save(output, format="PNG", compress_level=0)
    raw = output.getvalue()
    assert len(raw) > 12 * 1024 * 1024 - 1

    assert _error(upload_image(auth_client, raw)) == (413, "PAYLOAD_TOO_LARGE")
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_the_size_limit_is_checked_on_the_file_itself(fake_kie, auth_client, settings):
    settings.UPLOAD_IMAGE_MAX_BYTES = 1000  # below the body limit of the path: the service's own check
    noise = Image.frombytes("RGB", (40, 40), os.urandom(40 * 40 * 3))
    output = io.BytesIO()
    noise.save(output, format="PNG")
    assert _error(upload_image(auth_client, output.getvalue())) == (413, "PAYLOAD_TOO_LARGE")


@pytest.mark.django_db
def test_a_png_bomb_is_refused_without_decoding(fake_kie, auth_client, monkeypatch):
    bomb = png_bomb(20000)
    assert len(bomb) < 200_000
    decoded = []
    original_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or original_load(self)
    )

    started = time.monotonic()
    response = upload_image(auth_client, bomb, name="bomb.png")

    assert _error(response) == (400, "IMAGE_DIMENSIONS_TOO_LARGE")
    assert decoded == [] and time.monotonic() - started < 5
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_more_than_4096_pixels_a_side_is_refused(fake_kie, auth_client):
    response = upload_image(auth_client, png_bytes((4097, 8)))
    assert _error(response) == (400, "IMAGE_DIMENSIONS_TOO_LARGE")
    assert response.json()["error"]["details"]["width"] == 4097


@pytest.mark.django_db
def test_missing_file_and_anonymous_are_refused(fake_kie, auth_client, api_client):
    assert _error(auth_client.post("/api/uploads/images", {}, format="multipart")) == (
        400,
        "VALIDATION_ERROR",
    )
    assert _error(upload_image(api_client, png_bytes()))[0] == 401


@pytest.mark.django_db
def test_daily_quota_and_rate_limit(fake_kie, auth_client, settings):
    settings.UPLOAD_DAILY_QUOTA = 2
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": "3/h"}
    assert upload_image(auth_client, png_bytes()).status_code == 201
    assert upload_image(auth_client, png_bytes()).status_code == 201
    assert _error(upload_image(auth_client, png_bytes())) == (429, "UPLOAD_QUOTA_EXCEEDED")
    assert _error(upload_image(auth_client, png_bytes())) == (429, "UPLOAD_RATE_LIMIT_EXCEEDED")


@pytest.mark.django_db
def test_generate_accepts_own_upload_by_id_or_url_and_refuses_another_users(
    fake_kie, auth_client, make_auth_client
):
    mine = upload_image(auth_client, png_bytes()).json()["data"]
    other = make_auth_client()
    theirs = upload_image(other, png_bytes()).json()["data"]
    start = balance(auth_client.user)

    for ref in (theirs["id"], theirs["url"], "00000000-0000-4000-8000-000000000000"):
        response = auth_client.post("/api/generate", {**GOOD_BODY, "imageUrl": ref}, format="json")
        assert _error(response) == (400, "VALIDATION_ERROR"), ref
    assert not Video.objects.exists() and balance(auth_client.user) == start

    response = auth_client.post("/api/generate", {**GOOD_BODY, "imageUrl": mine["url"]}, format="json")
    assert response.status_code == 200, response.json()
    video = Video.objects.get()
    assert video.image_refs == [f"upload:{mine['id']}"] and video.image_url == ""
    assert response.json()["data"]["parameters"]["imageUrls"] == [mine["id"]]
    assert Upload.objects.get(pk=mine["id"]).used_at is not None


@pytest.mark.django_db
def test_prune_removes_only_old_unused_uploads(fake_kie, auth_client, settings):
    ids = [upload_image(auth_client, png_bytes()).json()["data"]["id"] for _ in range(3)]
    old, old_used, recent = (Upload.objects.get(pk=upload_id) for upload_id in ids)
    long_ago = timezone.now() - timedelta(hours=settings.UPLOAD_UNUSED_MAX_AGE_HOURS + 1)
    Upload.objects.filter(pk__in=[old.pk, old_used.pk]).update(created_at=long_ago)
    Upload.objects.filter(pk=old_used.pk).update(used_at=timezone.now())

    out = io.StringIO()
    call_command("uploads_prune", stdout=out)

    assert "removed 1" in out.getvalue()
    assert set(Upload.objects.values_list("pk", flat=True)) == {old_used.pk, recent.pk}
    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(old_used.file.name) and default_storage.exists(recent.file.name)


@pytest.mark.django_db
def test_account_deletion_removes_uploads_and_their_files(fake_kie, auth_client):
    from aiasmr.lifecycle.services import account_delete
    from tests.videos.conftest import run_tasks

    upload = Upload.objects.get(pk=upload_image(auth_client, png_bytes()).json()["data"]["id"])
    assert default_storage.exists(upload.file.name)

    account_delete(user=auth_client.user)
    run_tasks()

    assert not Upload.objects.exists()
    assert not default_storage.exists(upload.file.name)
