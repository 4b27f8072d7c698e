"""Layer 0: the ground every other folder stands on: the one-line error (`errors`), the
workspace and the stage-file contract (`workspace`), error measures and baselines
(`metrics`), the learning curves' measures (`curve_measures`). Imports nothing of ours."""

LAYER = 0
