"""antq: theme tagging of Vietnamese public-security news paragraphs."""
