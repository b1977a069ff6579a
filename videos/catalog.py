"""The model catalogue: what is on sale, with which options and at what price (data staff edit in the admin).

A generation is priced here when it starts; the video records that price, so a later change in the admin
affects only later generations.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from accounts.models import Profile
from accounts.selectors import plan_entitlements
from aiasmr.api.exceptions import AccessDenied, ApiError, ValidationFailed
from aiasmr.db import PreparedSelect
from videos.models import GenerationModel, KieApi, ModelPrice, PromptTemplate

DEFAULT_MODEL = "runway"
# Plans in the order of what they include: a model needing "basic" is open to basic, trial and pro users.
PLAN_RANK = {"free": 0, "trial": 1, "basic": 1, "pro": 2}


class ModelNotAvailable(ApiError):
    code = "MODEL_NOT_AVAILABLE"


class PlanUpgradeRequired(AccessDenied):
    code = "PLAN_UPGRADE_REQUIRED"
    default_message = "Your plan does not include this quality; upgrade to generate it."


@dataclass(frozen=True)
class GenerationOptions:
    """What a generation will be, as the catalogue allows it for this user: charged `cost` credits."""

    model: GenerationModel
    duration: int
    quality: str
    aspect_ratio: str
    cost: int
    wants_1080p: bool


def models_available() -> QuerySet[GenerationModel]:
    """The models that are on, with their prices (one query each)."""
    return GenerationModel.objects.filter(is_active=True).prefetch_related(
        Prefetch("prices", queryset=ModelPrice.objects.order_by("duration", "quality"))
    )


def prompt_templates_available() -> QuerySet[PromptTemplate]:
    return PromptTemplate.objects.filter(is_active=True).select_related("suggested_model")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        "The request is invalid for this model.", details=[{"field": field, "message": message}]
    )


# What generate reads of the catalogue on every request: the model and its prices in one query whose SQL is
# built once per process (the ORM's select_related build took about as long as the rest of the read).
_MODEL_COLUMNS = ("id", "code", "name", "kie_api", "durations", "qualities", "aspect_ratios", "max_images",
                  "required_plan")  # fmt: skip
_PRICES_WITH_MODEL = PreparedSelect(
    ModelPrice,
    ["duration", "quality", "credits", *(f"model__{name}" for name in _MODEL_COLUMNS)],
    where="r.code = %s AND r.is_active",
)


def generation_options_resolve(
    *,
    profile: Profile,
    model_code: str,
    duration: int | None,
    quality: str | None,
    aspect_ratio: str | None,
    image_count: int,
) -> GenerationOptions:
    """Checks a request against the chosen model and the user's plan; fills in the model's defaults.

    Runway keeps the Express-era defaults (5 s, 720p, 16:9). Veo's quality follows the plan when not
    asked for: 1080p for 16:9 jobs of plans that include it (fetched from KIE after success), else 720p.
    """
    # One query: the model with all its prices (a model without prices is not on sale).
    prices = _PRICES_WITH_MODEL.rows([model_code])
    if not prices:
        raise ModelNotAvailable(details={"model": model_code})
    # The catalogue row as read (the columns this check and the video need), not for saving.
    model = GenerationModel(**{name: prices[0][f"model__{name}"] for name in _MODEL_COLUMNS})
    entitlements = plan_entitlements(profile=profile)
    if PLAN_RANK.get(entitlements["plan"], 0) < PLAN_RANK.get(model.required_plan, 0):
        raise PlanUpgradeRequired(
            "Your plan does not include this model; upgrade to generate with it.",
            details={"required": model.required_plan, "model": model.code},
        )
    durations = [int(value) for value in model.durations]
    if duration is None:
        duration = durations[0]
    if duration not in durations and not (
        model.kie_api == KieApi.RUNWAY and duration == settings.KIE_LONG_DURATION and 8 in durations
    ):
        raise _invalid("duration", f"{model.name} offers {', '.join(map(str, durations))} seconds.")
    if aspect_ratio is None:
        aspect_ratio = model.aspect_ratios[0] if model.aspect_ratios else "16:9"
    if aspect_ratio not in model.aspect_ratios:
        raise _invalid("aspectRatio", f"{model.name} offers {', '.join(model.aspect_ratios)}.")
    if image_count > model.max_images:
        raise _invalid("imageUrls", f"{model.name} takes at most {model.max_images} image(s).")
    plan_hd = entitlements["maxQuality"] == "1080p"
    wants_1080p = False
    if model.kie_api == KieApi.VEO:
        if quality is None:
            quality = "1080p" if plan_hd and aspect_ratio == "16:9" else "720p"
        elif quality == "1080p" and aspect_ratio != "16:9":
            raise _invalid("quality", "1080p is offered for 16:9 only.")
        wants_1080p = quality == "1080p"
    quality = quality or (model.qualities[0] if model.qualities else "720p")
    if quality not in model.qualities:
        raise _invalid("quality", f"{model.name} offers {', '.join(model.qualities)}.")
    if quality == "1080p" and not plan_hd:
        raise PlanUpgradeRequired(details={"required": "pro", "quality": quality})
    priced_as = 5 if duration == 5 else 8 if model.kie_api == KieApi.RUNWAY else duration
    cost = next((p["credits"] for p in prices if p["duration"] == priced_as and p["quality"] == quality), None)
    if cost is None:
        raise ValidationFailed(
            "This duration and quality are not offered together.",
            details=[{"field": "quality", "message": "Not offered with this duration."}],
        )
    return GenerationOptions(
        model=model,
        duration=duration,
        quality=quality,
        aspect_ratio=aspect_ratio,
        cost=cost,
        wants_1080p=wants_1080p,
    )
