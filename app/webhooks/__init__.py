"""Webhook plumbing with no database: Standard Webhooks signing, target (SSRF) checks, one bounded POST."""
