"""The custom channel: a campaign's endpoints handed to the tenant's own service by signed webhook
calls of up to 50 endpoints each, on the sending pipeline."""
