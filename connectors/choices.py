from django.db import models


class Region(models.TextChoices):
    NA = "na", "North America"
    EU = "eu", "Europe"
    FE = "fe", "Far East"


class BackOfficeKind(models.TextChoices):
    CLARUS = "clarus", "Clarus WMS"
    DYNAMICS_SL = "dynamics_sl", "Microsoft Dynamics SL"
    SAGE500 = "sage500", "Sage 500"


class System(models.TextChoices):
    """Every outside system the hub talks to; used by the exchange log and work items."""

    AMAZON = "amazon", "Amazon SP-API"
    CLARUS = "clarus", "Clarus WMS"
    DYNAMICS_SL = "dynamics_sl", "Microsoft Dynamics SL"
    SAGE500 = "sage500", "Sage 500"
    ALERTS = "alerts", "Alert delivery (e-mail, chat webhook)"
