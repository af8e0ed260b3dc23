"""The hub's own OpenAPI schema, fuzzed with schemathesis: every operation, with generated parameters
and bodies, sent with the API token of each role, answers without a server error, with the content
type and (for success) the body shape the schema promises."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.factories import AddressFactory, OrderLineFactory, ShipmentFactory, WorkItemFactory

# Generated cases only (the coverage phase enumerates every boundary of every filter: minutes per run).
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True), config=CONFIG)
APP = get_wsgi_application()
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_test_connection():
    """Requests end by closing old database connections, which would close the test's transaction;
    Django's own test client switches that off during a request, as this does for the WSGI app."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(ops_user, finance_user, admin_user, keep_test_connection):
    order = AddressFactory().order
    OrderLineFactory(order=order)
    ShipmentFactory(order=order)
    WorkItemFactory(kind="send_order", key=f"{order.account_id}:{order.amazon_order_id}", state="dead")
    return {user.username: Token.objects.get_or_create(user=user)[0].key
            for user in (ops_user, finance_user, admin_user)}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
def test_every_operation_for_every_role(case, tokens):
    for role, token in tokens.items():
        case.call_and_validate(app=APP, headers={"Authorization": f"Token {token}"}, checks=CHECKS)
