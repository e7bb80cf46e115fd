"""A quicker way for read serializers to say what they show.

Django REST framework asks each field of each row for its attribute through several layers
(`get_attribute`, `SkipField`, `PKOnlyObject` checks), and builds every field again for each
serializer it creates (a ModelSerializer introspects its model each time): on a list of
policies of thirty-odd fields, or one filing answered after a POST, that is most of the
request. `PlainRepresentation` walks a plan of (name, source path, formatter) instead, with the
same result: the declared fields still decide the output and the OpenAPI document, tests/lib
compares both ways field by field, and any field the plan cannot read plainly (a callable, a
missing attribute with a default) is asked the framework's way.

The plan is worked out once per class when no field needs the serializer it belongs to (its
request or context): plain fields, slug and primary-key relations, nested plain serializers
without such fields, and method fields (called on the serializer at hand, so they see its own
context). Any other field (hyperlinks, hidden fields, other serializers), or a class that
builds its fields its own way, gets a plan per instance, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models.manager import BaseManager
from rest_framework import relations, serializers
from rest_framework.fields import HiddenField, SkipField

PLAIN, PK, METHOD, FRAMEWORK = "plain", "pk", "method", "framework"

Plan = list[tuple[str, str, tuple[str, ...], Any]]

# Class -> its shared plan, or None when its plan must be worked out per instance.
_SHARED: dict[type, Plan | None] = {}
# Type -> whether its values are read by key (a Mapping) rather than by attribute: asked of
# `Mapping` once per type, not once per field of every row (an ABC check is slow).
_BY_KEY: dict[type, bool] = {}


def _by_key(value) -> bool:
    kind = type(value)
    found = _BY_KEY.get(kind)
    if found is None:
        found = _BY_KEY[kind] = isinstance(value, Mapping)
    return found


def _entry(field, *, nested: bool) -> tuple[str, str, tuple[str, ...], Any] | None:
    """How the plan reads `field`; None when it needs its own serializer instance (then the
    class has no shared plan). `nested`: inside another shared plan, where a method field
    would be called on the wrong serializer."""
    name, attrs = field.field_name, tuple(field.source_attrs)
    if isinstance(field, serializers.SerializerMethodField):
        return None if nested else (name, METHOD, attrs, field.method_name)
    if isinstance(field, serializers.ListSerializer):
        child = field.child
        return (name, PLAIN, attrs, field.to_representation) if _context_free(child) else None
    if isinstance(field, serializers.BaseSerializer):
        return (name, PLAIN, attrs, field.to_representation) if _context_free(field) else None
    if isinstance(field, relations.ManyRelatedField):
        return None
    if (
        isinstance(field, relations.PrimaryKeyRelatedField)
        and field.use_pk_only_optimization()
        and field.pk_field is None
    ):
        return (name, PK, attrs, field.to_representation)
    if isinstance(field, relations.SlugRelatedField):
        return (name, PLAIN, attrs, field.to_representation)
    if isinstance(field, relations.RelatedField | HiddenField):
        return None
    return (name, PLAIN, attrs, field.to_representation)


def _builds_fields_plainly(cls: type) -> bool:
    return cls.__init__ is serializers.BaseSerializer.__init__ and cls.get_fields in (
        serializers.Serializer.get_fields,
        serializers.ModelSerializer.get_fields,
    )


def _shared_plan(cls: type, *, nested: bool = False) -> Plan | None:
    if not _builds_fields_plainly(cls):
        return None
    plan = []
    for field in cls()._readable_fields:
        entry = _entry(field, nested=nested)
        if entry is None:
            return None
        plan.append(entry)
    return plan


def _context_free(serializer) -> bool:
    """A nested serializer whose plan reads nothing from its own instance."""
    cls = type(serializer)
    return issubclass(cls, PlainRepresentation) and _shared_plan(cls, nested=True) is not None


class PlainRepresentation:
    """Mixin for a `Serializer` that only reads (API answers): same output, less overhead."""

    def _plain_plan(self) -> Plan:
        plan = self.__dict__.get("_plain_plan_cache")
        if plan is None:
            cls = type(self)
            if cls not in _SHARED:
                _SHARED[cls] = _shared_plan(cls)
            plan = _SHARED[cls]
            if plan is None:
                plan = [
                    (
                        field.field_name,
                        FRAMEWORK
                        if isinstance(field, relations.RelatedField | relations.ManyRelatedField)
                        else PLAIN,
                        tuple(field.source_attrs),
                        field.to_representation,
                    )
                    for field in self._readable_fields
                ]
            self.__dict__["_plain_plan_cache"] = plan
        return plan

    def to_representation(self, instance) -> dict:
        out: dict[str, Any] = {}
        by_key = _by_key(instance)
        for name, how, attrs, show in self._plain_plan():
            if how is METHOD:
                out[name] = getattr(self, show)(instance)
                continue
            if how is PLAIN and len(attrs) == 1:
                # The common case, read directly: a field of the row itself.
                try:
                    value = instance[attrs[0]] if by_key else getattr(instance, attrs[0])
                except (LookupError, AttributeError):
                    pass
                else:
                    if value is None:
                        out[name] = None
                        continue
                    if not callable(value) or isinstance(value, type | BaseManager):
                        out[name] = show(value)
                        continue
            value = instance
            try:
                if how is FRAMEWORK:
                    raise LookupError  # related fields: the framework's own way (pk-only reads)
                if how is PK:  # the related row's key, without reading the row
                    for attr in attrs[:-1]:
                        value = value[attr] if _by_key(value) else getattr(value, attr)
                    out[name] = None if value is None else value.serializable_value(attrs[-1])
                    continue
                for attr in attrs:
                    by_key = _BY_KEY.get(type(value))
                    if by_key is None:
                        by_key = _by_key(value)
                    value = value[attr] if by_key else getattr(value, attr)
                    if value is None:
                        break
                if callable(value) and not isinstance(value, type | BaseManager):
                    # A method as the source: the framework calls it. (A related manager is
                    # callable too; a nested list serializer reads it as it is.)
                    raise LookupError
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
