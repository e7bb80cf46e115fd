"""Pure rules of the loans app, one module per subject: filings (automatic checks), claims
(the compensation computation and recovery shares), servicing (monthly reports)."""
