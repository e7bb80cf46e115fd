"""Reads of the loans app, one module per subject (filings, servicing, claims), scoped by the
acting principal where a caller is involved."""
