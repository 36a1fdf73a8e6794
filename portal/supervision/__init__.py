"""督办: deadline levels (三色) and, in time, the warnings, extensions and dashboard built on them."""
