"""The shell every page shares: home, language switch, navigation, error pages."""
