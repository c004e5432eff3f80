"""One module per command; each is thin: options, records in, records out."""
