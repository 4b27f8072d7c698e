"""Everything that talks to MLflow: the store, the pipeline run's lifecycle, sweep parents,
provenance, Keras logging and the look-ups the commands make. No other package imports
mlflow."""
