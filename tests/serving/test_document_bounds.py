"""What one document may cost: elements and attributes counted before it is parsed, and only
for a caller who signed (in process, through the app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inprocess import AppServer, serving_app
from support import envelope, fault

KEY = "<leadKey><keyType>IDNUM</keyType><keyValue>1</keyValue></leadKey>"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[AppServer]:
    with serving_app(tmp_path, max_elements=200, max_attributes=150) as served:
        yield served


def test_more_elements_than_allowed_is_20012(app: AppServer) -> None:
    got = fault(app.call("getLead", KEY + "<x/>" * 200))
    assert got.code == 20012
    assert "more than 200 elements" in got.message


def test_more_attributes_than_allowed_is_20012(app: AppServer) -> None:
    attributes = " ".join(f'a{i}="1"' for i in range(200))
    got = fault(app.call("getLead", KEY + f"<x {attributes}/>"))
    assert got.code == 20012
    assert "more than 150 attributes" in got.message


def test_an_unknown_caller_is_refused_before_anything_is_counted(app: AppServer) -> None:
    body = envelope("getLead", KEY + "<x/>" * 200, "nobody", "no-key")
    assert fault(app.post(body)).code == 20014


def test_a_document_within_the_bounds_is_served(app: AppServer) -> None:
    assert fault(app.call("getLead", KEY)).code == 20103  # parsed and looked up
