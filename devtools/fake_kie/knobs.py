"""The fake KIE server's knobs (their defaults), and where its API and media live."""

from pathlib import Path

MEDIA_DIR = Path(__file__).resolve().parent / "media"
API_PREFIX = "/api/v1"
ASPECT_RATIOS = {"16:9", "4:3", "1:1", "3:4", "9:16"}
VEO_MODELS = {"veo3", "veo3_fast", "veo3_lite"}
VEO_ASPECT_RATIOS = {"16:9", "9:16", "Auto"}
VEO_GENERATION_TYPES = {"TEXT_2_VIDEO", "FIRST_AND_LAST_FRAMES_2_VIDEO", "REFERENCE_2_VIDEO"}
# Veo's callback codes for a failed job; another fail_code is reported as 500.
VEO_FAIL_CODES = {400, 422, 500, 501}

DEFAULTS = {
    "api_key": "fake-kie-key",
    "latency": 0.0,
    "job_seconds": 8.0,
    "long_duration": 8,
    "generate_code": 200,
    "generate_fail_rate": 0.0,
    "generate_hang": 0.0,
    "job_fail_rate": 0.0,
    "fail_code": 400,
    "fail_msg": "Content policy violation.",
    "callback": "send",
    "callback_delay": 0.0,
    "callback_copies": 1,
    "hmac_key": "",
    "record_shape": "new",
    "credits": 5000,
    "expired": False,
    "file_failures": 0,
    "public_url": "",
    "fetch_images": True,
    "hd_seconds": 0.0,
    "hd_code": 200,
}
