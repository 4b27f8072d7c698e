"""Layer 2: the doctor. Checks on the data and the training run (pure functions to
findings), the diagnosis that ties them together, and its report to the user."""

LAYER = 2
