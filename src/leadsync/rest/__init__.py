"""Marketo's REST API (docs/rest.md): identity, leads and their wire conventions."""
