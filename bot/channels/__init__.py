"""Rasa input channels, one module per channel (credentials.yml). Each channel's blueprint also
carries the start-up listeners every Rasa server of the assistant needs
(bot/channels/server_start.py)."""
