"""Training: one engine (`engine.py`) and the tasks it runs (`tasks/`), configs, losses, shipping."""
