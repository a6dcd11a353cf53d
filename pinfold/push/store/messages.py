"""Outgoing pushes: the `push_messages` queue, one row per push recipient of a Pinpoint send, with its
state.

A push is `queued` until a worker claims it, `sending` while a worker holds its lease, then finished:
`delivered` (the provider took it), `failed` (refused for good: a dead token, a bad payload, no way
to send), or `expired` (not taken before its retries ran out). `due_at` is when a queued push may next
be tried, or when a sending one's lease runs out. `message` holds what the send resolved (platform,
token, payload, headers, endpoint, expiry, the campaign's attributes).
"""

from __future__ import annotations

from pinfold.db.tables import push_messages as table
from pinfold.sending import queue

_queue = queue.TableQueue(table)
add_many, any_due, claim, renew = _queue.add_many, _queue.any_due, _queue.claim, _queue.renew
still_held, finish_held = _queue.still_held, _queue.finish_held
due_now, activity_progress = _queue.due_now, _queue.activity_progress
queue_depths, get = _queue.queue_depths, _queue.get
