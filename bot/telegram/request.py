"""python-telegram-bot's connection to the Bot API, on aiohttp instead of httpx.

python-telegram-bot lets an application bring its own networking (`telegram.request.BaseRequest`:
send one request, return the status and the body; the library itself turns them into results,
`RetryAfter`, `BadRequest` and so on). Under load its default, httpx, spent more of the Telegram
process's CPU than everything else together (docs/BENCHMARKS.md, "make bench-channels"); aiohttp,
which Rasa and this process already use, parses HTTP in C. Requests are sent exactly as the
default sends them: form fields with JSON-encoded values, multipart when a file is uploaded.
"""

from __future__ import annotations

import asyncio

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT = 5.0


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout the caller gave, or the default when it left it unset."""
    return default if isinstance(value, BaseRequest.DEFAULT_NONE.__class__) else value


class AiohttpRequest(BaseRequest):
    """Bot API requests over one pooled aiohttp session."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_TIMEOUT,
        pool_timeout: float = 1.0,
    ) -> None:
        """Like HTTPXRequest's defaults: 5 s to connect and to read, 1 s to get a connection."""
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Opens the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Closes the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one request; the status code and the body.

        aiohttp has no write timeout: `write_timeout` is not used (the assistant uploads no
        files; its requests are small).
        """
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        data: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            data = aiohttp.FormData(fields or {})
            for name, value in files.items():
                if isinstance(value, tuple):
                    filename, content, *content_type = value
                    data.add_field(
                        name,
                        content,
                        filename=filename,
                        content_type=content_type[0] if content_type else None,
                    )
                else:
                    data.add_field(name, value)
        pool = _seconds(pool_timeout, self._pool_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=_seconds(read_timeout, self._read_timeout),
        )
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as reply:
                return reply.status, await reply.read()
        except asyncio.TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error
