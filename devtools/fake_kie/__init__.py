"""A fake KIE server: KIE's paths, envelope, bearer auth and (signed) callbacks, over real HTTP.

`manage.py fake_kie --port N` runs it; tests start it in-process on a free port (`FakeKie().start()`).
Defaults feel like KIE but quick: a job is accepted at once, moves through wait, queueing and
generating, and succeeds after `job_seconds`, then KIE's snake_case callback is POSTed to its
callBackUrl. Knobs (CLI flags, or JSON to POST /_fake/config) switch on KIE's other behaviours:

  latency            seconds added to every API answer
  job_seconds        how long a job takes (0: done at once)
  generate_code      answer every generate with this KIE code (401, 402, 422, 429, 451, 455, 500, ...)
  generate_fail_rate fraction of generates answered with code 500
  generate_hang      seconds to sleep after creating the job, before answering (client timeouts)
  job_fail_rate      fraction of jobs that end in `fail` (1: all); fail_code / fail_msg (Veo 501: successFlag 3)
  callback           "send" (default), "lost" (never sent), "hold" (kept until POST /_fake/callbacks/deliver)
  callback_delay     extra seconds before the callback (late callbacks)
  callback_copies    how many times each callback is sent (duplicates)
  hmac_key           sign callbacks (X-Webhook-Timestamp / X-Webhook-Signature) with this key
  record_shape       "new" (taskId, failCode int) or "old" (id, failCode "")
  credits            what GET /chat/credit answers
  expired            records say expireFlag 1 and files answer 404
  file_failures      the next N file downloads answer 503
  public_url         the base of the file URLs it hands out (default http://<host>:<port>)
  fetch_images       fetch every imageUrl / imageUrls like KIE (Runway answers 451, a Veo job fails 400
                     when an image cannot be fetched or is not an image)
  hd_seconds         Veo: seconds after success before get-1080p-video has the 1080p file
  hd_code            Veo: answer get-1080p-video with this code instead (422: never available)

Veo 3.1: POST /veo/generate, GET /veo/record-info (successFlag 0/1/2/3), GET /veo/get-1080p-video, and
callbacks in Veo's shape ({code, msg, data: {taskId, info: {resultUrls, originUrls, resolution}}}; codes
200, or fail_code among 400/422/500/501). The same knobs apply.

Control: GET /_fake/state (config, jobs, callbacks sent), POST /_fake/config, POST /_fake/reset,
POST /_fake/callbacks/deliver ({"url": optional override}).
"""

from devtools.fake_kie.knobs import DEFAULTS
from devtools.fake_kie.server import FakeKie

__all__ = ["DEFAULTS", "FakeKie"]
