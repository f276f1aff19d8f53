"""Sending: compose local activities, pick recipients, and deliver them durably."""
