"""Training: data, the trainer, checkpoints, stored runs and the course's experiments."""
