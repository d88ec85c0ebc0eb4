"""Analytics over resolved profiles: quality metrics today; embeddings, lookalikes and segments next."""
