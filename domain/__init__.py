"""Registre's domain: the governance model and its rules, one package per process.

- `ledger/`: the verification kernel (standard library only, copyable);
- `rules/`: the rules the service and the verifier share (standard library only);
- `governance/`, `deliberation/`: each process' aggregates, events and commands;
- `application.py`: `Registre`, one eventsourcing Application over one log, composed from the
  processes' command modules; `ports.py`: what it needs of the infrastructure.

This package imports only the standard library and eventsourcing (enforced by
tests/unit/test_architecture.py).
"""
