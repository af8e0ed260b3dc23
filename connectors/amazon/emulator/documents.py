"""Feed and report documents behind presigned URLs (the emulator's stand-in for S3)."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from .web import Response, Routes

routes = Routes()

URL_LIFETIME = dt.timedelta(minutes=5)


def new_document(state, content_type, data=None):
    """Store a document (empty until uploaded when `data` is None); returns its id."""
    document_id = f"amzn1.tortuga.4.eu.{uuid.uuid4()}"
    with state.lock:
        state.documents[document_id] = {
            "content_type": content_type,
            "data": data,
            "signatures": {},
        }
    return document_id


def presigned_url(state, document_id):
    """A URL on the emulator that serves (GET) or accepts (PUT) the document for five minutes."""
    signature = secrets.token_hex(16)
    with state.lock:
        state.documents[document_id]["signatures"][signature] = state.now() + URL_LIFETIME
    return f"{state.base_url}/_emulator/documents/{document_id}?X-Amz-Expires=300&X-Amz-Signature={signature}"


def s3_error(status, code, message):
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(status, body.encode(), {"Content-Type": "application/xml"})


def check_signature(state, request):
    """The document, or an S3-style error response."""
    document = state.documents.get(request.params["document_id"])
    if document is None:
        return None, s3_error(404, "NoSuchKey", "The specified key does not exist.")
    expires = document["signatures"].get(request.arg("X-Amz-Signature", ""))
    if expires is None:
        return None, s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
    if expires < state.now():
        return None, s3_error(403, "AccessDenied", "Request has expired")
    return document, None


@routes.add("PUT", r"/_emulator/documents/(?P<document_id>[^/]+)")
def upload(state, request):
    with state.lock:
        document, error = check_signature(state, request)
        if error:
            return error
        if request.content_type != document["content_type"]:
            # The signature covers the content type given to createFeedDocument.
            return s3_error(403, "SignatureDoesNotMatch", "Content-Type differs from the one the URL was signed for.")
        document["data"] = request.body
    return Response(200)


@routes.add("GET", r"/_emulator/documents/(?P<document_id>[^/]+)")
def download(state, request):
    with state.lock:
        document, error = check_signature(state, request)
        if error:
            return error
        if document["data"] is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(200, document["data"], {"Content-Type": document["content_type"]})
