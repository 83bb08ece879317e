"""Custom actions, one module per feature, served by `rasa run actions`."""
