"""Layer 2: the five DVC stages (prepare, scale, window, train, evaluate) and what only
they use.

Each stage is a pure core plus a thin `run(cfg, paths)` doing the file I/O; none of them
touches MLflow or the doctor (the pipeline package owns the run).
"""

LAYER = 2
