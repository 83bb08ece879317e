"""Work Rasa 3.6 repeats on every message for nothing, done once instead, or done for several
messages at once (measured in docs/BENCHMARKS.md, "Where the time goes"). Installed by
bot.patches.install(); each replacement does what the code it replaces does, and says which.

- Each action server reply is validated with `jsonschema.validate`, which first validates the
  (constant) response schema itself against the JSON Schema meta-schema: about 15 ms of CPU per
  custom action on this machine, more than the rest of the round trip. Here the schema is
  checked once and its validator reused; every reply is still validated against it, with Rasa's
  own error message.
- Rasa parses each message on its own. Here the messages that reach NLU in the same turn of the
  event loop are parsed together, in one run of the NLU graph, whose batched classifiers
  (bot/nlu/batched.py) predict them with one model call each. A message that arrives alone
  waits for nothing; one that arrives while others are on their way to NLU (loading their
  conversations) waits for them, at most 10 ms. Should a batch fail, each of its messages is
  parsed on its own, so only a faulty one fails.
- Rasa opens a new HTTP session, and so a new connection, for every call to the action server.
  Here each endpoint keeps one session per event loop, whose connections stay open between
  calls (for less time than the action server keeps them, so none is reused as it closes).
- Every message runs the model's graph three times (NLU, then the policies before each action);
  Rasa hands each run to dask's scheduler, which works out the order of the graph's nodes anew
  every time. Here the order is worked out once per graph and target, and the nodes are called
  in it: the same nodes with the same inputs, without the scheduler.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import functools
import weakref
from typing import Any

import aiohttp
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core import processor as rasa_processor
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

from bot.patches import Replacement


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Validator:
    """The validator of action server replies, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result without re-checking the schema each time."""
    error: ValidationError | None = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, make sure your response from "
        f"the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


MAX_PARSE_BATCH = 32
BATCH_WAIT_SECONDS = 0.01


def _parse_data(parsed: Message, only_output_properties: bool) -> dict[str, Any]:
    """What MessageProcessor._parse_message_with_graph makes of a parsed message."""
    parse_data: dict[str, Any] = {
        TEXT: "",
        INTENT: {INTENT_NAME_KEY: None, "confidence": 0.0},
        ENTITIES: [],
    }
    parse_data.update(parsed.as_dict(only_output_properties=only_output_properties))
    return parse_data


class ParseBatcher:
    """Parses the messages of one processor that are waiting at the same time together.

    A message that reaches NLU while others of the processor are on their way to it (loading
    their conversations) waits for them, at most BATCH_WAIT_SECONDS; alone, it waits for nothing.
    """

    def __init__(self, processor: MessageProcessor) -> None:
        self.processor = processor
        self.waiting: list[tuple[UserMessage, bool, asyncio.Future]] = []
        self.on_their_way: set[int] = set()  # ids of messages between arrival and NLU
        self.timer: asyncio.TimerHandle | None = None
        self.scheduled = False
        target = processor.model_metadata.nlu_target
        schema = processor.model_metadata.predict_schema.minimal_graph_schema([target])
        # NLU that looks at the conversation cannot be run for several conversations at once
        self.can_batch = not any(
            PLACEHOLDER_TRACKER in node.needs.values() for node in schema.nodes.values()
        )

    def coming(self, message: UserMessage) -> None:
        """A message has started its way to NLU."""
        self.on_their_way.add(id(message))

    def gone(self, message: UserMessage) -> None:
        """A message has reached NLU, or left without it; the last one on its way starts the
        batch that waits for it."""
        self.on_their_way.discard(id(message))
        if self.timer is not None and not self.on_their_way:
            self.timer.cancel()
            self.timer = None
            self._schedule(asyncio.get_running_loop())

    async def parse(self, message: UserMessage, only_output_properties: bool) -> dict[str, Any]:
        """The parse data of one message, parsed with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append((message, only_output_properties, future))
        self.on_their_way.discard(id(message))
        if self.on_their_way and not self.scheduled:
            if self.timer is None:
                self.timer = loop.call_later(BATCH_WAIT_SECONDS, self._time_is_up)
        else:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self._schedule(loop)
        return await future

    def _time_is_up(self) -> None:
        self.timer = None
        self._schedule(asyncio.get_running_loop())

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.scheduled and self.waiting:
            self.scheduled = True
            loop.call_soon(self._run)

    def _run(self) -> None:
        self.scheduled = False
        batch, self.waiting = self.waiting[:MAX_PARSE_BATCH], self.waiting[MAX_PARSE_BATCH:]
        self._schedule(asyncio.get_running_loop())
        try:
            parsed = self._graph([message for message, _, _ in batch])
        except Exception:  # one by one: only the message that fails fails
            parsed = None
        for index, (message, only_output_properties, future) in enumerate(batch):
            if future.cancelled():
                continue
            try:
                one = parsed[index] if parsed is not None else self._graph([message])[0]
                future.set_result(_parse_data(one, only_output_properties))
            except Exception as error:
                future.set_exception(error)

    def _graph(self, messages: list[UserMessage]) -> list[Message]:
        target = self.processor.model_metadata.nlu_target
        tracker = DialogueStateTracker.from_events(messages[0].sender_id, [])
        results = self.processor.graph_runner.run(
            inputs={PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker}, targets=[target]
        )
        return results[target]


_batchers: weakref.WeakKeyDictionary[MessageProcessor, ParseBatcher] = weakref.WeakKeyDictionary()


def batcher_of(processor: MessageProcessor) -> ParseBatcher:
    """The processor's ParseBatcher."""
    batcher = _batchers.get(processor)
    if batcher is None:
        batcher = _batchers[processor] = ParseBatcher(processor)
    return batcher


async def log_message(
    self: MessageProcessor, message: UserMessage, should_save_tracker: bool = True
) -> DialogueStateTracker:
    """MessageProcessor.log_message, telling the ParseBatcher a message is on its way."""
    batcher = batcher_of(self)
    batcher.coming(message)
    try:
        return await _log_message(self, message, should_save_tracker)
    finally:
        batcher.gone(message)


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """MessageProcessor.parse_message, through the processor's ParseBatcher."""
    batcher = batcher_of(self)
    if self.http_interpreter or not batcher.can_batch:
        batcher.gone(message)
        return await _parse_message(self, message, tracker, only_output_properties)
    parse_data = await batcher.parse(message, only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    rasa_processor.structlogger.debug(  # the line Rasa's own parse_message writes
        "processor.message.parse",
        parse_data_text=copy.deepcopy(parse_data["text"]),
        parse_data_intent=parse_data["intent"],
        parse_data_entities=copy.deepcopy(parse_data["entities"]),
    )
    self._check_for_unseen_features(parse_data)
    return parse_data


_log_message = MessageProcessor.log_message
_parse_message = MessageProcessor.parse_message


Targets = tuple[str, ...]


def execution_order(schema: GraphSchema, targets: Targets) -> Targets:
    """The nodes `targets` need, each after the nodes it needs (a depth-first post-order)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name not in schema.nodes:  # done, or an input placeholder
            return
        if name in visiting:
            raise GraphRunError(f"The graph has a cycle through '{name}'.")
        visiting.add(name)
        for needed in schema.nodes[name].needs.values():
            visit(needed)
        visiting.discard(name)
        order.append(name)

    for target in targets:
        visit(target)
    return tuple(order)


_execution_orders: weakref.WeakKeyDictionary[DaskGraphRunner, dict[Targets, Targets]] = (
    weakref.WeakKeyDictionary()
)


def run_graph(
    self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """DaskGraphRunner.run without dask: the nodes called in their order."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    orders = _execution_orders.setdefault(self, {})
    if run_targets not in orders:
        orders[run_targets] = execution_order(self._graph_schema, run_targets)
    results: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in self._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the "
                f"input names passed to the `run` method are the same as node names in the "
                f"graph schema."
            )
        results[name] = (name, value)
    try:
        for name in orders[run_targets]:
            needs = self._graph_schema.nodes[name].needs.values()
            # as dask does: a need nobody provides is passed as its name (the node complains)
            results[name] = self._instantiated_nodes[name](
                *(results.get(needed, needed) for needed in needs)
            )
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


# rasa-sdk's server (Sanic) closes an idle connection after 5 s; reuse stops well before.
KEEPALIVE_SECONDS = 2.0


class _LentSession:
    """An endpoint's shared session for one `async with`; leaving the block keeps it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def endpoint_session(self: EndpointConfig) -> _LentSession:
    """EndpointConfig.session, one long-lived session per endpoint and event loop."""
    loop = asyncio.get_running_loop()
    session: aiohttp.ClientSession | None = self.__dict__.get("_shared_session")
    if session is None or session.closed or session._loop is not loop:
        auth = (
            aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            if self.basic_auth
            else None
        )
        connector = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS)
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=connector,
        )
        self.__dict__["_shared_session"] = session
        atexit.register(connector._close)  # its connections go with the process, quietly
    return _LentSession(session)


REPLACEMENTS = (
    Replacement(
        RemoteAction,
        "_validate_action_result",
        validate_action_result,
        "the response schema checked once, not against the meta-schema on every action call",
    ),
    Replacement(
        MessageProcessor,
        "parse_message",
        parse_message,
        "messages waiting for NLU at the same time parsed in one run of the NLU graph",
    ),
    Replacement(
        MessageProcessor,
        "log_message",
        log_message,
        "tells the parse batcher which messages are on their way to NLU",
    ),
    Replacement(
        DaskGraphRunner,
        "run",
        run_graph,
        "the graph's nodes called in an order worked out once, without dask's scheduler",
    ),
    Replacement(
        EndpointConfig,
        "session",
        endpoint_session,
        "one kept-alive HTTP session per endpoint, not a new connection per action call",
    ),
)
