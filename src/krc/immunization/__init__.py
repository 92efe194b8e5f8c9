"""Immunization Plus: register, schedule, vaccinations, coverage."""
