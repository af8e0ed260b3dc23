"""Walk every door: every URL pattern the hub serves (pages, admin, API, hooks, django-rq, sign-in) is
requested as anonymous, a user with no group, ops, finance and admin, and the answer must be the one
the table below says. A new URL without a row fails this test, so nobody adds a door unchecked.

Answers: 200 (or any 2xx the row names), "login" (a redirect to sign in), 302 (another redirect), 401,
403, 404, 405. Admin pages are listed per model: the row says which roles may view, add, change and
delete; every admin URL of that model (list, add, change, delete, history) is checked against it.
"""

import os
import re

import pytest
from django.conf import settings
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "nogroup", "ops", "finance", "admin")

RQ_JOB_PAGES = ("rq_job_detail", "rq_delete_job", "rq_requeue_job", "rq_enqueue_job")
# name -> (method, {role: expected}); "*" covers the roles not named.
L, D = "login", 403  # sign in first; denied
TABLE = {
    # Sign-in and the user's own pages
    "login": ("GET", {"*": 200}),
    "logout": ("POST", {"*": L}),  # signed out, back to the sign-in page
    "password_change": ("GET", {"anonymous": L, "*": 200}),
    "password_change_done": ("GET", {"anonymous": L, "*": 200}),
    "accounts:security": ("GET", {"anonymous": L, "*": 200}),
    "accounts:verify": ("GET", {"anonymous": L, "*": 302}),  # nothing enrolled: off to setup
    "accounts:setup": ("GET", {"anonymous": L, "*": 200}),
    "accounts:recovery_codes": ("POST", {"anonymous": L, "*": 302}),  # not enrolled: back to the security page
    # Hub pages
    "dashboard:home": ("GET", {"anonymous": L, "*": 200}),
    "dashboard:health": ("GET", {"anonymous": L, "*": 200}),
    "dashboard:quota": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    "dashboard:onboarding": ("GET", {"anonymous": L, "nogroup": D, "finance": D, "*": 200}),
    "dashboard:exceptions": ("GET", {"anonymous": L, "nogroup": D, "finance": D, "*": 200}),
    **{f"dashboard:{fix}": ("POST", {"anonymous": L, "nogroup": D, "finance": D, "*": 302})
       for fix in ("link-sku", "map-ship-level", "map-carrier")},
    # Probes: no sign-in; healthz is 503 here (no worker on most lanes), metrics need a token or address
    "healthz": ("GET", {"*": 503}),
    "metrics": ("GET", {"*": 403}),
    "orders:list": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    "orders:detail": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    "orders:timeline": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    "orders:bulk": ("POST", {"anonymous": L, "nogroup": D, "finance": D, "*": 302}),
    "orders:hold": ("POST", {"anonymous": L, "nogroup": D, "finance": D, "*": 302}),
    "orders:release": ("POST", {"anonymous": L, "nogroup": D, "finance": D, "*": 302}),
    "orders:refetch": ("POST", {"anonymous": L, "nogroup": D, "finance": D, "*": 302}),
    "shipments:list": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    "shipments:detail": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    "inventory:list": ("GET", {"anonymous": L, "nogroup": D, "finance": D, "*": 200}),
    "finance:settlements": ("GET", {"anonymous": L, "nogroup": D, "ops": D, "*": 200}),
    "finance:upload": ("POST", {"anonymous": L, "nogroup": D, "ops": D, "*": 302}),
    "finance:settlement": ("GET", {"anonymous": L, "nogroup": D, "ops": D, "*": 200}),
    "finance:download": ("GET", {"anonymous": L, "nogroup": D, "ops": D, "*": 200}),
    "finance:post": ("POST", {"anonymous": L, "nogroup": D, "ops": D, "*": 302}),
    "sync:workitems": ("GET", {"anonymous": L, "nogroup": D, "finance": D, "*": 200}),
    "sync:jobs": ("GET", {"anonymous": L, "nogroup": D, "finance": D, "*": 200}),
    "finance:upload-detail": ("GET", {"anonymous": L, "nogroup": D, "ops": D, "*": 404}),  # no upload in the walk
    "finance:upload-progress": ("GET", {"anonymous": L, "nogroup": D, "ops": D, "*": 404}),
    "sync:retry": ("POST", {"anonymous": L, "nogroup": D, "finance": D, "ops": D, "admin": 302}),
    "sync:retry-many": ("POST", {"anonymous": L, "nogroup": D, "finance": D, "*": 302}),
    "alerts:list": ("GET", {"anonymous": L, "nogroup": D, "finance": D, "*": 200}),
    "alerts:detail": ("GET", {"anonymous": L, "nogroup": D, "finance": D, "*": 200}),
    "exchanges:list": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    "exchanges:replay": ("POST", {"anonymous": L, "nogroup": D, "*": 404}),  # the walk's exchange has no work item
    "exchanges:detail": ("GET", {"anonymous": L, "nogroup": D, "*": 200}),
    # Inbound webhooks: no sign-in, a secret path token (unknown here), POST only
    "connectors:clarus-webhook": ("POST", {"*": 404}),
    # API: token or session; DRF answers 401 without credentials
    "api-root": ("GET", {"anonymous": 401, "*": 200}),
    "api-schema": ("GET", {"anonymous": 401, "*": 200}),
    "api-docs": ("GET", {"anonymous": L, "*": 200}),
    **{f"{name}-{kind}": ("GET", {"anonymous": 401, "nogroup": D, **rule})
       for name, rule in (
           # Finance sees the GL map only, as in the admin.
           ("carrier-maps", {"finance": D, "*": 200}), ("ship-level-maps", {"finance": D, "*": 200}),
           ("sku-links", {"finance": D, "*": 200}), ("stock-buffers", {"finance": D, "*": 200}),
           ("gl-account-maps", {"*": 200}), ("order-status-maps", {"finance": D, "*": 200}),
           ("custom-field-maps", {"finance": D, "*": 200}), ("orders", {"*": 200}), ("shipments", {"*": 200}),
           ("stock-levels", {"finance": D, "*": 200}), ("stock", {"finance": D, "*": 200}),
           ("settlements", {"ops": D, "*": 200}), ("journals", {"ops": D, "*": 200}),
           ("reconciliations", {"ops": D, "*": 200}), ("exchanges", {"*": 200}),
           ("work-items", {"finance": D, "*": 200}))
       for kind in ("list", "detail")},
    "orders-hold": ("POST", {"anonymous": 401, "nogroup": D, "finance": D, "*": 400}),  # no reason given
    "orders-release": ("POST", {"anonymous": 401, "nogroup": D, "finance": D, "*": 409}),  # not held
    "orders-refetch": ("POST", {"anonymous": 401, "nogroup": D, "finance": D, "*": 202}),
    # A confirmation: admins only; and not a dead letter, so nothing to retry.
    "work-items-retry": ("POST", {"anonymous": 401, "nogroup": D, "finance": D, "ops": D, "admin": 409}),
    # The RQ dashboard: admins only
    **{name: ("GET", {"anonymous": L, "nogroup": D, "ops": D, "finance": D, "admin": 200})
       for name in ("rq_home", "rq_home_json", "rq_metrics", "rq_jobs", "rq_workers", "rq_worker_details",
                    "rq_finished_jobs", "rq_failed_jobs",
                    "rq_scheduled_jobs", "rq_started_jobs", "rq_deferred_jobs", "rq_scheduler_jobs")},
    "rq_confirm_action": ("GET", {"anonymous": L, "nogroup": D, "ops": D, "finance": D, "admin": 302}),  # POST only
    **{name: ("GET", {"anonymous": L, "nogroup": D, "ops": D, "finance": D, "admin": 200}) for name in RQ_JOB_PAGES},
    "rq_stop_job": ("GET", {"anonymous": L, "nogroup": D, "ops": D, "finance": D, "admin": 405}),
    **{name: ("POST", {"anonymous": L, "nogroup": D, "ops": D, "finance": D, "admin": 302})
       for name in ("rq_clear", "rq_requeue_all", "rq_delete_failed_jobs", "rq_actions")},
}

# Admin: app_label.model -> roles that may view, add, change and delete there.
EVERYONE = ("ops", "finance", "admin")
ADMIN_MODELS = {
    "orders.order": {"view": EVERYONE, "add": (), "change": (), "delete": ()},
    "shipments.shipment": {"view": EVERYONE, "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "shipments.unmatcheddispatch": {"view": EVERYONE, "add": ("admin",), "change": ("admin",),
                                    "delete": ("admin",)},
    # Settlements come from Amazon or an upload, journals and reconciliation from them: never added here.
    "finance.settlement": {"view": ("finance", "admin"), "add": (), "change": ("finance", "admin"),
                           "delete": ("admin",)},
    "finance.journal": {"view": ("finance", "admin"), "add": (), "change": ("finance", "admin"), "delete": ()},
    "finance.reconciliationline": {"view": ("finance", "admin"), "add": (), "change": ("finance", "admin"),
                                   "delete": ()},
    "audit.auditevent": {"view": ("admin",), "add": (), "change": (), "delete": ()},
    "inventory.stocklevel": {"view": ("ops", "admin"), "add": ("admin",), "change": ("admin",),
                             "delete": ("admin",)},
    "inventory.stockpush": {"view": ("ops", "admin"), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "inventory.stockfeed": {"view": ("ops", "admin"), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "inventory.stockcheck": {"view": ("ops", "admin"), "add": ("admin",), "change": ("admin",),
                             "delete": ("admin",)},
    "connectors.selleraccount": {"view": EVERYONE, "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "connectors.backofficeconnection": {"view": EVERYONE, "add": ("admin",), "change": ("admin",),
                                        "delete": ("admin",)},
    "connectors.circuitstate": {"view": EVERYONE, "add": (), "change": ("admin",), "delete": ("admin",)},
    **{f"mappings.{model}": {"view": ("ops", "admin"), "add": ("ops", "admin"), "change": ("ops", "admin"),
                             "delete": ("ops", "admin")}
       for model in ("carriermap", "shiplevelmap", "skulink", "stockbuffer", "orderstatusmap", "customfieldmap")},
    "mappings.glaccountmap": {"view": EVERYONE, "add": ("finance", "admin"), "change": ("finance", "admin"),
                              "delete": ("finance", "admin")},
    "alerts.alertrule": {"view": ("ops", "admin"), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "alerts.alert": {"view": ("ops", "admin"), "add": (), "change": (), "delete": ("admin",)},
    "auth.user": {"view": ("admin",), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "auth.group": {"view": ("admin",), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "authtoken.tokenproxy": {"view": ("admin",), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "axes.accessattempt": {"view": ("admin",), "add": (), "change": (), "delete": ("admin",)},
    "axes.accesslog": {"view": ("admin",), "add": (), "change": (), "delete": ("admin",)},
    "axes.accessfailurelog": {"view": ("admin",), "add": (), "change": (), "delete": ("admin",)},
    "otp_totp.totpdevice": {"view": ("admin",), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
    "otp_static.staticdevice": {"view": ("admin",), "add": ("admin",), "change": ("admin",), "delete": ("admin",)},
}
# Admin site pages that belong to no model.
ADMIN_SITE = {
    "admin:index": {"anonymous": L, "nogroup": L, "*": 200},
    "admin:login": {"anonymous": 200, "nogroup": 200, "*": 302},  # staff already in: on to the index
    "admin:logout": {"anonymous": L, "nogroup": 302, "*": 405},  # POST only
    "admin:password_change": {"anonymous": L, "nogroup": L, "*": 200},
    "admin:password_change_done": {"anonymous": L, "nogroup": L, "*": 200},
    "admin:jsi18n": {"anonymous": L, "nogroup": L, "*": 200},
    "admin:autocomplete": {"anonymous": L, "nogroup": L, "*": 403},  # no model named
    "admin:view_on_site": {"anonymous": L, "nogroup": L, "*": 404},
    "admin:app_list": {"anonymous": L, "nogroup": L, "*": "app"},  # 200 where the role sees a model of the app
    "admin:object_redirect": {"anonymous": L, "nogroup": L, "*": 302},  # old-style object URL: on to its change page
    "admin:catch_all": {"anonymous": L, "nogroup": L, "*": 404},
}


# What each admin view needs, by the four columns of ADMIN_MODELS (the rest need their own name).
ADMIN_ACTION_NEEDS = {"changelist": "view", "change": "view", "history": "view", "simple_history": "view",
                      "export": "view", "import": "add", "process_import": "add", "password_change": "change",
                      "config": "change", "qrcode": "change"}


def history_id(obj):
    history = getattr(obj, "history", None)
    return history.first().history_id if history is not None and history.exists() else 0


def walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name, pattern


def expected_for(rule, role):
    return rule.get(role, rule.get("*"))


@pytest.fixture
def clients(ops_user, finance_user, admin_user):
    users = {"nogroup": User.objects.create_user("nogroup-user", password="a-long-test-password-1"),
             "ops": ops_user, "finance": finance_user, "admin": admin_user}
    out = {"anonymous": Client()}
    for role, user in users.items():
        out[role] = Client()
        out[role].force_login(user)
        Token.objects.get_or_create(user=user)
    return out


@pytest.fixture
def objects(admin_user):
    """One row of every model a URL points at, so detail and change pages render for real."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from connectors.models import CircuitState
    from integration_hub.audit.models import AuditEvent
    from integration_hub.exchanges.models import Exchange
    from integration_hub.finance.importer import import_settlement
    from integration_hub.inventory.models import StockCheck, StockFeed
    from integration_hub.shipments.models import UnmatchedDispatch
    from mappings.models import AMAZON_ORDER_FIELDS, CustomFieldMap, GlAccountMap, OrderStatusMap
    from tests import factories
    from tests.finance.builders import order_lines, settlement_text
    from tests.finance.conftest import UK_RULES, as_stream

    for tt, at, ad, gl, text in UK_RULES:
        GlAccountMap.objects.create(transaction_type=tt, amount_type=at, amount_description=ad, gl_account=gl,
                                    description=text)
    order = factories.AddressFactory().order
    factories.OrderLineFactory(order=order)
    account = order.account
    settlement = import_settlement(account, as_stream(settlement_text(order_lines("202-1-1", "MUG", "10.00"))))
    settlement = settlement.settlement
    from integration_hub.alerts.models import Alert, AlertRule

    rule = AlertRule.objects.create(name="Held orders (door test)", kind="held_orders", threshold=30)
    made = {
        "orders.order": order, "shipments.shipment": factories.ShipmentFactory(order=order),
        "shipments.unmatcheddispatch": UnmatchedDispatch.objects.create(
            connection=account.back_office, amazon_order_id="202-9-9", dispatch_ref="D1", payload={}),
        "finance.settlement": settlement, "finance.journal": settlement.journals.first(),
        "finance.reconciliationline": settlement.reconciliation_lines.first(),
        "inventory.stocklevel": factories.StockLevelFactory(), "inventory.stockpush": factories.StockPushFactory(),
        "inventory.stockfeed": StockFeed.objects.create(account=account, feed_id="F1", sku_count=1),
        "inventory.stockcheck": StockCheck.objects.create(account=account, report_id="R1",
                                                          requested_at=order.created_at),
        "connectors.selleraccount": account, "connectors.backofficeconnection": account.back_office,
        "connectors.circuitstate": CircuitState.objects.create(account=account, api="orders"),
        "mappings.carriermap": factories.CarrierMapFactory(), "mappings.shiplevelmap": factories.ShipLevelMapFactory(),
        "mappings.skulink": factories.SkuLinkFactory(), "mappings.stockbuffer": factories.StockBufferFactory(),
        "mappings.glaccountmap": GlAccountMap.objects.first(),
        "mappings.orderstatusmap": OrderStatusMap.objects.create(back_office_kind="clarus", back_office_status="X",
                                                                 hub_status="Shipped"),
        "mappings.customfieldmap": CustomFieldMap.objects.create(back_office_kind="clarus",
                                                                 amazon_field=AMAZON_ORDER_FIELDS[0][0],
                                                                 back_office_field="string1"),
        "audit.auditevent": AuditEvent.objects.create(username="someone", action="order.hold", source="web"),
        "auth.user": admin_user, "auth.group": admin_user.groups.first(),
        "authtoken.tokenproxy": admin_user,  # the token admin is keyed by its user
        "axes.accessattempt": AccessAttempt.objects.create(username="x", ip_address="192.0.2.1",
                                                           failures_since_start=1),
        "axes.accesslog": AccessLog.objects.create(username="x", ip_address="192.0.2.1"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(username="x", ip_address="192.0.2.1"),
        "otp_totp.totpdevice": TOTPDevice.objects.create(user=admin_user, name="authenticator", confirmed=False),
        "otp_static.staticdevice": StaticDevice.objects.create(user=admin_user, name="recovery codes"),
        "exchanges.exchange": Exchange.objects.create(system="amazon", operation="getOrder", account=account),
        "sync.workitem": factories.WorkItemFactory(kind="confirm_shipment", key="1", state="pending"),
        "alerts.alertrule": rule, "alerts.alert": Alert.objects.create(
            rule=rule, key="account:1", severity="warning", summary="3 orders held", opened_at=order.created_at,
            last_seen_at=order.created_at),
    }
    return made


@pytest.fixture
def rq_worker():
    """A worker registered in Redis, so its page opens (an unknown key answers 404: sync.rq_pages)."""
    import django_rq
    from rq import Worker

    worker = Worker(["default"], connection=django_rq.get_connection("default"))
    worker.register_birth()
    # A job on the second queue (index 1), whose pages the walk opens after emptying queue 0.
    job = django_rq.get_queue(list(settings.RQ_QUEUES)[1]).enqueue("integration_hub.sync.engine.sweep")
    yield worker.key, job.id
    worker.register_death()


def concrete(route, name, objects):
    """The URL to request for a pattern: its parameters filled from the objects above."""
    by_name = {
        "orders:detail": "orders.order", "orders:timeline": "orders.order",
        "orders:hold": "orders.order", "orders:release": "orders.order",
        "orders:refetch": "orders.order", "shipments:detail": "shipments.shipment",
        "finance:settlement": "finance.settlement", "finance:download": "finance.settlement",
        "finance:post": "finance.settlement", "exchanges:detail": "exchanges.exchange",
        "exchanges:replay": "exchanges.exchange",
        "sync:retry": "sync.workitem", "alerts:detail": "alerts.alert",
        "orders": "orders.order", "shipments": "shipments.shipment", "stock-levels": "inventory.stocklevel",
        "stock": "mappings.skulink", "settlements": "finance.settlement", "journals": "finance.journal",
        "reconciliations": "finance.reconciliationline", "exchanges": "exchanges.exchange",
        "work-items": "sync.workitem", "carrier-maps": "mappings.carriermap",
        "ship-level-maps": "mappings.shiplevelmap",
        "sku-links": "mappings.skulink", "stock-buffers": "mappings.stockbuffer",
        "gl-account-maps": "mappings.glaccountmap", "order-status-maps": "mappings.orderstatusmap",
        "custom-field-maps": "mappings.customfieldmap",
    }
    key = by_name.get(name) or by_name.get(re.sub(r"-(list|detail|hold|release|refetch|retry)$", "", name or ""))
    pk = str(objects[key].pk) if key and objects.get(key) is not None else "0"
    values = {"pk": pk, "fmt": "csv", "token": "notatoken", "format": "json", "queue_index": "0",
              "scheduler_index": "0", "key": objects["rq.worker"], "job_id": objects["rq.job"], "app_label": "orders",
              "object_id": "1", "content_type_id": "1", "url": "x"}
    if name in RQ_JOB_PAGES:
        values["queue_index"] = "1"
    url = "/" + route.replace("<drf_format_suffix:format>", ".json")
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)\??", lambda m: values[m[1]], url)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], url)
    url = url.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return url


def answer(response):
    if response.status_code in (301, 302) and "/login/" in response.get("Location", ""):
        return L
    return response.status_code


def test_every_door_answers_each_role_as_the_table_says(clients, objects, rq_worker):
    objects["rq.worker"], objects["rq.job"] = rq_worker
    mismatches, unknown = [], []
    admin_models = {f"{m._meta.app_label}.{m._meta.model_name}" for m in site._registry}
    assert admin_models == set(ADMIN_MODELS), "admin models and the table differ"
    for route, name, _ in walk(get_resolver().url_patterns):
        if name == "admin:None":
            name = "admin:object_redirect" if "<path:object_id>" in route else "admin:catch_all"
        if name and name.startswith("admin:") and name not in ADMIN_SITE:
            label = next((label for label in ADMIN_MODELS
                          if name.startswith(f"admin:{label.replace('.', '_')}_")), None)
            action = name[len(f"admin:{label.replace('.', '_')}_"):] if label else None
            if action not in ADMIN_ACTION_NEEDS and action not in ("add", "delete"):
                unknown.append(f"{name} ({route})")
                continue
            obj = objects.get(label)
            object_id = str(obj.pk) if obj is not None else "0"
            url = "/" + re.sub(r"<path:object_id>|<id>|<int:pk>", object_id, route)
            url = url.replace("^([^/]+)/history/([^/]+)/$", f"{object_id}/history/{history_id(obj)}/")
            rule = ADMIN_MODELS[label]
            needs = ADMIN_ACTION_NEEDS.get(action, action)
            if needs == "view":
                allowed = set(rule["view"]) | set(rule["change"])
            else:
                allowed = set(rule[needs])
            for role in ROLES:
                if role in ("anonymous", "nogroup"):
                    want = L
                elif role in allowed:
                    want = 200
                else:
                    want = 403
                method = "post" if action == "process_import" else "get"  # the import's second step is POST only
                got = answer(getattr(clients[role], method)(url))
                if got != want:
                    mismatches.append(f"{method.upper()} {url} as {role}: {got}, table says {want}")
            continue
        if name in ADMIN_SITE:
            rule, method = ADMIN_SITE[name], "GET"
        elif name in TABLE:
            method, rule = TABLE[name]
        else:
            unknown.append(f"{name} ({route})")
            continue
        url = concrete(route, name, objects)
        for role in ROLES:
            want = expected_for(rule, role)
            if want == "app":
                continue
            client = clients[role]
            if name == "logout":  # signing out must not sign the role's client out for the rest of the walk
                client = Client()
                if role != "anonymous":
                    client.force_login(User.objects.get(username=f"{role}-user"))
            response = getattr(client, method.lower())(url)
            got = answer(response)
            if got != want:
                mismatches.append(f"{method} {url} ({name}) as {role}: {got}, table says {want}")
    if os.environ.get("HUB_DOORS_SHOW"):
        print("\n".join(mismatches + unknown))
    assert not unknown, "URLs without a row in the table:\n" + "\n".join(unknown)
    assert not mismatches, "\n".join(mismatches)
