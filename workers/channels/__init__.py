"""Delivery channels by kind, imported lazily by dotted path (no import-time registry)."""

from __future__ import annotations

from importlib import import_module

from statuspage.models import Delivery, TargetKind
from workers.channels.base import Transport

TRANSPORTS: dict[str, str] = {
    TargetKind.PAGE: "workers.channels.page.Page",
}


def get_transport(delivery: Delivery) -> Transport:
    dotted = TRANSPORTS[delivery.target_kind]
    module_name, class_name = dotted.rsplit(".", 1)
    return getattr(import_module(module_name), class_name)()
