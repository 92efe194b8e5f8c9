"""Org units: Mali's health and administrative hierarchies, codes and target populations."""
