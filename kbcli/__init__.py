"""The `kb` command line, above the domain: it drives kb and search_index and starts the api."""
