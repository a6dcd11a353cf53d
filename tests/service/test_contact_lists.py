"""SES v2 list management: contact lists, topics, contacts, filters, limits, tenancy, and the
send-side gate and one-click unsubscribe of sends with ListManagementOptions."""

from __future__ import annotations

import email

import pytest

from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.core.paging import encode_token
from pinfold.email import account as email_account
from pinfold.email import contact_lists as service
from pinfold.email import feedback
from pinfold.email import identities as email_identities
from pinfold.email import send as ses_send
from pinfold.email.delivery import EmailDelivery
from pinfold.email.store import messages as email_messages
from tests.service.helpers import account_caller, onboard

TOPICS = [{"TopicName": "sports", "DisplayName": "Sports", "DefaultSubscriptionStatus": "OPT_IN"},
          {"TopicName": "cycling", "DisplayName": "Cycling", "Description": "Bikes",
           "DefaultSubscriptionStatus": "OPT_OUT"}]
SPORTS_OUT = [{"TopicName": "sports", "SubscriptionStatus": "OPT_OUT"}]


def _list(ctx, caller, name: str = "news", topics=TOPICS, **extra) -> None:
    service.create_list(ctx, caller, {"ContactListName": name, "Topics": topics, **extra})


def _contact(ctx, caller, address: str, list_name: str = "news", **extra) -> None:
    service.create_contact(ctx, caller, list_name, {"EmailAddress": address, **extra})


def _addresses(page: dict) -> list[str]:
    return [contact["EmailAddress"] for contact in page["Contacts"]]


def test_a_contact_list_round_trips_with_topics_tags_and_timestamps(ctx, admin):
    _list(ctx, admin, Description="Our newsletter", Tags=[{"Key": "team", "Value": "growth"}])
    got = service.get_list(ctx, admin, "news")
    assert got["ContactListName"] == "news" and got["Description"] == "Our newsletter"
    assert got["Topics"] == TOPICS and got["Tags"] == [{"Key": "team", "Value": "growth"}]
    assert got["CreatedTimestamp"] == got["LastUpdatedTimestamp"] and got["CreatedTimestamp"].endswith("Z")
    service.update_list(ctx, admin, "news", {"Topics": TOPICS[:1]})  # a complete replacement
    updated = service.get_list(ctx, admin, "news")
    assert updated["Topics"] == TOPICS[:1] and "Description" not in updated
    assert service.list_lists(ctx, admin, None, None) == {
        "ContactLists": [{"ContactListName": "news", "LastUpdatedTimestamp": updated["LastUpdatedTimestamp"]}]}
    with pytest.raises(Conflict, match="List with name news already exists"):
        _list(ctx, admin)


def test_names_topics_and_statuses_are_checked(ctx, admin):
    with pytest.raises(InvalidInput, match="contact list name"):
        _list(ctx, admin, name="bad name")
    with pytest.raises(InvalidInput, match="DefaultSubscriptionStatus"):
        _list(ctx, admin, topics=[{"TopicName": "t", "DisplayName": "T", "DefaultSubscriptionStatus": "MAYBE"}])
    with pytest.raises(InvalidInput, match="DisplayName is required"):
        _list(ctx, admin, topics=[{"TopicName": "t", "DefaultSubscriptionStatus": "OPT_IN"}])
    with pytest.raises(InvalidInput, match="listed twice"):
        _list(ctx, admin, topics=[TOPICS[0], TOPICS[0]])
    many = [{"TopicName": f"t{n}", "DisplayName": "T", "DefaultSubscriptionStatus": "OPT_IN"} for n in range(21)]
    with pytest.raises(LimitExceeded, match="at most 20 topics"):
        _list(ctx, admin, topics=many)
    _list(ctx, admin, topics=many[:20])
    with pytest.raises(LimitExceeded, match="at most 20 topics"):
        service.update_list(ctx, admin, "news", {"Topics": many})
    assert len(service.get_list(ctx, admin, "news")["Topics"]) == 20


def test_one_list_per_owner_by_default_and_the_setting_raises_it(ctx, admin, monkeypatch):
    _list(ctx, admin, "first")
    with pytest.raises(LimitExceeded, match=r"contact lists \(1\)"):
        _list(ctx, admin, "second")
    service.delete_list(ctx, admin, "first")
    _list(ctx, admin, "second")
    monkeypatch.setattr(ctx, "settings", ctx.settings.replace(contact_lists_per_owner=2))
    _list(ctx, admin, "third")
    assert [row["ContactListName"] for row in service.list_lists(ctx, admin, None, None)["ContactLists"]] == [
        "second", "third"]


def test_contacts_round_trip_with_preferences_defaults_and_attributes(ctx, admin):
    _list(ctx, admin)
    _contact(ctx, admin, "Ann@Example.com", TopicPreferences=[{"TopicName": "cycling", "SubscriptionStatus": "OPT_IN"}],
             AttributesData='{"name": "Ann"}')
    got = service.get_contact(ctx, admin, "news", "ann@example.com")  # addresses match without case
    assert got["EmailAddress"] == "Ann@Example.com" and got["ContactListName"] == "news"
    assert got["TopicPreferences"] == [{"TopicName": "cycling", "SubscriptionStatus": "OPT_IN"}]
    assert got["TopicDefaultPreferences"] == [{"TopicName": "sports", "SubscriptionStatus": "OPT_IN"}]
    assert got["UnsubscribeAll"] is False and got["AttributesData"] == '{"name": "Ann"}'
    assert got["CreatedTimestamp"] == got["LastUpdatedTimestamp"]
    with pytest.raises(Conflict, match="Contact already exists"):
        _contact(ctx, admin, "ann@example.com")
    with pytest.raises(InvalidInput, match="Topic golf does not exist in list news"):
        _contact(ctx, admin, "b@example.com", TopicPreferences=[{"TopicName": "golf", "SubscriptionStatus": "OPT_IN"}])
    with pytest.raises(InvalidInput, match="Invalid email address"):
        _contact(ctx, admin, "not-an-address")
    with pytest.raises(NotFound, match="List with name other does not exist"):
        _contact(ctx, admin, "b@example.com", list_name="other")
    with pytest.raises(NotFound, match="Contact does not exist"):
        service.get_contact(ctx, admin, "news", "b@example.com")


def test_update_replaces_given_preferences_and_keeps_omitted_members(ctx, admin):
    _list(ctx, admin)
    _contact(ctx, admin, "a@example.com", TopicPreferences=[{"TopicName": "sports", "SubscriptionStatus": "OPT_OUT"},
                                                            {"TopicName": "cycling", "SubscriptionStatus": "OPT_IN"}],
             UnsubscribeAll=True, AttributesData="x")
    service.update_contact(ctx, admin, "news", "a@example.com",
                           {"TopicPreferences": [{"TopicName": "cycling", "SubscriptionStatus": "OPT_OUT"}]})
    got = service.get_contact(ctx, admin, "news", "a@example.com")
    assert got["TopicPreferences"] == [{"TopicName": "cycling", "SubscriptionStatus": "OPT_OUT"}]
    assert got["UnsubscribeAll"] is True and got["AttributesData"] == "x"  # not named: kept, never resubscribed
    service.update_contact(ctx, admin, "news", "a@example.com", {"UnsubscribeAll": False})
    assert service.get_contact(ctx, admin, "news", "a@example.com")["UnsubscribeAll"] is False
    with pytest.raises(NotFound):
        service.update_contact(ctx, admin, "news", "nobody@example.com", {"UnsubscribeAll": True})
    service.delete_contact(ctx, admin, "news", "A@example.com")
    with pytest.raises(NotFound):
        service.delete_contact(ctx, admin, "news", "a@example.com")


def test_list_contacts_filters_by_status_and_topic_with_or_without_defaults(ctx, admin):
    _list(ctx, admin)
    _contact(ctx, admin, "in@example.com", TopicPreferences=[{"TopicName": "cycling", "SubscriptionStatus": "OPT_IN"}])
    _contact(ctx, admin, "out@example.com", TopicPreferences=[{"TopicName": "sports", "SubscriptionStatus": "OPT_OUT"}])
    _contact(ctx, admin, "none@example.com")
    _contact(ctx, admin, "gone@example.com", UnsubscribeAll=True,
             TopicPreferences=[{"TopicName": "cycling", "SubscriptionStatus": "OPT_IN"}])

    def listed(**contact_filter):
        return _addresses(service.list_contacts(ctx, admin, "news", contact_filter, None, None))

    assert listed() == ["gone@example.com", "in@example.com", "none@example.com", "out@example.com"]
    assert listed(FilteredStatus="OPT_OUT") == ["gone@example.com"]
    assert listed(FilteredStatus="OPT_IN") == ["in@example.com", "none@example.com", "out@example.com"]
    assert listed(FilteredStatus="OPT_IN", TopicFilter={"TopicName": "cycling"}) == ["in@example.com"]
    assert listed(FilteredStatus="OPT_OUT", TopicFilter={"TopicName": "cycling"}) == ["gone@example.com"]
    assert listed(FilteredStatus="OPT_OUT", TopicFilter={"TopicName": "cycling",
                                                         "UseDefaultIfPreferenceUnavailable": True}) == [
        "gone@example.com", "none@example.com", "out@example.com"]
    assert listed(FilteredStatus="OPT_IN", TopicFilter={"TopicName": "sports",
                                                        "UseDefaultIfPreferenceUnavailable": True}) == [
        "in@example.com", "none@example.com"]
    with pytest.raises(InvalidInput, match="Topic golf does not exist"):
        listed(FilteredStatus="OPT_IN", TopicFilter={"TopicName": "golf"})
    with pytest.raises(InvalidInput, match="needs a FilteredStatus"):
        listed(TopicFilter={"TopicName": "sports"})


def test_list_contacts_pages_through_filtered_results(ctx, admin, monkeypatch):
    monkeypatch.setattr(service, "SCAN_CHUNK", 3)  # filtered pages that span several reads
    _list(ctx, admin)
    for n in range(10):
        _contact(ctx, admin, f"c{n}@example.com", UnsubscribeAll=n % 2 == 1)
    seen, token = [], None
    while True:
        page = service.list_contacts(ctx, admin, "news", {"FilteredStatus": "OPT_IN"}, 2, token)
        assert len(page["Contacts"]) <= 2
        seen += _addresses(page)
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == [f"c{n}@example.com" for n in range(0, 10, 2)]
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        service.list_contacts(ctx, admin, "news", None, 1001, None)
    with pytest.raises(InvalidInput, match="NextToken"):
        service.list_contacts(ctx, admin, "news", None, None, encode_token(("contact-lists", "news")))


def test_deleting_a_list_deletes_its_contacts_and_tags(ctx, admin):
    _list(ctx, admin, Tags=[{"Key": "k", "Value": "v"}])
    _contact(ctx, admin, "a@example.com")
    service.delete_list(ctx, admin, "news")
    with pytest.raises(NotFound):
        service.get_list(ctx, admin, "news")
    _list(ctx, admin)
    assert service.get_list(ctx, admin, "news")["Tags"] == []
    assert service.list_contacts(ctx, admin, "news", None, None, None) == {"Contacts": []}


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp"])
def test_tenants_sharing_an_account_see_only_their_own_lists(ctx, admin, model):
    tenant_a, a = onboard(ctx, admin, "a", model)
    _, b = onboard(ctx, admin, "b", model)
    owner = account_caller(ctx, admin, tenant_a["account_id"])
    assert a.account_id == b.account_id == owner.account_id
    _list(ctx, a, "a-news")
    _contact(ctx, a, "x@example.com", list_name="a-news")
    _list(ctx, b, "b-news")  # each tenant has its own one-list allowance
    with pytest.raises(LimitExceeded):
        _list(ctx, b, "b-more")
    for call in (lambda: service.get_list(ctx, b, "a-news"),
                 lambda: service.get_contact(ctx, b, "a-news", "x@example.com"),
                 lambda: service.list_contacts(ctx, b, "a-news", None, None, None),
                 lambda: _contact(ctx, b, "y@example.com", list_name="a-news"),
                 lambda: service.update_list(ctx, b, "a-news", {}),
                 lambda: service.delete_list(ctx, b, "a-news")):
        with pytest.raises(NotFound, match="List with name a-news does not exist"):
            call()
    assert [row["ContactListName"] for row in service.list_lists(ctx, b, None, None)["ContactLists"]] == ["b-news"]
    assert [row["ContactListName"] for row in service.list_lists(ctx, owner, None, None)["ContactLists"]] == [
        "a-news", "b-news"]  # the account's own credentials see every list in it
    assert _addresses(service.list_contacts(ctx, owner, "a-news", None, None, None)) == ["x@example.com"]
    _list(ctx, owner, "house")  # and have their own allowance too


def test_a_project_key_sees_only_the_lists_it_made(ctx, admin, project):
    from pinfold import onboarding
    from tests.service.helpers import caller_for_credentials

    creds = onboarding.create_access_key(ctx, admin, scope="project", account_id=admin.account_id,
                                           project_id=project)
    confined = caller_for_credentials(ctx, creds)
    _list(ctx, admin, "house")
    _list(ctx, confined, "project-news")
    assert [row["ContactListName"] for row in service.list_lists(ctx, confined, None, None)["ContactLists"]] == [
        "project-news"]
    with pytest.raises(NotFound):
        service.get_list(ctx, confined, "house")
    assert service.get_list(ctx, admin, "project-news")["ContactListName"] == "project-news"


def test_ma_mp_accounts_keep_separate_lists(ctx, admin):
    _, a = onboard(ctx, admin, "a", "ma-mp")
    _, b = onboard(ctx, admin, "b", "ma-mp")
    assert a.account_id != b.account_id
    _list(ctx, a)
    with pytest.raises(NotFound):
        service.get_list(ctx, b, "news")
    _list(ctx, b, topics=TOPICS[:1])  # the same name in another account
    assert service.get_list(ctx, a, "news")["Topics"] == TOPICS
    assert service.list_lists(ctx, b, None, None)["ContactLists"][0]["ContactListName"] == "news"


# --- sending with ListManagementOptions --------------------------------------------------------------

@pytest.fixture
def sender(ctx, admin):
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    caller = account_caller(ctx, admin, tenant["account_id"])
    email_identities.create(ctx, caller, {"EmailIdentity": "example.com"})
    email_identities.confirm(ctx, admin, "example.com", account_id=caller.account_id, region=caller.region)
    email_account.set_production(ctx, admin, caller.account_id, max_rate=1000)
    delivery = EmailDelivery(ctx)
    yield caller, delivery
    delivery.stop()


def _send(ctx, caller, to: str, topic: str | None = "sports", list_name: str = "news"):
    options = {"ContactListName": list_name, **({"TopicName": topic} if topic else {})}
    return ses_send.send_email(ctx, caller, {
        "FromEmailAddress": "news@example.com", "Destination": {"ToAddresses": [to]},
        "ListManagementOptions": options,
        "Content": {"Simple": {"Subject": {"Data": "Weekly"},
                               "Body": {"Text": {"Data": "Bye: {{amazonSESUnsubscribeUrl}}"}}}}})["MessageId"]


def _mailed(ctx) -> list:
    return [email.message_from_bytes(path.read_bytes()) for path in (ctx.settings.data_dir / "mailbox").rglob("*.eml")]


def _statuses(ctx) -> dict:
    with ctx.db.read() as conn:
        return email_messages.counts(conn)


def test_a_managed_send_carries_the_unsubscribe_link_and_a_click_opts_the_contact_out(ctx, sender):
    caller, delivery = sender
    _list(ctx, caller)
    _contact(ctx, caller, "ann@example.org")
    message_id = _send(ctx, caller, "ann@example.org")
    assert delivery.run_once() == 1
    [mailed] = _mailed(ctx)
    url = mailed["List-Unsubscribe"].split(">")[0].lstrip("<")
    assert url.startswith(ctx.settings.resolved_public_url + "/t/u/") and mailed["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click")
    assert mailed.get_payload(decode=True).decode().strip() == f"Bye: {url}"
    feedback.record_engagement(ctx, "unsubscribe", message_id, None, "agent", "127.0.0.1")
    got = service.get_contact(ctx, caller, "news", "ann@example.org")
    assert got["TopicPreferences"] == [{"TopicName": "sports", "SubscriptionStatus": "OPT_OUT"}]
    assert got["UnsubscribeAll"] is False
    _send(ctx, caller, "ann@example.org")
    _send(ctx, caller, "ann@example.org", topic=None)  # the list as a whole still reaches her
    assert delivery.run_once() == 2
    assert _statuses(ctx) == {"delivered": 2, "suppressed": 1}
    assert len(_mailed(ctx)) == 2


def test_the_gate_honours_topic_defaults_unsubscribe_all_and_leaves_strangers_alone(ctx, sender):
    caller, delivery = sender
    _list(ctx, caller)
    _contact(ctx, caller, "default-out@example.org")  # cycling defaults to OPT_OUT
    _contact(ctx, caller, "all-out@example.org", UnsubscribeAll=True)
    _send(ctx, caller, "default-out@example.org", topic="cycling")
    _send(ctx, caller, "all-out@example.org", topic=None)
    _send(ctx, caller, "stranger@example.org", topic="cycling")  # not a contact: delivered
    assert delivery.run_once() == 3
    assert _statuses(ctx) == {"delivered": 1, "suppressed": 2}
    with ctx.db.read() as conn:
        details = sorted(row["detail"] for row in conn.execute(
            email_messages.email_messages.select().where(email_messages.email_messages.c.status == "suppressed"))
            .mappings())
    assert details == ["suppressed: UNSUBSCRIBED from contact list news",
                       "suppressed: UNSUBSCRIBED from topic cycling of contact list news"]


def test_an_unsubscribe_without_a_topic_makes_a_stranger_a_contact_unsubscribed_from_all(ctx, sender):
    caller, delivery = sender
    _list(ctx, caller)
    message_id = _send(ctx, caller, "Bob <bob@example.org>", topic=None)
    delivery.run_once()
    feedback.record_engagement(ctx, "unsubscribe", message_id, None, "agent", "127.0.0.1")
    got = service.get_contact(ctx, caller, "news", "bob@example.org")
    assert got["UnsubscribeAll"] is True and got["TopicPreferences"] == []
    _send(ctx, caller, "bob@example.org", topic="sports")
    delivery.run_once()
    assert _statuses(ctx) == {"delivered": 1, "suppressed": 1}


def test_list_management_options_must_name_a_visible_list_and_one_of_its_topics(ctx, sender):
    caller, _delivery = sender
    with pytest.raises(NotFound, match="List with name news does not exist"):
        _send(ctx, caller, "ann@example.org")
    _list(ctx, caller)
    with pytest.raises(InvalidInput, match="Topic golf does not exist in list news"):
        _send(ctx, caller, "ann@example.org", topic="golf")
    assert _statuses(ctx) == {}  # nothing queued for a refused send


def test_bulk_sends_skip_opted_out_contacts_entry_by_entry(ctx, sender):
    caller, delivery = sender
    _list(ctx, caller)
    _contact(ctx, caller, "out@example.org", TopicPreferences=SPORTS_OUT)
    _contact(ctx, caller, "in@example.org")
    result = ses_send.send_bulk_email(ctx, caller, {
        "FromEmailAddress": "news@example.com",
        "ListManagementOptions": {"ContactListName": "news", "TopicName": "sports"},
        "DefaultContent": {"Template": {"TemplateContent": {"Subject": "Hi", "Text": "{{amazonSESUnsubscribeUrl}}"}}},
        "BulkEmailEntries": [{"Destination": {"ToAddresses": [to]}} for to in ("out@example.org", "in@example.org")]})
    assert [entry["Status"] for entry in result["BulkEmailEntryResults"]] == ["SUCCESS", "SUCCESS"]  # as SES: accepted
    assert delivery.run_once() == 2
    assert _statuses(ctx) == {"delivered": 1, "suppressed": 1}
    [mailed] = _mailed(ctx)
    assert mailed["To"] == "in@example.org" and "/t/u/" in mailed.get_payload(decode=True).decode()


def test_a_topic_removed_after_the_send_still_honours_opt_outs_given_for_it(ctx, sender):
    caller, delivery = sender
    _list(ctx, caller)
    _contact(ctx, caller, "out@example.org", TopicPreferences=SPORTS_OUT)
    _contact(ctx, caller, "quiet@example.org")  # no preference: the topic's default (OPT_IN) applied
    _send(ctx, caller, "out@example.org")
    _send(ctx, caller, "quiet@example.org")
    service.update_list(ctx, caller, "news", {"Topics": TOPICS[1:]})  # sports is gone before delivery
    assert delivery.run_once() == 2
    assert _statuses(ctx) == {"delivered": 1, "suppressed": 1}
