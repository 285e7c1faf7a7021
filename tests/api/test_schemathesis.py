"""Property-based API testing from the OpenAPI document: whatever schemathesis sends, every answer is
documented, well-typed, never a 500, and schema-invalid input is rejected."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from service.config import Settings
from service.main import create_app

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
# The same configuration `st run` reads (it says why a schema-valid body may get a 422).
config = SchemathesisConfig.from_path(str(Path(__file__).parents[2] / "schemathesis.toml"))
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(), config=config)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=ALL_CHECKS)


# The same, against a service that requires a key, sending it: the schemes the document declares are
# the ones it honours. Fewer examples: the bodies are those of the run above.
KEY = "schemathesis-key-0123"
keyed_schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(api_keys=KEY)), config=config
)


@keyed_schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_with_a_key_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=ALL_CHECKS)
