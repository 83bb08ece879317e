"""Input channels, one module per channel.

Every Rasa process of the assistant imports its channels (credentials.yml) before it starts
serving, so this is where several Sanic workers are set to share connections out
(bot/sanic_workers.py).
"""

from bot import sanic_workers

sanic_workers.apply()
