"""Registre's outer layer: the FastAPI app, the `registre` CLI, settings, the embedded launcher
and the one wiring module (`api.wiring`) where adapters are put together. Nothing imports `api`."""
