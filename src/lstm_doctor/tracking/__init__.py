"""Layer 3: everything that talks to MLflow. The store, the pipeline run's lifecycle, sweep
parents, provenance, Keras logging, a server process, and the look-ups the commands make.
No other package imports mlflow."""

LAYER = 3
