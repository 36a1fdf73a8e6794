"""Backups that restore: `flask backup create DIR` and `flask backup restore DIR`."""
