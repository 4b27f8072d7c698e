"""lstm-doctor: find out why an LSTM will not learn, and prove the fix."""

__version__ = "0.1.0"
