"""Read models built from the event log (D5): each view commits its change and its tracking
position in one transaction, so every event is applied exactly once across restarts. Views are
disposable: drop their tables and they rebuild from the log."""
