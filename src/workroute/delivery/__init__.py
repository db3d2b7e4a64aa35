"""Delivery of outgoing email (SMTP) for email alerts."""
