"""The variety study: see README.md beside this file."""
