"""Document versions (版本): snapshots on every edit, field-by-field diffs, revert."""
