"""Scripted and seeded faults for the emulators, shared by all of them (standard library only).

A FaultPlan answers one question per incoming call: "what goes wrong with this call of operation X?"
Scripted faults come first: `plan.script("confirmShipment", "429", "html_502", "applied_then_reset")`
makes the next three confirmShipment calls fail that way, in that order. Then the seeded random mode:
`plan.randomly({"500": 0.1, "applied_then_reset": 0.05}, seed=42, operations={...})` rolls its own
generator (never the one that makes orders), so a failing chaos run is replayed from its seed.
Every fault that fires is logged as (operation, fault) for the run's report.

The kinds, and what each emulator does with them:
- "429", "500", "503", "504": that HTTP status with the system's usual error body, nothing applied;
- "html_502": a proxy's HTML 502 page, nothing applied;
- "reset": the connection is dropped before the call is read, nothing applied;
- "timeout": no answer for `hold_seconds`, then the connection is dropped, nothing applied;
- "applied_then_reset": the call takes effect, then the connection is dropped before the reply;
- "applied_then_timeout": the call takes effect, the reply is held `hold_seconds`, then dropped;
- "latency": the call is answered normally `hold_seconds` late.
An "applied_*" fault on a read is just a lost reply; the point is the writes.

The Amazon emulator knows two more (AMAZON_KINDS):
- "400": a permanent refusal (InvalidInput) of this one call, nothing applied; the chaos run uses it
  to make dead letters it can account for;
- "accepted_then_rejected": patchListingsItem answers ACCEPTED, but the change is not applied and the
  listing shows an ERROR issue, as when Amazon's later processing refuses a submission.
"""

import random
import socket
import struct
import threading
from collections import deque

KINDS = ("429", "500", "503", "504", "html_502", "reset", "timeout", "applied_then_reset", "applied_then_timeout",
         "latency")
APPLIED = ("applied_then_reset", "applied_then_timeout")
BEFORE = tuple(kind for kind in KINDS if kind not in (*APPLIED, "latency"))
AMAZON_KINDS = (*KINDS, "400", "accepted_then_rejected")


class DropConnection(Exception):  # noqa: N818 - a control-flow signal to the server, not an error
    """Raised by an emulator's app to make its server drop the connection without a reply."""


class FaultPlan:
    def __init__(self, hold_seconds=2.0, kinds=KINDS):
        self.hold_seconds = hold_seconds
        self.kinds = tuple(kinds)
        self._scripted = {}
        self._rates = {}
        self._operations = None
        self._random = random.Random(0)
        self.seed = None
        self.fired = []  # (operation, fault) in the order they fired
        self._lock = threading.Lock()

    def script(self, operation, *faults):
        """Queue faults for the next calls of `operation` (None in the list lets one call through)."""
        for fault in faults:
            if fault is not None and fault not in self.kinds:
                raise ValueError(f"unknown fault {fault!r}; known: {', '.join(self.kinds)}")
        with self._lock:
            self._scripted.setdefault(operation, deque()).extend(faults)

    def randomly(self, rates, *, seed, operations=None):
        """Roll each call of `operations` (all if None) against `rates` ({fault: probability}), with a
        generator of its own seeded by `seed`."""
        unknown = set(rates) - set(self.kinds)
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(sorted(unknown))}; known: {', '.join(self.kinds)}")
        if sum(rates.values()) > 1:
            raise ValueError("fault probabilities add up to more than 1")
        with self._lock:
            self._rates = dict(rates)
            self._operations = set(operations) if operations is not None else None
            self._random = random.Random(seed)
            self.seed = seed

    def clear(self):
        with self._lock:
            self._scripted.clear()
            self._rates = {}
            self._operations = None

    def next(self, operation):
        """The fault for this call of `operation`, or None."""
        with self._lock:
            queue = self._scripted.get(operation)
            if queue:
                fault = queue.popleft()
            elif self._rates and (self._operations is None or operation in self._operations):
                roll, fault = self._random.random(), None
                for kind, rate in sorted(self._rates.items()):
                    if roll < rate:
                        fault = kind
                        break
                    roll -= rate
            else:
                fault = None
            if fault is not None:
                self.fired.append((operation, fault))
            return fault

    def pending(self, operation=None):
        """Scripted faults not yet fired (for one operation, or all)."""
        with self._lock:
            if operation is not None:
                return len(self._scripted.get(operation, ()))
            return sum(len(queue) for queue in self._scripted.values())


def reset_socket(sock):
    """Drop a connection the way a crashed server or a load balancer does: an RST, no reply."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
