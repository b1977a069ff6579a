from django.conf import settings
from django.db import models


class TransactionType(models.TextChoices):
    BONUS = "bonus", "Bonus"
    PURCHASE = "purchase", "Purchase"
    USAGE = "usage", "Usage"
    REFUND = "refund", "Refund"
    SUBSCRIPTION = "subscription", "Subscription"
    ADJUSTMENT = "adjustment", "Adjustment"


class CreditTransaction(models.Model):
    """The append-only ledger: one row per balance change, written with the balance.

    A user's balance equals the sum of their rows' amounts (`manage.py credits_audit` proves it).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,  # kept, anonymised, when an account is deleted
        null=True,
        related_name="credit_transactions",
    )
    type = models.CharField(max_length=16, choices=TransactionType.choices)
    amount = models.IntegerField(help_text="Signed: positive adds credits, negative takes them.")
    balance_after = models.IntegerField()
    description = models.CharField(max_length=255, blank=True)
    video = models.ForeignKey(
        "videos.Video", on_delete=models.SET_NULL, null=True, blank=True, related_name="credit_transactions"
    )
    order = models.ForeignKey(
        "billing.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="credit_transactions"
    )
    subscription = models.ForeignKey(
        "billing.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credit_transactions",
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credit_adjustments_made",
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        help_text="The debit this refund gives back (at most one refund per debit).",
    )
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "credit_transactions"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("grant_credits", "Can grant or deduct credits"),
            ("refund_credits", "Can refund generations"),
        ]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="credit_tx_user_recent")]
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="credit_tx_balance_non_negative"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="credit_tx_amount_non_zero"),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="credit_tx_user_idempotency_unique",
            ),
            models.UniqueConstraint(
                fields=["video"],
                condition=models.Q(type="usage", video__isnull=False),
                name="credit_tx_one_charge_per_video",
            ),
            models.CheckConstraint(
                condition=models.Q(type="refund") | models.Q(reverses__isnull=True),
                name="credit_tx_only_refunds_reverse",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.amount:+d} -> {self.balance_after}"
