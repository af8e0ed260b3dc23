"""Inbound endpoints from outside systems (webhooks). They authenticate by secret path token, not by session."""

from django.urls import path

from connectors.clarus.webhook import clarus_webhook

app_name = "connectors"
urlpatterns = [
    path("clarus/<str:token>/", clarus_webhook, name="clarus-webhook"),
]
