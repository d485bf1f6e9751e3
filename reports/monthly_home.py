"""The monthly report's home-page items (accounts.home)."""
