import os

# Tests run with the development defaults (no production secrets needed) and their own Redis db.
os.environ.setdefault("HUB_DEBUG", "1")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
