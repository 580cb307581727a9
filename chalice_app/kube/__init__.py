"""Thin adapter over the `kubernetes` client: EKS authentication and a configured ApiClient."""
