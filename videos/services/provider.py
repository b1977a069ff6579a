"""Which KIE endpoints a video speaks (Runway or Veo, from the catalogue model it was started with)."""

from __future__ import annotations

from videos.kie.client import GenerateResult, KieClient, RecordDetail, kie_client
from videos.kie.veo import veo_generate, veo_record
from videos.models import GenerationModel, KieApi, Video
from videos.uploads import image_refs_urls


def provider_generate(*, video: Video, callback_url: str) -> GenerateResult:
    """Sends the job to KIE; image refs become fresh fetchable URLs now (they must outlive the job)."""
    image_urls = image_refs_urls(refs=video.image_refs) if video.image_refs else []
    if not image_urls and video.image_url:
        image_urls = [video.image_url]
    client = kie_client()
    if video.kie_api == KieApi.VEO:
        provider_model = (
            GenerationModel.objects.filter(code=video.model).values_list("provider_model", flat=True).first()
        )
        return veo_generate(
            client,
            prompt=video.enhanced_prompt,
            model=provider_model or video.model,
            aspect_ratio=video.aspect_ratio,
            image_urls=image_urls,
            watermark=video.watermark,
            callback_url=callback_url,
        )
    return client.generate(
        prompt=video.enhanced_prompt,
        duration=video.duration,
        quality=video.quality,
        aspect_ratio=video.aspect_ratio,
        image_url=image_urls[0] if image_urls else "",
        watermark=video.watermark,
        callback_url=callback_url,
    )


def provider_record(*, video: Video, client: KieClient | None = None) -> RecordDetail:
    """KIE's authoritative record of the job, in one shape for both APIs."""
    client = client or kie_client()
    if video.kie_api == KieApi.VEO:
        return veo_record(client, video.provider_task_id)
    return client.record_detail(video.provider_task_id)
