"""DIET and the ResponseSelector, predicting the messages of one batch with one model call.

Rasa's components take a list of messages but predict them one at a time. Each prediction is
a TensorFlow call whose fixed cost (the graph's hundreds of small operations) dwarfs what one
short message adds, so under load, when the Rasa server parses several messages at once
(bot/patches/rasa.py groups them), one call for all of them answers each sooner. Training is
Rasa's own, untouched; a batch's scores equal one-by-one scores to float32 precision (masked
padding; tests/test_rasa_patches.py, "parsed together"). Long messages are predicted on their
own: padding every short message to their length would cost more than it saves.

Two more savings of prediction live here, because they concern only these two classifiers
(measured in docs/BENCHMARKS.md, "Where the time goes"):
- Rasa's TensorFlow model predicts through a `tf.function` with a fixed input signature, whose
  every call matches the inputs against that signature again (about 2 ms of the 4.5 ms a call
  takes). Our model classes (`model_class`) look the function's one concrete graph up once and
  call it directly: the same graph, the same weights, the same outputs.
- Both classifiers combine a message's features from both featurizers (sparse matrices stacked
  with scipy), the same work twice. While our classifiers build their model data, a message
  keeps what was combined for a given list of featurizers, until a featurizer adds features.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow as tf
from keras.utils import tf_utils
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.selectors.response_selector import DIET2BOW, DIET2DIET, ResponseSelector
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

MAX_BATCHED_TOKENS = 64


# --- prediction through the concrete graph --------------------------------------------------

# Kept beside the model rather than on it: Keras tracks what is set on a model, and a concrete
# function has no place in the model's saved state.
_concrete_predict_steps: weakref.WeakKeyDictionary[RasaModel, Any] = weakref.WeakKeyDictionary()


class ConcretePrediction(RasaModel):
    """Mixin for Rasa's TensorFlow models: prediction calls the concrete graph directly."""

    def _rasa_predict(self, batch_in: tuple[np.ndarray, ...]) -> dict[str, Any]:
        """RasaModel._rasa_predict without matching the inputs against the signature per call.

        `batch_in` is a prepared batch, as for `predict_step`; returns the prediction's outputs
        (numpy arrays by name, diagnostic data included), as Rasa's own method does.
        """
        if self._run_eagerly:
            return super()._rasa_predict(batch_in)
        self._training = False
        if not self.prepared_for_prediction:
            self.prepare_for_predict()
            self.prepared_for_prediction = True
        concrete = _concrete_predict_steps.get(self)
        if concrete is None:
            if self._tf_predict_step is None:
                self._tf_predict_step = tf.function(
                    self.predict_step, input_signature=self._dynamic_signature(batch_in)
                )
            concrete = self._tf_predict_step.get_concrete_function()
            _concrete_predict_steps[self] = concrete
        outputs = tf_utils.sync_to_numpy_or_python_type(concrete(batch_in))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs


class ConcreteDIET(ConcretePrediction, DIET):
    """DIETClassifier's model."""


class ConcreteDIET2BOW(ConcretePrediction, DIET2BOW):
    """ResponseSelector's model when responses are labels (our configuration)."""


class ConcreteDIET2DIET(ConcretePrediction, DIET2DIET):
    """ResponseSelector's model when responses' texts are labels (use_text_as_label)."""


# --- features combined once per message ---------------------------------------------------------

_COMBINED = "_combined_features"


def _combined_features(
    message: Message, attribute: str, featurizers: list[str] | None = None
) -> list[Any]:
    """Message.get_all_features, combined once per message, attribute, featurizers and number
    of features (a featurizer that adds features makes it combine anew)."""
    key = (attribute, tuple(featurizers or ()), len(message.features))
    combined: dict[tuple, list[Any]] = message.__dict__.setdefault(_COMBINED, {})
    if key not in combined:
        combined[key] = Message.get_all_features(message, attribute, featurizers)
    return list(combined[key])


@contextlib.contextmanager
def features_combined_once(messages: list[Message]) -> Iterator[None]:
    """Within the block, the messages' `get_all_features` (which Rasa's model data code calls)
    reuses what an earlier classifier combined; afterwards they are Rasa's messages as before,
    keeping only the combined features."""
    for message in messages:
        message.get_all_features = functools.partial(_combined_features, message)
    try:
        yield
    finally:
        for message in messages:
            message.__dict__.pop("get_all_features", None)


# --- batched prediction -------------------------------------------------------------------------


def _row(outputs: Any, index: int) -> Any:
    """One message's part of a batch's outputs (arrays are batch-major)."""
    if isinstance(outputs, dict):
        return {key: _row(value, index) for key, value in outputs.items()}
    if isinstance(outputs, np.ndarray) and outputs.ndim > 0:
        return outputs[index : index + 1]
    return outputs


class BatchPrediction(DIETClassifier):
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

    def _create_model_data(
        self,
        training_data: list[Message],
        label_id_dict: dict[str, int] | None = None,
        label_attribute: str | None = None,
        training: bool = True,
    ) -> RasaModelData:
        """Rasa's model data; for prediction, from features combined once per message."""
        if training:
            return super()._create_model_data(training_data, label_id_dict, label_attribute)
        with features_combined_once(training_data):
            return super()._create_model_data(
                training_data, label_id_dict, label_attribute, training=False
            )


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class BatchedDIETClassifier(BatchPrediction, DIETClassifier):
    """Rasa's DIETClassifier, predicting a batch of messages with one model call."""

    @staticmethod
    def model_class() -> type[RasaModel]:
        """DIET, predicting through its concrete graph."""
        return ConcreteDIET


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BatchedResponseSelector(BatchPrediction, ResponseSelector):
    """Rasa's ResponseSelector, predicting a batch of messages with one model call."""

    @staticmethod
    def model_class(use_text_as_label: bool) -> type[RasaModel]:  # type: ignore[override]
        """DIET2DIET or DIET2BOW as Rasa chooses, predicting through the concrete graph."""
        return ConcreteDIET2DIET if use_text_as_label else ConcreteDIET2BOW
