"""The public side (公开): published rectification progress for cadres and the public."""
