"""Reports API 2021-06-30: settlement reports Amazon generated, and reports the hub requests (createReport).

Every document is served gzipped (compressionAlgorithm GZIP), the stricter of what Amazon does, so a
client that forgets to gunzip fails here first; listings reports are UTF-8 tab-separated text.
"""

from __future__ import annotations

import datetime as dt
import gzip

from .documents import new_document, presigned_url
from .orders import page, resume
from .performance import performance_report
from .state import iso, parse_iso
from .web import Routes, invalid_input, json_response, not_found

routes = Routes()

SETTLEMENT_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# Amazon's internal numbers for the settlement types, as its createReport refusal names them.
SETTLEMENT_TYPE_NUMBERS = {
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": 1117,
    SETTLEMENT_V2: 1118,
    "GET_V2_SETTLEMENT_REPORT_DATA_XML": 1119,
}
PROCESSING_STATUSES = {"CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"}
RETENTION = dt.timedelta(days=90)


def add_settlement_report(state, text, created=None, report_type=SETTLEMENT_V2):
    """Publish a settlement report as Amazon does after a disbursement; returns the reportId."""
    created = created or state.now()
    if isinstance(created, str):
        created = parse_iso(created)
    data = gzip.compress(text.encode("utf-8") if isinstance(text, str) else text)
    # S3 serves it without a charset, so clients must say how to decode it.
    document_id = new_document(state, "text/plain", data)
    with state.lock:
        report_id = str(60000000000 + state.next_number())
        state.reports[report_id] = {
            "reportId": report_id,
            "reportType": report_type,
            "processingStatus": "DONE",
            "createdTime": iso(created),
            "dataStartTime": iso(created - dt.timedelta(days=14)),
            "dataEndTime": iso(created),
            "marketplaceIds": [state.marketplace_id],
            "processingStartTime": iso(created),
            "processingEndTime": iso(created),
            "reportDocumentId": document_id,
        }
    return report_id


@routes.add("GET", r"/reports/2021-06-30/reports", "getReports")
def get_reports(state, request):
    next_token = request.arg("nextToken")
    with state.lock:
        if next_token:
            if set(request.query) != {"nextToken"}:
                raise invalid_input("nextToken must be the only parameter when it is given.", "nextToken")
            ids, size = resume(state, "getReports", next_token, "nextToken")
        else:
            types = set(request.arg_list("reportTypes"))
            if not types:
                raise invalid_input("reportTypes is required unless nextToken is given.", "reportTypes")
            statuses = set(request.arg_choices("processingStatuses", PROCESSING_STATUSES))
            size = request.arg_int("pageSize", 10, 1, 100)
            since = request.arg_time("createdSince", state.now() - RETENTION)
            until = request.arg_time("createdUntil", state.now())
            oldest = state.now() - RETENTION
            chosen = [
                report
                for report in state.reports.values()
                if report["reportType"] in types
                and (not statuses or report["processingStatus"] in statuses)
                and max(since, oldest) <= parse_iso(report["createdTime"]) <= until
            ]
            chosen.sort(key=lambda report: report["createdTime"], reverse=True)
            ids = [report["reportId"] for report in chosen]
        head, token = page(state, "getReports", ids, size, size)
        reports = [dict(state.reports[report_id]) for report_id in head]
    body = {"reports": reports}
    if token:
        body["nextToken"] = token
    return json_response(200, body)


@routes.add("GET", r"/reports/2021-06-30/reports/(?P<report_id>[^/]+)", "getReport")
def get_report(state, request):
    with state.lock:
        report = state.reports.get(request.params["report_id"])
        if report is None:
            raise not_found(f"Report {request.params['report_id']} was not found.")
        advance(state, report)
        return json_response(200, {key: value for key, value in report.items() if not key.startswith("_")})


def advance(state, report):
    """A requested report moves on as it is polled: IN_QUEUE, then IN_PROGRESS, then DONE with its document.

    The document is made when the report finishes, from what the emulator holds at that moment.
    """
    if report["processingStatus"] not in ("IN_QUEUE", "IN_PROGRESS"):
        return
    if report["processingStatus"] == "IN_QUEUE":
        report["processingStatus"] = "IN_PROGRESS"
        report["processingStartTime"] = iso(state.now())
        return
    text = REQUESTABLE[report["reportType"]](state, report)
    report["reportDocumentId"] = new_document(state, "text/plain", gzip.compress(text.encode("utf-8")))
    report["processingStatus"] = "DONE"
    report["processingEndTime"] = iso(state.now())


# GET_MERCHANT_LISTINGS_ALL_DATA: tab-separated, one row per listing, named columns (a subset of
# Amazon's documented ones, in its order). Clients must read columns by name.
LISTINGS_COLUMNS = ("item-name", "listing-id", "seller-sku", "price", "quantity", "open-date", "asin1",
                    "fulfillment-channel", "status")


def listings_report(state, report):
    rows = ["\t".join(LISTINGS_COLUMNS)]
    for sku, listing in sorted(state.listings.items()):
        availability = (listing["attributes"].get("fulfillment_availability") or [{}])[0]
        quantity = availability.get("quantity")
        rows.append("\t".join([
            listing["item_name"].replace("\t", " "), listing["asin"][-8:] + sku[:4], sku, "",
            "" if quantity is None else str(quantity), listing["created"], listing["asin"], "DEFAULT", "Active",
        ]))
    return "\n".join(rows) + "\n"


# Report types createReport accepts, and what makes each one's content.
REQUESTABLE = {"GET_MERCHANT_LISTINGS_ALL_DATA": listings_report,
               "GET_V2_SELLER_PERFORMANCE_REPORT": performance_report}


@routes.add("POST", r"/reports/2021-06-30/reports", "createReport")
def create_report(state, request):
    body = request.json()
    report_type = body.get("reportType")
    if not report_type:
        raise invalid_input("reportType is required.", "body.reportType")
    if report_type in SETTLEMENT_TYPE_NUMBERS:
        number = SETTLEMENT_TYPE_NUMBERS[report_type]
        raise invalid_input(f"Request for report type {number} is not allowed at this time.", "")
    if report_type not in REQUESTABLE:
        raise invalid_input(f"Report type {report_type} is not emulated.", "body.reportType")
    marketplaces = body.get("marketplaceIds")
    if not isinstance(marketplaces, list) or not marketplaces:
        raise invalid_input("marketplaceIds is required.", "body.marketplaceIds")
    if any(marketplace != state.marketplace_id for marketplace in marketplaces):
        raise invalid_input(f"marketplaceIds may only name {state.marketplace_id} here.", "body.marketplaceIds")
    with state.lock:
        report_id = str(60000000000 + state.next_number())
        state.reports[report_id] = {
            "reportId": report_id,
            "reportType": report_type,
            "processingStatus": "IN_QUEUE",
            "createdTime": iso(state.now()),
            "marketplaceIds": marketplaces,
        }
    return json_response(202, {"reportId": report_id})


@routes.add("GET", r"/reports/2021-06-30/documents/(?P<document_id>[^/]+)", "getReportDocument")
def get_report_document(state, request):
    document_id = request.params["document_id"]
    with state.lock:
        known = any(report.get("reportDocumentId") == document_id for report in state.reports.values())
    if not known:
        raise not_found(f"Report document {document_id} was not found.")
    return json_response(
        200, {"reportDocumentId": document_id, "url": presigned_url(state, document_id), "compressionAlgorithm": "GZIP"}
    )
