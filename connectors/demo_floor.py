"""What the demo's emulator commands share: a background loop, and a warehouse floor that ships orders."""

import logging
import random
import threading

logger = logging.getLogger(__name__)

# How often the floor looks for orders to ship; short, so an order goes soon after its wait is over.
LOOK_EVERY_SECONDS = 5
# One order in ten is left waiting this many times longer, so the dashboard has late orders to show.
STRAGGLER_SHARE, STRAGGLER_FACTOR = 0.1, 10
# A multi-line order goes out in two packages this often (items picked from two places).
SPLIT_SHARE = 0.3
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
ALPHANUMERIC = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def every(seconds, step, *, name, jitter=0.0):
    """Call step() in a daemon thread every `seconds` (give or take `jitter`, a share) until the process
    ends; returns a function that stops the loop and waits for its last round (tests)."""
    timing = random.Random()
    stop = threading.Event()

    def loop():
        while not stop.wait(seconds * timing.uniform(1 - jitter, 1 + jitter)):
            try:
                step()
            except Exception:  # a demo loop must outlive one bad round (a database restart, a refused order)
                logger.exception("%s: this round failed; trying again next round", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()

    def stopper():
        stop.set()
        thread.join()

    return stopper


def s10(rng, prefix):
    """A UPU S10 number as Royal Mail and Parcelforce print them: 2 letters, 8 digits, check digit, GB."""
    digits = [rng.randint(0, 9) for _ in range(8)]
    check = 11 - sum(d * w for d, w in zip(digits, S10_WEIGHTS)) % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"{prefix}{''.join(map(str, digits))}{check}GB"


def tracking_number(rng, ship_method):
    """A tracking number in the format of the carrier the ship method (code or name) belongs to."""
    method = ship_method.upper()
    if "DPD" in method:
        return "".join(str(rng.randint(0, 9)) for _ in range(14))
    if "EVRI" in method:
        return "H" + "".join(rng.choice(ALPHANUMERIC) for _ in range(15))
    if "PARCELFORCE" in method or method.startswith("PF"):
        return s10(rng, "CE")
    return s10(rng, rng.choice(["TT", "RM", "JV"]))  # Royal Mail, and the default


class Floor:
    """The demo warehouse's packers: they ship an order once it has waited `after_seconds`, a few take longer."""

    def __init__(self, after_seconds, *, rng=None, straggler_share=STRAGGLER_SHARE, split_share=SPLIT_SHARE):
        self.after_seconds = after_seconds
        self.rng = rng or random.Random()
        self.straggler_share, self.split_share = straggler_share, split_share
        self.waits = {}  # order id -> seconds it waits, chosen when first seen
        self.failed = set()  # orders the back office refused to ship: reported once, then left alone

    def packages(self, order_id, ship_method, lines, waiting):
        """The packages to ship now ([{"tracking_number", "lines": {line ref: quantity}}]), or None to wait."""
        if order_id not in self.waits:
            straggler = self.rng.random() < self.straggler_share
            self.waits[order_id] = self.after_seconds * (STRAGGLER_FACTOR if straggler else 1)
        if order_id in self.failed or waiting < self.waits[order_id]:
            return None
        items = sorted(lines.items())
        groups = [items[0::2], items[1::2]] if len(items) > 1 and self.rng.random() < self.split_share else [items]
        return [{"tracking_number": tracking_number(self.rng, ship_method), "lines": dict(group)} for group in groups]

    def ship_waiting(self, waiting_orders, ship):
        """Ship each due order with ship(order_id, packages); returns the order ids shipped.

        `waiting_orders` are dicts {"order_id", "ship_method", "lines": {ref: open quantity}, "waiting": seconds}.
        """
        shipped = []
        for order in waiting_orders:
            packages = self.packages(order["order_id"], order["ship_method"], order["lines"], order["waiting"])
            if packages is None:
                continue
            try:
                ship(order["order_id"], packages)
            except Exception as exc:  # each emulator raises its own error type; the floor moves on to the next
                self.failed.add(order["order_id"])
                logger.warning("demo floor: cannot ship %s: %s", order["order_id"], exc)
                continue
            logger.info("demo floor: shipped %s in %s package(s)", order["order_id"], len(packages))
            shipped.append(order["order_id"])
        return shipped
