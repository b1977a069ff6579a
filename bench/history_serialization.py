"""Do the credit history's hand-built rows and PreparedSelect page earn their keep?

House style (issue 9, item 3): one source per response shape, unless a second path is measured >= 20% faster
end to end. This times, in-process, on a throw-away test database (SQLite unless DATABASE_URL is set), one
user with 91 ledger rows (generations and refunds, with their videos), the variants taking turns:

1. serializing one page of 50 rows: TransactionSerializer against credits.serializers.transaction_data;
2. the whole request `GET /api/credits/history?limit=50` through Django's test client (middleware,
   authentication, rendering): the one-source path (the page through the ORM's `.values()`, the rows
   through TransactionSerializer), the ORM page with hand-built rows, and the view as shipped
   (aiasmr.db.PreparedSelect page, hand-built rows).

Usage: python bench/history_serialization.py [--rounds 300]
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
from rest_framework.response import Response  # noqa: E402

from accounts.services import auth_tokens_issue  # noqa: E402
from aiasmr.api.pagination import page_params, paginate  # noqa: E402
from credits import selectors  # noqa: E402
from credits.models import CreditTransaction  # noqa: E402
from credits.serializers import HistorySerializer, TransactionSerializer, transaction_data  # noqa: E402
from credits.services import credits_grant, credits_refund, credits_spend  # noqa: E402
from credits.views import CreditsViewSet  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from videos.models import Video  # noqa: E402


def history_serializer_over_orm(self, request):
    """The one-source alternative: the page through the ORM, each row through TransactionSerializer."""
    page, limit = page_params(request)
    rows = CreditTransaction.objects.filter(user_id=request.user.pk).order_by("-created_at", "-id")
    items, pagination = paginate(rows.values(*selectors.HISTORY_FIELDS), page=page, limit=limit)
    return Response(HistorySerializer({"transactions": items, "pagination": pagination}).data)


def history_hand_built_over_orm(self, request):
    """The page through the ORM, the rows built by transaction_data."""
    page, limit = page_params(request)
    rows = CreditTransaction.objects.filter(user_id=request.user.pk).order_by("-created_at", "-id")
    items, pagination = paginate(rows.values(*selectors.HISTORY_FIELDS), page=page, limit=limit)
    return Response({"transactions": [transaction_data(row) for row in items], "pagination": pagination})


def timed(fn, rounds: int) -> float:
    """Median milliseconds per call over `rounds` calls (after a warm-up)."""
    return interleaved({"": fn}, rounds)[""]


def interleaved(variants: dict, rounds: int) -> dict:
    """Median milliseconds per call of each variant, the variants taking turns every round (so the drift
    of a shared machine's speed hits them alike)."""
    samples: dict = {name: [] for name in variants}
    for round_number in range(rounds + 20):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            if round_number >= 20:  # warm-up
                samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def seed():
    user = UserFactory()
    credits_grant(user=user, amount=5000, type="purchase", description="bench funds")
    for i in range(40):
        video = Video.objects.create(
            user=user, prompt=f"bench prompt {i}", enhanced_prompt="ASMR", duration=5, quality="720p",
            credit_cost=20, status="failed" if i % 4 == 0 else "ready", provider_task_id=f"task-{i}",
        )
        debit = credits_spend(user=user, amount=20, description=f"generation {i}", video=video)
        if i % 4 == 0:
            credits_refund(debit=debit, description="failed")
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args().rounds

    setup_test_environment()
    settings.RATELIMIT_ENABLE = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user = seed()
        token = auth_tokens_issue(user=user)["token"]
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        url = "/api/credits/history?limit=50"

        rows = selectors.credits_history(user=user)[0:50]
        orm_rows = list(
            CreditTransaction.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values(*selectors.HISTORY_FIELDS)[:50]
        )
        assert rows == orm_rows, "PreparedSelect and the ORM read different rows"
        assert [dict(r) for r in TransactionSerializer(rows, many=True).data] == [transaction_data(r) for r in rows]

        only = interleaved(
            {
                "serializer": lambda: TransactionSerializer(rows, many=True).data,
                "hand-built": lambda: [transaction_data(r) for r in rows],
            },
            rounds,
        )

        def get_with(view):
            def get():
                CreditsViewSet.history = view
                response = client.get(url)
                assert response.status_code == 200, response.content[:200]

            return get

        shipped = CreditsViewSet.history
        end_to_end = interleaved(
            {
                "ORM values() + TransactionSerializer (one source)": get_with(history_serializer_over_orm),
                "ORM values() + transaction_data": get_with(history_hand_built_over_orm),
                "PreparedSelect + transaction_data (shipped)": get_with(shipped),
            },
            rounds,
        )
        CreditsViewSet.history = shipped
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"database: {connection.vendor}; median of {rounds} interleaved rounds; 50 ledger rows a page")
    print(f"serialize 50 rows: serializer {only['serializer']:.3f} ms, hand-built {only['hand-built']:.3f} ms")
    print("GET /api/credits/history?limit=50, end to end:")
    base = None
    for name, ms in end_to_end.items():
        base = base or ms
        print(f"  {name:52s} {ms:7.3f} ms  ({(base - ms) / base * 100:5.1f}% faster than the first)")
    orm, prepared = end_to_end["ORM values() + transaction_data"], end_to_end["PreparedSelect + transaction_data (shipped)"]
    print(f"  PreparedSelect against the ORM, both hand-built: {(orm - prepared) / orm * 100:.1f}% faster")
    print("a second path stays only if it is >= 20% faster end to end")

if __name__ == "__main__":
    main()
