"""KIE (kie.ai) integration: the API client, callback signing, and a fake server speaking the protocol."""
