"""`POST .../{key}/transitions/{name}/`: the one transitions endpoint of every lifecycle."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .serializers import TransitionRequestSerializer


class TransitionsMixin:
    """A viewset's staff (or bank) steps on one record, each run by one service.

    A viewset says how to find the record the caller may see (`transition_object`), which
    service runs a named step (`transition_run`) and how to answer (`transition_render`);
    the route, the body and the order of things are here. Each viewset documents its own
    request and response with `transitions_schema(...)` on the class."""

    transition_request_serializer: type = TransitionRequestSerializer

    def transition_object(self, request: Request, key: str) -> Any:
        raise NotImplementedError

    def transition_run(self, request: Request, obj: Any, name: str, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def transition_render(self, request: Request, obj: Any) -> Response:
        raise NotImplementedError

    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<transition>[a-z_]+)")
    def transition(self, request: Request, transition: str | None = None, **kwargs: Any) -> Response:
        key = kwargs[self.lookup_url_kwarg or self.lookup_field]
        obj = self.transition_object(request, key)
        body = self.transition_request_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj = self.transition_run(request, obj, transition, body.validated_data)
        return self.transition_render(request, obj)


def transitions_schema(*, summary: str, names: str, response, request=TransitionRequestSerializer):
    """The OpenAPI description of a viewset's transitions endpoint (for extend_schema_view)."""
    return extend_schema(
        summary=summary,
        request=request,
        responses=response,
        parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH, description=names)],
    )
