"""Accounts, passwords, the second factor (TOTP), browser sessions and roles."""
