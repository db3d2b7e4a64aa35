"""The HTTP surface: thin routes that parse, authorize and call the engine."""
