"""Rasa, made cheaper per message (bot/rasa_speedups.py): the same results as Rasa's own code."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
import scipy.sparse
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema, SchemaNode
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel
from rasa.utils.train_utils import create_data_generators

import bot.tracker_store  # noqa: F401  (installs the speed-ups, as in every Rasa process)
from bot import rasa_speedups
from bot.nlu import batched


def action() -> RemoteAction:
    return RemoteAction("action_answer_faq", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_rasa_processes_use_the_cached_validator() -> None:
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result


def test_a_valid_reply_passes() -> None:
    reply = {
        "events": [{"event": "slot", "name": "x", "value": 1}],
        "responses": [{"response": "utter_faq/internship_pay"}],
    }
    assert action()._validate_action_result(reply)


def test_an_invalid_reply_is_refused_with_rasas_message() -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action()._validate_action_result(
            {"events": [{"event": "no_such_event"}], "responses": "not a list"}
        )


# --- prediction through the concrete graph --------------------------------------------------


def _component(agent: Any, kind: str) -> Any:
    """The loaded component whose graph node name contains `kind`."""
    return next(
        node._component
        for name, node in agent.processor.graph_runner._instantiated_nodes.items()
        if kind in name
    )


def test_our_classifiers_predict_through_the_concrete_graph_what_rasa_predicts(
    agent_and_loop,
) -> None:
    agent, _ = agent_and_loop
    classifier = _component(agent, "DIETClassifier")
    assert isinstance(classifier.model, batched.ConcreteDIET)
    assert isinstance(_component(agent, "ResponseSelector").model, batched.ConcreteDIET2BOW)
    seen: list[Message] = []
    original = classifier._predict
    classifier._predict = lambda message: seen.append(message) or original(message)
    try:
        asyncio.run(agent.parse_message("staj ücreti ne zaman yatar"))
    finally:
        del classifier._predict
    model_data = classifier._create_model_data(seen[:1], training=False)
    batch = next(iter(create_data_generators(model_data, 1, 1, shuffle=False)[0]))[0]
    ours = classifier.model._rasa_predict(batch)
    rasas = RasaModel._rasa_predict(classifier.model, batch)
    assert ours.keys() == rasas.keys()
    np.testing.assert_allclose(ours["i_scores"], rasas["i_scores"], rtol=1e-6, atol=1e-9)


def test_features_are_combined_once_for_both_classifiers(agent_and_loop, monkeypatch) -> None:
    agent, _ = agent_and_loop
    combined: list[str] = []
    combine = Message.get_all_features
    monkeypatch.setattr(
        Message,
        "get_all_features",
        lambda self, *args: combined.append(self.get(TEXT)) or combine(self, *args),
    )
    asyncio.run(agent.parse_message("staj ücreti ne zaman yatar"))
    assert combined.count("staj ücreti ne zaman yatar") == 1  # DIET, then reused by the selector


def test_combined_features_follow_features_added_later() -> None:
    message = Message({TEXT: "merhaba"})
    sparse = scipy.sparse.coo_matrix(np.ones((1, 3)))
    message.add_features(Features(sparse, FEATURE_TYPE_SENTENCE, TEXT, "first"))
    with batched.features_combined_once([message]):
        [first] = message.get_all_features(TEXT)
        message.add_features(Features(sparse, FEATURE_TYPE_SENTENCE, TEXT, "second"))
        [both] = message.get_all_features(TEXT)  # the two featurizers' columns side by side
    assert (first.features.shape, both.features.shape) == ((1, 3), (1, 6))
    assert "get_all_features" not in message.__dict__  # Rasa's own method again


# --- parsing messages together ----------------------------------------------------------------


PARSED_TOGETHER = [
    "staj ücreti ödenecek mi",
    "bekleyen tekliflerim neler",
    "stj suresi kac gun",
    "sigortami kim yapicak",
    "😀😀",
    "",
    "merhaba",
    "bu çok uzun bir mesaj " * 40,  # beyond MAX_BATCHED_TOKENS: predicted on its own
    '/choose_faq{"faq_key": "internship_pay"}',
]


def _summary(parse_data: dict[str, Any]) -> tuple[str, float, str | None]:
    response = parse_data.get("response_selector", {}).get("faq", {}).get("response") or {}
    return (
        parse_data["intent"]["name"],
        parse_data["intent"]["confidence"],
        response.get("intent_response_key"),
    )


def test_messages_parsed_together_are_understood_as_alone(agent_and_loop, monkeypatch) -> None:
    agent, _ = agent_and_loop
    processor = agent.processor
    alone = [
        asyncio.run(rasa_speedups._parse_message(processor, UserMessage(text)))
        for text in PARSED_TOGETHER
    ]
    runs = []
    graph = rasa_speedups.ParseBatcher._graph
    monkeypatch.setattr(
        rasa_speedups.ParseBatcher,
        "_graph",
        lambda self, messages: runs.append(len(messages)) or graph(self, messages),
    )

    async def together() -> list[dict[str, Any]]:
        return await asyncio.gather(
            *(processor.parse_message(UserMessage(text)) for text in PARSED_TOGETHER)
        )

    batched = asyncio.run(together())
    assert runs == [len(PARSED_TOGETHER)]  # one run of the NLU graph for all of them
    for one, other in zip(alone, batched, strict=True):
        name, confidence, key = _summary(one)
        assert _summary(other)[0] == name and _summary(other)[2] == key
        assert abs(_summary(other)[1] - confidence) < 1e-5
        assert other["text"] == one["text"]


def test_a_message_that_breaks_its_batch_fails_alone(agent_and_loop, monkeypatch) -> None:
    agent, _ = agent_and_loop
    graph = rasa_speedups.ParseBatcher._graph

    def fragile(self, messages):
        if any(message.text == "patlat" for message in messages):
            raise RuntimeError("a component failed")
        return graph(self, messages)

    monkeypatch.setattr(rasa_speedups.ParseBatcher, "_graph", fragile)

    async def together() -> list[Any]:
        return await asyncio.gather(
            *(
                agent.processor.parse_message(UserMessage(text))
                for text in ("merhaba", "patlat", "staj ücreti ödenecek mi")
            ),
            return_exceptions=True,
        )

    greeting, failed, question = asyncio.run(together())
    assert isinstance(failed, RuntimeError)
    assert greeting["intent"]["name"] == "greet" and question["intent"]["name"] == "faq"


def _count_graph_runs(monkeypatch) -> list[int]:
    runs: list[int] = []
    graph = rasa_speedups.ParseBatcher._graph
    monkeypatch.setattr(
        rasa_speedups.ParseBatcher,
        "_graph",
        lambda self, messages: runs.append(len(messages)) or graph(self, messages),
    )
    return runs


def test_a_message_waits_for_the_ones_on_their_way(agent_and_loop, monkeypatch) -> None:
    processor = agent_and_loop[0].processor
    runs = _count_graph_runs(monkeypatch)
    monkeypatch.setattr(rasa_speedups, "BATCH_WAIT_SECONDS", 30.0)  # only arrivals end the wait

    async def scenario() -> None:
        batcher = rasa_speedups.batcher_of(processor)
        first, second = UserMessage("merhaba"), UserMessage("staj ücreti ödenecek mi")
        batcher.coming(first)
        batcher.coming(second)  # still loading its conversation
        early = asyncio.create_task(processor.parse_message(first))
        await asyncio.sleep(0.2)
        assert not early.done()  # waiting for the second
        await asyncio.gather(early, processor.parse_message(second))

    asyncio.run(scenario())
    assert runs == [2]


def test_a_message_waits_for_nothing_alone_and_briefly_for_stragglers(
    agent_and_loop, monkeypatch
) -> None:
    processor = agent_and_loop[0].processor
    runs = _count_graph_runs(monkeypatch)
    monkeypatch.setattr(rasa_speedups, "BATCH_WAIT_SECONDS", 0.3)

    async def scenario() -> tuple[float, float]:
        batcher = rasa_speedups.batcher_of(processor)
        started = time.monotonic()
        await processor.parse_message(UserMessage("merhaba"))
        alone = time.monotonic() - started
        straggler = UserMessage("never arrives")  # e.g. its conversation is slow to load
        batcher.coming(straggler)
        started = time.monotonic()
        await processor.parse_message(UserMessage("teşekkürler"))
        waited = time.monotonic() - started
        batcher.gone(straggler)
        return alone, waited

    alone, with_straggler = asyncio.run(scenario())
    assert runs == [1, 1]
    assert alone < 0.3 <= with_straggler


# --- running the graph without dask -----------------------------------------------------------


def _schema(needs: dict[str, dict[str, str]]) -> GraphSchema:
    return GraphSchema(
        {
            name: SchemaNode(
                needs=node_needs,
                uses=RegexMessageHandler,
                constructor_name="create",
                fn="process",
                config={},
            )
            for name, node_needs in needs.items()
        }
    )


def test_nodes_run_after_the_nodes_they_need() -> None:
    schema = _schema(
        {
            "parse": {"messages": "__message__"},
            "classify": {"messages": "parse"},
            "select": {"a": "classify", "b": "parse"},
            "unused": {},
        }
    )
    assert rasa_speedups.execution_order(schema, ("select",)) == ("parse", "classify", "select")
    cyclic = _schema({"a": {"x": "b"}, "b": {"x": "a"}})
    with pytest.raises(GraphRunError, match="cycle"):
        rasa_speedups.execution_order(cyclic, ("a",))
