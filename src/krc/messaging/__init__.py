"""Messaging: contacts, groups, templates, outbox and channels (RapidPro, WhatsApp, log).

Reference: reference/interop.md sections 2-3.
"""
