"""A quicker way for input serializers to read a request body.

Django REST framework builds every field of a serializer again for each instance it creates
(`get_fields` deep-copies the declared fields, a nested list its child's too): for a small body
such as a loan filing that is most of the cost of validating it. `PlainValidation` validates
with the declared fields themselves instead, each still by its own `run_validation`, so every
value is judged and converted by the very same code, into the same validated data.

It only ever accepts. The moment a field refuses a value (or the body is not a plain JSON
object, or the serializer is partial, or its fields were touched), the serializer validates the
framework's way, which words every error exactly as before: the answer to any body is the same
both ways (tests/lib compares them).

The declared fields are shared by every instance (and thread), so this is done only for fields
whose validation reads nothing but their own declaration: the plain value fields listed in
`SHARED_SAFE` (exactly those classes, not subclasses of them), without validators that ask for
their field, and nested serializers (alone or in a list) made of such fields, with no
`validate…` methods or validators of their own. Any other serializer validates the framework's
way, as if it did not use the mixin.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from . import api

# Field classes whose validation reads only their own declaration (never their parent, context
# or request) and writes nothing on themselves: those of the bodies that use the mixin. Another
# joins once that is known of it, and tests/lib compares a body using it both ways.
SHARED_SAFE: frozenset[type] = frozenset(
    {
        serializers.CharField,
        serializers.ChoiceField,
        serializers.SlugField,
        api.DateField,
        api.IdField,
        api.MoneyField,
        api.PercentField,
    }
)

# One step of a plan: (name, field, the plan of a nested serializer (or of each item of a
# nested list), whether the field is a list of them).
Step = tuple[str, serializers.Field, "Plan | None", bool]
Plan = list[Step]

_PLANS: dict[type, Plan | None] = {}


def _plain_serializer(cls: type) -> bool:
    """A serializer class that validates only through its fields, the framework's way."""
    base = serializers.Serializer
    return (
        issubclass(cls, base)
        and cls.get_fields is base.get_fields
        and cls.get_value is base.get_value
        and cls.to_internal_value is base.to_internal_value
        and cls.run_validators is base.run_validators
        and cls.validate is base.validate
        and cls.validate_empty_values is base.validate_empty_values
        and cls.get_validators is base.get_validators
        and cls.run_validation in (base.run_validation, PlainValidation.run_validation)
        and not getattr(getattr(cls, "Meta", None), "validators", None)
    )


def _no_validators_of_its_own(serializer: serializers.BaseSerializer) -> bool:
    return not serializer._kwargs.get("validators") and not serializer.validators


def _plan_of(cls: type) -> Plan | None:
    """How `cls` is validated with its declared fields; None when it cannot be."""
    if cls in _PLANS:
        return _PLANS[cls]
    _PLANS[cls] = None  # a serializer nested in itself is not plain
    plan: Plan | None = None
    if _plain_serializer(cls):
        plan = []
        for name, field in cls._declared_fields.items():
            if field.read_only:
                continue  # not read from a body
            step = _step(cls, name, field)
            if step is None:
                plan = None
                break
            plan.append(step)
    _PLANS[cls] = plan
    return plan


def _step(cls: type, name: str, field) -> Step | None:
    if field.source not in (None, name) or hasattr(cls, f"validate_{name}"):
        return None
    if isinstance(field, serializers.ListSerializer):
        child = field.child
        nested = _plan_of(type(child)) if type(field) is serializers.ListSerializer else None
        plain = nested is not None and _no_validators_of_its_own(field) and _no_validators_of_its_own(child)
        return (name, field, nested, True) if plain else None
    if isinstance(field, serializers.BaseSerializer):
        nested = _plan_of(type(field))
        plain = nested is not None and _no_validators_of_its_own(field)
        return (name, field, nested, False) if plain else None
    if type(field) not in SHARED_SAFE:
        return None
    if any(getattr(v, "requires_context", False) for v in [*field.validators, field.default]):
        return None  # a validator or default that asks for its (bound) field
    return (name, field, None, False)


class _Refused(Exception):
    """A value the plain way does not accept: the framework's way validates (and words why)."""


def _validate(plan: Plan, data) -> dict[str, Any]:
    """`Serializer.to_internal_value` with the declared fields, refusing rather than wording."""
    if type(data) is not dict:
        raise _Refused
    out: dict[str, Any] = {}
    for name, field, nested, many in plan:
        value = data.get(name, empty)
        try:
            if nested is None:
                out[name] = field.run_validation(value)
                continue
            is_empty, value = field.validate_empty_values(value)
        except SkipField:
            continue
        except (serializers.ValidationError, DjangoValidationError) as exc:
            raise _Refused from exc
        if is_empty:
            out[name] = value
        elif not many:
            out[name] = _validate(nested, value)
        elif type(value) is list and (value or field.allow_empty):
            if (field.max_length is not None and len(value) > field.max_length) or (
                field.min_length is not None and len(value) < field.min_length
            ):
                raise _Refused
            out[name] = [_validate(nested, item) for item in value]
        else:
            raise _Refused
    return out


class PlainValidation:
    """Mixin for an input `Serializer`: the same validated data and errors, less overhead."""

    def run_validation(self, data=empty):
        plan = _plan_of(type(self))
        if plan is not None and not self.partial and "fields" not in self.__dict__:
            try:
                return _validate(plan, data)
            except _Refused:
                pass
        return super().run_validation(data)
