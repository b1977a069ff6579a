import re

from rest_framework import serializers

from aiasmr.api.pagination import PaginationSerializer
from credits.models import TransactionType
from credits.selectors import APP_TRANSACTION_TYPES, app_transaction_type


class NullField(serializers.CharField):
    """A nullable string column of Express's row that this service never fills: always null."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, source="*", **kwargs)

    def to_representation(self, value):
        return None


class BalanceUserSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="user.id")
    email = serializers.EmailField(source="user.email")
    plan_type = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(source="credits")
    user = BalanceUserSerializer(source="*")


class AppTransactionTypeField(serializers.ChoiceField):
    """The row's type in the Express app's four (credits.selectors.app_transaction_type)."""

    def __init__(self, **kwargs):
        super().__init__(choices=APP_TRANSACTION_TYPES, source="*", read_only=True, **kwargs)

    def to_representation(self, row):
        return app_transaction_type(type=row["type"], amount=row["amount"])


class TransactionSerializer(serializers.Serializer):
    """A ledger entry (a row of credits.selectors.credits_history) as the Supabase `credit_transactions`
    row the Express app decodes, plus `kind`, `balance_after` and `order_id`.

    The shape of the history's rows and their schema; the history itself builds them with
    `transaction_data` (measured faster: bench/history_serialization.py), which
    tests/credits/test_history_rows.py holds to this serializer."""

    id = serializers.SerializerMethodField(help_text="The entry's id, as a string (imported entries keep their uuid).")
    user_id = serializers.UUIDField(allow_null=True)
    transaction_type = AppTransactionTypeField(
        help_text="purchase (also subscription grants), usage, refund, bonus (adjustments: bonus when they "
        "add credits, usage when they take them)"
    )
    kind = serializers.ChoiceField(source="type", choices=TransactionType.choices, help_text="This ledger's exact type.")
    amount = serializers.IntegerField(help_text="Signed: positive adds credits, negative takes them.")
    balance_after = serializers.IntegerField()
    description = serializers.CharField(allow_null=True)
    video_id = serializers.UUIDField(allow_null=True)
    task_id = serializers.SerializerMethodField(
        help_text="For generation entries, the video's task id as the video shows it (KIE's, else the video "
        "id); else null."
    )
    order_id = serializers.UUIDField(allow_null=True)
    subscription_id = serializers.UUIDField(allow_null=True)
    check_in_id = NullField(help_text="Always null: this service has no daily check-ins.")
    referral_id = NullField(help_text="Always null: this service has no referrals.")
    free_credits_type = NullField(help_text="Always null (check-in and referral credits do not exist here).")
    created_at = serializers.DateTimeField()

    def get_id(self, row) -> str:
        return _entry_id(row)

    def get_task_id(self, row) -> str | None:
        return _task_id(row)


# supabase_import keeps each imported entry's Supabase id in its idempotency key ("supabase:<uuid>"), so
# the app sees the id it knew; its own opening/closing adjustments ("supabase:opening") have none.
IMPORTED_KEY = re.compile(r"^supabase:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


def _entry_id(row: dict) -> str:
    imported = IMPORTED_KEY.match(row["idempotency_key"] or "")
    return imported.group(1) if imported else str(row["id"])


def _task_id(row: dict) -> str | None:
    if row["video_id"] is None:
        return None
    return row["video__provider_task_id"] or str(row["video_id"])


def _text(value) -> str | None:
    return None if value is None else str(value)


def iso_datetime(value) -> str:
    """The same text DRF's DateTimeField gives (UTC as a trailing Z)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def transaction_data(row: dict) -> dict:
    """TransactionSerializer's row built by hand: the history's hot path (50 rows in 0.3-0.6 ms, not 2-11,
    and the request 25-36% faster; bench/history_serialization.py). Same keys, values and JSON
    types as the serializer: tests/credits/test_history_rows.py."""
    return {
        "id": _entry_id(row),
        "user_id": _text(row["user_id"]),
        "transaction_type": app_transaction_type(type=row["type"], amount=row["amount"]),
        "kind": row["type"],
        "amount": row["amount"],
        "balance_after": row["balance_after"],
        "description": row["description"],
        "video_id": _text(row["video_id"]),
        "task_id": _task_id(row),
        "order_id": _text(row["order_id"]),
        "subscription_id": _text(row["subscription_id"]),
        "check_in_id": None,
        "referral_id": None,
        "free_credits_type": None,
        "created_at": iso_datetime(row["created_at"]),
    }


class HistorySerializer(serializers.Serializer):
    transactions = TransactionSerializer(many=True)
    pagination = PaginationSerializer()


class UsageQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=30)


class UsageRowSerializer(serializers.Serializer):
    spent = serializers.IntegerField()
    refunded = serializers.IntegerField()
    net = serializers.IntegerField()
    videos = serializers.IntegerField()


class UsageDaySerializer(UsageRowSerializer):
    date = serializers.DateField()


class UsageQualitySerializer(UsageRowSerializer):
    quality = serializers.CharField()


class ExpressUsageSerializer(serializers.Serializer):
    totalSpent = serializers.IntegerField(help_text="Credits charged for generations (refunds not netted).")  # noqa: N815
    totalPurchased = serializers.IntegerField(help_text="Credits bought: packages and subscriptions.")  # noqa: N815
    totalRefunded = serializers.IntegerField()  # noqa: N815
    currentBalance = serializers.IntegerField()  # noqa: N815
    videoGenerationCount = serializers.IntegerField(help_text="Generations charged.")  # noqa: N815
    averagePerVideo = serializers.IntegerField(help_text="totalSpent / videoGenerationCount, rounded.")  # noqa: N815


class UsageSerializer(serializers.Serializer):
    usage = ExpressUsageSerializer(help_text="Express's usage block, over the whole ledger.")
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    totals = UsageRowSerializer()
    byDay = UsageDaySerializer(many=True)  # noqa: N815
    byQuality = UsageQualitySerializer(many=True)  # noqa: N815

