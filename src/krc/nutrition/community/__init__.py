"""Community nutrition: infant and young child feeding recalls (IYCF 2021), support groups
(GASPA), micronutrient powders (reference/nutrition.md sections 4 and 5).
"""
