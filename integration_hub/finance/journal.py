"""From settlement amounts to balanced journals, summarised per GL account, currency and marketplace.

Sign: Amazon's amounts are what the seller receives, so a positive net is a credit (sales) and a
negative one a debit (fees, reserves held). Amounts are summed exactly as reported, never recomputed.

The balancing lines come from the GL account map too, from rules whose transaction type is `Hub`
(no Amazon line has it, and wildcard rules never stand in for them):

    Hub / Deposit  / <currency or *>   the bank account Amazon pays into (or debits)
    Hub / Clearing / <currency or *>   carries the balance from one month's part to the next

A missing rule, like any unmapped combination, holds the journal as "needs mapping".
A settlement whose lines fall in several months becomes one journal per month: each earlier part
closes against the clearing account, the last part clears it and carries the deposit.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DateField, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from integration_hub.finance.choices import JournalState
from integration_hub.finance.models import Journal, JournalLine, Settlement, UnmappedCombination
from integration_hub.finance.parser import Summary
from mappings.models import GlAccountMap

HUB = "Hub"
DEPOSIT = "Deposit"
CLEARING = "Clearing"
ZERO = Decimal("0")


class Categoriser:
    """First matching GL rule (most specific first) per combination, remembered per combination."""

    def __init__(self, rules=None):
        rules = GlAccountMap.ordered_rules() if rules is None else rules
        self._amazon = [rule for rule in rules if rule.transaction_type.lower() != HUB.lower()]
        self._hub = [rule for rule in rules if rule.transaction_type.lower() == HUB.lower()]
        self._cache = {}

    def rule_for(self, transaction_type, amount_type, amount_description):
        key = (transaction_type, amount_type, amount_description)
        if key not in self._cache:
            self._cache[key] = next((rule for rule in self._amazon if rule.matches(*key)), None)
        return self._cache[key]

    def hub_rule(self, purpose, currency):
        return next((rule for rule in self._hub if rule.matches(HUB, purpose, currency)), None)


@dataclass
class DraftLine:
    gl_account: str
    description: str
    marketplace: str
    debit: Decimal
    credit: Decimal


@dataclass
class DraftJournal:
    period: object  # datetime.date, first of the month
    date: object
    lines: list = field(default_factory=list)

    def totals(self):
        return sum((line.debit for line in self.lines), ZERO), sum((line.credit for line in self.lines), ZERO)


@dataclass
class JournalDraft:
    currency: str
    journals: list
    unmapped: list  # (transaction_type, amount_type, amount_description, line_count, total)

    @property
    def needs_mapping(self):
        return bool(self.unmapped)


def _month_end(period):
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def _signed_line(gl_account, description, marketplace, amount):
    """A credit for money in (positive), a debit for money out (negative)."""
    return DraftLine(gl_account, description[:200], marketplace, debit=max(-amount, ZERO), credit=max(amount, ZERO))


class JournalBuilder:
    """Sums a settlement's amounts per month and combination, then builds the balanced journals."""

    def __init__(self, summary, categoriser, local_tz=None):
        self.summary = summary
        self.categoriser = categoriser
        self._tz = local_tz or timezone.get_default_timezone()
        self._periods = {}
        self.end_period = self.period_of(summary.end_date)
        self.sums = {}  # (period, transaction type, amount type, description, marketplace) -> [count, total]

    def period_of(self, moment):
        if moment is None:
            return self.end_period
        period = self._periods.get(moment)
        if period is None:
            if len(self._periods) > 50_000:
                self._periods.clear()
            period = self._periods[moment] = timezone.localtime(moment, self._tz).date().replace(day=1)
        return period

    def add(self, row):
        key = (self.period_of(row.posted_date), row.transaction_type, row.amount_type, row.amount_description,
               row.marketplace_name)
        sums = self.sums.get(key)
        if sums is None:
            sums = self.sums[key] = [0, ZERO]
        sums[0] += 1
        sums[1] += row.amount

    def add_sum(self, period, transaction_type, amount_type, amount_description, marketplace, count, total):
        key = (period or self.end_period, transaction_type, amount_type, amount_description, marketplace)
        sums = self.sums.setdefault(key, [0, ZERO])
        sums[0] += count
        sums[1] += total

    def build(self):
        """The journal parts (one per month) with their lines, or the unmapped combinations holding them."""
        currency = self.summary.currency
        periods = sorted({key[0] for key in self.sums} | {self.end_period})
        accounts, net, unmapped = self._categorise()
        deposit = self.categoriser.hub_rule(DEPOSIT, currency)
        clearing = self.categoriser.hub_rule(CLEARING, currency)
        if deposit is None:
            unmapped[(HUB, DEPOSIT, currency)] = [1, self.summary.total_amount]
        if len(periods) > 1 and clearing is None:
            unmapped[(HUB, CLEARING, currency)] = [len(periods) - 1, ZERO]
        journals = [DraftJournal(period, _month_end(period)) for period in periods]
        end_day = timezone.localtime(self.summary.end_date, self._tz).date()
        if end_day.replace(day=1) == periods[-1]:
            journals[-1].date = end_day
        if unmapped:
            rows = [(*combination, count, total) for combination, (count, total) in sorted(unmapped.items())]
            return JournalDraft(currency, journals, rows)
        for journal in journals:
            for (period, gl_account, marketplace), (total, descriptions) in sorted(accounts.items()):
                if period == journal.period and total:
                    journal.lines.append(_signed_line(gl_account, " / ".join(descriptions), marketplace, total))
        self._balance(journals, net, deposit, clearing)
        return JournalDraft(currency, journals, [])

    def _categorise(self):
        accounts = defaultdict(lambda: [ZERO, []])  # (period, gl account, marketplace) -> [total, descriptions]
        net = defaultdict(lambda: ZERO)  # period -> sum of its amounts
        unmapped = defaultdict(lambda: [0, ZERO])  # combination -> [line count, total]
        for (period, *combination, marketplace), (count, total) in self.sums.items():
            net[period] += total
            rule = self.categoriser.rule_for(*combination)
            if rule is None:
                unmapped[tuple(combination)][0] += count
                unmapped[tuple(combination)][1] += total
                continue
            entry = accounts[(period, rule.gl_account, marketplace)]
            entry[0] += total
            if rule.description not in entry[1]:
                entry[1].append(rule.description)
        return accounts, net, unmapped

    def _balance(self, journals, net, deposit, clearing):
        """Close each earlier month against clearing; the last part clears it and takes the deposit."""
        final = journals[-1]
        for journal in journals[:-1]:
            if net[journal.period]:  # owed by Amazon until the deposit: a debit to clearing (credit if negative)
                journal.lines.append(_signed_line(clearing.gl_account, f"{clearing.description} "
                                                  f"(to {final.period:%b %Y})", "", -net[journal.period]))
        carried = sum((net[journal.period] for journal in journals[:-1]), ZERO)
        if carried:
            final.lines.append(_signed_line(clearing.gl_account, f"{clearing.description} (brought forward)", "",
                                            carried))
        total = self.summary.total_amount
        if total:
            description = deposit.description if total > 0 else f"{deposit.description} (Amazon debit)"
            final.lines.append(_signed_line(deposit.gl_account, description, "", -total))
        for journal in journals:
            debit, credit = journal.totals()
            if debit != credit:  # cannot happen once the file's total was checked: refuse rather than post it
                raise ValueError(f"journal for {journal.period:%Y-%m} does not balance: {debit} != {credit}")


def save_draft(settlement, draft):
    """Replace the settlement's (unposted) journals and unmapped list with the draft. Call in a transaction."""
    posted = settlement.journals.filter(state=JournalState.POSTED).first()
    if posted:
        posted.ensure_editable()
    settlement.journals.all().delete()
    settlement.unmapped.all().delete()
    state = JournalState.NEEDS_MAPPING if draft.needs_mapping else JournalState.READY
    for part in draft.journals:
        journal = Journal.objects.create(settlement=settlement, period=part.period, date=part.date, state=state)
        JournalLine.objects.bulk_create(
            JournalLine(journal=journal, currency=draft.currency, **vars(line)) for line in part.lines)
    UnmappedCombination.objects.bulk_create(
        UnmappedCombination(settlement=settlement, transaction_type=tt, amount_type=at, amount_description=ad,
                            line_count=count, total=total)
        for tt, at, ad, count, total in draft.unmapped)


def rebuild_journals(settlement, categoriser=None):
    """Build the journals again from the stored lines (after the GL map changed)."""
    summary = Summary(settlement.settlement_id, settlement.start_date, settlement.end_date,
                      settlement.deposit_date, settlement.total_amount, settlement.currency)
    builder = JournalBuilder(summary, categoriser or Categoriser())
    tz = timezone.get_default_timezone()
    sums = (settlement.lines
            .values("transaction_type", "amount_type", "amount_description", "marketplace_name",
                    month=TruncMonth("posted_date", tzinfo=tz, output_field=DateField()))
            .annotate(count=Count("id"), total=Sum("amount")).order_by())
    for row in sums:
        builder.add_sum(row["month"], row["transaction_type"], row["amount_type"], row["amount_description"],
                        row["marketplace_name"], row["count"], row["total"])
    draft = builder.build()
    with transaction.atomic():
        save_draft(settlement, draft)
    return draft


def release_held_journals():
    """Rebuild every settlement held for mapping that a rule now covers; returns those released."""
    categoriser = Categoriser()
    released = []
    held = Settlement.objects.filter(journals__state=JournalState.NEEDS_MAPPING).distinct()
    for settlement in held:
        covered = any(
            (categoriser.hub_rule(combo.amount_type, combo.amount_description) if combo.transaction_type == HUB
             else categoriser.rule_for(combo.transaction_type, combo.amount_type, combo.amount_description))
            for combo in settlement.unmapped.all())
        if covered and not rebuild_journals(settlement, categoriser).needs_mapping:
            released.append(settlement)
    return released
