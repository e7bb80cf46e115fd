"""Every write about loans, one module per subject (filings, documents, servicing, claims),
each write one durable transaction."""
