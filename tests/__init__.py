"""Tests of Staj Asistanı; run with `make test`."""
