"""The outside of cdp-graph: the GraphQL schema, the FastAPI app, the ``cdp`` CLI."""
