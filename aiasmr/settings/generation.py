"""Generation settings: the KIE API, callbacks, retries and the settlement sweep."""

import hashlib

from aiasmr.config.env import env, env_int, env_list
from aiasmr.settings.base import BASE_URL, SECRET_KEY

# --- KIE ----------------------------------------------------------------------------------------

KIE_API_KEY = env("KIE_API_KEY")
KIE_BASE_URL = env("KIE_BASE_URL", "https://api.kie.ai/api/v1").rstrip("/")
CALLBACK_URL = env("CALLBACK_URL", f"{BASE_URL}/api/kie-callback")

# --- KIE / generation (videos app) ----------------------------------------------------------------

# The secret carried in the callback URL (?secret=...); derived from SECRET_KEY unless set.
KIE_CALLBACK_SECRET = env("KIE_CALLBACK_SECRET") or hashlib.sha256(
    f"kie-callback:{SECRET_KEY}".encode()
).hexdigest()[:40]
# KIE's webhook HMAC key (KIE dashboard); when set, callbacks must carry a valid signature.
KIE_WEBHOOK_HMAC_KEY = env("KIE_WEBHOOK_HMAC_KEY")
KIE_WEBHOOK_TOLERANCE_SECONDS = env_int("KIE_WEBHOOK_TOLERANCE_SECONDS", 300)
KIE_LONG_DURATION = env_int("KIE_LONG_DURATION", 8)  # KIE's docs say 8 in one place, 10 in another
# host[:port] entries whose file URLs a callback may name directly; others are confirmed by record-detail.
KIE_FILE_HOSTS = env_list("KIE_FILE_HOSTS")
KIE_CONNECT_TIMEOUT = float(env("KIE_CONNECT_TIMEOUT", "5"))
KIE_READ_TIMEOUT = float(env("KIE_READ_TIMEOUT", "30"))
# The whole download; below GENERATION_COPY_LEASE_SECONDS so a live copy never loses its lease.
KIE_DOWNLOAD_TIMEOUT_SECONDS = env_int("KIE_DOWNLOAD_TIMEOUT_SECONDS", 180)
KIE_MEDIA_MAX_BYTES = env_int("KIE_MEDIA_MAX_BYTES", 200 * 1024 * 1024)
KIE_PROMPT_MAX_CHARS = 1800
# Prices are data: the model catalogue (videos.GenerationModel / ModelPrice), edited in the admin.
# Veo: how long after success KIE's 1080p file is waited for before the 720p one is kept instead.
VEO_1080P_WAIT_SECONDS = env_int("VEO_1080P_WAIT_SECONDS", 900)
GENERATION_ESTIMATED_SECONDS = env_int("GENERATION_ESTIMATED_SECONDS", 120)
GENERATION_SUBMIT_MAX_ATTEMPTS = env_int("GENERATION_SUBMIT_MAX_ATTEMPTS", 5)  # 429/455/unreachable
GENERATION_COPY_MAX_ATTEMPTS = env_int("GENERATION_COPY_MAX_ATTEMPTS", 8)
GENERATION_RETRY_BASE_SECONDS = float(env("GENERATION_RETRY_BASE_SECONDS", "5"))
GENERATION_RETRY_MAX_SECONDS = float(env("GENERATION_RETRY_MAX_SECONDS", "600"))
# A copy holds its video this long; a copy whose worker died is taken over once it runs out (the sweep,
# every minute): a stuck copy is retried within about lease + 1 minute. Longer than the whole download.
GENERATION_COPY_LEASE_SECONDS = env_int("GENERATION_COPY_LEASE_SECONDS", 240)
# The status endpoint asks KIE's record when a job has had no news for this long (and at most this often).
# KIE's callback is the primary path and its record is for late callbacks: at 5 s every poll of an app
# polling every 5 s asked KIE (one KIE call per poll, twice the CPU of a poll with no news, bench/README.md).
GENERATION_STATUS_REFRESH_SECONDS = env_int("GENERATION_STATUS_REFRESH_SECONDS", 30)
# The sweep (manage.py generations_sync): poll jobs without a callback for this long ...
GENERATION_CALLBACK_GRACE_SECONDS = env_int("GENERATION_CALLBACK_GRACE_SECONDS", 120)
# ... fail and refund jobs KIE has no record of this long after it accepted them (KIE writes the record
# when it accepts a job: one still missing after minutes is gone, and the user waits for nothing) ...
GENERATION_RECORD_MISSING_SECONDS = env_int("GENERATION_RECORD_MISSING_SECONDS", 300)
# ... fail and refund jobs unsettled after this long (KIE's runway jobs take 1-3 minutes; 20 leave room
# for KIE's own queue without leaving a user's credits held for an hour) ...
GENERATION_DEADLINE_SECONDS = env_int("GENERATION_DEADLINE_SECONDS", 1200)
# ... or whose submission outcome stayed unknown this long (a worker killed mid-call; longer than the
# submit retries' whole backoff, 5+10+20+40+80 s, so a job still being retried is never failed) ...
GENERATION_SUBMIT_UNKNOWN_SECONDS = env_int("GENERATION_SUBMIT_UNKNOWN_SECONDS", 300)
# ... re-queue queued jobs and copies with no progress for this long (every move is conditional and
# every task safe to run twice, so an early re-queue costs one no-op task) ...
GENERATION_STALE_SECONDS = env_int("GENERATION_STALE_SECONDS", 120)
# ... and fail and refund copies still not stored after this long (the copy's own retries take ~20 min;
# past an hour storage is down, and the user gets the credits back rather than a video days later).
GENERATION_STORING_DEADLINE_SECONDS = env_int("GENERATION_STORING_DEADLINE_SECONDS", 3600)
