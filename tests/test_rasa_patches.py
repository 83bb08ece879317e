"""Our replacements of Rasa's and Sanic's internals (bot/patches/) and the savings in our
classifier components (bot/nlu/batched.py): fenced in, and the same results as the libraries'
own code."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import os
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest
import scipy.sparse
import structlog.testing
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema, SchemaNode
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel
from rasa.utils.train_utils import create_data_generators

from bot import patches
from bot.channels.rest import LocalRestInput
from bot.channels.telegram_bridge import TelegramBridgeInput
from bot.channels.webchat import WebChatInput
from bot.config import PROJECT_ROOT
from bot.nlu import batched
from bot.patches import rasa as rasa_patches

# SHA-256 of the source of every original a replacement stands in for, as the libraries'
# pinned versions (bot.patches.PINNED) have it. A new version that changes one fails here: read
# the new original against its replacement, then record the new hash.
REPLACED = {
    "rasa.core.actions.action.RemoteAction._validate_action_result": (
        "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42"
    ),
    "rasa.core.processor.MessageProcessor.parse_message": (
        "b98d8e49b9f2c433040af62752212dc374600d50cd21deec82386642b64d30dc"
    ),
    "rasa.core.processor.MessageProcessor.log_message": (
        "f2f8ec66a291d83d783b7acda52bbc0cc2a093b27a67625d8b9882e95138fac1"
    ),
    "rasa.engine.runner.dask.DaskGraphRunner.run": (
        "45f0f52f574f3aa9546a552bf671183e171092c18b66e97f5771a7fa295de37e"
    ),
    "rasa.utils.endpoints.EndpointConfig.session": (
        "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb"
    ),
    "sanic.server.runners.bind_socket": (
        "fb4ac92c1addc1d7bc141404b64db168855f41f53f6d321f10c98f5e8ca500c2"
    ),
    "sanic.server.runners.serve": (
        "1588e933e436c5c3eb9eba1b78ea7c721215ac22da7274e8a3d8e3055f7171c8"
    ),
    "rasa.shared.core.training_data.story_reader.yaml_story_reader.YAMLStoryReader"
    "._entities_from_regex_match": (
        "c654a66d095fcd1c0a2e44eb5a8fe8af357d8f4091be470540e831a45c97a0b1"
    ),
}
# The same for what our code re-implements without replacing it: the parse batcher mirrors
# Rasa's graph parse; our classifiers' model classes and feature cache, Rasa's methods.
MIRRORED = {
    MessageProcessor._parse_message_with_graph: (
        "0bd50a53b5c013af8458cbefe5dbcbd5c02c82a671a841b1947b3e8964e5c3d1"
    ),
    RasaModel._rasa_predict: "7f745b0f9cb647c9df9e5b04b318a7b93709daf9460bad4373970c6cf9f04d8f",
    Message.get_all_features: "54fd4fd1efcb192f2ff37ac88c70a50814aa408924c1ffee1697a1bb4e7e1c89",
}


def source_hash(function: Any) -> str:
    function = getattr(function, "__func__", function)  # a staticmethod's function
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


# --- the fence ------------------------------------------------------------------------------------


def test_every_replaced_original_is_the_one_its_replacement_was_written_for() -> None:
    replaced = {r.target: source_hash(r.original) for r in patches.replacements()}
    assert replaced == REPLACED


def test_what_our_classifiers_and_the_batcher_mirror_is_unchanged() -> None:
    for function, expected in MIRRORED.items():
        assert source_hash(function) == expected, function.__qualname__


def test_the_pinned_versions_are_the_installed_ones() -> None:
    assert patches.installed_versions() == patches.PINNED
    assert patches.refusal(True, patches.PINNED) is None


def test_other_library_versions_are_refused() -> None:
    reason = patches.refusal(True, {**patches.PINNED, "rasa": "3.6.22"})
    assert reason is not None and "rasa 3.6.21" in reason and "rasa 3.6.22" in reason
    assert patches.refusal(True, {**patches.PINNED, "sanic": None}) is not None


def test_the_switch_turns_them_off() -> None:
    assert "STAJ_RASA_PATCHES=off" in patches.refusal(False, patches.PINNED)


INSTALL = """
import json, sys
from bot import patches
installed = patches.install()
print(json.dumps([installed, [
    vars(r.owner)[r.name] is r.replacement for r in patches.replacements()
]]))
"""


def install_in_a_fresh_process(switch: str) -> tuple[bool, list[bool]]:
    result = subprocess.run(
        [sys.executable, "-c", INSTALL],
        cwd=PROJECT_ROOT,
        env={**os.environ, "STAJ_RASA_PATCHES": switch},
        capture_output=True,
        text=True,
        check=True,
    )
    installed, in_place = json.loads(result.stdout.strip().splitlines()[-1])
    return installed, in_place


@pytest.mark.parametrize("switch", ["on", "off"])
def test_install_replaces_everything_or_nothing(switch: str) -> None:
    installed, in_place = install_in_a_fresh_process(switch)
    assert installed is (switch == "on")
    assert in_place == [switch == "on"] * len(REPLACED)


@pytest.mark.parametrize("channel", [LocalRestInput, TelegramBridgeInput, WebChatInput])
def test_every_channel_installs_them_and_freezes_the_heap_as_the_server_starts(
    channel: Any,
) -> None:
    async def on_new_message(message: UserMessage) -> None:
        return None

    blueprint = channel.from_credentials(None).blueprint(on_new_message)
    events = {listener.event for listener in blueprint._future_listeners}
    assert {"main_process_start", "after_server_start"} <= events


def action() -> RemoteAction:
    return RemoteAction("action_answer_faq", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_rasa_processes_use_the_cached_validator(agent_and_loop) -> None:
    assert RemoteAction._validate_action_result is rasa_patches.validate_action_result


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
        asyncio.run(rasa_patches._parse_message(processor, UserMessage(text)))
        for text in PARSED_TOGETHER
    ]
    runs = []
    graph = rasa_patches.ParseBatcher._graph
    monkeypatch.setattr(
        rasa_patches.ParseBatcher,
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
    graph = rasa_patches.ParseBatcher._graph

    def fragile(self, messages):
        if any(message.text == "patlat" for message in messages):
            raise RuntimeError("a component failed")
        return graph(self, messages)

    monkeypatch.setattr(rasa_patches.ParseBatcher, "_graph", fragile)

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


def parse_lines(parse: Any) -> list[dict[str, Any]]:
    """The "processor.message.parse" log entries written while `parse()` runs, without its
    level's filter."""
    with structlog.testing.capture_logs() as entries:
        asyncio.run(parse())
    return [entry for entry in entries if entry["event"] == "processor.message.parse"]


def test_a_batched_parse_writes_the_debug_line_rasas_own_parse_writes(agent_and_loop) -> None:
    processor = agent_and_loop[0].processor
    text = "staj ücreti ödenecek mi"
    ours = parse_lines(lambda: processor.parse_message(UserMessage(text)))
    rasas = parse_lines(lambda: rasa_patches._parse_message(processor, UserMessage(text)))
    assert len(ours) == len(rasas) == 1
    assert ours[0].keys() == rasas[0].keys()
    assert ours[0]["log_level"] == "debug" and ours[0]["parse_data_text"] == text
    assert ours[0]["parse_data_intent"]["name"] == rasas[0]["parse_data_intent"]["name"]


def _count_graph_runs(monkeypatch) -> list[int]:
    runs: list[int] = []
    graph = rasa_patches.ParseBatcher._graph
    monkeypatch.setattr(
        rasa_patches.ParseBatcher,
        "_graph",
        lambda self, messages: runs.append(len(messages)) or graph(self, messages),
    )
    return runs


def test_a_message_waits_for_the_ones_on_their_way(agent_and_loop, monkeypatch) -> None:
    processor = agent_and_loop[0].processor
    runs = _count_graph_runs(monkeypatch)
    monkeypatch.setattr(rasa_patches, "BATCH_WAIT_SECONDS", 30.0)  # only arrivals end the wait

    async def scenario() -> None:
        batcher = rasa_patches.batcher_of(processor)
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
    monkeypatch.setattr(rasa_patches, "BATCH_WAIT_SECONDS", 0.3)

    async def scenario() -> tuple[float, float]:
        batcher = rasa_patches.batcher_of(processor)
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
    assert rasa_patches.execution_order(schema, ("select",)) == ("parse", "classify", "select")
    cyclic = _schema({"a": {"x": "b"}, "b": {"x": "a"}})
    with pytest.raises(GraphRunError, match="cycle"):
        rasa_patches.execution_order(cyclic, ("a",))
