"""Vaccine stock ledger per facility and vaccine, and SMS/RapidPro stock reports.

Reference: reference/immunization.md section 4.
"""
