"""Prevention of malnutrition: WHO growth standards, the first 1,000 days register,
infant and young child feeding, support groups (GASPA), micronutrient powders.

Reference: reference/nutrition.md.
"""
