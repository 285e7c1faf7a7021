"""Peer services the benchmark compares loss-service against."""
