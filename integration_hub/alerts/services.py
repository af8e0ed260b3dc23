"""Evaluate the rules, open and resolve incidents, and tell people once per change.

Each delivery (one channel of one opened or resolved incident) is a work item: a mail server or chat
webhook that is down delays the message, it does not lose it; and every delivery goes through the
exchange recorder like any other outside call (the webhook URL, a secret, never reaches the log).
"""

import logging
import smtplib

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.base import ConnectorError
from connectors.choices import System
from integration_hub.alerts import rules
from integration_hub.alerts.models import Alert, AlertRule, addresses
from integration_hub.exchanges.recorder import record
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.engine import submit

logger = logging.getLogger(__name__)

OPENED, RESOLVED = "opened", "resolved"
CHAT_TIMEOUT = 10


def evaluate(now=None):
    """Run every active rule once; returns (opened, resolved) counts."""
    now = now or timezone.now()
    opened = resolved = 0
    for rule in AlertRule.objects.all():
        current = {alert.key: alert for alert in Alert.objects.open().filter(rule=rule).select_related("account")}
        for alert in current.values():
            alert.rule = rule
        if not rule.active:  # switched off: what it had open is over
            found = {}
        else:
            try:
                found = rules.find(rule, now)
            except Exception:  # one broken rule must not silence the others
                logger.exception("alert rule %s could not be evaluated", rule.name)
                continue
        for key, finding in found.items():
            alert = current.get(key)
            if alert is None:
                opened += _open(rule, key, finding, now)
            else:
                Alert.objects.filter(pk=alert.pk).update(last_seen_at=now, summary=finding.summary[:300],
                                                         detail=finding.detail)
        for key, alert in current.items():
            if key not in found:
                with transaction.atomic():  # resolved and its messages queued, or neither
                    if Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=now):
                        alert.resolved_at = now
                        resolved += 1
                        _notify(alert, RESOLVED)
    return opened, resolved


def _open(rule, key, finding, now):
    try:
        with transaction.atomic():  # opened and its messages queued, or neither
            alert = Alert.objects.create(rule=rule, key=key, account_id=finding.account_id, severity=rule.severity,
                                         summary=finding.summary[:300], detail=finding.detail,
                                         runbook=rule.kind.replace("_", "-"), opened_at=now, last_seen_at=now)
            _notify(alert, OPENED)
    except IntegrityError:  # another evaluation opened it at the same moment
        return 0
    logger.warning("alert opened: %s", alert.summary)
    return 1


def _notify(alert, event):
    for channel in alert.rule.channels():
        submit(WorkKind.DELIVER_ALERT, f"{alert.pk}:{event}:{channel}", account=alert.account)


def message(alert, event):
    """(subject, text) of a delivery."""
    mark = "RESOLVED" if event == RESOLVED else alert.get_severity_display().upper()
    subject = f"[Integration Hub] {mark}: {alert.summary}"
    lines = [alert.summary]
    if event == RESOLVED:
        lines.append(f"Resolved at {alert.resolved_at:%d %b %H:%M %Z} (opened {alert.opened_at:%d %b %H:%M %Z}).")
    else:
        lines += [alert.detail, f"Opened at {alert.opened_at:%d %b %H:%M %Z} by the rule '{alert.rule.name}'."]
    base = settings.HUB_BASE_URL.rstrip("/")
    lines.append(f"What to do: {base}/alerts/{alert.pk}/ (runbook: docs/operations.md#{alert.runbook})")
    return subject, "\n".join(line for line in lines if line)


def deliver(key):
    """Send one delivery (work item key "<alert pk>:<event>:<channel>")."""
    alert_pk, event, channel = key.split(":")
    alert = Alert.objects.select_related("rule").get(pk=alert_pk)
    subject, text = message(alert, event)
    if channel == "email":
        return _email(alert, subject, text)
    return _chat(alert, subject, text)


def _email(alert, subject, text):
    recipients = addresses(alert.rule.email_to)
    if not recipients:
        return "no recipients any more"
    with record(System.ALERTS, "email", account=alert.account, correlation_id=f"alert:{alert.pk}",
                request={"to": recipients, "subject": subject}) as call:
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
        except smtplib.SMTPRecipientsRefused as exc:  # every address refused: an admin must fix the rule
            raise ConnectorError("the mail server refused every recipient", permanent=True) from exc
        except OSError as exc:  # smtplib's errors and socket errors: the mail server may be back soon
            raise ConnectorError(f"the mail server could not take the message: {type(exc).__name__}",
                                 permanent=False) from exc
        call.done()
    return f"e-mailed {len(recipients)}"


def _chat(alert, subject, text):
    url = alert.rule.chat_webhook_url  # a SecretText: its repr stays masked in any traceback
    if not url:
        return "no chat webhook any more"
    with record(System.ALERTS, "chat_webhook", account=alert.account, correlation_id=f"alert:{alert.pk}",
                request={"text": text}) as call:
        try:
            response = requests.post(url, json={"text": text}, timeout=CHAT_TIMEOUT)
        except requests.RequestException as exc:
            raise ConnectorError(f"the chat webhook could not be reached: {type(exc).__name__}",
                                 permanent=False) from exc
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After", "")
            raise ConnectorError(f"the chat webhook answered {response.status_code}", permanent=False,
                                 status=response.status_code,
                                 retry_after=int(retry_after) if retry_after.isdigit() else None)
        if response.status_code >= 400:  # revoked or malformed: retrying will not help, an admin must fix the rule
            raise ConnectorError(f"the chat webhook refused the message ({response.status_code}): "
                                 f"{response.text[:200]}", permanent=True, status=response.status_code)
        call.done(status=response.status_code)
    return "posted"
