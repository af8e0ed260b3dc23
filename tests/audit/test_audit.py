"""Who did what: the actions people take are recorded with their name and shown on the object's page
and in the admin; nobody edits or deletes the trail."""

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from connectors.models import BackOfficeConnection
from integration_hub.audit.models import Action, AuditEvent
from integration_hub.finance.models import Settlement
from integration_hub.sync.models import WorkItem
from tests.factories import AddressFactory, BackOfficeConnectionFactory, OrderFactory, OrderLineFactory
from tests.finance.builders import order_lines, settlement_text

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def order():
    order = OrderFactory()
    OrderLineFactory(order=order, sku="WIDGET-RED")
    AddressFactory(order=order)
    return order


def test_order_actions_by_page_bulk_and_api_are_recorded_and_shown_on_the_order(client_as, ops_user, order):
    client = client_as(ops_user)
    client.post(f"/orders/{order.pk}/hold/", {"reason": "address check"})
    client.post(f"/orders/{order.pk}/release/")
    other = OrderFactory()
    client.post("/orders/bulk/", {"action": "refetch", "orders": [order.pk, other.pk]})
    api(ops_user).post(f"/api/orders/{order.pk}/hold/", {"reason": "phone the buyer"}, format="json")
    client.post(f"/orders/{order.pk}/hold/", {"reason": ""})  # refused: no reason, so nothing done, nothing recorded

    hold, release, refetch = events(Action.ORDER_HOLD), events(Action.ORDER_RELEASE), events(Action.ORDER_REFETCH)
    assert [(e.username, e.source, e.object_id) for e in hold] == [
        ("ops-user", "web", str(order.pk)), ("ops-user", "api", str(order.pk))]
    assert "address check" in hold[0].detail and "phone the buyer" in hold[1].detail
    assert [e.object_id for e in release] == [str(order.pk)]
    assert sorted(e.object_id for e in refetch) == sorted([str(order.pk), str(other.pk)])
    assert all(e.detail == "bulk refetch of 2 orders" for e in refetch)

    page = client.get(f"/orders/{order.pk}/").content.decode()
    trail = page[page.index('id="audit-trail"'):]
    assert trail.count("ops-user") == 4 and "Released an order" in trail and "Re-fetched an order" in trail


def test_retries_are_recorded_on_the_page_and_in_the_api_with_each_kinds_permission(client_as, ops_user, admin_user):
    send = WorkItem.objects.create(kind="send_order", key="1:202-0000001-0000001", state="dead", last_error="x")
    confirm = WorkItem.objects.create(kind="confirm_shipment", key="7", state="dead", last_error="x")
    client_as(ops_user).post("/sync/retry/", {"items": [send.pk, confirm.pk]})
    assert [(e.username, e.object_id) for e in events(Action.WORK_RETRY)] == [("ops-user", str(send.pk))]
    assert api(ops_user).post(f"/api/work-items/{confirm.pk}/retry/").status_code == 403
    assert api(admin_user).post(f"/api/work-items/{confirm.pk}/retry/").status_code == 202
    retried = events(Action.WORK_RETRY)[-1]
    assert (retried.username, retried.object_id, retried.source) == ("admin-user", str(confirm.pk), "api")


def test_finance_upload_and_posting_are_recorded_and_shown_on_the_settlement(client_as, finance_user):
    from tests.factories import SellerAccountFactory

    SellerAccountFactory()
    client = client_as(finance_user)
    text = settlement_text(order_lines("202-0000001-0000001", "MUG", "10.00"))
    client.post("/finance/upload/", {"file": SimpleUploadedFile("june.txt", text.encode("cp1252"))})
    from integration_hub.finance.models import SettlementUpload
    from integration_hub.sync import engine
    from integration_hub.sync.models import WorkItem

    for item in WorkItem.objects.filter(kind="import_settlement"):  # the finance lane's worker
        engine.run_work_item(item.pk)
    settlement = Settlement.objects.get()
    client.post(f"/finance/{settlement.pk}/post/")
    upload = events(Action.SETTLEMENT_UPLOAD)
    assert [(e.username, e.object_id) for e in upload] == [("finance-user", str(SettlementUpload.objects.get().pk))]
    assert upload[0].detail == "june.txt: queued for import"
    page = client.get(f"/finance/{settlement.pk}/").content.decode()
    trail = page[page.index('id="audit-trail"'):]
    assert "Uploaded a settlement report" in trail and "finance-user" in trail


def test_connection_changes_name_the_fields_never_the_secret(client_as, admin_user):
    connection = BackOfficeConnectionFactory(name="SL", kind="dynamics_sl", endpoint="postgresql://db/sl",
                                             username="hub", secret="old-password-1")
    client = client_as(admin_user)
    response = client.post(f"/admin/connectors/backofficeconnection/{connection.pk}/change/", {
        "name": "SL", "kind": "dynamics_sl", "endpoint": "postgresql://db2/sl", "username": "hub",
        "secret": "new-password-2", "options": "{}", "webhook_token": "", "active": "on"})
    assert response.status_code == 302
    assert BackOfficeConnection.objects.get(pk=connection.pk).secret == "new-password-2"
    (event,) = events(Action.CONNECTION_CHANGE)
    assert event.username == "admin-user" and event.source == "admin"
    assert "endpoint" in event.detail and "secret (replaced)" in event.detail
    assert "webhook_token" not in event.detail  # left blank: kept, not changed
    assert "password" not in event.detail.replace("secret", "")
    page = client.get(f"/admin/connectors/backofficeconnection/{connection.pk}/change/").content.decode()
    assert "Changed a connection" in page and "new-password-2" not in page and "old-password-1" not in page
    client.post(f"/admin/connectors/backofficeconnection/{connection.pk}/delete/", {"post": "yes"})
    assert [e.object_repr for e in events(Action.CONNECTION_DELETE)] == ["SL"]


def test_queue_actions_in_django_rq_are_recorded(client_as, admin_user):
    django_rq.get_queue("default").enqueue("integration_hub.sync.engine.sweep")
    client_as(admin_user).post("/django-rq/queues/0/empty/")
    (event,) = events(Action.QUEUE)
    assert event.username == "admin-user" and event.source == "queues"
    assert event.detail.startswith("/django-rq/queues/0/empty/")


def test_the_trail_is_read_only_in_the_admin(client_as, admin_user, order):
    client = client_as(admin_user)
    client.post(f"/orders/{order.pk}/hold/", {"reason": "check"})
    event = AuditEvent.objects.get()
    assert "admin-user" in client.get("/admin/audit/auditevent/").content.decode()
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"detail": "nothing"}).status_code == 403
    assert AuditEvent.objects.get().detail == event.detail
