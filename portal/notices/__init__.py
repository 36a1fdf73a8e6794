"""Rectification notices (整改情况通报): parsing published texts into documents."""
