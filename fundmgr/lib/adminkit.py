"""Small admin helpers shared by every app."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect

from .errors import AppError


class ServiceErrorsMixin:
    """Admin pages that write through a service.

    The stock change form wraps the whole view in `transaction.atomic()`; our services open
    their own durable transaction (one business command, committed or not at all), which
    cannot nest inside another. So the form view runs without the outer block, and a
    service's refusal is shown as an error message on the same page instead of a 500.
    Nothing was written when a service refuses.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except AppError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())
