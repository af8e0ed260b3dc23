from tests.orders.fakes import fakes  # noqa: F401  (fixture)
