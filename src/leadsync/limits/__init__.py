"""Marketo's call limits and the fault rules of the test double.

``policy`` says which limits apply, ``faults`` reads and decides fault rules, ``guard`` checks
both for each call and ``ticket`` carries what the HTTP layer must do about it. See
docs/limits.md and docs/testing.md.
"""
