"""The default_sweep study: see README.md beside this file."""
