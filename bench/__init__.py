"""Benchmarks of loss-service against torch and a typical FastAPI peer (bench/README.md)."""
