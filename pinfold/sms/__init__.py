"""SMS: AWS End User Messaging SMS (the `pinpoint-sms-voice-v2` API) and Pinpoint's SMS channel, on
the shared sending pipeline.

The rooms, as in `pinfold.email`:
- `store/`: the tables (`sms_resources` holds each account's numbers, sender ids, pools, opt-out
  lists, configuration sets, verified destinations and settings as AWS-shaped documents;
  `sms_opted_out_numbers`, `sms_spend` and the `sms_messages` queue have their own);
- `rules/`: pure decisions (ids and names, numbers and countries, encoding and parts, prices,
  choosing an origination identity);
- `adapters/`: the carrier side (the built-in carrier simulator, Kannel);
- one module per resource family or step at the top (`identities`, `pools`, `keywords`,
  `opt_outs`, `configuration_sets`, `account`, `send`, `channel`, `outcomes`, `events`).

Everything is per account and region, as at AWS: an ma-mp tenant's account has its own numbers,
opt-outs, sandbox and spend; sa-sp and sa-mp tenants share their account's.
"""
