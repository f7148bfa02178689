"""Training: the engine, one run, checkpoints, resume, devices, processes and progress."""
