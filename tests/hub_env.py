import os

# Tests run with the development defaults (no production secrets needed) and their own Redis db.
os.environ.setdefault("HUB_DEBUG", "1")
# Tests read new orders on every intake run they start; the spacing of windows has its own test.
os.environ.setdefault("HUB_INTAKE_MIN_POLL_GAP_SECONDS", "0")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
