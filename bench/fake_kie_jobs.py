"""The fake KIE for `make bench`, already holding the status benchmark's jobs as KIE jobs in progress.

`python bench/fake_kie_jobs.py --port N --tasks FILE` runs devtools' FakeKie (defaults otherwise) with one
Runway job per task id in FILE (bench/seed.py writes it), each halfway through a day-long generation:
KIE's record-detail answers `generating` for all of them during the whole run, so every throttled refresh
of `GET /api/generate/status/<id>` does a KIE round trip and settles nothing. The jobs have no callback
URL, so no callback timer is started for them.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiasmr.settings")

import django  # noqa: E402

django.setup()

from devtools.fake_kie import FakeKie  # noqa: E402

JOB_SECONDS = 86_400.0


def add_generating_jobs(server: FakeKie, task_ids: list[str]) -> None:
    for task_id in task_ids:
        job = server.create_job({"prompt": "Seeded ASMR prompt"})
        # Halfway through: past `queueing`, long before `success` (FakeKie.job_state).
        job["job_seconds"] = JOB_SECONDS
        job["created"] = time.monotonic() - JOB_SECONDS / 2
        with server.state.lock:
            server.state.jobs.pop(job["task_id"])
            job["task_id"] = task_id
            server.state.jobs[task_id] = job


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tasks", required=True, help="file of KIE task ids, one a line")
    args = parser.parse_args()
    task_ids = [line for line in Path(args.tasks).read_text().split() if line]
    server = FakeKie(port=args.port)
    add_generating_jobs(server, task_ids)
    print(f"fake KIE on {server.base_url} with {len(task_ids)} jobs generating", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
