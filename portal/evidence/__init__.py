"""Evidence (佐证材料) attached to rectification items."""
