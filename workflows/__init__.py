"""Temporal workflows (deterministic orchestration), their activities (which call the domain
application), and the relay that turns domain facts in the log into workflow starts/signals."""
