"""Architectures from the four seed documents, one module per seed, registered by name.

Every model shares one interface so a trainer can treat them alike:

- `forward(x)` returns the output tensor: class logits (N, C), or valence/arousal (N, 2) for `head="va"`;
  `forward(x, return_features=True)` returns `(output, embedding)` in one pass (two-stage training caches it).
- `features(x)` returns the embedding the head reads.
- `input_spec` (instance attribute, also on the class with the defaults) says which data pipeline feeds the model:
  `{"kind": "clip" | "image" | "sequence" | "features", "frames": T or None, "size": S, "channels": C}`;
  image tensors are (N, C, S, S), clips and sequences (N, T, C, S, S), feature windows (N, T, D), floats in [0, 1].
- `output` (instance attribute) is "classes" or "va".
"""
