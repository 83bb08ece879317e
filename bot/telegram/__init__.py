"""The Telegram process (`python -m bot telegram`): python-telegram-bot in front of Rasa.

Split along python-telegram-bot's own lines:
- protocol.py     the bridge to Rasa: header, path, payload fields (shared with the Rasa side,
                  bot/channels/telegram_bridge.py; imports neither Rasa nor python-telegram-bot)
- rasa_client.py  the client of that bridge
- context.py      what the handlers share (`context.bot_data`, typed with ContextTypes)
- sending.py      messages to Telegram: HTML-escaped, split under the length limit, retried
- handlers.py     commands, texts, button presses and everything else an update can be
- request.py      python-telegram-bot's Bot API requests on aiohttp
- reminders.py    the offer deadline reminders, checked every few minutes
- application.py  the application: handlers, polling or webhook, reminders, start and stop

Nothing here imports Rasa or Sanic: the process is a client of the Rasa server.
"""
