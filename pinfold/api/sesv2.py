"""SES v2 (`ses`) operations. None yet: the email issue fills this table."""

HANDLERS: dict = {}
