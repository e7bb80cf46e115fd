"""The loans admin, one module per subject; importing them registers their pages."""

from . import claims, documents, filings, servicing  # noqa: F401
