"""The in-app channel: what an in-app message may hold (rules/content.py). Which campaigns an endpoint's
app shows is campaigns/inapp.py: devices pull their messages, nothing is sent."""
