"""The providers' side of push: the built-in push simulator, APNs (HTTP/2) and FCM (HTTP v1)."""
