"""A Redis lock store whose tickets are atomic, for several Rasa processes or Sanic workers.

Rasa takes one message of a conversation at a time through its lock store. Rasa 3.6's
RedisLockStore reads the conversation's ticket lock, adds a ticket and writes it back: two
processes that receive a message of the same conversation at the same moment both read "no
lock", both take ticket 0 and both go ahead, and one message vanishes from the transcript
(tests/test_production_path.py saw it). Here the ticket is a Redis INCR and the release a
compare-and-set, so each message waits for the ones before it, in the order they arrived.

endpoints.yml (bot/runner.py writes it from REDIS_URL):
    lock_store: {type: bot.lock_store.RedisTicketLockStore, url: host, port: 6379, db: 0,
                 password: ..., use_ssl: false, key_prefix: stajasistani}
Key names hold a keyed pseudonym of the conversation id (bot/pseudonyms.py), never the id
itself: sender ids may carry personal data. A holder that dies leaves its ticket behind; after
LOCK_LIFETIME seconds without progress the next waiter skips it, as Rasa's own tickets expire.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.pseudonyms import pseudonym

POLL_SECONDS = 0.01
# Both keys of a conversation expire together after this much idleness (then it starts over).
IDLE_EXPIRY_MS = 10 * 60 * 1000

# KEYS: tickets, served. Takes the next ticket; both keys live on.
TAKE_TICKET = """
local ticket = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ticket - 1) end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return ticket
"""
# KEYS: tickets, served. ARGV: idle expiry, the ticket now done. Never moves backwards.
FINISH = """
local served = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > served then redis.call('SET', KEYS[2], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"""


class RedisTicketLockStore(LockStore):
    """First come, first served per conversation, across every process sharing the Redis."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Connects as endpoints.yml says (url is the host)."""
        options: dict[str, Any] = endpoint_config.kwargs
        self.red = redis.Redis(
            host=endpoint_config.url or "localhost",
            port=int(options.get("port", 6379)),
            db=int(options.get("db", 0)),
            username=options.get("username"),
            password=options.get("password"),
            ssl=bool(options.get("use_ssl", False)),
            socket_timeout=float(options.get("socket_timeout", 10)),
        )
        self.prefix = f"{options.get('key_prefix', 'rasa')}:ticket_lock:"
        self._take = self.red.register_script(TAKE_TICKET)
        self._finish = self.red.register_script(FINISH)

    def _keys(self, conversation_id: str) -> list[str]:
        """The conversation's two keys: `<prefix>:ticket_lock:<pseudonym>:tickets|served`."""
        name = pseudonym(conversation_id, "redis-key")
        return [f"{self.prefix}{name}:tickets", f"{self.prefix}{name}:served"]

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        """Holds the conversation until the block ends; waits for earlier tickets first."""
        keys = self._keys(conversation_id)
        ticket = int(await self._take(keys=keys, args=[IDLE_EXPIRY_MS]))
        try:
            await self._wait_for_turn(keys, ticket, lock_lifetime)
            yield TicketLock(conversation_id)
        finally:
            await self._finish(keys=keys, args=[IDLE_EXPIRY_MS, ticket])

    async def _wait_for_turn(self, keys: list[str], ticket: int, lifetime: float) -> None:
        seen, since = None, time.monotonic()
        while True:
            served = int(await self.red.get(keys[1]) or 0)
            if served >= ticket - 1:
                return
            if served != seen:
                seen, since = served, time.monotonic()
            elif time.monotonic() - since > lifetime:
                # the holder of ticket served+1 never finished: skip it
                await self._finish(keys=keys, args=[IDLE_EXPIRY_MS, served + 1])
            await asyncio.sleep(POLL_SECONDS)

    # Rasa's other lock store methods work on one stored TicketLock; this store has none.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Not used: the tickets live in Redis counters."""
        raise LockError("RedisTicketLockStore keeps no TicketLock objects")

    def delete_lock(self, conversation_id: str) -> None:
        """Not used (see get_lock)."""
        raise LockError("RedisTicketLockStore keeps no TicketLock objects")

    def save_lock(self, lock: TicketLock) -> None:
        """Not used (see get_lock)."""
        raise LockError("RedisTicketLockStore keeps no TicketLock objects")
