"""tk-risk's domain: the rules, sizing and the account snapshot they read."""
