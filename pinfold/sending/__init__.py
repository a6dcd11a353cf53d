"""The one sending pipeline every channel shares: claim due messages under a lease → gate → compose →
deliver through the channel's adapters → record outcomes and events, a group at a time, in one
transaction each (worker.py, lease.py, outcomes.py). A channel plugs in through the `Channel`
protocol (channel.py): its own queue, its gate, compose, routing, delivery and decisions. Nothing
here knows a channel; email's half is pinfold/email/channel.py.

SMS fits as it is: the gate holds back numbers on the account's opt-out list (and, later, quiet
time); compose renders the body and counts its segments and encoding (GSM-7 or UCS-2) onto the
message for `decide` to price and record; routes group by origination identity or pool; the
carrier's answer is an Outcome whose `remote_id` `decide` keeps with the message, which stays
"accepted" until the delivery report arrives later, by the channel's own listener (or, from a
simulator, in `after_pass` once the pass has committed the message it names). Push fits the same
way: routes group by project, so each route's adapter uses that project's credentials (APNs, FCM);
an invalid or unregistered token comes back as a permanent Outcome and `decide` deactivates the
endpoint in the group's transaction, and the gate holds back messages to inactive endpoints after
that. Retries for both go through `outcomes.retry_at` with the channel's own budget.
"""
