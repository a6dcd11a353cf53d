"""Push: Pinpoint's APNs, FCM, Baidu and ADM channels, on the shared sending pipeline."""
