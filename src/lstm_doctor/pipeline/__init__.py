"""Layer 4: the owner of a pipeline run. Opens, resumes and ends its MLflow run for every
entry point (the Hydra app in one process, DVC's stages each in its own), runs the stages,
calls the doctor and sums the run up for the console."""

LAYER = 4
