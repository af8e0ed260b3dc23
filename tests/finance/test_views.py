from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from integration_hub.finance.importer import import_settlement
from integration_hub.finance.models import Settlement, SettlementUpload
from integration_hub.sync.choices import WorkKind
from integration_hub.sync.models import WorkItem
from tests.factories import SellerAccountFactory
from tests.finance.builders import line, order_lines, settlement_text
from tests.finance.conftest import as_stream, simple_settlement

pytestmark = pytest.mark.django_db


def upload(client, text, name="settlement.txt", **data):
    """Upload as finance does, let the finance lane's job run (here, in this process), then read the
    upload's page again as its progress poll would."""
    from integration_hub.sync import engine

    file = SimpleUploadedFile(name, text.encode("cp1252"), content_type="text/plain")
    response = client.post(reverse("finance:upload"), {"file": file, **data}, follow=True)
    queued = WorkItem.objects.filter(kind=WorkKind.IMPORT_SETTLEMENT, state="pending")
    if not queued.exists():
        return response  # refused before anything was kept (the form)
    assert "Waiting for a worker" in response.content.decode(), "the request only stores and queues the file"
    for item in queued:
        engine.run_work_item(item.pk)
    return client.get(response.redirect_chain[-1][0])


def outcome(response):
    return response.context["progress"]["message"]


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_finance_uploads_a_settlement_and_sees_its_journal_and_reconciliation(gl_map, account, client_as,
                                                                               finance_user):
    client = client_as(finance_user)
    response = upload(client, settlement_text(order_lines("202-0000001-0000001", "MUG", "10.00")))
    settlement = Settlement.objects.get()
    assert outcome(response) == "Imported settlement 12345678901 (2 lines, 8.50 GBP); journal ready in 1 part(s)."
    assert reverse("finance:settlement", args=[settlement.pk]) in response.content.decode()
    assert SettlementUpload.objects.get().content == b"", "the file is not kept once imported"
    page = client.get(reverse("finance:settlement", args=[settlement.pk])).content.decode()
    assert "Amazon sales" in page and "Amazon deposit" in page
    assert "Settled, never dispatched by the warehouse" in page
    assert "Post to back office" in page and "Download XLSX" in page


def test_second_upload_of_the_same_report_says_it_was_already_imported(gl_map, account, client_as, finance_user):
    client = client_as(finance_user)
    text = settlement_text(order_lines("202-0000001-0000001", "MUG", "10.00"))
    upload(client, text)
    response = upload(client, text)
    assert "was already imported" in outcome(response)
    assert Settlement.objects.count() == 1


def test_bad_upload_is_rejected_with_line_and_reason(gl_map, account, client_as, finance_user):
    rows = [line("Order", "ItemPrice", "Principal", "1O.00")]
    response = upload(client_as(finance_user), settlement_text(rows, total="10.00"), name="bad.txt")
    assert outcome(response) == (
        "bad.txt was not imported, nothing of it was kept: line 3: amount: '1O.00' is not an amount "
        "(digits with a decimal dot or comma, at most 2 decimals)")
    assert response.context["progress"]["state"] == "failed"
    assert not Settlement.objects.exists()
    assert not WorkItem.objects.filter(state="dead").exists(), "a rejected file is an answer, not a dead letter"


def test_upload_asks_for_the_account_when_there_are_several(gl_map, account, client_as, finance_user):
    SellerAccountFactory()
    response = upload(client_as(finance_user), settlement_text(order_lines("202-1-1", "MUG", "10.00")))
    assert messages_of(response) == ["Choose the seller account this settlement belongs to."]
    response = upload(client_as(finance_user), settlement_text(order_lines("202-1-1", "MUG", "10.00")),
                      account=account.pk)
    assert Settlement.objects.get().account == account


def test_held_journal_lists_unmapped_combinations_with_a_link_to_add_the_rule(gl_map, account, client_as,
                                                                             finance_user):
    rows = [line("other-transaction", "other-transaction", "Vine Enrollment Fee", "-150.00")]
    settlement = import_settlement(account, as_stream(settlement_text(rows))).settlement
    page = client_as(finance_user).get(reverse("finance:settlement", args=[settlement.pk])).content.decode()
    assert ("/admin/mappings/glaccountmap/add/?transaction_type=other-transaction&amp;amount_type=other-transaction"
            "&amp;amount_description=Vine+Enrollment+Fee") in page
    assert "-150.00" in page
    assert "Post to back office" not in page


def test_post_action_queues_and_flashes(gl_map, account, client_as, finance_user):
    settlement = simple_settlement(account)
    client = client_as(finance_user)
    assert client.get(reverse("finance:post", args=[settlement.pk])).status_code == 405
    response = client.post(reverse("finance:post", args=[settlement.pk]), follow=True)
    assert messages_of(response)[0].startswith("Queued 1 journal(s) of settlement 12345678901 for posting")
    item = WorkItem.objects.get(kind=WorkKind.POST_JOURNAL)
    assert item.key == str(settlement.journals.get().pk)


def test_download_csv_and_xlsx(gl_map, account, client_as, finance_user):
    settlement = simple_settlement(account)
    client = client_as(finance_user)
    csv = client.get(reverse("finance:download", args=[settlement.pk, "csv"]))
    assert csv["Content-Disposition"] == 'attachment; filename="journal-12345678901.csv"'
    assert csv.content.decode().splitlines()[0].startswith("Date,Account,Description,Debit,Credit,Reference")
    xlsx = client.get(reverse("finance:download", args=[settlement.pk, "xlsx"]))
    assert xlsx.content[:2] == b"PK"
    assert client.get(reverse("finance:download", args=[settlement.pk, "pdf"])).status_code == 404


def test_ops_cannot_see_upload_or_post_finance_pages(gl_map, account, client_as, ops_user):
    settlement = simple_settlement(account)
    client = client_as(ops_user)
    assert client.get(reverse("finance:settlements")).status_code == 403
    assert client.get(reverse("finance:settlement", args=[settlement.pk])).status_code == 403
    assert client.get(reverse("finance:download", args=[settlement.pk, "csv"])).status_code == 403
    assert client.post(reverse("finance:post", args=[settlement.pk])).status_code == 403
    file = SimpleUploadedFile("s.txt", b"x")
    assert client.post(reverse("finance:upload"), {"file": file}).status_code == 403
    assert not WorkItem.objects.exists()


def test_settlement_list_shows_totals_and_journal_state(gl_map, account, client_as, finance_user):
    import_settlement(account, as_stream(settlement_text(order_lines("202-1-1", "MUG", "10.00"))))
    page = client_as(finance_user).get(reverse("finance:settlements")).content.decode()
    assert "12345678901" in page and "8.50 GBP" in page and "badge badge-info" in page


def test_api_lists_settlements_journals_and_reconciliations(gl_map, account, client_as, finance_user, ops_user):
    settlement = simple_settlement(account)
    client = client_as(finance_user)
    body = client.get("/api/settlements/").json()
    assert body["results"][0]["settlement_id"] == "12345678901"
    assert body["results"][0]["reconciliation_summary"][0]["category"] == "not_dispatched"
    journal = client.get("/api/journals/", {"settlement": settlement.pk}).json()["results"][0]
    lines = journal["lines"]
    assert sum(Decimal(row["debit"]) for row in lines) == sum(Decimal(row["credit"]) for row in lines)
    recon = client.get("/api/reconciliations/", {"settlement": settlement.pk, "category": "not_dispatched"}).json()
    assert [row["order_id"] for row in recon["results"]] == ["202-1-1"]
    client.logout()
    ops = client_as(ops_user)
    assert ops.get("/api/settlements/").status_code == 403
    assert ops.get("/api/journals/").status_code == 403


def test_admin_shows_settlements_and_journals_read_only(gl_map, account, client_as, admin_user):
    settlement = simple_settlement(account)
    journal = settlement.journals.get()
    client = client_as(admin_user)
    assert client.get("/admin/finance/settlement/").status_code == 200
    page = client.get(f"/admin/finance/journal/{journal.pk}/change/")
    assert page.status_code == 200 and "Amazon deposit" in page.content.decode()
    assert client.post(f"/admin/finance/journal/{journal.pk}/delete/").status_code == 403
    journal.mark_posted("GL-9")
    assert client.post(f"/admin/finance/settlement/{settlement.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Settlement.objects.filter(pk=settlement.pk).exists()


def test_an_upload_too_large_to_keep_is_refused_before_anything_is_stored(gl_map, account, client_as, finance_user,
                                                                         monkeypatch):
    from integration_hub.finance import forms

    monkeypatch.setattr(forms, "MAX_UPLOAD_BYTES", 1000)
    text = settlement_text([row for n in range(40) for row in order_lines(f"202-{n:07d}-1", "MUG", "10.00")])
    response = upload(client_as(finance_user), text, name="huge.txt")
    [message] = messages_of(response)
    assert message.startswith("huge.txt is ") and "the hub takes settlement files up to 1000\xa0bytes" in message
    assert not SettlementUpload.objects.exists() and not WorkItem.objects.exists()
