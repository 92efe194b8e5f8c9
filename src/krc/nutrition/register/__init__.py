"""First 1,000 days register: pregnant and breastfeeding women, children 0-23 months,
growth-monitoring visits, malnutrition referrals (reference/nutrition.md sections 2 and 5).
"""
