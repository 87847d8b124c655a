"""Per-frame face models: a crop in, class logits and an embedding out."""
