"""The ground floor: what every business app stands on and nothing here may look up from.

- `lib`: money, the business clock, working days, identifiers, errors, API plumbing, events.
- `accounts`: people, roles, API credentials, the acting `Principal`, declared lifecycles.
- `funds`: funds, their effective-dated policy and the append-only ledger.

Above: enterprises → banks → loans (the business apps, beside this package), then
`fundmgr.top`. The contract is in pyproject.toml ([tool.importlinter]), checked by `make lint`.
"""
