from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def backfill_units(apps, schema_editor):
    # Lines recorded before units were kept: their Amazon quantity times the pack is the best estimate,
    # and what later packages of the same line are counted against.
    ShipmentLine = apps.get_model("shipments", "ShipmentLine")
    OrderLine = apps.get_model("orders", "OrderLine")
    pack = OrderLine.objects.filter(pk=OuterRef("order_line")).values("pack_multiplier")[:1]
    ShipmentLine.objects.update(units=F("quantity") * Subquery(pack))


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0003_encrypt_buyer_data"),
        ("shipments", "0002_unmatcheddispatch"),
    ]

    operations = [
        migrations.AddField(
            model_name="shipmentline",
            name="units",
            field=models.PositiveIntegerField(default=0, help_text="Units as the warehouse counts them."),
        ),
        migrations.AlterField(
            model_name="shipmentline",
            name="quantity",
            field=models.PositiveIntegerField(help_text="Units as Amazon counts them (what is confirmed)."),
        ),
        migrations.RunPython(backfill_units, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="shipmentline",
            name="shipment_line_quantity_positive",
        ),
        migrations.AddConstraint(
            model_name="shipmentline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("units__gt", 0), _connector="OR"),
                name="shipment_line_not_empty",
            ),
        ),
    ]
