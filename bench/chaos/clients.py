"""The randomized clients: app users acting at random, and the tally of every request they sent."""

from __future__ import annotations

import collections
import random
import secrets
import threading
import time

import requests

from bench.chaos.cluster import Service

GOOD_BODY = {"prompt": "soap being cut slowly on a wooden board", "triggers": ["soap"]}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.operations = collections.Counter()
        self.statuses = collections.Counter()
        self.server_errors: list[tuple[float, str, int]] = []
        self.transport_errors: list[tuple[float, str, str]] = []
        self.outages: list[list[float]] = []

    def record(self, op: str, path: str, status: int | None, error: str = "", *, started: float) -> None:
        """`started`: when the request was sent (one sent before the outage may fail during it)."""
        with self.lock:
            self.operations[op] += 1
            self.statuses[status or "transport"] += 1
            if status is None:
                self.transport_errors.append((started, path, error))
            elif status >= 500:
                self.server_errors.append((started, path, status))

    def outside_outages(self, events: list, grace: float = 5.0) -> list:
        return [e for e in events if not any(start - 30 <= e[0] <= end + grace for start, end in self.outages)]


class Client:
    """One app user: signs up, then acts at random; remembers its videos and the balance it was shown."""

    def __init__(self, service: Service, stats: Stats, rng: random.Random, number: int):
        self.base = f"{service.url}/api"
        self.stats, self.rng = stats, rng
        self.session = requests.Session()
        self.email = f"soak{number}-{secrets.token_hex(3)}@example.com"
        self.password = "Soak-pass-123!"
        self.token = ""
        self.videos: list[str] = []
        self.user_id = ""

    def call(self, op: str, method: str, path: str, **kwargs) -> requests.Response | None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = time.time()
        try:
            response = self.session.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.stats.record(op, path, None, f"{exc.__class__.__name__}: {str(exc)[-160:]}", started=started)
            return None
        self.stats.record(op, path, response.status_code, started=started)
        return response

    def register(self) -> None:
        answer = self.call("register", "POST", "/auth/register", json={"email": self.email, "password": self.password})
        if answer is not None and answer.status_code == 201:
            data = answer.json()["data"]
            self.token, self.user_id = data["token"], data["user"]["id"]

    def step(self) -> None:
        if not self.token:
            return self.register()
        roll = self.rng.random()
        if roll < 0.05:
            answer = self.call("login", "POST", "/auth/login", json={"email": self.email, "password": self.password})
            if answer is not None and answer.status_code == 200:
                self.token = answer.json()["data"]["token"]
        elif roll < 0.15:
            self.buy()
        elif roll < 0.40:
            answer = self.call("generate", "POST", "/generate", json=GOOD_BODY)
            if answer is not None and answer.status_code == 200:
                self.videos.append(answer.json()["data"]["taskId"])
        elif roll < 0.60 and self.videos:
            self.call("poll", "GET", f"/generate/status/{self.rng.choice(self.videos)}")
        elif roll < 0.68 and self.videos:
            self.call("cancel", "POST", f"/generate/cancel/{self.rng.choice(self.videos)}", json={})
        elif roll < 0.73 and self.videos:
            video = self.rng.choice(self.videos)
            answer = self.call("delete", "DELETE", f"/videos/{video}")
            if answer is not None and answer.status_code == 200:
                self.videos.remove(video)
        elif roll < 0.85:
            self.call("list", "GET", "/videos?page=1&limit=20")
        else:
            self.call("balance", "GET", "/credits/balance")

    def buy(self) -> None:
        answer = self.call("purchase", "POST", "/credits/purchase", json={"package": "basic", "amount": 100})
        if answer is None or answer.status_code != 200:
            return
        order = answer.json()["data"]["order"]["id"]
        outcome = "failed" if self.rng.random() < 0.1 else "succeeded"
        if self.rng.random() < 0.3:
            # The same payment confirmed twice at once: two webhook deliveries of one event.
            threads = [threading.Thread(target=self.call, args=("confirm-duplicate", "POST",
                                                               f"/billing/sandbox/confirm/{order}"),
                                        kwargs={"json": {"outcome": outcome}}) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            self.call("confirm", "POST", f"/billing/sandbox/confirm/{order}", json={"outcome": outcome})

    def balance(self) -> int | None:
        answer = self.call("balance", "GET", "/credits/balance")
        return answer.json()["data"]["balance"] if answer is not None and answer.status_code == 200 else None
