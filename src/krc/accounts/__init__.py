"""Users, roles, org-unit scopes, API tokens, sessions and the audit log."""
