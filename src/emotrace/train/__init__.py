"""Training: configs, loops with checkpoint/resume, and the losses they use."""
