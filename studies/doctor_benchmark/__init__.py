"""The doctor_benchmark study: see README.md beside this file."""
