"""Login with Amazon tokens and Restricted Data Tokens."""

from __future__ import annotations

import datetime as dt
import secrets

from .state import Token
from .web import ApiError, Routes, invalid_input, json_response

routes = Routes()

RDT_PREFIX = "Atz.sprdt|"
RESTRICTED_ELEMENTS = {"buyerInfo", "shippingAddress", "buyerTaxInformation"}


def lwa_error(status, error, description):
    return json_response(status, {"error": error, "error_description": description})


@routes.add("POST", r"/auth/o2/token")
def lwa_token(state, request):
    form = request.form()
    grant = form.get("grant_type", "")
    if grant not in ("refresh_token", "client_credentials"):
        return lwa_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant or '(missing)'}")
    if not form.get("client_id") or not form.get("client_secret"):
        return lwa_error(400, "invalid_request", "client_id and client_secret are required")
    if form["client_id"] != state.client_id or form["client_secret"] != state.client_secret:
        return lwa_error(401, "invalid_client", "Client authentication failed")
    if grant == "refresh_token" and form.get("refresh_token") != state.refresh_token:
        return lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
    if grant == "client_credentials" and not form.get("scope", "").startswith("sellingpartnerapi::"):
        return lwa_error(400, "invalid_scope", "The scope is missing or not a sellingpartnerapi:: scope")
    token = "Atza|" + secrets.token_urlsafe(24)
    with state.lock:
        expires = state.now() + dt.timedelta(seconds=state.token_ttl)
        state.tokens[token] = Token(kind="lwa" if grant == "refresh_token" else "grantless", expires=expires)
    body = {"access_token": token, "token_type": "bearer", "expires_in": state.token_ttl}
    if grant == "refresh_token":
        body["refresh_token"] = state.refresh_token
    return json_response(200, body)


def authenticate(state, request):
    """The Token behind `x-amz-access-token`; 403 with the errors envelope when missing, unknown or expired."""
    value = request.headers.get("x-amz-access-token", "")
    with state.lock:
        token = state.tokens.get(value)
        if token is None:
            raise ApiError(403, "Unauthorized", "Access to requested resource is denied.", "")
        if token.expires <= state.now():
            raise ApiError(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
    return token


# Operations a grantless token (client_credentials, no seller) may call; every other operation acts
# for a seller and needs the seller's LWA token or, for restricted data, an RDT.
GRANTLESS_OPERATIONS = {"createDestination", "getDestinations", "getDestination", "deleteDestination"}


def check_token_kind(token, operation, request):
    """403 for a token of the wrong kind: a grantless token on a seller's operation, or an RDT on an
    operation it was not issued for (an RDT is only for the restricted calls it names)."""
    if token.kind == "grantless" and operation not in GRANTLESS_OPERATIONS:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                       f"A grantless token cannot call {operation}; use the seller's access token.")
    if token.kind == "rdt" and not any(
            resource["method"] == request.method and _covers(resource["path"], request.path)
            for resource in token.restricted):
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                       f"The restricted data token was not issued for {request.method} {request.path}.")


def _covers(granted, path):
    return granted == path or (granted == "/orders/v0/orders" and path.startswith("/orders/v0/orders/"))


def restricted_elements(token, method, path):
    """The dataElements an RDT grants for this call (empty for an LWA token)."""
    granted = set()
    for resource in token.restricted:
        if resource["method"] == method and _covers(resource["path"], path):
            granted.update(resource.get("dataElements") or [])
    return granted


@routes.add("POST", r"/tokens/2021-03-01/restrictedDataToken", "createRestrictedDataToken")
def create_rdt(state, request):
    body = request.json()
    resources = body.get("restrictedResources")
    if not isinstance(resources, list) or not resources:
        raise invalid_input("restrictedResources is required and must be a non-empty list.")
    for index, resource in enumerate(resources):
        where = f"restrictedResources[{index}]"
        if not isinstance(resource, dict) or resource.get("method") not in ("GET", "PUT", "POST", "DELETE"):
            raise invalid_input(f"{where}.method must be one of GET, PUT, POST, DELETE.")
        if not str(resource.get("path", "")).startswith("/"):
            raise invalid_input(f"{where}.path is required and must start with '/'.")
        unknown = set(resource.get("dataElements") or []) - RESTRICTED_ELEMENTS
        if unknown:
            raise invalid_input(f"{where}.dataElements has unknown values: {', '.join(sorted(unknown))}.")
    rdt = RDT_PREFIX + secrets.token_urlsafe(24)
    with state.lock:
        expires = state.now() + dt.timedelta(seconds=state.token_ttl)
        state.tokens[rdt] = Token(kind="rdt", expires=expires, restricted=resources)
    return json_response(200, {"restrictedDataToken": rdt, "expiresIn": state.token_ttl})
