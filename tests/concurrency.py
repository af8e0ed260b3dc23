"""Run the same code in several threads at once, as several workers would."""

import threading

from django.db import connections


def run_together(work, count):
    """Start `count` threads that call `work()` together; return the exceptions they raised."""
    start = threading.Barrier(count)
    errors = []

    def one():
        try:
            start.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            errors.append(exc)
        finally:
            connections.close_all()  # each thread has its own database connection

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
