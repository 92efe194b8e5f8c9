"""Outreach sessions where people gather, session reports and micro-plans.

Reference: reference/immunization.md section 3.
"""
