"""SMS and Voice v2 (`sms-voice`) operations. None yet: the SMS issue fills this table."""

HANDLERS: dict = {}
