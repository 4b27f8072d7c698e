"""The claims study: see README.md beside this file."""
