import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mappings.models import CarrierMap, GlAccountMap

pytestmark = pytest.mark.django_db


def test_roles_are_created_by_migration_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {"ops", "finance", "admin"}
    ops = set(Group.objects.get(name="ops").permissions.values_list("codename", flat=True))
    assert {"change_carriermap", "add_skulink", "change_order", "view_glaccountmap"} <= ops
    assert "change_glaccountmap" not in ops and "view_settlement" not in ops
    finance = set(Group.objects.get(name="finance").permissions.values_list("codename", flat=True))
    assert {"view_journal", "change_glaccountmap"} <= finance
    assert "change_carriermap" not in finance


def test_every_page_requires_sign_in(client):
    for url in ("/", "/sync/", "/exchanges/", "/admin/mappings/carriermap/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"]


def test_ops_edits_carrier_map_in_admin_but_finance_cannot(client_as, ops_user, finance_user):
    data = {"warehouse_ship_method": "DPD Next Day", "carrier_code": "DPD", "carrier_name": "",
            "shipping_method": "Next Day", "active": "on"}
    response = client_as(finance_user).post("/admin/mappings/carriermap/add/", data)
    assert response.status_code == 403
    response = client_as(ops_user).post("/admin/mappings/carriermap/add/", data)
    assert response.status_code == 302
    row = CarrierMap.objects.get()
    assert row.history.first().history_user == ops_user


def test_admin_form_refuses_unknown_carrier_code(client_as, ops_user):
    response = client_as(ops_user).post("/admin/mappings/carriermap/add/", {
        "warehouse_ship_method": "Evri 48", "carrier_code": "Evri", "active": "on"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not CarrierMap.objects.exists()


def test_only_admins_retry_dead_letters(client_as, ops_user, admin_user):
    from integration_hub.sync.models import WorkItem

    item = WorkItem.objects.create(kind="confirm_shipment", key="1", state="dead", last_error="boom")
    assert client_as(ops_user).post(f"/sync/{item.pk}/retry/").status_code == 403
    response = client_as(admin_user).post(f"/sync/{item.pk}/retry/")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "pending" and item.attempts == 0


def api_client(user=None):
    client = APIClient()
    if user:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_api_refuses_requests_without_a_token():
    assert api_client().get("/api/mappings/carrier-maps/").status_code == 401


def test_api_with_token_lists_and_validates_mappings(ops_user):
    client = api_client(ops_user)
    response = client.post("/api/mappings/carrier-maps/", {"warehouse_ship_method": "Evri 48",
                                                             "carrier_code": "Other"}, format="json")
    assert response.status_code == 400
    assert "carrier_name" in response.json()
    response = client.post("/api/mappings/carrier-maps/", {"warehouse_ship_method": "Evri 48", "carrier_code": "Other",
                                                             "carrier_name": "Evri"}, format="json")
    assert response.status_code == 201, response.content
    listed = client.get("/api/mappings/carrier-maps/?carrier_code=Other").json()
    assert [row["warehouse_ship_method"] for row in listed["results"]] == ["Evri 48"]
    assert CarrierMap.objects.get().history.first().history_user == ops_user  # audit trail via the API too


def test_api_enforces_role_permissions(ops_user, finance_user):
    rule = {"transaction_type": "Order", "amount_type": "ItemPrice", "amount_description": "Principal",
            "gl_account": "4000", "description": "Sales"}
    assert api_client(ops_user).post("/api/mappings/gl-account-maps/", rule, format="json").status_code == 403
    assert api_client(finance_user).post("/api/mappings/gl-account-maps/", rule, format="json").status_code == 201
    assert GlAccountMap.objects.count() == 1
    assert api_client(finance_user).get("/api/mappings/carrier-maps/").status_code == 403


def test_openapi_schema_describes_the_mapping_endpoints(admin_user):
    response = api_client(admin_user).get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/mappings/carrier-maps/" in response.json()["paths"]


def test_retry_never_redirects_off_site(client_as, admin_user):
    from integration_hub.sync.models import WorkItem

    item = WorkItem.objects.create(kind="confirm_shipment", key="2", state="dead")
    response = client_as(admin_user).post(f"/sync/{item.pk}/retry/", {"next": "https://evil.example/"})
    assert response["Location"] == "/sync/"


@pytest.mark.parametrize("url,method", [
    ("/django-rq/", "get"),
    ("/django-rq/queues/0/", "get"),
    ("/django-rq/queues/0/empty/", "post"),
    ("/django-rq/queues/0/requeue-all/", "post"),
])
def test_only_admins_reach_the_rq_dashboard(url, method, client, ops_user, finance_user, admin_user):
    import django_rq

    django_rq.get_queue("default").enqueue("integration_hub.sync.engine.sweep")
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "login" in response["Location"]
    for user in (ops_user, finance_user):
        client.force_login(user)
        assert getattr(client, method)(url).status_code == 403, (user, url)
    assert django_rq.get_queue("default").count == 1  # nothing emptied or requeued by them
    client.force_login(admin_user)
    assert getattr(client, method)(url).status_code in (200, 302)


def test_ops_retry_order_and_stock_work_admins_also_confirmations(client_as, ops_user, admin_user, finance_user):
    from integration_hub.sync.models import WorkItem

    send = WorkItem.objects.create(kind="send_order", key="1:202-0000001-0000001", state="dead", last_error="x")
    stock = WorkItem.objects.create(kind="push_stock", key="1:fast", state="dead", last_error="x")
    confirm = WorkItem.objects.create(kind="confirm_shipment", key="7", state="dead", last_error="x")
    client = client_as(ops_user)
    assert client.post(f"/sync/{confirm.pk}/retry/").status_code == 403
    page = client.get("/sync/?state=dead").content.decode()
    assert f'value="{send.pk}"' in page and f'value="{confirm.pk}"' not in page  # only what ops may retry
    response = client.post("/sync/retry/", {"items": [send.pk, stock.pk, confirm.pk], "next": "/sync/"})
    assert response.status_code == 302
    states = dict(WorkItem.objects.values_list("pk", "state"))
    assert (states[send.pk], states[stock.pk], states[confirm.pk]) == ("pending", "pending", "dead")
    assert client_as(finance_user).post("/sync/retry/", {"items": [confirm.pk]}).status_code == 403

    response = client_as(admin_user).post("/sync/retry/", {"items": [confirm.pk]})
    assert response.status_code == 302
    assert WorkItem.objects.get(pk=confirm.pk).state == "pending"
