"""The shell every page shares: home, language switch, navigation, template helpers."""
