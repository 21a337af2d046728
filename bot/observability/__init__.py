"""What an operator sees of a running instance: Prometheus metrics, structured logs, readiness."""
