"""Operations of the WSDL that leadsync does not emulate answer 20019, naming themselves."""

from __future__ import annotations

import pytest

from leadsync.soap.handlers import load_handlers
from leadsync.soap.wsdl import wsdl_operations
from support import Server, fault

NOT_EMULATED = [name for name in wsdl_operations() if name not in load_handlers()]


def test_the_lead_api_is_emulated() -> None:
    assert NOT_EMULATED == [
        "getCampaignsForSource",
        "requestCampaign",
        "scheduleCampaign",
        "getMObjects",
        "syncMObjects",
        "deleteMObjects",
        "getCustomObjects",
        "syncCustomObjects",
        "deleteCustomObjects",
        "getChannels",
        "getTags",
    ]


@pytest.mark.parametrize("operation", NOT_EMULATED)
def test_answers_20019_naming_the_operation(server: Server, operation: str) -> None:
    got = fault(server.call(operation, ""))
    assert (got.code, got.faultstring) == (20019, "20019 - Unsupported Operation")
    assert operation in got.message


def test_an_operation_outside_the_wsdl_is_20019_too(server: Server) -> None:
    got = fault(server.call("teleportLead", ""))
    assert got.code == 20019
    assert "teleportLead" in got.message
