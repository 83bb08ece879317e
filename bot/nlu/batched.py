"""DIET and the ResponseSelector, predicting the messages of one batch with one model call.

Rasa's components take a list of messages but predict them one at a time. Each prediction is
a TensorFlow call whose fixed cost (the graph's hundreds of small operations) dwarfs what one
short message adds, so under load, when the Rasa server parses several messages at once
(bot/rasa_speedups.py groups them), one call for all of them answers each sooner. Training is
Rasa's own, untouched; a batch's scores equal one-by-one scores to float32 precision (masked
padding; tests/test_nlu_batching.py). Long messages are predicted on their own: padding
every short message to their length would cost more than it saves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

MAX_BATCHED_TOKENS = 64


def _row(outputs: Any, index: int) -> Any:
    """One message's part of a batch's outputs (arrays are batch-major)."""
    if isinstance(outputs, dict):
        return {key: _row(value, index) for key, value in outputs.items()}
    if isinstance(outputs, np.ndarray) and outputs.ndim > 0:
        return outputs[index : index + 1]
    return outputs


class BatchPrediction:
    """Mixin for DIETClassifier and its subclasses: `process` predicts all at once, then lets
    Rasa's own per-message code read each message's prediction."""

    _batch_predictions: dict[int, Any]

    def _batchable(self, message: Message) -> bool:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        return len(tokens) <= MAX_BATCHED_TOKENS and message.features_present(
            TEXT, self.component_config.get("featurizers")
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Rasa's process, with one model call for the batchable messages."""
        batch = [message for message in messages if self._batchable(message)]
        self._batch_predictions = {}
        if (
            self.model is not None
            and len(batch) > 1
            and not self._execution_context.should_add_diagnostic_data
        ):
            model_data = self._create_model_data(batch, training=False)
            if not model_data.is_empty():
                outputs = self.model.run_inference(model_data, batch_size=len(batch))
                self._batch_predictions = {
                    id(message): _row(outputs, index) for index, message in enumerate(batch)
                }
        try:
            return super().process(messages)
        finally:
            self._batch_predictions = {}

    def _predict(self, message: Message) -> Any:
        predicted = getattr(self, "_batch_predictions", {}).pop(id(message), None)
        return predicted if predicted is not None else super()._predict(message)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class BatchedDIETClassifier(BatchPrediction, DIETClassifier):
    """Rasa's DIETClassifier, predicting a batch of messages with one model call."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BatchedResponseSelector(BatchPrediction, ResponseSelector):
    """Rasa's ResponseSelector, predicting a batch of messages with one model call."""
