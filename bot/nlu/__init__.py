"""Custom Rasa NLU components for Turkish as students type it."""
