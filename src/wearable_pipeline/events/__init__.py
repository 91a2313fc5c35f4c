"""Analytics events: the contract, the batch store, the HTTP API and the generator."""
