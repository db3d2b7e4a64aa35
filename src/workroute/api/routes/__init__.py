"""Route modules, one per API family."""
