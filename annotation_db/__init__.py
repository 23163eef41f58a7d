"""The annotation database: schema, sessions, import/export and the services the app calls."""
