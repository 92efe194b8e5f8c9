"""Cold chain: equipment, temperature readings and alarms (reference/immunization.md §5)."""
