"""People are told: alert rules open an incident once, deliver it by e-mail and a Slack-compatible chat
webhook (through the exchange recorder, retried like any outside call), and tell again when it resolves."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import django_rq
import pytest
from django.core import mail
from django.utils import timezone
from rq import SimpleWorker

from connectors.models import CircuitState
from integration_hub.alerts import rules, services
from integration_hub.alerts.models import Alert, AlertRule
from integration_hub.exchanges.models import Exchange
from integration_hub.sync.choices import WorkKind, WorkState
from integration_hub.sync.models import WorkItem
from integration_hub.sync.scheduler import run_schedule
from tests.factories import OrderFactory, SellerAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


class ChatReceiver:
    """A chat service's incoming webhook on loopback: records each message, answers what it is told to."""

    def __init__(self):
        self.messages, self.answers = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answers.pop(0) if receiver.answers else 200
                if status == 200:
                    receiver.messages.append(json.loads(body)["text"])
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no_service")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret-webhook-path"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat():
    receiver = ChatReceiver()
    yield receiver
    receiver.stop()


def run_evaluation():
    """The repeating job, then the deliveries it queued, through an RQ worker."""
    django_rq.get_queue("default").enqueue(run_schedule, "alerts.evaluate")
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True, with_scheduler=False)


def deliveries_due_now():
    WorkItem.objects.filter(state=WorkState.RETRYING).update(next_attempt_at=timezone.now())
    from integration_hub.sync.engine import sweep

    sweep()
    django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True, with_scheduler=False)


def test_an_incident_is_told_once_when_it_opens_and_once_when_it_resolves(chat, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    AlertRule.objects.all().delete()  # the default rules have no channels; this test's rule has both
    AlertRule.objects.create(name="Circuits", kind="circuit_open", threshold=0, severity="critical",
                             email_to="ops@example.com, lead@example.com", chat_webhook_url=chat.url)
    account = SellerAccountFactory(name="UK seller")
    circuit = CircuitState.objects.create(account=account, api="orders", state=CircuitState.State.OPEN,
                                          consecutive_failures=5, opened_at=timezone.now() - dt.timedelta(minutes=2))
    run_evaluation()
    alert = Alert.objects.get()
    assert alert.is_open and alert.account == account and "UK seller orders" in alert.summary
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com", "lead@example.com"]
    assert mail.outbox[0].subject.startswith("[Integration Hub] CRITICAL: Circuit open")
    assert len(chat.messages) == 1 and "Circuit open" in chat.messages[0] and f"/alerts/{alert.pk}/" in chat.messages[0]

    run_evaluation()  # still open: nobody is told twice
    assert len(mail.outbox) == 1 and len(chat.messages) == 1

    CircuitState.objects.filter(pk=circuit.pk).update(state=CircuitState.State.CLOSED)
    run_evaluation()
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert len(mail.outbox) == 2 and mail.outbox[1].subject.startswith("[Integration Hub] RESOLVED")
    assert len(chat.messages) == 2 and chat.messages[1].startswith(alert.summary)
    # Every delivery went through the exchange recorder, and the webhook URL (a secret) is in no row.
    rows = Exchange.objects.filter(system="alerts")
    assert sorted(rows.values_list("operation", flat=True)) == ["chat_webhook", "chat_webhook", "email", "email"]
    assert set(rows.values_list("outcome", flat=True)) == {"ok"}
    for row in rows:
        assert "secret-webhook-path" not in row.request_summary + row.response_summary + row.error
    # The incident stays as history; a new failure is a new incident.
    CircuitState.objects.filter(pk=circuit.pk).update(state=CircuitState.State.OPEN)
    run_evaluation()
    assert Alert.objects.count() == 2 and Alert.objects.open().count() == 1


def test_a_chat_service_that_is_down_delays_the_message_and_a_revoked_webhook_is_a_dead_letter(chat, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    AlertRule.objects.all().delete()
    AlertRule.objects.create(name="Held", kind="held_orders", threshold=30, email_to="ops@example.com",
                             chat_webhook_url=chat.url)
    order = OrderFactory()
    order.hold("SKU X is not linked")
    type(order).objects.filter(pk=order.pk).update(held_at=timezone.now() - dt.timedelta(minutes=45))
    chat.answers = [503]
    run_evaluation()
    assert len(mail.outbox) == 1, "the e-mail does not wait for the chat service"
    chat_item = WorkItem.objects.get(kind=WorkKind.DELIVER_ALERT, key__endswith=":chat")
    assert chat_item.state == WorkState.RETRYING and "503" in chat_item.last_error
    deliveries_due_now()
    chat_item.refresh_from_db()
    assert chat_item.state == WorkState.DONE
    assert len(chat.messages) == 1 and "held longer than 30 min" in chat.messages[0]
    assert len(mail.outbox) == 1, "the e-mail was not sent again"

    type(order).objects.filter(pk=order.pk).update(hub_state="received", hold_reason="", held_at=None)
    chat.answers = [404]  # the webhook was revoked in the chat service
    run_evaluation()
    chat_item = WorkItem.objects.get(kind=WorkKind.DELIVER_ALERT, key__endswith=":resolved:chat")
    assert chat_item.state == WorkState.DEAD and "404" in chat_item.last_error


@pytest.mark.parametrize("kind", ["unconfirmed_near_ship_by", "held_orders", "dead_letters", "schedule_overdue",
                                  "quota_exhausted", "connection_silent", "late_to_dispatch"])
def test_each_rule_finds_its_condition_and_nothing_when_it_is_absent(kind):
    from integration_hub.sync.models import Schedule

    now = timezone.now()
    account = SellerAccountFactory()
    rule = AlertRule(name=kind, kind=kind, threshold=rules_threshold(kind))
    assert rules.find(rule, now) == {}
    if kind == "unconfirmed_near_ship_by":
        OrderFactory(account=account, latest_ship_date=now + dt.timedelta(hours=30))  # not near yet
        assert rules.find(rule, now) == {}
        OrderFactory(account=account, latest_ship_date=now + dt.timedelta(hours=2))
    elif kind == "held_orders":
        OrderFactory(account=account, hub_state="held", hold_reason="x", held_at=now - dt.timedelta(minutes=5))
        assert rules.find(rule, now) == {}
        OrderFactory(account=account, hub_state="held", hold_reason="x", held_at=now - dt.timedelta(hours=2))
    elif kind == "dead_letters":
        WorkItem.objects.create(kind=WorkKind.PUSH_STOCK, key="1:fast", account=account, state=WorkState.DEAD)
    elif kind == "schedule_overdue":
        Schedule.objects.create(name="stock.fast", interval_seconds=300, last_run_at=now,
                                last_success_at=now - dt.timedelta(minutes=2))
        assert rules.find(rule, now) == {}
        Schedule.objects.filter(name="stock.fast").update(last_success_at=now - dt.timedelta(hours=1),
                                                           last_error="ConnectorError: 503\ntrace")
    elif kind == "quota_exhausted":
        for _ in range(3):
            Exchange.objects.create(system="amazon", operation="searchOrders", account=account, http_status=429)
    elif kind == "connection_silent":
        type(account.back_office).objects.filter(pk=account.back_office.pk).update(
            last_success_at=now - dt.timedelta(hours=2), last_error="timed out")
    elif kind == "late_to_dispatch":
        OrderFactory(account=account, hub_state="sent", latest_ship_date=now - dt.timedelta(hours=1))
    found = rules.find(rule, now)
    assert len(found) == 1, found
    finding = next(iter(found.values()))
    assert finding.summary
    if kind == "schedule_overdue":
        assert "stock.fast" in finding.summary and "ConnectorError: 503" in finding.detail


def rules_threshold(kind):
    return {"unconfirmed_near_ship_by": 4, "held_orders": 30, "dead_letters": 1, "schedule_overdue": 5,
            "quota_exhausted": 3, "connection_silent": 30, "late_to_dispatch": 1}[kind]


def test_a_rule_that_fails_to_evaluate_does_not_silence_the_others(monkeypatch):
    AlertRule.objects.all().delete()
    AlertRule.objects.create(name="broken", kind="intake_lag", threshold=1)
    AlertRule.objects.create(name="dead", kind="dead_letters", threshold=1)
    WorkItem.objects.create(kind=WorkKind.PUSH_STOCK, key="1:fast", state=WorkState.DEAD)
    monkeypatch.setitem(rules.FINDERS, "intake_lag", lambda rule, now, accounts: 1 / 0)
    assert services.evaluate() == (1, 0)
    assert Alert.objects.get().rule.name == "dead"


def test_a_new_hub_has_a_rule_of_every_kind_kept_but_sent_nowhere():
    from integration_hub.alerts.choices import RuleKind

    assert set(AlertRule.objects.values_list("kind", flat=True)) == set(RuleKind.values)
    assert all(rule.channels() == [] for rule in AlertRule.objects.all())


def test_open_alerts_lead_the_home_page_and_the_alerts_page_keeps_their_history(client_as, ops_user, finance_user):
    now = timezone.now()
    rule = AlertRule.objects.create(name="Held (page)", kind="held_orders", threshold=30, severity="critical")
    open_one = Alert.objects.create(rule=rule, key="account:1", severity="critical", summary="UK: 3 orders held",
                                    opened_at=now, last_seen_at=now, runbook="held-orders")
    Alert.objects.create(rule=rule, key="account:2", severity="critical", summary="DE: 1 order held",
                         opened_at=now - dt.timedelta(days=1), last_seen_at=now, resolved_at=now)
    page = client_as(ops_user).get("/").content.decode()
    assert "UK: 3 orders held" in page and f"/alerts/{open_one.pk}/" in page and "DE: 1 order held" not in page
    listing = client_as(ops_user).get("/alerts/").content.decode()
    assert "UK: 3 orders held" in listing and "DE: 1 order held" not in listing
    assert "DE: 1 order held" in client_as(ops_user).get("/alerts/?show=all").content.decode()
    detail = client_as(ops_user).get(f"/alerts/{open_one.pk}/").content.decode()
    assert "docs/operations.md#held-orders" in detail
    home = client_as(finance_user).get("/").content.decode()
    assert "UK: 3 orders held" in home and f"/alerts/{open_one.pk}/" not in home  # told, but no alerts pages


def test_every_alert_kind_has_its_runbook_entry():
    from pathlib import Path

    from django.conf import settings

    from integration_hub.alerts.choices import RuleKind

    runbook = (Path(settings.BASE_DIR) / "docs" / "operations.md").read_text()
    for kind in RuleKind.values:
        assert f'<a id="{kind.replace("_", "-")}"></a>' in runbook, kind


def test_switching_a_rule_off_resolves_what_it_had_open(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    AlertRule.objects.all().delete()
    rule = AlertRule.objects.create(name="Dead", kind="dead_letters", threshold=1, email_to="ops@example.com")
    WorkItem.objects.create(kind=WorkKind.PUSH_STOCK, key="1:fast", state=WorkState.DEAD)
    assert services.evaluate() == (1, 0)
    AlertRule.objects.filter(pk=rule.pk).update(active=False)
    assert services.evaluate() == (0, 1)
    assert not Alert.objects.open().exists()
    keys = sorted(WorkItem.objects.filter(kind=WorkKind.DELIVER_ALERT).values_list("key", flat=True))
    assert [key.split(":", 1)[1] for key in keys] == ["opened:email", "resolved:email"]


def test_a_schedule_whose_first_run_is_under_way_is_not_overdue_but_one_that_never_finished_is():
    """Seen in make run's demo: right after start, every schedule whose first run had begun but not yet
    finished (alerts.evaluate among them, evaluating itself) was reported overdue."""
    from integration_hub.sync.models import Schedule

    now = timezone.now()
    rule = AlertRule(name="overdue", kind="schedule_overdue", threshold=5)
    Schedule.objects.create(name="alerts.evaluate", interval_seconds=60, last_run_at=now)
    assert rules.find(rule, now) == {}
    Schedule.objects.filter(name="alerts.evaluate").update(last_run_at=now - dt.timedelta(minutes=10))
    assert list(rules.find(rule, now)) == ["schedule:alerts.evaluate"]  # began long ago, never finished
