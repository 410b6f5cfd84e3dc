"""API users and custom fields, on every backend."""

from __future__ import annotations

import pytest

from leadsync.model import FieldDef, FieldType
from leadsync.store import Store
from leadsync.store.base import AlreadyExists


def test_users_are_added_found_listed_and_removed(store: Store) -> None:
    added = store.add_user("bob_1", "key-b")
    store.add_user("Alice", "key-a")
    store.add_user("alice", "key-a2")
    assert added.user_id == "bob_1"
    assert added.encryption_key == "key-b"
    assert added.created_at.utcoffset() is not None
    assert store.get_user("bob_1") == added
    assert store.get_user("nobody") is None
    # Ordered by code point, as SQLite's BINARY collation orders: upper case first.
    assert [u.user_id for u in store.list_users()] == ["Alice", "alice", "bob_1"]
    assert store.remove_user("bob_1") is True
    assert store.remove_user("bob_1") is False
    assert store.get_user("bob_1") is None
    assert [u.user_id for u in store.list_users()] == ["Alice", "alice"]


def test_a_user_id_is_taken_once(store: Store) -> None:
    store.add_user("bob", "k1")
    with pytest.raises(AlreadyExists):
        store.add_user("bob", "k2")
    user = store.get_user("bob")
    assert user is not None
    assert user.encryption_key == "k1"


def test_custom_fields_keep_name_and_type(store: Store) -> None:
    assert store.custom_fields() == []
    store.add_custom_field(FieldDef("score_b", FieldType.SCORE))
    store.add_custom_field(FieldDef("Region", FieldType.STRING))
    store.add_custom_field(FieldDef("active", FieldType.BOOLEAN))
    assert store.custom_fields() == [
        FieldDef("Region", FieldType.STRING, custom=True),
        FieldDef("active", FieldType.BOOLEAN, custom=True),
        FieldDef("score_b", FieldType.SCORE, custom=True),
    ]
    with pytest.raises(AlreadyExists):
        store.add_custom_field(FieldDef("Region", FieldType.INTEGER))
    assert [f.type for f in store.custom_fields()] == [
        FieldType.STRING,
        FieldType.BOOLEAN,
        FieldType.SCORE,
    ]


def test_every_field_type_is_stored(store: Store) -> None:
    for i, ftype in enumerate(FieldType):
        store.add_custom_field(FieldDef(f"f{i:02d}", ftype))
    assert [f.type for f in store.custom_fields()] == list(FieldType)
