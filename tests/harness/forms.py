"""Submitting and reading the options form, whose fields sit in sections."""

from __future__ import annotations

from typing import Any

from custom_components.heat_pump_reset.config_flow import OPTION_SECTIONS


def sectioned(values: dict[str, Any]) -> dict[str, Any]:
    """Return flat option values as the options form submits them: in its sections."""
    nested: dict[str, dict[str, Any]] = {name: {} for name in OPTION_SECTIONS}
    for key, value in values.items():
        name = next(name for name, keys in OPTION_SECTIONS.items() if key in keys)
        nested[name][key] = value
    return nested


def form_fields_flat(result: dict[str, Any]) -> dict[str, Any]:
    """Return an options form's fields, by name, with the sections opened: {name: (marker, validator)}."""
    fields: dict[str, Any] = {}
    for marker, validator in result["data_schema"].schema.items():
        inner = getattr(validator, "schema", None)
        if inner is not None and hasattr(inner, "schema"):
            for inner_marker, inner_validator in inner.schema.items():
                fields[str(inner_marker)] = (inner_marker, inner_validator)
        else:
            fields[str(marker)] = (marker, validator)
    return fields
