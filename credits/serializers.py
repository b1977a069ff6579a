from rest_framework import serializers

from aiasmr.api.pagination import PaginationSerializer


class BalanceUserSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="user.id")
    email = serializers.EmailField(source="user.email")
    plan_type = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(source="credits")
    user = BalanceUserSerializer(source="*")


class TransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(help_text="bonus, purchase, usage, refund, subscription, adjustment")
    amount = serializers.IntegerField(help_text="Signed: positive adds credits, negative takes them.")
    balance_after = serializers.IntegerField()
    description = serializers.CharField()
    video_id = serializers.UUIDField(allow_null=True)
    order_id = serializers.UUIDField(allow_null=True)
    subscription_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


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


class UsageSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    totals = UsageRowSerializer()
    byDay = UsageDaySerializer(many=True)  # noqa: N815
    byQuality = UsageQualitySerializer(many=True)  # noqa: N815


def iso_datetime(value) -> str:
    """The same text DRF's DateTimeField gives (UTC as a trailing Z)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def transaction_data(row: dict) -> dict:
    """A ledger row in TransactionSerializer's shape, without a serializer per row (the history's hot path)."""
    return {
        "id": row["id"],
        "type": row["type"],
        "amount": row["amount"],
        "balance_after": row["balance_after"],
        "description": row["description"],
        "video_id": str(row["video_id"]) if row["video_id"] else None,
        "order_id": str(row["order_id"]) if row["order_id"] else None,
        "subscription_id": str(row["subscription_id"]) if row["subscription_id"] else None,
        "created_at": iso_datetime(row["created_at"]),
    }
