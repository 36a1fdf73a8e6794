"""Inspections (巡察轮次), their categories (反馈问题类别) and rectification items (整改事项)."""
