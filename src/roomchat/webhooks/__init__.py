"""Webhook delivery: the outbound side of domain/webhooks.py.

``addresses`` decides where a webhook may connect, ``sender`` makes one signed POST to
a checked address, ``dispatcher`` reads each endpoint's events from the room event
log and delivers them, apart from the chat's own work.
"""
