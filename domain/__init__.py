"""Registre's domain: the governance model and its rules.

Aggregates (charter, metropolis, proposal, vote) record every act as an immutable event;
`domain.application.Registre` holds the commands. This package imports only the standard
library and eventsourcing (enforced by tests/unit/test_architecture.py).
"""
