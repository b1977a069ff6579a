"""The phones benchmark's own parts (bench/phones*.py), without the stack: its HTTP client against a
loopback asyncio server that answers as uvicorn may (keep-alive, chunked, gzip, idle close), the rates
its docstring states, and how it judges a ramp."""

import asyncio
import gzip
import json

import pytest

from bench.phones_client import Connection, TransportError
from bench.phones_report import Window, limits, summarise, verdict


class FakeServer:
    """Answers each request on a connection with `answers` in turn; a None answer closes the connection
    without a reply (what a server closing an idle connection looks like to a request already sent)."""

    def __init__(self, answers: list[bytes | None]):
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), 0)
                self.requests.append(head + await reader.readexactly(length))
                answer = self.answers.pop(0)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        writer.close()


def _exchange(answers: list[bytes | None], script):
    async def main():
        fake = FakeServer(answers)
        server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
        connection = Connection("127.0.0.1", server.sockets[0].getsockname()[1], timeout=5)
        try:
            return fake, connection, await script(connection)
        finally:
            connection.close()
            server.close()

    return asyncio.run(main())


def _answer(body: bytes, *extra: str) -> bytes:
    headers = "".join(f"{line}\r\n" for line in extra)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


def test_requests_share_one_keep_alive_connection_and_bodies_are_read_whole():
    compressed = gzip.compress(json.dumps({"data": {"taskId": "abc"}}).encode())
    chunked = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n"

    async def script(connection):
        first = await connection.request("GET", "/api/credits/balance", headers={"Authorization": "Bearer t"})
        second = await connection.request("POST", "/api/generate", body=b'{"prompt": "x"}')
        return first, second

    fake, connection, (first, second) = _exchange(
        [_answer(compressed, "Content-Encoding: gzip"), chunked], script)
    assert first.json() == {"data": {"taskId": "abc"}}
    assert (second.status, second.json()) == (202, {"a": 1})
    assert fake.connections == connection.connects == 1
    assert b"Authorization: Bearer t" in fake.requests[0] and b"Accept-Encoding: gzip" in fake.requests[0]
    assert fake.requests[1].endswith(b'\r\nContent-Length: 15\r\n\r\n{"prompt": "x"}')


def test_a_request_on_a_connection_the_server_closed_is_sent_again_on_a_fresh_one():
    async def script(connection):
        await connection.request("GET", "/api/videos")
        return await connection.request("GET", "/api/videos")

    # The first connection answers once, then closes on the second request without a reply.
    fake, connection, response = _exchange([_answer(b"{}"), None, _answer(b"[]")], script)
    assert response.body == b"[]"
    assert (fake.connections, connection.connects, connection.retries) == (2, 2, 1)


def test_no_answer_on_a_fresh_connection_is_a_transport_error():
    async def script(connection):
        with pytest.raises(TransportError):
            await connection.request("GET", "/api/videos")
        return None

    _, connection, _ = _exchange([None], script)
    assert connection.retries == 0


def _step(phones: int, *, p99: float, web: float, machine: float, backlog=(0, 0), errors: int = 0) -> dict:
    window = Window()
    window.latencies["balance"] = [10.0] * 99 + [p99]
    for _ in range(errors):
        window.request("generate", 5.0, 503)
    cpu = {"web": web * 60, "machine": machine * 60, "client": 6.0}
    return summarise(window, phones=phones, seconds=60, cpu_seconds=cpu, backlog=backlog, in_flight=0,
                     connects=0, retries=0)


def test_the_ramp_holds_until_p99_or_an_error_fails_and_names_the_busiest_role():
    role_limits = limits(cores=2, web_workers=4, task_workers=2)
    steps = [_step(25, p99=80, web=0.5, machine=0.8), _step(50, p99=240, web=1.2, machine=1.5),
             _step(100, p99=900, web=1.5, machine=1.95)]
    assert [step["held"] for step in steps] == [True, True, False]
    outcome = verdict(steps, role_limits)
    assert outcome["largest_phones_held"] == 50
    assert outcome["saturates_first"].startswith("the machine's CPU (195% of 200%); its largest user: web")

    errored = _step(25, p99=50, web=0.2, machine=0.4, errors=1)
    assert not errored["held"] and errored["error_kinds"] == {"generate: status 503": 1}
    assert verdict([errored], role_limits)["largest_phones_held"] == 0

    behind = _step(25, p99=50, web=0.2, machine=0.4, backlog=(3, 40))
    assert verdict([behind], role_limits)["saturates_first"].startswith("task workers")


def test_the_rates_the_docstring_states_follow_from_the_defaults():
    from bench.phones import Behaviour

    implied = Behaviour().implied(job_seconds=30)
    assert implied == {"requests_per_second": 0.0866, "polls_per_generation": 7, "generations_per_hour": 10.75,
                       "cycle_seconds": 67.0}


def test_load_from_outside_the_benchmark_is_named_as_such():
    busy_elsewhere = _step(10, p99=2000, web=0.1, machine=1.95)
    busy_elsewhere["cpu_percent"]["other"] = 170.0
    outcome = verdict([busy_elsewhere], limits(cores=2, web_workers=4, task_workers=2))
    assert outcome["saturates_first"] == ("the machine's CPU (195% of 200%); its largest user: other (170%); "
                                          "this ramp under-reports the service's capacity")
