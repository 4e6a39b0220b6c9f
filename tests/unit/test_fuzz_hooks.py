"""The fuzz pass's batch check: it tolerates invalid data inside an operation's `data`, and nothing else."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import checks
from schemathesis.checks import CheckContext
from schemathesis.config import ChecksConfig, SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import CaseMetadata, ComponentInfo, FuzzingPhaseData, GenerationInfo, PhaseInfo
from schemathesis.generation.meta import TestPhase as Phase

from tests import fuzz_hooks
from tests.ops.conftest import REPO

DOCUMENT = REPO / "clients" / "typescript" / "openapi.json"  # the served document (a test keeps them equal)
TASK = "3f0c9a8e-6f3e-4a4b-9a52-5b1c0f7e2d11"
CREATE = {"op": "create", "data": {"title": "Buy milk"}}
NEGATIVE, POSITIVE = GenerationMode.NEGATIVE, GenerationMode.POSITIVE


@cache
def batch() -> Any:
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()), config=SchemathesisConfig())
    return schema[fuzz_hooks.BATCH_PATH]["POST"]


def case(body: Any, *, header: GenerationMode = POSITIVE, body_mode: GenerationMode = NEGATIVE) -> Any:
    """A batch case generated in negative mode, with these parts negative."""
    meta = CaseMetadata(
        generation=GenerationInfo(time=0.0, mode=NEGATIVE),
        components={
            ParameterLocation.PATH: ComponentInfo(mode=POSITIVE),
            ParameterLocation.HEADER: ComponentInfo(mode=header),
            ParameterLocation.BODY: ComponentInfo(mode=body_mode),
        },
        phase=PhaseInfo(name=Phase.FUZZING, data=FuzzingPhaseData("Negative test case", None, None, None)),
    )
    headers = {"Idempotency-Key": "not a key!"} if header is NEGATIVE else {}
    return batch().Case(
        path_parameters={"user_id": "alice"}, headers=headers, body=body, media_type="application/json", _meta=meta
    )


def check(sent: Any, status: int, run: Any = fuzz_hooks.batch_negative_data_rejection) -> None:
    request = requests.Request("POST", "http://127.0.0.1/", json=sent.body).prepare()
    response = Response(status, {"content-type": ["application/json"]}, b"{}", request, elapsed=0.0, verify=True)
    context = CheckContext(
        override=None, auth=None, headers=None, config=ChecksConfig(), transport_kwargs=None, response_checks=None
    )
    run(context, response, sent)


@pytest.mark.parametrize(
    "body",
    [
        {"operations": []},
        {"operations": [CREATE], "atomic": "yes"},
        {"operations": [CREATE], "extra": 1},
        {"operations": [{"op": "rename", "id": TASK}]},
        {"operations": [{"op": "create"}]},
        {"operations": [{"op": "delete", "id": 7}]},
        {"operations": [{"op": "delete", "id": TASK, "if_match": 3}]},
        {"operations": [{"op": "update", "id": TASK, "data": {}, "extra": 1}]},
        [CREATE],
    ],
)
def test_an_invalid_envelope_must_be_refused(body: Any) -> None:
    with pytest.raises(AcceptedNegativeData):
        check(case(body), 200)
    check(case(body), 422)


@pytest.mark.parametrize(
    "data",
    [
        {"op": "create", "data": {"title": 5}},
        {"op": "create", "data": {"title": "Buy milk", "unknown": 1}},
        {"op": "move", "id": TASK, "data": {"after_id": 7}},
        {"op": "complete", "id": TASK, "data": []},
    ],
)
def test_invalid_data_inside_an_operation_may_be_answered_in_a_200(data: dict[str, Any]) -> None:
    sent = case({"operations": [CREATE, data]})
    check(sent, 200)
    with pytest.raises(AcceptedNegativeData):  # which the built-in check, turned off for the batch, refuses
        check(sent, 200, checks.negative_data_rejection)


def test_an_invalid_header_must_be_refused_whatever_the_body() -> None:
    body = {"operations": [CREATE]}
    with pytest.raises(AcceptedNegativeData):
        check(case(body, header=NEGATIVE, body_mode=POSITIVE), 200)
    with pytest.raises(AcceptedNegativeData):
        check(case({"operations": [{"op": "create", "data": {"title": 5}}]}, header=NEGATIVE), 200)
