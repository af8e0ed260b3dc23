"""`field__any=[...]`: the column equals one of the values, sent as one array parameter.

`__in` turns each value into its own parameter, prepared by the field and quoted by the driver one
by one; on the hot paths (a batch of a hundred orders, shipments or work items) that cost more CPU
than the query. `= ANY(%s)` sends the list as one array, which Postgres reads against the column's
type. Values go as they are (ids, order ids, keys): use it for plain ints and strings, `__in` for
anything a field must convert.
"""

from django.db.models import Field, ForeignObject, Lookup, QuerySet


@ForeignObject.register_lookup  # related fields keep lookups of their own: order__any=[pks]
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def process_rhs(self, compiler, connection):
        if isinstance(self.rhs, (str, bytes, QuerySet)):
            raise TypeError(f"{self.lookup_name} takes a list of values, not {type(self.rhs).__name__}")
        return "%s", [list(self.rhs)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
