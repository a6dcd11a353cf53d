"""Pinpoint campaigns: definitions and their versions (campaigns.py), the scheduler that turns due
runs into activities (scheduler.py), and the runs that hand each activity's audience to the shared
plan step (runs.py). Pure rules (validation, schedules, treatments, quiet time) are in `rules/`."""
