"""The reports' permission actions (accounts.permissions)."""
