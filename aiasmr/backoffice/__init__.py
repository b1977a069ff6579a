"""The back office: the Django admin site staff run the business from, with its dashboard."""
