"""The owner of a pipeline run: opens, resumes and ends its MLflow run for every entry point
(the Hydra app in one process, DVC's train and evaluate stages in two), runs the stages and
calls the doctor."""
