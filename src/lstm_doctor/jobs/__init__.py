"""Layer 5: many runs at once, for the commands that start them: a sweep's MLflow parent
(`sweep_callback`, which Hydra loads), a fix's runs and its screen of candidate changes
(`fix_runs`, `fix_screen`), jobs on a Ray cluster (`cluster`), an Optuna study shared by
sweeps (`study`) and the database URLs both take (`databases`), progress over many runs
(`run_progress`)."""

LAYER = 5
