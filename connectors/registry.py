"""One place that knows which class speaks to which kind of back office."""

from importlib import import_module

from connectors.choices import BackOfficeKind

BACK_OFFICES = {
    BackOfficeKind.CLARUS: "connectors.clarus.client.ClarusBackOffice",
    BackOfficeKind.DYNAMICS_SL: "connectors.dynamics_sl.client.DynamicsSLBackOffice",
    BackOfficeKind.SAGE500: "connectors.sage500.client.Sage500BackOffice",
}


def load(dotted):
    module, name = dotted.rsplit(".", 1)
    return getattr(import_module(module), name)


def back_office_for(connection):
    """The connector for a BackOfficeConnection row."""
    return load(BACK_OFFICES[connection.kind])(connection)
