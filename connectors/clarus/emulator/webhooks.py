"""Webhook ("Automation") deliveries of the emulator: at-least-once, sometimes twice, sometimes late.

Deliveries leave from one background thread. With chaos on (the default, seeded so a run can
be replayed) an event is sometimes delivered twice and sometimes held back until after the
next one, as a real at-least-once sender may do; `deterministic=True` turns both off.
"""

import json
import logging
import queue
import random
import threading
import urllib.request

logger = logging.getLogger(__name__)

DUPLICATE_RATE = 0.3
DELAY_RATE = 0.3
# One automation id per event kind, as a consultant would set them up in the tenant.
AUTOMATION_IDS = {"sales_order_completed": "101", "stock_adjustment": "102", "stock_hold": "103"}


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
        self._lock = threading.Lock()  # guards the random generator and the held-back list
        self._thread = threading.Thread(target=self._run, name="clarus-webhooks", daemon=True)
        self._thread.start()

    def send(self, url, event, headers, payload):
        """Queue one event for delivery; chaos decides on duplicates and reordering."""
        body = json.dumps({"event": event, "data": payload}, default=str).encode()
        headers = {**headers, "X-ClarusWMS-Automation-ID": AUTOMATION_IDS[event]}
        headers.pop(self.dropped_header, None)
        copies = [(url, headers, body)]
        with self._lock:
            if not self.deterministic and self.random.random() < DUPLICATE_RATE:
                copies.append((url, headers, body))
            if not self.deterministic and self.random.random() < DELAY_RATE:
                self._held_back.extend(copies)
                return
            for copy in copies + self._held_back:
                self._queue.put(copy)
            self._held_back = []

    def flush(self, timeout=10):
        """Release held-back events and wait until everything queued has been attempted."""
        with self._lock:
            for copy in self._held_back:
                self._queue.put(copy)
            self._held_back = []
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def _run(self):
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            url, headers, body = item
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
