"""Fault injection: KIE misbehaving in phases, a task worker killed, PostgreSQL restarted; staff refunds racing."""

from __future__ import annotations

import collections
import secrets
import threading
import time

from bench.chaos.clients import Stats
from bench.chaos.cluster import PrivatePostgres, Service
from bench.chaos.common import say


def inject_faults(service: Service, pg: PrivatePostgres, stats: Stats, progress, stop: threading.Event,
                  log: list) -> None:
    """Phases by share of the operations done: KIE misbehaves in turns, a worker dies, PostgreSQL restarts."""
    phases = [
        (0.10, "KIE rejects 30% of submissions", {"generate_fail_rate": 0.3, "generate_code": 500}),
        (0.20, "KIE fails 30% of jobs", {"generate_fail_rate": 0.0, "job_fail_rate": 0.3}),
        (0.30, "KIE callbacks lost", {"job_fail_rate": 0.0, "callback": "lost"}),
        (0.40, "KIE callbacks late and duplicated", {"callback": "send", "callback_delay": 4, "callback_copies": 3}),
        (0.50, "KIE hangs on submission (longer than the read timeout)", {"callback_delay": 0, "callback_copies": 2,
                                                                          "generate_hang": 3}),
        (0.60, "KIE healthy again", {"generate_hang": 0, "callback_copies": 1}),
        (0.65, "task worker killed (SIGKILL)", None),
        (0.80, "PostgreSQL restarted", None),
        (0.90, "KIE rate-limits (429) half the submissions", {"generate_fail_rate": 0.5, "generate_code": 429}),
        (0.95, "KIE healthy", {"generate_fail_rate": 0.0, "generate_code": 200}),
    ]
    for share, what, knobs in phases:
        while progress() < share:
            if stop.wait(0.1):
                return
        say(f"fault: {what}")
        log.append(what)
        if knobs:
            service.kie_config(**knobs)
        elif what.startswith("task worker"):
            service.kill_worker()
        else:
            window = [time.time(), time.time()]
            stats.outages.append(window)
            pg.pg_ctl("restart", "-m", "fast")
            window[1] = time.time()


def staff_refunds(service: Service, stop: threading.Event, counts: collections.Counter) -> None:
    """Staff refund settled videos through the admin action's service, racing the clients and the sweep."""
    from django.db import close_old_connections

    from accounts.models import User
    from videos.models import Video
    from videos.services import video_refund

    staff = None
    while not stop.wait(0.5):
        try:
            close_old_connections()
            if staff is None:
                staff = User.objects.create_user(email=f"staff-{secrets.token_hex(3)}@example.com",
                                                 password=secrets.token_urlsafe(12), is_staff=True)
            video = Video.objects.filter(status__in=("ready", "failed")).order_by("?").first()
            if video is None:
                continue
            refund = video_refund(video=video, staff_user=staff)
            counts["staff refund given" if refund else "staff refund refused (already refunded)"] += 1
        except Exception as exc:  # noqa: BLE001 - the PostgreSQL restart; counted
            counts[f"staff refund error {exc.__class__.__name__}"] += 1
