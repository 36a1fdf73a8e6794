"""The audit chain (审计链): an append-only, hash-chained record of every write."""
