"""Wraps every successful API answer in the contract's envelope."""

from rest_framework.renderers import JSONRenderer


class EnvelopeRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        already_wrapped = isinstance(data, dict) and "success" in data
        if response is not None and not already_wrapped and response.status_code < 400:
            data = {"success": True, "data": data}
        return super().render(data, accepted_media_type, renderer_context)


def envelope(data, message: str | None = None) -> dict:
    """A success body with a human message; views return it through Response(...)."""
    body = {"success": True, "data": data}
    if message:
        body["message"] = message
    return body
