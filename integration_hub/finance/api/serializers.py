from rest_framework import serializers

from integration_hub.finance.models import Journal, JournalLine, ReconciliationLine, Settlement, UnmappedCombination


class UnmappedCombinationSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnmappedCombination
        fields = ["transaction_type", "amount_type", "amount_description", "line_count", "total"]


class ReconciliationSummarySerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    settled = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    ordered = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)


class SettlementSerializer(serializers.ModelSerializer):
    journals = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    unmapped = UnmappedCombinationSerializer(many=True, read_only=True)
    reconciliation_summary = ReconciliationSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Settlement
        fields = ["id", "account", "settlement_id", "start_date", "end_date", "deposit_date", "total_amount",
                  "currency", "line_count", "source_name", "imported_at", "reconciled_at", "reconciliation_note",
                  "journals", "unmapped", "reconciliation_summary"]


class JournalLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = JournalLine
        fields = ["gl_account", "description", "currency", "marketplace", "debit", "credit"]


class JournalSerializer(serializers.ModelSerializer):
    settlement_id = serializers.CharField(source="settlement.settlement_id", read_only=True)
    lines = JournalLineSerializer(many=True, read_only=True)

    class Meta:
        model = Journal
        fields = ["id", "settlement", "settlement_id", "period", "date", "state", "posted_ref", "posted_at", "lines"]


class ReconciliationLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReconciliationLine
        fields = ["id", "settlement", "category", "order_id", "sku", "order_line", "quantity_settled",
                  "quantity_dispatched", "settled_amount", "order_amount", "back_office_ref", "back_office_status",
                  "note"]
