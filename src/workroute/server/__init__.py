"""Running the HTTP server: TLS material, logging, uvicorn."""
