from django.db import models


class VelocityTier(models.TextChoices):
    FAST = "fast", "Fast mover"
    MEDIUM = "medium", "Medium mover"
    SLOW = "slow", "Slow mover"
