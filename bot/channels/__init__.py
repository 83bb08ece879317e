"""Input channels, one module per channel."""
