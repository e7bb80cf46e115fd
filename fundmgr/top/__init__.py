"""The top floor: apps that read every business app and that none of them imports.

- `notifications`: notices and e-mail, subscribed to the business apps' domain events
  (`fundmgr.ground.lib.events`) and running the deadline scans.
- `reports`: regulator tables, monthly reports, the fund dashboard.
- `demo`: the demo world, built through every app's services.
"""
