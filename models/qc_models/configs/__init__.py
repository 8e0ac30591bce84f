"""Training configurations: `get_config()` in each module returns a `base.Config`."""
