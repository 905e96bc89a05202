"""Routes outside the API: the spec as written and the rendered reference."""
