"""Webhook ("Automation") deliveries of the emulator: at-least-once, sometimes twice, sometimes late.

Deliveries leave from one background thread. With chaos on (the default, seeded so a run can
be replayed) an event is sometimes delivered twice and sometimes held back until after the
next one, as a real at-least-once sender may do; `deterministic=True` turns both off.

A delivery the receiver does not answer with 2xx (or does not answer) is sent again, up to
REDELIVERIES times, waiting REDELIVERY_DELAY seconds doubling each time. Clarus documents
at-least-once delivery but not its retry schedule; this is the stricter plausible reading, with
delays compressed for tests. A tenant may sign its deliveries (HMAC-SHA256 of the body in
`X-Hub-Signature-256`), which Clarus itself does not; it stands for the senders that do.
"""

import hashlib
import hmac
import json
import logging
import queue
import random
import threading
import time
import urllib.request

logger = logging.getLogger(__name__)

DUPLICATE_RATE = 0.3
DELAY_RATE = 0.3
# One automation id per event kind, as a consultant would set them up in the tenant.
AUTOMATION_IDS = {"sales_order_completed": "101", "stock_adjustment": "102", "stock_hold": "103"}
REDELIVERIES = 5
REDELIVERY_DELAY = 0.5


class WebhookSender:
    """Delivers events to one URL per tenant, in order unless chaos reorders them."""

    def __init__(self, *, seed=0, deterministic=False, timeout=5):
        self.random = random.Random(seed)
        self.deterministic = deterministic
        self.timeout = timeout
        self.dropped_header = ""  # name of an X-ClarusWMS-* header to leave out (negative tests)
        self.delivered = []  # (url, headers, body, status) of every attempt, for tests and the demo log
        self._queue = queue.Queue()
        self._held_back = []
        self._lock = threading.Lock()  # guards the random generator, the held-back list and the count
        self._outstanding = 0  # deliveries queued, being attempted or waiting to be redelivered
        self._thread = threading.Thread(target=self._run, name="clarus-webhooks", daemon=True)
        self._thread.start()

    def send(self, url, event, headers, payload, signing_key=""):
        """Queue one event for delivery; chaos decides on duplicates and reordering."""
        body = json.dumps({"event": event, "data": payload}, default=str).encode()
        headers = {**headers, "X-ClarusWMS-Automation-ID": AUTOMATION_IDS[event]}
        if signing_key:
            digest = hmac.new(signing_key.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        headers.pop(self.dropped_header, None)
        copies = [(url, headers, body, 0)]
        with self._lock:
            if not self.deterministic and self.random.random() < DUPLICATE_RATE:
                copies.append((url, headers, body, 0))
            if not self.deterministic and self.random.random() < DELAY_RATE:
                self._held_back.extend(copies)
                return
            for copy in copies + self._held_back:
                self._outstanding += 1
                self._queue.put(copy)
            self._held_back = []

    def flush(self, timeout=10):
        """Release held-back events and wait until everything queued, redeliveries included, has
        been attempted."""
        deadline = time.monotonic() + timeout
        with self._lock:
            for copy in self._held_back:
                self._outstanding += 1
                self._queue.put(copy)
            self._held_back = []
        while time.monotonic() < deadline:
            with self._lock:
                if not self._outstanding:
                    return True
            time.sleep(0.02)
        return False

    def _redeliver(self, url, headers, body, attempt):
        self._queue.put((url, headers, body, attempt))  # still counted as outstanding

    def _run(self):
        while True:
            url, headers, body, attempt = self._queue.get()
            request = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json", **headers})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                logger.warning("webhook to %s failed: %s", url, exc)
                status = None
            self.delivered.append((url, headers, body, status))
            if (status is None or status >= 300) and attempt < REDELIVERIES:
                timer = threading.Timer(REDELIVERY_DELAY * 2 ** attempt, self._redeliver,
                                        (url, headers, body, attempt + 1))
                timer.daemon = True
                timer.start()
            else:
                with self._lock:
                    self._outstanding -= 1
