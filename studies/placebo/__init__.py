"""The placebo study: see README.md beside this file."""
