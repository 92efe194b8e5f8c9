"""Data shipped with krc.nutrition: the WHO Child Growth Standards tables (see their README)."""
