"""tk-exec's domain: the ledger, the order bundle a plan becomes, and carrying it out."""
