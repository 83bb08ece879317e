"""Text rules without Rasa: Turkish normalisation and what makes a message unanswerable.

The NLU components (bot/nlu/), the actions and the staff review app all use them; none of this
package imports Rasa or TensorFlow, so the action server and the review app stay light. The
model's fingerprint covers this package (bot/model.py): a change here retrains.
"""
