"""Listening: what customers say on X, Mastodon and the problem report form lands in one
inbox; operators triage it, answer where the customer spoke, and see how fast they did.

``inbox`` stores and triages items, ``sources`` keeps each polled source's cursor and
health, ``replies`` answers through the outbox, ``signals`` spots bursts of complaints and
``response_times`` measures time to first response. The pollers themselves run in the
workers (``workers/listening``).
"""
