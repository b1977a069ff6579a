"""Rows for back office tests, written through the real services where money is involved."""

from decimal import Decimal

from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from billing.models import CreditPackage, Order, OrderStatus, PaymentEvent, Plan, Subscription
from credits.services import credits_spend
from tests.factories import UserFactory
from videos.models import Video, VideoEvent, VideoStatus


def staff_make(*, perms: tuple[str, ...] = (), email: str | None = None, password: str = "Staff-pass-123!") -> User:
    """An active staff member with exactly the given 'app_label.codename' permissions."""
    user = UserFactory(**({"email": email} if email else {}))
    user.is_staff = True
    user.set_password(password)
    user.save()
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


def video_make(*, user, status=VideoStatus.FAILED, charge: bool = True, cost: int = 20, **fields) -> Video:
    """A generation; with `charge`, its usage debit is written through credits_spend like the API does."""
    now = timezone.now()
    video = Video.objects.create(
        user=user,
        status=status,
        prompt=fields.pop("prompt", "soap cutting on a wooden board"),
        enhanced_prompt=fields.pop("enhanced_prompt", "ASMR video: soap cutting on a wooden board"),
        triggers=fields.pop("triggers", ["soap"]),
        duration=fields.pop("duration", 5),
        quality=fields.pop("quality", "720p"),
        credit_cost=cost,
        submitted_at=now,
        completed_at=now if status in (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELLED) else None,
        **fields,
    )
    if charge:
        debit = credits_spend(user=user, amount=cost, description="Video generation", video=video)
        if hasattr(video, "debit"):
            Video.objects.filter(pk=video.pk).update(debit=debit)
            video.refresh_from_db()
    VideoEvent.objects.create(
        video=video, source=VideoEvent.Source.CALLBACK, summary="KIE says: failed", payload={"code": 400, "msg": "bad"}
    )
    return video


def billing_make(*, user) -> dict:
    """One of each billing record (packages and plans are seeded by a migration; made here if missing)."""
    package = CreditPackage.objects.first() or CreditPackage.objects.create(
        slug="basic", name="Basic", credits=100, price=Decimal("9.99")
    )
    plan = Plan.objects.first() or Plan.objects.create(
        slug="pro", name="Pro", price=Decimal("49.90"), credits_per_period=1500
    )
    now = timezone.now()
    order = Order.objects.create(
        user=user,
        package=package,
        status=OrderStatus.COMPLETED,
        credits=package.credits,
        amount=package.price,
        provider="sandbox",
        provider_payment_id=f"sandbox_pi_{user.pk.hex[:12]}",
        completed_at=now,
    )
    subscription = Subscription.objects.create(user=user, plan=plan, status="active", provider="sandbox")
    event = PaymentEvent.objects.create(provider="sandbox", event_id=f"evt_{user.pk.hex[:12]}", type="payment.succeeded")
    return {"package": package, "plan": plan, "order": order, "subscription": subscription, "event": event}
