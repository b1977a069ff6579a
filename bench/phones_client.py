"""A minimal HTTP/1.1 keep-alive client over asyncio streams, for the phones benchmark (bench/phones.py).

One `Connection` per phone: one request at a time on one TCP connection, reopened when the server has
closed it (idle keep-alive timeout), as a phone's HTTP stack does. It sends what a phone's stack sends
(`Accept-Encoding: gzip`, so the server pays for compression as it does in production) and reads
Content-Length and chunked bodies. No third-party package: the shared venv has no asyncio HTTP client.
"""

import asyncio
import gzip
import json


class TransportError(Exception):
    """No HTTP answer: refused, reset, closed mid-answer or timed out."""


# TimeoutError is an OSError: a timed-out request is not sent again (the server may still be working on it).
FAILURES = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


def _name(exc: Exception) -> str:
    return "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        body = self.body
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return json.loads(body) if body else None


class Connection:
    def __init__(self, host: str, port: int, *, timeout: float = 30.0, user_agent: str = "aiasmr-phone-bench"):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0  # TCP connections opened (the first, and each after an idle close)
        self.retries = 0  # requests sent again on a fresh connection after the reused one was found closed
        self._prefix = f"Host: {host}:{port}\r\nUser-Agent: {user_agent}\r\nAccept: application/json\r\n" \
                       "Accept-Encoding: gzip\r\n"

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    def _usable(self) -> bool:
        # An idle connection the server closed has its EOF already read by the event loop.
        return self.writer is not None and not self.writer.is_closing() and not self.reader.at_eof()

    async def _connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.connects += 1

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> Response:
        """Send one request and read the whole answer; TransportError when there is none.

        A request on a reused connection that fails before any answer is sent once more on a fresh one
        (the server closed it while the request was on its way): what urllib3 and phone stacks do. Only
        safe for idempotent requests; generate carries an Idempotency-Key for that reason.
        """
        lines = [f"{method} {path} HTTP/1.1\r\n", self._prefix]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}\r\n")
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}\r\n")
        lines.append("\r\n")
        raw = "".join(lines).encode("latin-1") + body
        reused = self._usable()
        try:
            if not reused:
                await self._connect()
            return await self._exchange(raw)
        except FAILURES as exc:
            self.close()
            if not reused or isinstance(exc, TimeoutError):
                raise TransportError(_name(exc)) from exc
        self.retries += 1
        try:
            await self._connect()
            return await self._exchange(raw)
        except FAILURES as exc:
            self.close()
            raise TransportError(_name(exc)) from exc

    async def _exchange(self, raw: bytes) -> Response:
        async with asyncio.timeout(self.timeout):
            self.writer.write(raw)
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body = await self._read_chunked()
            else:
                body = await self.reader.readexactly(int(headers.get("content-length") or 0))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, body)

    async def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                while (await self.reader.readline()) not in (b"\r\n", b""):
                    pass  # trailers: none expected, skipped
                return b"".join(chunks)
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
