"""Full-text search (全文检索) over the items and what hangs off them, and saved searches."""
