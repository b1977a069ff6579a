"""KIE (kie.ai) integration: the API client and callback signing (the fake server is in devtools/)."""
