"""A quicker way for read serializers to say what they show.

Django REST framework asks each field of each row for its attribute through several layers
(`get_attribute`, `SkipField`, `PKOnlyObject` checks): on a list of policies of thirty-odd
fields that is most of the request. `PlainRepresentation` walks a plan of (name, source path,
formatter) worked out once per serializer instance instead, with the same result: the
declared fields still decide the output and the OpenAPI document, tests/lib compares both
ways field by field, and any field the plan cannot read plainly (related fields, callables,
a missing attribute with a default) is asked the framework's way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import relations
from rest_framework.fields import SkipField


class PlainRepresentation:
    """Mixin for a `Serializer` that only reads (API answers): same output, less overhead."""

    def _plain_plan(self) -> list[tuple[str, tuple[str, ...], Any, Any]]:
        plan = self.__dict__.get("_plain_plan_cache")
        if plan is None:
            plan = [
                (
                    field.field_name,
                    tuple(field.source_attrs),
                    field.to_representation,
                    None if isinstance(field, relations.RelatedField | relations.ManyRelatedField) else field,
                )
                for field in self._readable_fields
            ]
            self.__dict__["_plain_plan_cache"] = plan
        return plan

    def to_representation(self, instance) -> dict:
        out: dict[str, Any] = {}
        for name, attrs, show, field in self._plain_plan():
            value = instance
            try:
                if field is None:
                    raise LookupError  # related fields: the framework's own way (pk-only reads)
                for attr in attrs:
                    value = value[attr] if isinstance(value, Mapping) else getattr(value, attr)
                    if value is None:
                        break
                if callable(value) and not isinstance(value, type):
                    raise LookupError  # a method as the source: the framework calls it
            except (LookupError, AttributeError):
                fallback = self.fields[name]
                try:
                    value = fallback.get_attribute(instance)
                except SkipField:
                    continue
                pk = getattr(value, "pk", value) if isinstance(value, relations.PKOnlyObject) else value
                out[name] = None if pk is None else fallback.to_representation(value)
                continue
            out[name] = None if value is None else show(value)
        return out
