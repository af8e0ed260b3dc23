from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from mappings import models


class MappingSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (clean + constraints), so the API refuses what the admin refuses."""

    def validate(self, attrs):
        instance = self.instance or self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


def serializer_for(model_class):
    meta = type("Meta", (), {"model": model_class, "fields": "__all__"})
    return type(f"{model_class.__name__}Serializer", (MappingSerializer,), {"Meta": meta})


SERIALIZERS = {model: serializer_for(model) for model in (
    models.CarrierMap, models.ShipLevelMap, models.SkuLink, models.StockBuffer,
    models.GlAccountMap, models.OrderStatusMap, models.CustomFieldMap,
)}
