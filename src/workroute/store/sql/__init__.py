"""All SQLAlchemy code lives here; driver errors become workroute errors at this boundary."""
