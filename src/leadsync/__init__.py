"""leadsync: a self-hosted lead database that speaks Marketo's SOAP API (mktows)."""

__version__ = "0.1.0"
