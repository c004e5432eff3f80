"""tk-report's K-line decision page: what the audit says, read into one self-contained HTML."""
