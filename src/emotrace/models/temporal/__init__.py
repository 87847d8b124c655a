"""Temporal models: per-track state over a person's sequence of frame embeddings."""
