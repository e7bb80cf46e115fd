"""Documents filed with a loan (POST /api/v1/filings/{id}/documents/): shapes and the action."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from fundmgr.ground.lib.representation import PlainRepresentation

from ..models import DocumentKind, FilingDocument
from ..services import documents


class DocumentSerializer(PlainRepresentation, serializers.ModelSerializer):
    class Meta:
        model = FilingDocument
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at"]


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(
        allow_empty_file=True, help_text=gettext_lazy("PDF、JPEG、PNG 或 OFD，最大 20 MB；按内容识别类型")
    )


class FilingDocumentActions:
    """The documents action of the filing endpoints (mixed into FilingViewSet)."""

    @extend_schema(
        summary=gettext_lazy("上传备案材料（合作机构）"),
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], url_path="documents")
    def documents(self, request, pk=None):
        filing = self._filing(pk)
        body = DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = documents.document_upload(
            principal=self._principal(),
            filing_id=filing.pk,
            kind=body.validated_data["kind"],
            upload=body.validated_data["file"],
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)
