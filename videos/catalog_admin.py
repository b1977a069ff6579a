"""The catalogue, prompt templates and uploads in the back office.

Staff edit models and prices here; a price change applies to generations started after it (each video
keeps the price it was charged). Uploads are read-only (they go through the upload service).
"""

from django import forms
from django.contrib import admin

from aiasmr.admin_tools import ReadOnlyMixin
from videos.catalog import PLAN_RANK
from videos.models import GenerationModel, KieApi, ModelPrice, PromptTemplate, Upload

QUALITIES = {"720p", "1080p"}
ASPECT_RATIOS = {"16:9", "4:3", "1:1", "3:4", "9:16", "Auto"}


class GenerationModelForm(forms.ModelForm):
    class Meta:
        model = GenerationModel
        fields = (
            "code",
            "name",
            "description",
            "kie_api",
            "provider_model",
            "durations",
            "qualities",
            "aspect_ratios",
            "max_images",
            "required_plan",
            "is_active",
            "sort_order",
        )

    def _list_of(self, name: str, allowed=None, kind=str):
        value = self.cleaned_data.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(item, kind) for item in value):
            raise forms.ValidationError(f"A non-empty JSON list of {kind.__name__} values.")
        if allowed is not None and not set(value) <= allowed:
            raise forms.ValidationError(f"Allowed: {', '.join(sorted(allowed))}.")
        return value

    def clean_durations(self):
        return self._list_of("durations", kind=int)

    def clean_qualities(self):
        return self._list_of("qualities", QUALITIES)

    def clean_aspect_ratios(self):
        return self._list_of("aspect_ratios", ASPECT_RATIOS)

    def clean_required_plan(self):
        plan = self.cleaned_data["required_plan"]
        if plan not in PLAN_RANK:
            raise forms.ValidationError(f"One of {', '.join(PLAN_RANK)}.")
        return plan

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kie_api") == KieApi.VEO and not cleaned.get("provider_model"):
            self.add_error("provider_model", "Veo models need KIE's model name (veo3, veo3_fast).")
        if (cleaned.get("max_images") or 0) > 2:
            self.add_error("max_images", "At most 2.")
        return cleaned


class ModelPriceInline(admin.TabularInline):
    model = ModelPrice
    extra = 1
    fields = ("duration", "quality", "credits", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(GenerationModel)
class GenerationModelAdmin(admin.ModelAdmin):
    form = GenerationModelForm
    list_display = (
        "code",
        "name",
        "kie_api",
        "provider_model",
        "max_images",
        "required_plan",
        "is_active",
        "sort_order",
    )
    list_editable = ("is_active", "sort_order")
    list_filter = ("kie_api", "is_active")
    search_fields = ("code", "name")
    inlines = (ModelPriceInline,)


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    """Prices on their own list too, so one can be changed in place."""

    list_display = ("model", "duration", "quality", "credits", "updated_at")
    list_editable = ("credits",)
    list_filter = ("model",)
    list_select_related = ("model",)


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "suggested_model", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("is_active", "suggested_model")
    search_fields = ("title", "prompt", "slug")
    prepopulated_fields = {"slug": ("title",)}


@admin.register(Upload)
class UploadAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "user", "content_type", "width", "height", "size", "created_at", "used_at")
    list_filter = ("content_type",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    date_hierarchy = "created_at"
