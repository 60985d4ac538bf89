"""Keys and digests: data keys for personal data, API key digests."""
