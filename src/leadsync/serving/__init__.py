"""Serving HTTP within bounds: connections, request bodies, memory."""
