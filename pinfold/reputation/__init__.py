"""Reputation: bounce and complaint rates per account, configuration set, SES tenant and registry
tenant, counted from the records Pinfold writes, judged against the levels AWS documents, and the
pauses that follow: a tenant alone when its policy says so, the account when the account's rates
cross."""
