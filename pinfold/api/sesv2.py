"""SES v2 (`sesv2`) operations: a table from operation name to a thin handler."""

from pinfold.api import sesv2_contacts
from pinfold.email import account as email_account
from pinfold.email import configuration_sets, suppression
from pinfold.email import identities as email_identities
from pinfold.email import send as ses_send
from pinfold.email import templates as ses_templates
from pinfold.email import tenants as ses_tenants
from pinfold.reputation import entities

HANDLERS: dict = {}


# --- configuration sets and event destinations (engineer D2) ---

def _create_configuration_set(ctx, caller, p):
    configuration_sets.create(ctx, caller, p)


def _get_configuration_set(ctx, caller, p):
    return configuration_sets.get(ctx, caller, p["ConfigurationSetName"])


def _list_configuration_sets(ctx, caller, p):
    return configuration_sets.list_page(ctx, caller, p.get("PageSize"), p.get("NextToken"), p.get("Filter"))


def _delete_configuration_set(ctx, caller, p):
    configuration_sets.delete(ctx, caller, p["ConfigurationSetName"])


def _put_options(put):
    """A handler for one Put*Options operation: the request's members, less the set's name, are the options."""
    def handler(ctx, caller, p):
        put(ctx, caller, p["ConfigurationSetName"], {k: v for k, v in p.items() if k != "ConfigurationSetName"})
    return handler


def _create_event_destination(ctx, caller, p):
    configuration_sets.create_destination(ctx, caller, p["ConfigurationSetName"], p["EventDestinationName"],
                                          p["EventDestination"])


def _update_event_destination(ctx, caller, p):
    configuration_sets.update_destination(ctx, caller, p["ConfigurationSetName"], p["EventDestinationName"],
                                          p["EventDestination"])


def _get_event_destinations(ctx, caller, p):
    return {"EventDestinations": configuration_sets.get_destinations(ctx, caller, p["ConfigurationSetName"])}


def _delete_event_destination(ctx, caller, p):
    configuration_sets.delete_destination(ctx, caller, p["ConfigurationSetName"], p["EventDestinationName"])


# --- SES email templates (engineer D2) ---

def _create_email_template(ctx, caller, p):
    ses_templates.create(ctx, caller, p["TemplateName"], p["TemplateContent"], p.get("Tags"))


def _get_email_template(ctx, caller, p):
    return ses_templates.get(ctx, caller, p["TemplateName"])


def _list_email_templates(ctx, caller, p):
    return ses_templates.list_page(ctx, caller, p.get("PageSize"), p.get("NextToken"))


def _update_email_template(ctx, caller, p):
    ses_templates.update(ctx, caller, p["TemplateName"], p["TemplateContent"])


def _delete_email_template(ctx, caller, p):
    ses_templates.delete(ctx, caller, p["TemplateName"])


def _test_render_email_template(ctx, caller, p):
    return {"RenderedTemplate": ses_templates.preview(ctx, caller, p["TemplateName"], p["TemplateData"])}


HANDLERS.update({
    "CreateConfigurationSet": _create_configuration_set,
    "GetConfigurationSet": _get_configuration_set,
    "ListConfigurationSets": _list_configuration_sets,
    "DeleteConfigurationSet": _delete_configuration_set,
    "PutConfigurationSetSuppressionOptions": _put_options(configuration_sets.put_suppression),
    "PutConfigurationSetSendingOptions": _put_options(configuration_sets.put_sending),
    "PutConfigurationSetReputationOptions": _put_options(configuration_sets.put_reputation),
    "PutConfigurationSetDeliveryOptions": _put_options(configuration_sets.put_delivery),
    "PutConfigurationSetTrackingOptions": _put_options(configuration_sets.put_tracking),
    "PutConfigurationSetVdmOptions": _put_options(configuration_sets.put_vdm),
    "CreateConfigurationSetEventDestination": _create_event_destination,
    "GetConfigurationSetEventDestinations": _get_event_destinations,
    "UpdateConfigurationSetEventDestination": _update_event_destination,
    "DeleteConfigurationSetEventDestination": _delete_event_destination,
    "CreateEmailTemplate": _create_email_template,
    "GetEmailTemplate": _get_email_template,
    "ListEmailTemplates": _list_email_templates,
    "UpdateEmailTemplate": _update_email_template,
    "DeleteEmailTemplate": _delete_email_template,
    "TestRenderEmailTemplate": _test_render_email_template,
})


# --- identities, account, suppression and SES tenants (engineer D1) ---

def _create_email_identity(ctx, caller, p):
    return email_identities.create(ctx, caller, p)


def _get_email_identity(ctx, caller, p):
    return email_identities.get(ctx, caller, p["EmailIdentity"])


def _list_email_identities(ctx, caller, p):
    return email_identities.list_page(ctx, caller, p.get("Filter"), p.get("PageSize"), p.get("NextToken"))


def _delete_email_identity(ctx, caller, p):
    email_identities.delete(ctx, caller, p["EmailIdentity"])


def _put_identity_dkim(ctx, caller, p):
    email_identities.put_dkim_signing(ctx, caller, p["EmailIdentity"], p.get("SigningEnabled", False))


def _put_identity_configuration_set(ctx, caller, p):
    email_identities.put_configuration_set(ctx, caller, p["EmailIdentity"], p.get("ConfigurationSetName"))


def _get_account(ctx, caller, p):
    return entities.get_account(ctx, caller)


def _get_reputation_entity(ctx, caller, p):
    return entities.get(ctx, caller, p["ReputationEntityType"], p["ReputationEntityReference"])


def _list_reputation_entities(ctx, caller, p):
    return entities.list_page(ctx, caller, p.get("Filter"), p.get("PageSize"), p.get("NextToken"))


def _update_reputation_entity_policy(ctx, caller, p):
    entities.update_policy(ctx, caller, p["ReputationEntityType"], p["ReputationEntityReference"],
                           p["ReputationEntityPolicy"])


def _update_reputation_entity_status(ctx, caller, p):
    entities.update_customer_status(ctx, caller, p["ReputationEntityType"], p["ReputationEntityReference"],
                                    p["SendingStatus"])


def _put_account_details(ctx, caller, p):
    email_account.put_details(ctx, caller, p)


def _put_account_sending(ctx, caller, p):
    email_account.put_sending(ctx, caller, p.get("SendingEnabled"))


def _put_account_suppression(ctx, caller, p):
    email_account.put_suppression(ctx, caller, p.get("SuppressedReasons"))


def _put_suppressed(ctx, caller, p):
    suppression.put(ctx, caller, p["EmailAddress"], p["Reason"], p.get("TenantName"))


def _get_suppressed(ctx, caller, p):
    return {"SuppressedDestination": suppression.get(ctx, caller, p["EmailAddress"], p.get("TenantName"))}


def _list_suppressed(ctx, caller, p):
    return suppression.list_page(ctx, caller, tenant_name=p.get("TenantName"), reasons=p.get("Reasons"),
                                 start=p.get("StartDate"), end=p.get("EndDate"), page_size=p.get("PageSize"),
                                 token=p.get("NextToken"))


def _delete_suppressed(ctx, caller, p):
    suppression.delete(ctx, caller, p["EmailAddress"], p.get("TenantName"))


def _put_tenant_suppression(ctx, caller, p):
    ses_tenants.put_suppression_attributes(ctx, caller, p["TenantName"], p.get("SuppressedReasons"),
                                           p.get("SuppressionScope"))


def _create_tenant(ctx, caller, p):
    return ses_tenants.create(ctx, caller, p)


def _get_tenant(ctx, caller, p):
    return {"Tenant": ses_tenants.get(ctx, caller, p["TenantName"])}


def _list_tenants(ctx, caller, p):
    return ses_tenants.list_page(ctx, caller, p.get("Filter"), p.get("PageSize"), p.get("NextToken"))


def _delete_tenant(ctx, caller, p):
    ses_tenants.delete(ctx, caller, p["TenantName"])


def _associate_tenant_resource(ctx, caller, p):
    ses_tenants.associate(ctx, caller, p["TenantName"], p["ResourceArn"])


def _dissociate_tenant_resource(ctx, caller, p):
    ses_tenants.dissociate(ctx, caller, p["TenantName"], p["ResourceArn"])


def _list_tenant_resources(ctx, caller, p):
    return ses_tenants.list_resources(ctx, caller, p["TenantName"], p.get("Filter"), p.get("PageSize"),
                                      p.get("NextToken"))


def _list_resource_tenants(ctx, caller, p):
    return ses_tenants.list_resource_tenants(ctx, caller, p["ResourceArn"], p.get("PageSize"), p.get("NextToken"))


HANDLERS.update({
    "CreateEmailIdentity": _create_email_identity,
    "GetEmailIdentity": _get_email_identity,
    "ListEmailIdentities": _list_email_identities,
    "DeleteEmailIdentity": _delete_email_identity,
    "PutEmailIdentityDkimAttributes": _put_identity_dkim,
    "PutEmailIdentityConfigurationSetAttributes": _put_identity_configuration_set,
    "GetAccount": _get_account,
    "GetReputationEntity": _get_reputation_entity,
    "ListReputationEntities": _list_reputation_entities,
    "UpdateReputationEntityPolicy": _update_reputation_entity_policy,
    "UpdateReputationEntityCustomerManagedStatus": _update_reputation_entity_status,
    "PutAccountDetails": _put_account_details,
    "PutAccountSendingAttributes": _put_account_sending,
    "PutAccountSuppressionAttributes": _put_account_suppression,
    "PutSuppressedDestination": _put_suppressed,
    "GetSuppressedDestination": _get_suppressed,
    "ListSuppressedDestinations": _list_suppressed,
    "DeleteSuppressedDestination": _delete_suppressed,
    "PutTenantSuppressionAttributes": _put_tenant_suppression,
    "CreateTenant": _create_tenant,
    "GetTenant": _get_tenant,
    "ListTenants": _list_tenants,
    "DeleteTenant": _delete_tenant,
    "CreateTenantResourceAssociation": _associate_tenant_resource,
    "DeleteTenantResourceAssociation": _dissociate_tenant_resource,
    "ListTenantResources": _list_tenant_resources,
    "ListResourceTenants": _list_resource_tenants,
})
# GetEmailIdentity may look a pending domain's DKIM record up in DNS (up to PINFOLD_DNS_TIMEOUT):
# the gateway should run it in the thread pool (engineer D1 asks the lead to wire this into gateway.py).
LONG_OPERATIONS = frozenset({"GetEmailIdentity"})


def _send_email(ctx, caller, p):
    return ses_send.send_email(ctx, caller, p)


def _send_bulk_email(ctx, caller, p):
    return ses_send.send_bulk_email(ctx, caller, p)


HANDLERS.update({"SendEmail": _send_email, "SendBulkEmail": _send_bulk_email})

HANDLERS.update(sesv2_contacts.HANDLERS)  # contact lists and contacts
