"""Bridge mode (docs/bridge.md): SOAP calls answered by a Marketo instance's REST API.

The SOAP layer parses, authenticates and validates as it does locally; the handlers here
stand where the local ones call the store, and talk to the upstream instead.
"""
