"""Work Rasa 3.6 repeats on every message for nothing, done once instead, or done for several
messages at once (measured in docs/BENCHMARKS.md, "Where the time goes").

- Each action server reply is validated with `jsonschema.validate`, which first validates the
  (constant) response schema itself against the JSON Schema meta-schema: about 15 ms of CPU per
  custom action on this machine, more than the rest of the round trip. Here the schema is
  checked once and its validator reused; every reply is still validated against it, with Rasa's
  own error message.
- DIET and the ResponseSelector predict through a `tf.function` with a fixed input signature,
  whose every call matches the inputs against that signature again (about 2 ms of the 4.5 ms a
  call takes). Here the function's one concrete graph is looked up once and called directly:
  the same graph, the same weights, the same outputs.
- Rasa parses each message on its own. Here the messages that reach NLU in the same turn of the
  event loop are parsed together, in one run of the NLU graph, whose batched classifiers
  (bot/nlu/batched.py) predict them with one model call each. A message waits for nothing: the
  batch runs as soon as the loop is free, with whatever messages are waiting by then. Should a
  batch fail, each of its messages is parsed on its own, so only a faulty one fails.
- Every message runs the model's graph three times (NLU, then the policies before each action);
  Rasa hands each run to dask's scheduler, which works out the order of the graph's nodes anew
  every time. Here the order is worked out once per graph and target, and the nodes are called
  in it: the same nodes with the same inputs, without the scheduler.

Applied when bot.tracker_store is imported, which every Rasa process of the assistant does
(endpoints.yml).
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from typing import Any

import tensorflow as tf
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from keras.utils import tf_utils
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DIAGNOSTIC_DATA, DOCS_BASE_URL
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow import models


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


_concrete_predict_steps: weakref.WeakKeyDictionary[models.RasaModel, Any] = (
    weakref.WeakKeyDictionary())


def rasa_predict(self: models.RasaModel, batch_in: tuple[Any, ...]) -> dict[str, Any]:
    """RasaModel._rasa_predict, calling the prediction graph's concrete function directly."""
    if self._run_eagerly:
        return _rasa_predict(self, batch_in)
    self._training = False
    if not self.prepared_for_prediction:
        self.prepare_for_predict()
        self.prepared_for_prediction = True
    concrete = _concrete_predict_steps.get(self)
    if concrete is None:
        if self._tf_predict_step is None:
            self._tf_predict_step = tf.function(
                self.predict_step, input_signature=self._dynamic_signature(batch_in))
        concrete = self._tf_predict_step.get_concrete_function()
        _concrete_predict_steps[self] = concrete
    outputs = tf_utils.sync_to_numpy_or_python_type(concrete(batch_in))
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


_rasa_predict = models.RasaModel._rasa_predict


MAX_PARSE_BATCH = 32


def _parse_data(parsed: Message, only_output_properties: bool) -> dict[str, Any]:
    """What MessageProcessor._parse_message_with_graph makes of a parsed message."""
    parse_data: dict[str, Any] = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, "confidence": 0.0},
                                  ENTITIES: []}
    parse_data.update(parsed.as_dict(only_output_properties=only_output_properties))
    return parse_data


class ParseBatcher:
    """Parses the messages of one processor that are waiting at the same time together."""

    def __init__(self, processor: MessageProcessor) -> None:
        self.processor = processor
        self.waiting: list[tuple[UserMessage, bool, asyncio.Future]] = []
        self.scheduled = False
        target = processor.model_metadata.nlu_target
        schema = processor.model_metadata.predict_schema.minimal_graph_schema([target])
        # NLU that looks at the conversation cannot be run for several conversations at once
        self.can_batch = not any(PLACEHOLDER_TRACKER in node.needs.values()
                                 for node in schema.nodes.values())

    async def parse(self, message: UserMessage, only_output_properties: bool) -> dict[str, Any]:
        """The parse data of one message, parsed with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append((message, only_output_properties, future))
        if not self.scheduled:
            self.scheduled = True
            loop.call_soon(self._run)
        return await future

    def _run(self) -> None:
        batch, self.waiting = self.waiting[:MAX_PARSE_BATCH], self.waiting[MAX_PARSE_BATCH:]
        if self.waiting:
            asyncio.get_running_loop().call_soon(self._run)
        else:
            self.scheduled = False
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
            inputs={PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker},
            targets=[target])
        return results[target]


_batchers: weakref.WeakKeyDictionary[MessageProcessor, ParseBatcher] = (
    weakref.WeakKeyDictionary())


async def parse_message(self: MessageProcessor, message: UserMessage,
                        tracker: DialogueStateTracker | None = None,
                        only_output_properties: bool = True) -> dict[str, Any]:
    """MessageProcessor.parse_message, through the processor's ParseBatcher."""
    batcher = _batchers.get(self)
    if batcher is None:
        batcher = _batchers[self] = ParseBatcher(self)
    if self.http_interpreter or not batcher.can_batch:
        return await _parse_message(self, message, tracker, only_output_properties)
    parse_data = await batcher.parse(message, only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


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
    weakref.WeakKeyDictionary())


def run_graph(self: DaskGraphRunner, inputs: dict[str, Any] | None = None,
              targets: list[str] | None = None) -> dict[str, Any]:
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
                f"graph schema.")
        results[name] = (name, value)
    try:
        for name in orders[run_targets]:
            needs = self._graph_schema.nodes[name].needs.values()
            # as dask does: a need nobody provides is passed as its name (the node complains)
            results[name] = self._instantiated_nodes[name](
                *(results.get(needed, needed) for needed in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


def apply() -> None:
    """Installs the speed-ups in this process (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result
    models.RasaModel._rasa_predict = rasa_predict
    MessageProcessor.parse_message = parse_message
    DaskGraphRunner.run = run_graph
