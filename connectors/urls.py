"""Inbound endpoints from outside systems (webhooks). They authenticate by secret path token, not by session."""

from django.urls import path  # noqa: F401

app_name = "connectors"
urlpatterns = []
