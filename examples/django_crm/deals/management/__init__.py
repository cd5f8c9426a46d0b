"""The deals app's commands."""
