"""Does the hand-built video row (`video_row_data`, shipped) earn its keep over VideoRowSerializer on GET /api/videos?

House style (issue 9, item 3): one source per response shape, unless a second path is measured >= 20% faster
end to end. This times, in-process, on a throw-away test database (SQLite unless DATABASE_URL is set):

1. serializing one page of videos: VideoListSerializer against a hand-built dict per row over the same
   Video objects (`.only(...)`, as the selector loads them);
2. the whole request `GET /api/videos?limit=N` through Django's test client (middleware, authentication,
   rendering): the view as shipped (ORM + hand-built rows) against the same view with the serializer.

Usage: python bench/video_row_serialization.py [--rounds 300] [--limit 20]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiasmr.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.response import Response  # noqa: E402

from accounts.services import auth_tokens_issue  # noqa: E402
from aiasmr.api.pagination import page_params, paginate  # noqa: E402
from aiasmr.api.renderers import envelope  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from videos import selectors  # noqa: E402
from videos.models import Video  # noqa: E402
from videos.serializers import VideoListSerializer, video_row_data  # noqa: E402
from videos.views import VideoViewSet  # noqa: E402


def list_through_the_serializer(self, request):
    """The list as it was before the hand-built rows: every row through VideoListSerializer."""
    page, limit = page_params(request, default_limit=20)
    items, pagination = paginate(selectors.videos_for_user(user=request.user), page=page, limit=limit)
    return Response(envelope(VideoListSerializer({"videos": items, "pagination": pagination}).data))


def interleaved(variants: dict, rounds: int) -> dict:
    """Median milliseconds per call of each variant, taking turns every round (after a warm-up)."""
    samples: dict = {name: [] for name in variants}
    for round_number in range(rounds + 20):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            if round_number >= 20:
                samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def seed(count: int):
    user = UserFactory()
    now = timezone.now()
    Video.objects.bulk_create(
        [
            Video(
                user=user,
                prompt=f"bench prompt {i}",
                enhanced_prompt=f"ASMR video: bench prompt {i}",
                triggers=["soap", "cutting"],
                duration=5,
                quality="720p",
                credit_cost=20,
                status="ready" if i % 4 else "failed",
                provider_task_id=f"task-{i}",
                video_file=f"videos/{user.pk}/{i}.mp4" if i % 4 else "",
                thumbnail_file=f"thumbnails/{user.pk}/{i}.jpg" if i % 4 else "",
                file_size=123456 if i % 4 else None,
                submitted_at=now,
                completed_at=now,
                error_code="" if i % 4 else "GENERATION_FAILED",
                error_message="" if i % 4 else "failed",
            )
            for i in range(count)
        ]
    )
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()

    setup_test_environment()
    settings.RATELIMIT_ENABLE = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user = seed(args.limit)
        token = auth_tokens_issue(user=user)["token"]
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        url = f"/api/videos?limit={args.limit}"

        videos = list(selectors.videos_for_user(user=user))
        pagination = {"page": 1, "limit": args.limit, "total": len(videos), "totalPages": 1,
                      "hasNext": False, "hasPrev": False}  # fmt: skip
        serialized = VideoListSerializer({"videos": videos, "pagination": pagination}).data["videos"]
        assert [dict(r) for r in serialized] == [video_row_data(v) for v in videos], "the two paths differ"

        only = interleaved(
            {
                "serializer": lambda: VideoListSerializer({"videos": videos, "pagination": pagination}).data,
                "hand-built": lambda: [video_row_data(v) for v in videos],
            },
            args.rounds,
        )

        def get_with(view):
            def get():
                VideoViewSet.list = view
                response = client.get(url)
                assert response.status_code == 200, response.content[:200]

            return get

        shipped = VideoViewSet.list
        end_to_end = interleaved(
            {"serializer": get_with(list_through_the_serializer), "hand-built rows (shipped)": get_with(shipped)},
            args.rounds,
        )
        VideoViewSet.list = shipped
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"database: {connection.vendor}; median of {args.rounds} rounds; {args.limit} videos a page")
    print(
        f"serialize the page: serializer {only['serializer']:.3f} ms, hand-built {only['hand-built']:.3f} ms"
    )
    base = end_to_end["serializer"]
    print(f"GET /api/videos?limit={args.limit}, end to end:")
    for name, ms in end_to_end.items():
        print(f"  {name:30s} {ms:7.3f} ms  ({(base - ms) / base * 100:+5.1f}% faster than the serializer)")
    print("keep a second path only if it is >= 20% faster end to end")


if __name__ == "__main__":
    main()
