"""The sign-offs' and reminders' home-page items (accounts.home)."""
