"""The mktows wire kit: what the server, the client and the pytest plugin all need to speak
Marketo's SOAP API, and nothing else.

- ``ns``: namespace URIs and qualified names;
- ``signing``: the AuthenticationHeader signature, made and checked, and its timestamps;
- ``escaping``: character data for XML 1.0, refusing what XML 1.0 cannot carry;
- ``xml``: THE hardened parser for untrusted XML, and helpers to read what it returns;
- ``codes``: the fault-code catalogue (code, name, which side is at fault).

The kit depends on the standard library and lxml only (``signing``, ``codes`` and ``ns`` on
the standard library alone, so the pytest plugin stays light). Importing this package
imports none of its modules.
"""
