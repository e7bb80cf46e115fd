"""Documents in the admin: what was filed with each loan and claim, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.lib.adminkit import ShortNameFilter, WorkListMixin

from ..models import (
    FilingDocument,
)
from .display import ReadOnlyAdmin


@admin.register(FilingDocument)
class FilingDocumentAdmin(WorkListMixin, ReadOnlyAdmin):
    list_display = ["filing", "kind", "original_name", "size_display", "sha256_prefix", "uploaded_at"]
    list_wrap = ("original_name",)
    list_filter = ["kind", ("filing__fund", ShortNameFilter)]
    search_fields = ["filing__reference", "original_name", "sha256"]
    list_select_related = ["filing"]

    @admin.display(description=_("大小"), ordering="size")
    def size_display(self, obj) -> str:
        return filesizeformat(obj.size)

    @admin.display(description=_("SHA-256"))
    def sha256_prefix(self, obj) -> str:
        return obj.sha256[:12]
